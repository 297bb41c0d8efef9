"""How the reference server's reasoning models think: a deterministic thinking text before the answer,
its length set by the model (or ``ReferenceConfig.thinking``) and scaled by ``reasoning_effort``, returned
apart from the answer in the field the server is configured to use (``reasoning_content`` as DeepSeek
and llama.cpp name it, or ``reasoning`` as vLLM and OpenRouter do).

The token cap covers thinking and answer together, as vLLM, llama.cpp and DeepSeek count it: an answer
whose thinking spends the whole cap is cut with finish_reason "length" and an empty content; the usage
counts the thinking in ``completion_tokens`` and again in ``completion_tokens_details.reasoning_tokens``.
A reasoning item passed back to the Responses API carries its text in ``encrypted_content`` as the
reference's own opaque encoding (base64 of a tagged JSON), which it reads back.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from conformance.reference.errors import bad_request

# the values of reasoning_effort OpenAI documents, and how much of the model's thinking each keeps
EFFORTS: dict[str, float] = {
    "none": 0.0,
    "minimal": 0.25,
    "low": 0.5,
    "medium": 1.0,
    "high": 1.5,
    "xhigh": 2.0,
    "max": 2.5,
}
# the fields a server may return thinking in (ReferenceConfig.reasoning_field)
FIELDS = ("reasoning_content", "reasoning")
# a reasoning model of the catalogue thinks this many tokens at the default effort
DEFAULT_TOKENS = 40
_STEPS = ("First,", "consider", "what", "was", "asked;", "then", "check", "it", "once", "more.")
_ENCRYPTED = "ref-encrypted:"


def thinking_tokens(budget: int, effort: str | None) -> int:
    """How many tokens a model that thinks ``budget`` tokens by default thinks at this effort."""
    if budget <= 0:
        return 0
    return round(budget * EFFORTS.get(effort or "medium", 1.0))


def thought(question: str, tokens: int) -> str:
    """A thinking text of exactly ``tokens`` whitespace-separated tokens about ``question``."""
    words = ["Thinking", "about:", *question.split()[:6]]
    while len(words) < tokens:
        words += _STEPS
    return " ".join(words[:tokens])


def effort_of(body: dict[str, Any], *, validate: bool) -> str | None:
    """The request's reasoning_effort; with ``validate`` (the OpenAI flavour), a value OpenAI does not
    document is refused with 400 naming the parameter."""
    effort = body.get("reasoning_effort")
    if effort is None:
        return None
    if validate and (not isinstance(effort, str) or effort not in EFFORTS):
        raise bad_request(
            f"Invalid value: {effort!r}. Supported values are: {', '.join(repr(e) for e in EFFORTS)}.",
            "reasoning_effort",
            "invalid_value",
        )
    return effort if isinstance(effort, str) and effort in EFFORTS else None


def responses_effort(reasoning: Any) -> tuple[str | None, str | None]:
    """The effort and summary a Responses request's ``reasoning`` object asks for (validated)."""
    if reasoning is None:
        return None, None
    if not isinstance(reasoning, dict):
        raise bad_request("Invalid type for 'reasoning': expected an object.", "reasoning", "invalid_type")
    effort = reasoning.get("effort")
    if effort is not None and effort not in EFFORTS:
        raise bad_request(
            f"Invalid value: {effort!r}. Supported values are: {', '.join(repr(e) for e in EFFORTS)}.",
            "reasoning.effort",
            "invalid_value",
        )
    summary = reasoning.get("summary")
    if summary is not None and summary not in ("auto", "concise", "detailed"):
        raise bad_request(
            f"Invalid value: {summary!r}. Supported values are: 'auto', 'concise' and 'detailed'.",
            "reasoning.summary",
            "invalid_value",
        )
    return effort, summary


def sent_back(message: dict[str, Any]) -> str | None:
    """The reasoning an assistant message carries back, in any field a server returns it in."""
    for name in (*FIELDS, "reasoning_details"):
        value = message.get(name)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            texts = [part.get("text") for part in value if isinstance(part, dict)]
            return "".join(text for text in texts if isinstance(text, str))
    return None


def encrypt(text: str) -> str:
    return _ENCRYPTED + base64.b64encode(json.dumps({"reasoning": text}).encode()).decode()


def decrypt(value: Any, param: str) -> str:
    """The text of an ``encrypted_content`` this server issued; anything else is refused with 400."""
    if isinstance(value, str) and value.startswith(_ENCRYPTED):
        try:
            decoded = json.loads(base64.b64decode(value[len(_ENCRYPTED) :], validate=True))
        except (binascii.Error, ValueError):
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("reasoning"), str):
            return decoded["reasoning"]
    raise bad_request("The encrypted content could not be verified.", param, "invalid_encrypted_content")


# what OpenAI's Responses API lets ``include`` ask for (its IncludeEnum)
INCLUDABLE = frozenset(
    {
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "message.input_image.image_url",
        "computer_call_output.output.image_url",
        "code_interpreter_call.outputs",
        "reasoning.encrypted_content",
        "message.output_text.logprobs",
    }
)


def include_of(body: dict[str, Any]) -> list[str]:
    include = body.get("include")
    if include is None:
        return []
    if not isinstance(include, list) or not all(isinstance(value, str) for value in include):
        raise bad_request("Invalid type for 'include': expected an array of strings.", "include", "invalid_type")
    for index, value in enumerate(include):
        if value not in INCLUDABLE:
            raise bad_request(f"Invalid value: {value!r}.", f"include[{index}]", "invalid_value")
    return include


def reasoning_input(item: dict[str, Any], param: str) -> str:
    """A reasoning item passed back as input: its summary parts (required), raw content and encrypted content
    checked; the thinking it carries, for the conversation."""
    summary = item.get("summary")
    if not isinstance(summary, list):
        raise bad_request(
            f"Missing required parameter: '{param}.summary'.", f"{param}.summary", "missing_required_parameter"
        )
    for index, part in enumerate(summary):
        if not isinstance(part, dict) or part.get("type") != "summary_text" or not isinstance(part.get("text"), str):
            raise bad_request(f"Invalid '{param}.summary[{index}]'.", f"{param}.summary[{index}]", "invalid_value")
    encrypted = item.get("encrypted_content")
    if encrypted is not None:
        return decrypt(encrypted, f"{param}.encrypted_content")
    content = item.get("content")
    if content is not None and not isinstance(content, list):
        raise bad_request(f"Invalid type for '{param}.content'.", f"{param}.content", "invalid_type")
    texts = [part.get("text") for part in content or [] if isinstance(part, dict)]
    return "".join(text for text in texts if isinstance(text, str))


def reasoning_item(thought: str, *, summary: str | None, encrypted: bool, cut: bool, item_id: str) -> dict[str, Any]:
    """The reasoning output item of a response: the raw thinking as reasoning_text content, a summary when one
    was asked for, the encrypted content when ``include`` asked for it."""
    words = thought.split()
    summaries = [{"type": "summary_text", "text": f"Thought about it in {len(words)} steps."}] if summary else []
    return {
        "type": "reasoning",
        "id": item_id,
        "summary": summaries,
        "content": [{"type": "reasoning_text", "text": thought}],
        "encrypted_content": encrypt(thought) if encrypted else None,
        "status": "incomplete" if cut else "completed",
    }


def reasoning_events(item: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """The events of a reasoning item between its added and done events (OpenAI's names): each summary part
    with its text deltas, then the raw thinking as a reasoning_text content part and its deltas, token by token
    (both SDKs' stream helpers add the part before its deltas)."""
    from conformance.reference.answers import tokens

    events: list[dict[str, Any]] = []
    where = {"item_id": item["id"], "output_index": index}
    for number, part in enumerate(item["summary"]):
        at = {**where, "summary_index": number}
        events.append({"type": "response.reasoning_summary_part.added", **at, "part": {**part, "text": ""}})
        events += [
            {"type": "response.reasoning_summary_text.delta", **at, "delta": piece} for piece in tokens(part["text"])
        ]
        events.append({"type": "response.reasoning_summary_text.done", **at, "text": part["text"]})
        events.append({"type": "response.reasoning_summary_part.done", **at, "part": part})
    for number, part in enumerate(item["content"]):
        at = {**where, "content_index": number}
        events.append({"type": "response.content_part.added", **at, "part": {**part, "text": ""}})
        events += [{"type": "response.reasoning_text.delta", **at, "delta": piece} for piece in tokens(part["text"])]
        events.append({"type": "response.reasoning_text.done", **at, "text": part["text"]})
        events.append({"type": "response.content_part.done", **at, "part": part})
    return events


__all__ = [
    "DEFAULT_TOKENS",
    "EFFORTS",
    "FIELDS",
    "INCLUDABLE",
    "decrypt",
    "effort_of",
    "encrypt",
    "include_of",
    "reasoning_events",
    "reasoning_input",
    "reasoning_item",
    "responses_effort",
    "sent_back",
    "thinking_tokens",
    "thought",
]
