"""Reading a reasoning model's thinking from what a server sends, and sizing a run for it.

Servers return thinking beside the answer under several names: ``reasoning_content`` (DeepSeek,
llama.cpp, vLLM before 0.10), ``reasoning`` (vLLM since, OpenRouter, Groq, Ollama), ``reasoning_details``
(OpenRouter's structured list), ``thinking`` and LiteLLM's ``thinking_blocks``; OpenAI's chat API returns
none, only ``usage.completion_tokens_details.reasoning_tokens``. Thinking that leaks into the answer
shows as the model's own markers in ``content`` (``<think>``, gpt-oss's ``<|channel|>analysis``, ...).

A run *notices* that the target thinks from its first chat answer (``reasoning/basic``, or
``reasoning/chat-model`` where the reasoning rows ask another model), unless the profile declares it
(``reasoning.thinks``); from then on every answer cap of the suite's requests grows by
``limits.max_reasoning_tokens`` (``Target.thinking_allowance``), so a model that thinks is judged on its
answers, not on the tokens it spent before them. A replay notices it from the same recording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.profiles import REASONING_FIELDS

if TYPE_CHECKING:
    from conformance.exchange import Exchange, Request
    from conformance.profiles import Target

# the probes whose answer tells whether the chat model thinks (the first that applies)
NOTICE = ("reasoning/chat-model", "reasoning/basic")

# a model's own marks of thinking, which belong in no answer's content: DeepSeek R1, Qwen3 and most
# open models (<think>), Claude-style and Gemma prompts (<thinking>), gpt-oss's harmony channels,
# Mistral's Magistral ([THINK]), Kimi's VL models (◁think▷), ByteDance Seed-OSS (<seed:think>)
MARKERS = re.compile(
    r"</?think>|</?thinking>|<\|channel\|>\s*analysis|<\|start\|>assistant<\|channel\|>|\[/?THINK\]"
    r"|◁/?think▷|</?seed:think>|<\|begin_of_thought\|>|<\|end_of_thought\|>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Thought:
    """The thinking one answer (or one stream, joined) carries: the field it came in, and its text."""

    field: str
    text: str


def marker_in(text: Any) -> str | None:
    """The first thinking marker in ``text``, or None."""
    if not isinstance(text, str):
        return None
    found = MARKERS.search(text)
    return found.group(0) if found else None


def _text(value: Any) -> str | None:
    """The text of a thinking field's value: a string, or a list of parts with text (OpenRouter's
    reasoning_details, LiteLLM's thinking_blocks)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for part in value:
            if isinstance(part, dict):
                for key in ("text", "thinking", "summary", "content"):
                    if isinstance(part.get(key), str):
                        texts.append(part[key])
                        break
        return "".join(texts) if texts else None
    return None


def thoughts_in(message: Any) -> list[Thought]:
    """Every thinking field a message (or a delta) carries with text in it, in the order of
    REASONING_FIELDS (a server may send two spellings at once: vLLM's compatibility period)."""
    if not isinstance(message, dict):
        return []
    found = []
    for name in REASONING_FIELDS:
        text = _text(message.get(name))
        if text:
            found.append(Thought(name, text))
    return found


def thought_in(message: Any) -> Thought | None:
    found = thoughts_in(message)
    return found[0] if found else None


def reasoning_tokens(usage: Any) -> int | None:
    """usage.completion_tokens_details.reasoning_tokens (chat) or usage.output_tokens_details.reasoning_tokens
    (Responses), when it is an integer."""
    if not isinstance(usage, dict):
        return None
    for details in ("completion_tokens_details", "output_tokens_details"):
        value = usage.get(details)
        count = value.get("reasoning_tokens") if isinstance(value, dict) else None
        if isinstance(count, int) and not isinstance(count, bool):
            return count
    return None


def starved(message: Any, finish_reason: Any, usage: Any = None) -> bool:
    """The answer was cut at the token cap with nothing of it written, after the model thought: the
    thinking spent the cap."""
    if finish_reason != "length" or not isinstance(message, dict):
        return False
    content = message.get("content")
    if (isinstance(content, str) and content.strip()) or message.get("tool_calls"):
        return False
    return thought_in(message) is not None or (reasoning_tokens(usage) or 0) > 0


def thinks(exchange: Exchange) -> bool:
    """Whether a chat answer shows a model that thinks: thinking in a field, reasoning tokens counted,
    thinking marks in the content, or a short question cut at the cap with nothing written."""
    body = exchange.json_body if exchange.response is not None and exchange.response.status == 200 else None
    value = body.value if body is not None and body.ok else None
    choices = value.get("choices") if isinstance(value, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    message = choices[0].get("message")
    usage = value.get("usage")
    if thought_in(message) is not None or (reasoning_tokens(usage) or 0) > 0:
        return True
    content = message.get("content") if isinstance(message, dict) else None
    if marker_in(content) is not None:
        return True
    return choices[0].get("finish_reason") == "length" and not (isinstance(content, str) and content.strip())


def notice_request(target: Target) -> Request | None:
    """The request whose answer tells whether the chat model thinks, or None when the profile declares it
    (or names no chat model)."""
    if target.reasoning.thinks is not None:
        return None
    from conformance.registry import PROBES, load_all

    load_all()
    for probe_id in NOTICE:
        request = PROBES[probe_id].build(target)
        if request is not None:
            return request
    return None


def noticed(target: Target, first: Exchange | None) -> Target:
    """The target with ``reasoning.thinks`` settled: as declared, else from its first chat answer (an answer
    that never came says the model does not think, as far as the run can tell)."""
    if target.reasoning.thinks is not None or first is None:
        return target
    reasoning = target.reasoning.model_copy(update={"thinks": thinks(first)})
    return target.model_copy(update={"reasoning": reasoning})


__all__ = [
    "MARKERS",
    "NOTICE",
    "Thought",
    "marker_in",
    "notice_request",
    "noticed",
    "reasoning_tokens",
    "starved",
    "thinks",
    "thought_in",
    "thoughts_in",
]
