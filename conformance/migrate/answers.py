"""A chat answer read the way an app reads it, streamed or not: each choice's text, tool calls
(assembled from the deltas of a stream), finish_reason and logprobs, and the usage.

Reading is for claims about one request; what cannot be read blocks the claim, naming the check that
owns the form (``conformance.checks._every``): a stream that is not framed, a chunk that is not
JSON, a completion without choices. An answer that is not a success blocks it too, naming the claim
that compares the status with the original's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance import jsonparse
from conformance.checks._every import CHAT_FORM, CHUNK_FORM
from conformance.checks._expect import expect_chat_completion
from conformance.checks.stream_form import choices_of, delta_of, read_chunks
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.verdicts import Blocked

# the claim that compares the candidate's status with the original's owns "was it answered"
STATUS_CLAIM = "original.answers_with_the_same_status_class"


@dataclass
class Choice:
    index: Any
    content: str | None
    tool_calls: list[dict[str, Any]]
    finish_reason: Any
    has_logprobs: bool


@dataclass
class Answer:
    choices: list[Choice]
    usage: dict[str, Any] | None
    streamed: bool
    # the model the answer says it came from
    model: Any = None
    # the calls as the answer gave them (streams: assembled), for messages
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> Choice:
        return self.choices[0]


def streamed(exchange: Exchange) -> bool:
    body = exchange.request.json
    return isinstance(body, dict) and body.get("stream") is True


def read(ctx: CheckContext, exchange: Exchange) -> Answer:
    """The answer of one exchange, or Blocked."""
    if streamed(exchange):
        return _from_stream(exchange)
    value = expect_chat_completion(ctx, exchange, text=False, answered_by=STATUS_CLAIM)
    choices = []
    for choice in value["choices"]:
        message = choice["message"]
        calls = message.get("tool_calls") or []
        if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
            raise Blocked(CHAT_FORM, f"{exchange.describe()}: message.tool_calls is not a list of calls")
        content = message.get("content")
        choices.append(
            Choice(
                choice.get("index"),
                content if isinstance(content, str) else None,
                list(calls),
                choice.get("finish_reason"),
                choice.get("logprobs") is not None,
            )
        )
    usage = value.get("usage")
    return Answer(choices, usage if isinstance(usage, dict) else None, streamed=False, model=value.get("model"))


def _from_stream(exchange: Exchange) -> Answer:
    found = read_chunks(exchange, answered_by=STATUS_CLAIM)
    by_index: dict[Any, Choice] = {}
    calls: dict[Any, dict[Any, dict[str, Any]]] = {}
    usage: dict[str, Any] | None = None
    for chunk in found:
        if isinstance(chunk.value.get("usage"), dict):
            usage = chunk.value["usage"]
        for choice in choices_of(chunk):
            index = choice.get("index")
            if not isinstance(index, int):
                raise Blocked(CHUNK_FORM, f"{exchange.describe()}: event {chunk.number} has a choice without an index")
            held = by_index.setdefault(index, Choice(index, None, [], None, False))
            delta = delta_of(choice)
            if isinstance(delta.get("content"), str):
                held.content = (held.content or "") + delta["content"]
            if choice.get("finish_reason") is not None:
                held.finish_reason = choice["finish_reason"]
            if choice.get("logprobs") is not None:
                held.has_logprobs = True
            for part in delta.get("tool_calls") or []:
                if not isinstance(part, dict):
                    raise Blocked(
                        CHUNK_FORM,
                        f"{exchange.describe()}: event {chunk.number} has a tool call delta that is no object",
                    )
                call = calls.setdefault(index, {}).setdefault(
                    part.get("index", 0), {"id": None, "type": None, "function": {"name": None, "arguments": ""}}
                )
                call["id"] = call["id"] or part.get("id")
                call["type"] = call["type"] or part.get("type")
                function = part.get("function") if isinstance(part.get("function"), dict) else {}
                call["function"]["name"] = call["function"]["name"] or function.get("name")
                if isinstance(function.get("arguments"), str):
                    call["function"]["arguments"] += function["arguments"]
    for index, held in by_index.items():
        held.tool_calls = [calls[index][key] for key in sorted(calls.get(index, {}), key=str)]
        # a stream names the call's type in its first delta at most (OpenAI's do; the SDKs default it)
        for call in held.tool_calls:
            call["type"] = call["type"] or "function"
    if not by_index:
        raise Blocked(CHUNK_FORM, f"{exchange.describe()}: the stream holds no choice")
    model = next((chunk.value.get("model") for chunk in found if "model" in chunk.value), None)
    return Answer([by_index[key] for key in sorted(by_index)], usage, streamed=True, model=model)


def json_value(text: str | None) -> tuple[bool, Any]:
    """Whether the text is a JSON object or array (what an app that asked for JSON reads), and it."""
    if text is None:
        return False, None
    try:
        value = jsonparse.loads(text)
    except ValueError:
        return False, None
    return isinstance(value, dict | list), value


def tool_names(choice: Choice) -> tuple[str, ...]:
    names = []
    for call in choice.tool_calls:
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        names.append(str(function.get("name")))
    return tuple(sorted(names))
