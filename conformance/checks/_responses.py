"""What the Responses rows share: their requests, whether the target serves /responses at all, and how
an answer is read (the response object, its output text and function calls, a stream's typed events)
as far as a claim needs it; what cannot be read blocks the claim, naming the form check that owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance import gates, jsonparse, thinking
from conformance.checks._every import RESPONSE_EVENTS, RESPONSE_FORM, RESPONSES_STARVED, RESPONSES_THINKING_IN_TEXT
from conformance.checks._expect import Starved, brief, expect_status
from conformance.checks._requests import JSON_TOKENS
from conformance.checks._tool_calls import TIME, WEATHER
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.verdicts import Blocked, NotApplicable, Unsupported

BASIC = "responses/basic"
BASIC_CHECK = "responses.basic_request_is_answered"
# the smallest cap OpenAI accepts for max_output_tokens
ANSWER_TOKENS = 16
# tools and JSON from a weak model under constrained decoding need room (vLLM's tiny model: about 512)
STRUCTURED_TOKENS = max(JSON_TOKENS, 512)
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
# the chat completions' end of stream: no Responses event, but both SDKs stop reading there (and tolerate it)
DONE = "[DONE]"


def responses_request(
    target: Target,
    exchange_id: str,
    purpose: str,
    input: Any,
    *,
    role: str = "chat",
    model: str | None = None,
    answer_tokens: int | None = ANSWER_TOKENS,
    thinking: bool = True,
    **params: Any,
) -> Request | None:
    """A POST /responses for the model of ``role`` (or ``model``), its answer capped at ``answer_tokens``
    output tokens, plus the run's allowance for thinking where the target thinks (``thinking=False``: a cap
    that is the claim itself); None when the profile names no such model."""
    model = model or target.models.for_role(role)
    if model is None:
        return None
    body: dict[str, Any] = {"model": model, "input": input}
    if answer_tokens is not None:
        body["max_output_tokens"] = answer_tokens + (target.allowance_for(model) if thinking else 0)
    body.update(params)
    return Request(exchange_id, "POST", "/responses", purpose=purpose, json=body)


def function_tool(chat_tool: dict[str, Any]) -> dict[str, Any]:
    """A chat tool of the tools row as a Responses function tool (the same function, flattened)."""
    function = chat_tool["function"]
    return {"type": "function", **function}


TOOLS = [function_tool(WEATHER), function_tool(TIME)]


def offered(ctx: CheckContext, *, judged_over_every_answer: bool = False) -> None:
    """The target serves POST /responses: the first probe was not refused as an unknown route (404, 405
    or 501 whose message is not about the model); otherwise every Responses check is unsupported, and the
    other requests of these rows are never sent (``conformance.gates``). A check of every answer of the
    run reads the gate only if the run made it (a migration judges an app's traffic, without probes)."""
    if judged_over_every_answer:
        found = [e for e in ctx.every_exchange() if e.id == BASIC]
        if not found:
            return
        ctx.cite(found[0])
        exchange = found[0]
    else:
        try:
            exchange = ctx.exchange(BASIC)
        except NotApplicable:
            return
    why = gates.missing(exchange)
    if why is not None:
        raise Unsupported(f"the target does not serve POST /responses ({why} on {BASIC})")


def response_body(exchange: Exchange, *, answered_by: str | None = None) -> dict[str, Any]:
    """The response object of a non-streamed answer, read as the SDKs read it: HTTP 200 (else the claim
    fails, or with ``answered_by`` is blocked by the check that owns being answered), a JSON object with a
    list of output items (else blocked by the form check)."""
    expect_status(exchange, 200, answered_by=answered_by)
    body = exchange.json_body
    if not body.ok:
        raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: {body.error}")
    return readable(exchange, body.value)


def readable(exchange: Exchange, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("output"), list):
        raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: the answer is no response object with output items")
    if not all(isinstance(item, dict) for item in value["output"]):
        raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: $.output holds items that are not objects")
    return value


def reasoning_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in body["output"] if item.get("type") == "reasoning"]


def expect_answered(exchange: Exchange, body: dict[str, Any]) -> None:
    """The answer was written apart from the thinking: thinking that spent the whole cap (reasoning items and
    nothing after them) blocks the claim, as do thinking marks in the text; the responses-reasoning row reports
    both."""
    answered = any(item.get("type") in ("message", "function_call") for item in body["output"])
    if reasoning_items(body) and not answered and body.get("status") == "incomplete":
        raise Starved(
            f"{exchange.describe()}: the thinking spent the whole of max_output_tokens before a word of the answer",
            RESPONSES_STARVED,
        )


def output_text(exchange: Exchange, body: dict[str, Any]) -> str:
    """The text of the message items' output_text parts, joined (the SDKs' ``output_text``); thinking that
    spent the cap, or thinking in the text, blocks the claim (see ``expect_answered``)."""
    expect_answered(exchange, body)
    texts = []
    for index, item in enumerate(body["output"]):
        if item.get("type") != "message":
            continue
        content = item.get("content")
        if not isinstance(content, list):
            raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: $.output[{index}].content is {brief(content)}")
        for part in content:
            if isinstance(part, dict) and part.get("type") == "output_text":
                if not isinstance(part.get("text"), str):
                    raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: $.output[{index}] has text that is no string")
                texts.append(part["text"])
    text = "".join(texts)
    mark = thinking.marker_in(text)
    if mark is not None:
        raise Blocked(RESPONSES_THINKING_IN_TEXT, f"{exchange.describe()}: the output text holds {mark!r}")
    return text


def function_calls(exchange: Exchange, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The function_call items, each with string call_id, name and arguments (else blocked by the form)."""
    calls = [item for item in body["output"] if item.get("type") == "function_call"]
    for call in calls:
        if not all(isinstance(call.get(name), str) for name in ("call_id", "name", "arguments")):
            raise Blocked(
                RESPONSE_FORM, f"{exchange.describe()}: a function_call item without string call_id, name, arguments"
            )
    return calls


def cut(body: dict[str, Any]) -> bool:
    """The answer stopped at max_output_tokens (its status says so, as the specification has it)."""
    details = body.get("incomplete_details")
    return (
        body.get("status") == "incomplete"
        and isinstance(details, dict)
        and details.get("reason") == "max_output_tokens"
    )


def usage_of(body: dict[str, Any], name: str) -> int | None:
    usage = body.get("usage")
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Event:
    """One event of a Responses stream: its ``event:`` name (None without one) and its data."""

    number: int
    name: str | None
    data: dict[str, Any]

    @property
    def type(self) -> Any:
        return self.data.get("type")


def events_of(exchange: Exchange, *, answered_by: str | None = None) -> list[Event]:
    """The typed events of a streamed answer (HTTP 200, else the claim fails or is blocked by
    ``answered_by``); an event whose data is not a JSON object with a type blocks the claim, since the
    stream's form is judged by responses-streaming.events_are_typed_json."""
    expect_status(exchange, 200, answered_by=answered_by)
    events = []
    for event in exchange.stream.events:
        data = event.data
        if data is None:
            continue
        if data.startswith(DONE):
            break  # both SDKs stop reading a stream at data: [DONE]
        try:
            value = jsonparse.loads(data)
        except ValueError:
            raise Blocked(RESPONSE_EVENTS, f"{exchange.describe()}: event {event.index} is not JSON") from None
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise Blocked(RESPONSE_EVENTS, f"{exchange.describe()}: event {event.index} has no type")
        events.append(Event(event.index, event.field("event"), value))
    if not events:
        raise Blocked(RESPONSE_EVENTS, f"{exchange.describe()}: the stream holds no events")
    return events


def final_response(exchange: Exchange, events: list[Event]) -> dict[str, Any]:
    """The response of the stream's terminal event (completed, incomplete or failed)."""
    for event in reversed(events):
        if event.type in TERMINAL:
            return readable(exchange, event.data.get("response"))
    raise Blocked(
        "responses-streaming.events_come_in_order", f"{exchange.describe()}: the stream has no terminal event"
    )


def arguments_json(arguments: str) -> Any:
    """A call's arguments as JSON (a ValueError, never a RecursionError, however deep they nest)."""
    return jsonparse.loads(arguments)


__all__ = [
    "ANSWER_TOKENS",
    "BASIC",
    "BASIC_CHECK",
    "STRUCTURED_TOKENS",
    "TOOLS",
    "Event",
    "cut",
    "events_of",
    "expect_answered",
    "final_response",
    "function_calls",
    "offered",
    "output_text",
    "readable",
    "reasoning_items",
    "response_body",
    "responses_request",
    "usage_of",
]
