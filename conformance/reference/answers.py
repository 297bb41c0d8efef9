"""The reference server's answers: deterministic, and shaped exactly as the protocol says.

Text is ``You said: <the last user text>`` (or what it sees in the images, or what a tool
returned), cut at a stop sequence and at ``max_tokens`` tokens, where a token is a run of
non-space characters with the spaces before it. JSON answers are the first instance of the
requested schema. Tools are called when ``tool_choice`` asks for it, or, with "auto", when a word of
a tool's name appears in the question.

Sampling is modelled where the suite can see it: a ``temperature`` above 0 (with ``top_p`` at 0.1 or
more) adds two words drawn at random, from ``seed`` when one is given; ``top_p`` below 0.1 keeps only
the likeliest token, so the answer is the greedy one. With ``noise`` (``serve-reference
--model-noise P``) the server behaves like a hosted model: the wording varies with probability P even
at temperature 0 or with a seed, "auto" calls a mentioned tool with probability 1 - P/2, and, offered
more tools than the question needs, sometimes calls another one too. Those draws are spread evenly over
identical requests (``Noise``): a hosted model's rate without the clumps of independent draws, so that
the project's own tests of model checks never fail by chance.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from conformance.reference import effects, thinking
from conformance.reference.chat import ChatRequest
from conformance.reference.instances import instance
from conformance.reference.noise import CHANCE, NOISE, REWORDINGS, WORDS

_TOKEN = re.compile(r"\s*\S+")
_NAMED = {
    "red": (220, 30, 30),
    "green": (30, 160, 60),
    "blue": (40, 70, 220),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}


# stream markers: the end of the stream, and an error that breaks it off
DONE = "[DONE]"
ERROR = "error"
MID_STREAM_ERROR = {
    "message": "The reference server was told to fail in the middle of the stream.",
    "type": "server_error",
    "param": None,
    "code": "mid_stream_failure",
}


# top_p below this keeps only the likeliest token
GREEDY_TOP_P = 0.1


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass
class Choice:
    index: int
    content: str | None
    finish_reason: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    # what a reasoning model thought before its answer (conformance.reference.thinking)
    reasoning: str | None = None

    @property
    def reasoning_tokens(self) -> int:
        return len(tokens(self.reasoning or ""))

    @property
    def completion_tokens(self) -> int:
        arguments = "".join(call["function"]["arguments"] for call in self.calls)
        answer = len(tokens(self.content or "")) + len(tokens(arguments)) + 2 * len(self.calls)
        return answer + self.reasoning_tokens


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _images_of(content: Any) -> list[str]:
    if not isinstance(content, list):
        return []
    return [p["image_url"]["url"] for p in content if isinstance(p, dict) and p.get("type") == "image_url"]


def colour_of(url: str) -> str:
    """The name of an image's colour (data URLs), or where it comes from (http URLs)."""
    if not url.startswith("data:"):
        return f"an image from {urlsplit(url).hostname}"
    try:
        data = base64.b64decode(url.split(",", 1)[1])
        pixel = Image.open(io.BytesIO(data)).convert("RGB").getpixel((0, 0))
    except (ValueError, OSError, UnidentifiedImageError):
        return "an unreadable image"
    assert isinstance(pixel, tuple)
    return min(_NAMED, key=lambda name: sum((a - b) ** 2 for a, b in zip(_NAMED[name], pixel, strict=False)))


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return (
        sum(4 + len(tokens(_text_of(m.get("content")))) + 85 * len(_images_of(m.get("content"))) for m in messages) + 2
    )


def _text(request: ChatRequest, choice: int) -> str:
    last = request.messages[-1]
    if last.get("role") == "tool":
        return f"The tool returned: {_text_of(last.get('content'))}"
    users = [m for m in request.messages if m.get("role") == "user"]
    content = users[-1].get("content") if users else ""
    pictures = _images_of(content)
    if pictures:
        seen = ", ".join(colour_of(url) for url in pictures)
        text = f"I see {len(pictures)} image{'s' if len(pictures) > 1 else ''}: {seen}."
    else:
        text = f"You said: {_text_of(content)}".rstrip()
    return f"{text} (choice {choice + 1})" if choice else text


def _cut(request: ChatRequest, text: str, cap: int | None) -> tuple[str, str]:
    for stop in request.stop:
        if stop and stop in text:
            text = text[: text.index(stop)]
    pieces = tokens(text)
    if cap is not None and len(pieces) > cap:
        return "".join(pieces[:cap]), "length"
    return "".join(pieces), "stop"


def _thought(request: ChatRequest) -> str | None:
    """What the model thinks before answering (None: it does not think), before the cap."""
    count = thinking.thinking_tokens(request.thinking, request.effort)
    if count <= 0:
        return None
    question = _text_of(next((m for m in reversed(request.messages) if m.get("role") == "user"), {}).get("content"))
    return thinking.thought(question, count)


def _sampled(request: ChatRequest) -> bool:
    hot = request.temperature is not None and request.temperature > 0
    return hot and (request.top_p is None or request.top_p >= GREEDY_TOP_P)


def _worded(request: ChatRequest, text: str, draw: random.Random) -> str:
    """The text as this answer words it: reworded now and then (noise), with sampled words at a temperature."""
    if request.noise and NOISE.happens(request, "reworded", request.noise):
        text = CHANCE.choice(REWORDINGS) + text
    if _sampled(request):
        text = f"{text} ({draw.choice(WORDS)} {draw.choice(WORDS)})"
    return text


def _wanted_tools(request: ChatRequest) -> list[dict[str, Any]]:
    if request.tool_choice == "none" or not request.tools:
        return []
    if request.tool_choice.startswith("function:"):
        name = request.tool_choice.split(":", 1)[1]
        return [tool for tool in request.tools if tool["name"] == name]
    if request.messages[-1].get("role") == "tool" and request.tool_choice == "auto":
        return []
    question = _text_of(next((m for m in reversed(request.messages) if m.get("role") == "user"), {}).get("content"))
    words = set(re.findall(r"[a-z]+", question.lower()))
    matching = [tool for tool in request.tools if (set(tool["name"].lower().split("_")) - {"get", "set"}) & words]
    if request.tool_choice == "required" and not matching:
        matching = request.tools[:1]
    if request.tool_choice == "auto" and matching and NOISE.happens(request, "text", 1 - request.auto_call_rate):
        return []  # the model chose to answer in text
    if request.noise and len(matching) > 1 and NOISE.happens(request, "one call", request.noise / 2):
        matching = matching[:1]  # asked for several tools, the model called one
    elif (
        request.noise
        and request.tool_choice == "auto"
        and len(matching) == 1
        and NOISE.happens(request, "another call", request.noise)
    ):
        matching += [tool for tool in request.tools if tool not in matching][:1]  # and another, in parallel
    return matching if request.parallel_tool_calls else matching[:1]


def choices(request: ChatRequest) -> list[Choice]:
    made = []
    draw = random.Random(request.seed) if request.seed is not None else CHANCE
    thought = _thought(request)
    cap = request.max_tokens
    if thought is not None and cap is not None:
        if len(tokens(thought)) >= cap:  # the cap covers thinking: none is left for the answer
            cut = "".join(tokens(thought)[:cap]).strip()
            return [Choice(index, "", "length", reasoning=cut) for index in range(request.n)]
        cap -= len(tokens(thought))
    for index in range(request.n):
        wanted = _wanted_tools(request)
        if wanted:
            calls = [
                {
                    "id": f"call_{uuid.uuid4().hex[:24]}",
                    "type": "function",
                    "function": {
                        "name": tool["name"],
                        "arguments": json.dumps(instance(tool["parameters"]), separators=(",", ":")),
                    },
                }
                for tool in wanted
            ]
            finish = "stop" if request.tool_choice.startswith("function:") else "tool_calls"
            made.append(Choice(index, None, finish, calls, thought))
            continue
        if request.response_format == "json_schema":
            text = json.dumps(instance(request.schema))
        elif request.response_format == "json_object":
            text = json.dumps({"answer": _worded(request, _text(request, index), draw)}, ensure_ascii=False)
        else:
            text = effects.apply(request.effects, _worded(request, _text(request, index), draw))
        content, finish = _cut(request, text, cap)
        made.append(Choice(index, content, finish, reasoning=thought))
    return made


def _usage(request: ChatRequest, made: list[Choice]) -> dict[str, Any]:
    prompt = prompt_tokens(request.messages)
    completion = sum(choice.completion_tokens for choice in made)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if request.thinking:  # a reasoning model counts its thinking apart, as OpenAI's do
        usage["completion_tokens_details"] = {"reasoning_tokens": sum(choice.reasoning_tokens for choice in made)}
    return usage


def _reasoning(request: ChatRequest, choice: Choice) -> dict[str, str]:
    """The thinking, in the field this server returns it in (nothing when the model did not think)."""
    return {request.reasoning_field: choice.reasoning} if choice.reasoning is not None else {}


def token_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """Log probabilities for each token of a text: the token itself is the likeliest, and the ``top``
    alternatives after it less and less likely."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    content = []
    for token in tokens(text):
        alternatives = [entry(token, -0.01), *(entry(f"{token}{n}", -2.0 * n) for n in range(1, top))]
        content.append({**entry(token, -0.01), "top_logprobs": alternatives[:top]})
    return content


def _logprobs(choice: Choice, top: int) -> dict[str, Any]:
    return {"content": token_logprobs(choice.content or "", top), "refusal": None}


def completion(request: ChatRequest) -> dict[str, Any]:
    made = choices(request)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [
            {
                "index": choice.index,
                "message": {
                    "role": "assistant",
                    "content": choice.content,
                    "refusal": None,
                    **_reasoning(request, choice),
                    **({"tool_calls": choice.calls} if choice.calls else {}),
                },
                "finish_reason": choice.finish_reason,
                "logprobs": _logprobs(choice, request.top_logprobs) if request.logprobs else None,
            }
            for choice in made
        ],
        "usage": _usage(request, made),
    }


def _deltas(request: ChatRequest, choice: Choice) -> list[dict[str, Any]]:
    """The deltas of one choice after its role delta: its thinking token by token (in the field of the
    non-streamed answer), then content token by token, or each tool call (id, type and name first, then
    its arguments in two pieces)."""
    thought = [{request.reasoning_field: piece} for piece in tokens(choice.reasoning or "")]
    if not choice.calls:
        return [*thought, *({"content": piece} for piece in tokens(choice.content or ""))]
    deltas: list[dict[str, Any]] = thought
    for position, call in enumerate(choice.calls):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": position,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        for piece in (arguments[:half], arguments[half:]):
            deltas.append({"tool_calls": [{"index": position, "function": {"arguments": piece}}]})
    return deltas


def stream_events(request: ChatRequest) -> list[Any]:
    """The answer as a list of stream events: a role chunk, the deltas (one chunk per token, or each
    tool call's id, name and arguments in two pieces), a finish chunk per choice, the usage chunk when
    asked for, and ``[DONE]``; a broken-off stream ends with an (ERROR, error) pair then ``[DONE]``."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }
    usage_field = {"usage": None} if request.include_usage else {}

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": index, "delta": delta, "finish_reason": finish}], **usage_field}

    events: list[Any] = []
    made = choices(request)
    for choice in made:
        events.append(chunk(choice.index, {"role": "assistant", "content": None if choice.calls else ""}))
        for position, delta in enumerate(_deltas(request, choice)):
            if request.fault == "mid-stream-error" and position == 2:
                return [*events, (ERROR, dict(MID_STREAM_ERROR)), DONE]
            events.append(chunk(choice.index, delta))
        events.append(chunk(choice.index, {}, choice.finish_reason))
    if request.include_usage:
        events.append({**base, "choices": [], "usage": _usage(request, made)})
    return [*events, DONE]


async def paced(pieces: list[bytes], delay: float) -> AsyncIterator[bytes]:
    """Send the pieces one by one, ``delay`` seconds apart, as a real server generates tokens."""
    for number, piece in enumerate(pieces):
        if number and delay:
            await asyncio.sleep(delay)
        yield piece
