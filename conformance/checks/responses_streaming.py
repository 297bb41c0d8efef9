"""Row ``responses-streaming``: POST /responses with stream true, judged on the raw bytes over every stream
of the run. Each event is a typed JSON object (its schema; an ``event:`` line naming its type), sequence
numbers increase, the lifecycle comes in order (created, in_progress, per item: added, its content part
or its arguments, their done events, item done; then one terminal event), text deltas join to what the
done events and the final response say, a failure mid-stream is an event, and both official clients
assemble every stream into its final response."""

from __future__ import annotations

from conformance import client_differences, jsonparse, sdk_oracle, ts_oracle
from conformance.checks._every import RESPONSE_EVENTS, every, judge_each
from conformance.checks._expect import brief, clients, expect_status, shown
from conformance.checks._responses import (
    BASIC,
    DONE,
    TERMINAL,
    Event,
    events_of,
    final_response,
    offered,
    output_text,
    responses_request,
)
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

STREAMED = "responses-streaming/basic"
FAILING = "responses-streaming/mid-stream-error"
ORDER = "responses-streaming.events_come_in_order"
SEQUENCE = "responses-streaming.sequence_numbers_increase"
JOIN = "responses-streaming.text_deltas_join_to_the_done_text"


@probe(STREAMED)
def streamed(target: Target) -> Request | None:
    return responses_request(
        target,
        STREAMED,
        "a streamed answer (the compliance tester's streaming-response)",
        "Count from 1 to 5.",
        stream=True,
    )


@probe(FAILING)
def failing(target: Target) -> Request | None:
    if target.mid_stream_error is None:
        return None
    request = responses_request(
        target, FAILING, "a stream the target is told to break off", "Count to 20.", stream=True
    )
    if request is None:
        return None
    return Request(request.id, "POST", "/responses", request.purpose, json={**request.json, **target.mid_stream_error})


def _streams(ctx: CheckContext) -> list[Exchange]:
    offered(ctx, judged_over_every_answer=True)
    return every(ctx, "response-stream")


def _each_stream(ctx: CheckContext, judge, noun: str = "streams") -> str:  # type: ignore[no-untyped-def]
    return judge_each(_streams(ctx), judge, noun=noun, empty="the run got no Responses stream")


@check("responses-streaming", Level.MUST, source="open-responses-streaming", needs=(STREAMED, BASIC), runs_last=True)
def events_are_typed_json(ctx: CheckContext) -> str | None:
    """Every Responses stream is text/event-stream whose every event's data is a JSON object with a type and a
    sequence_number, of that event type's form (its schema: items, parts, deltas, the response it carries), and
    whose event: line, where there is one, names the same type (a last data: [DONE], where both SDKs stop
    reading, is tolerated as they tolerate it)."""

    def judge(exchange: Exchange) -> None:
        response = expect_status(exchange, 200)
        if response.media_type != "text/event-stream":
            raise CheckFailed(f"{exchange.describe()}: Content-Type {response.header('content-type')!r}")
        events = [event for event in exchange.stream.events if event.data is not None]
        ended = next((n for n, event in enumerate(events) if (event.data or "").startswith(DONE)), None)
        if ended is not None and ended < len(events) - 1:
            raise CheckFailed(
                f"{exchange.describe()}: {len(events) - ended - 1} events come after data: [DONE], where the SDKs stop "
                "reading"
            )
        events = events[:ended]
        if not events:
            raise CheckFailed(f"{exchange.describe()}: no events in {shown(response.body)}")
        for event in events:
            try:
                data = jsonparse.loads(event.data or "")
            except ValueError:
                raise CheckFailed(
                    f"{exchange.describe()}: event {event.index} is not JSON: {shown(event.data or '')}"
                ) from None
            issues = ctx.schemas.validate("response-stream-event", data)
            if issues:
                raise CheckFailed(
                    f"{exchange.describe()}: event {event.index} "
                    f"({brief(data.get('type') if isinstance(data, dict) else data)}) "
                    f"violates the response-stream-event schema: {'; '.join(map(str, issues[:3]))}"
                )
            name = event.field("event")
            if name is not None and name != data["type"]:
                raise CheckFailed(
                    f"{exchange.describe()}: event {event.index} is named {name!r} but has type {data['type']!r}"
                )

    return _each_stream(ctx, judge)


@check("responses-streaming", Level.SHOULD, source="open-responses-streaming", needs=(STREAMED, BASIC), runs_last=True)
def events_name_their_type(ctx: CheckContext) -> str | None:
    """Every event of every Responses stream has an event: line with its type, as the specification sends them."""

    def judge(exchange: Exchange) -> None:
        unnamed = [event.number for event in events_of(exchange, answered_by=RESPONSE_EVENTS) if event.name is None]
        if unnamed:
            raise CheckFailed(
                f"{exchange.describe()}: {len(unnamed)} events have no event: line, first event {unnamed[0]}"
            )

    return _each_stream(ctx, judge)


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sequence_problem(events: list[Event]) -> str | None:
    numbers = [event.data.get("sequence_number") for event in events]
    for before, after, event in zip(numbers, numbers[1:], events[1:], strict=False):
        if not isinstance(after, int) or not isinstance(before, int) or after <= before:
            return f"event {event.number} ({event.type}) has sequence_number {after!r} after {before!r}"
    return None


@check("responses-streaming", Level.MUST, source="open-responses-streaming", needs=(STREAMED, BASIC), runs_last=True)
def sequence_numbers_increase(ctx: CheckContext) -> str | None:
    """In every Responses stream, each event's sequence_number is greater than the one before."""

    def judge(exchange: Exchange) -> None:
        events = events_of(exchange, answered_by=RESPONSE_EVENTS)
        unnumbered = [e.number for e in events if not _integer(e.data.get("sequence_number"))]
        if unnumbered:  # an event without its number is of no event's form: events_are_typed_json says so
            raise Blocked(
                RESPONSE_EVENTS, f"{exchange.describe()}: event {unnumbered[0]} has no integer sequence_number"
            )
        problem = sequence_problem(events)
        if problem:
            raise CheckFailed(f"{exchange.describe()}: {problem}")

    return _each_stream(ctx, judge)


def hashable(value: object) -> object:
    """A field used as a key, whatever its type (a list or an object where an index belongs is the
    event schema's to judge: here it only must not break the bookkeeping)."""
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def order_problem(events: list[Event]) -> str | None:
    """What breaks the lifecycle's order, or None."""
    kinds = [event.type for event in events]
    if kinds[:2] != ["response.created", "response.in_progress"]:
        return f"the stream starts with {kinds[:2]}, expected response.created then response.in_progress"
    terminal = [index for index, kind in enumerate(kinds) if kind in TERMINAL]
    if not terminal:
        return "the stream ends without response.completed (or incomplete, or failed)"
    if len(terminal) > 1 or terminal[0] != len(kinds) - 1:
        return f"{kinds[terminal[0]]} is event {events[terminal[0]].number}, not the last and only terminal event"
    added: set[object] = set()
    done: set[object] = set()
    parts: set[tuple[object, object]] = set()
    parts_done: set[tuple[object, object]] = set()
    for event in events[2:-1]:
        data, kind = event.data, event.type
        index = hashable(data.get("output_index"))
        part = (index, hashable(data.get("content_index")))
        if kind == "response.output_item.added":
            added.add(index)
            continue
        if kind == "error":
            continue
        if index not in added or index in done:
            return (
                f"{kind} (event {event.number}) for output {index!r} comes before its output_item.added or after "
                "its done"
            )
        if kind == "response.output_item.done":
            if any(p[0] == index for p in parts - parts_done):
                return f"output_item.done (event {event.number}) comes before its content_part.done"
            done.add(index)
        elif kind == "response.content_part.added":
            parts.add(part)
        elif kind.startswith("response.output_text.") or kind == "response.content_part.done":
            if part not in parts or part in parts_done:
                return f"{kind} (event {event.number}) comes before its content_part.added or after its done"
            if kind == "response.content_part.done":
                parts_done.add(part)
    if added - done and kinds[-1] != "response.failed":
        return f"output items {sorted(map(str, added - done))} are never done"
    return None


@check("responses-streaming", Level.MUST, source="open-responses-streaming", needs=(STREAMED, BASIC), runs_last=True)
def events_come_in_order(ctx: CheckContext) -> str | None:
    """Every Responses stream starts with response.created then response.in_progress, opens each output item before
    its events and each content part before its text, closes each part before its item, and ends with exactly one
    terminal event (response.completed, incomplete or failed)."""

    def judge(exchange: Exchange) -> None:
        problem = order_problem(events_of(exchange, answered_by=RESPONSE_EVENTS))
        if problem:
            raise CheckFailed(f"{exchange.describe()}: {problem}")

    return _each_stream(ctx, judge)


def join_problem(exchange: Exchange, events: list[Event]) -> str | None:
    """Where the text deltas and the done events or final response disagree, or None."""
    deltas: dict[tuple[object, object], str] = {}
    for event in events:
        data = event.data
        key = (hashable(data.get("item_id")), hashable(data.get("content_index")))
        if event.type == "response.output_text.delta" and isinstance(data.get("delta"), str):
            deltas[key] = deltas.get(key, "") + data["delta"]
        elif event.type == "response.output_text.done" and data.get("text") != deltas.get(key, ""):
            return (
                f"the deltas of item {key[0]!r} join to {shown(deltas.get(key, ''), 60)} but output_text.done says "
                f"{shown(str(data.get('text')), 60)}"
            )
        elif event.type == "response.content_part.done":
            part = data.get("part")
            text = part.get("text") if isinstance(part, dict) else None
            if part and part.get("type") == "output_text" and text != deltas.get(key, ""):
                return f"content_part.done of item {key[0]!r} says {shown(str(text), 60)}, not the deltas joined"
    if events[-1].type in ("response.completed", "response.incomplete"):
        final = output_text(exchange, final_response(exchange, events))
        streamed = "".join(deltas.values())
        if final != streamed:
            return f"the deltas join to {shown(streamed, 60)} but the final response's text is {shown(final, 60)}"
    return None


@check("responses-streaming", Level.MUST, source="open-responses-streaming", needs=(STREAMED, BASIC), runs_last=True)
def text_deltas_join_to_the_done_text(ctx: CheckContext) -> str | None:
    """In every Responses stream, the output_text deltas of each part join to its output_text.done text, to its
    content_part.done part, and to the text of the final response."""

    def judge(exchange: Exchange) -> None:
        events = events_of(exchange, answered_by=RESPONSE_EVENTS)
        problem = join_problem(exchange, events)
        if problem:
            raise CheckFailed(f"{exchange.describe()}: {problem}")

    return _each_stream(ctx, judge)


@check("responses-streaming", Level.MUST, source="open-responses-compliance", needs=(STREAMED, BASIC))
def streamed_request_completes(ctx: CheckContext) -> str | None:
    """A streamed request (the compliance tester's streaming-response) is answered with a stream of events whose
    last is response.completed, its response completed (or response.incomplete for max_output_tokens)."""
    offered(ctx)
    exchange = ctx.exchange(STREAMED)
    events = events_of(exchange)
    last = events[-1]
    if last.type not in ("response.completed", "response.incomplete"):
        raise CheckFailed(f"{exchange.describe()}: the stream ends with {last.type!r}, not response.completed")
    status = final_response(exchange, events).get("status")
    if status != last.type.removeprefix("response."):
        raise CheckFailed(f"{exchange.describe()}: {last.type} carries a response with status {brief(status)}")
    return f"{len(events)} events, ending with {last.type}"


@check("responses-streaming", Level.MUST, source="open-responses-streaming", needs=(FAILING, BASIC))
def failure_mid_stream_is_an_event(ctx: CheckContext) -> str | None:
    """A stream the target breaks off ends with a response.failed event (its response failed, with an error) or an
    error event, never with response.completed."""
    offered(ctx)
    exchange = ctx.exchange(FAILING)
    events = events_of(exchange)
    last = events[-1]
    if last.type == "response.completed":
        raise NotApplicable(f"{exchange.describe()}: the target did not break the stream off")
    if last.type == "error" and isinstance(last.data.get("message"), str):
        return "an error event"
    response = last.data.get("response")
    if last.type != "response.failed" or not isinstance(response, dict):
        raise CheckFailed(f"{exchange.describe()}: the stream ends with {last.type!r}, not response.failed or error")
    error = response.get("error")
    if response.get("status") != "failed" or not isinstance(error, dict) or not isinstance(error.get("message"), str):
        raise CheckFailed(
            f"{exchange.describe()}: response.failed carries status {brief(response.get('status'))} and error "
            f"{brief(error)}, expected status 'failed' with an error message"
        )
    return "response.failed with its error"


@check("responses-streaming", Level.MUST, source="openai-responses-sdk", needs=(STREAMED, BASIC), runs_last=True)
def clients_assemble_every_stream(ctx: CheckContext) -> str | None:
    """Both official clients read every well-ordered Responses stream to its final response (openai-python's
    responses.stream() helper; the TypeScript client's ResponseStream.finalResponse())."""
    judged = 0

    def judge(exchange: Exchange) -> None:
        nonlocal judged
        client_differences.note(exchange, "response-stream-events")
        client_differences.note(exchange, "response-stream")
        events = events_of(exchange, answered_by=RESPONSE_EVENTS)
        if sequence_problem(events) or order_problem(events) or join_problem(exchange, events):
            return  # the stream's own checks say what is wrong with it
        if events[-1].type == "response.failed":
            return
        judged += 1
        python = sdk_oracle.judge(exchange, "response-stream")
        typescript = ts_oracle.judge(exchange, "response-stream")
        helper = typescript.helper
        if not python.accepted or python.second_opinion() or (helper is not None and not helper.accepted):
            raise CheckFailed(f"{exchange.describe()}: {clients(python, helper or typescript)}")

    result = _each_stream(ctx, judge)
    if not judged:
        raise NotApplicable("no well-ordered stream to assemble; the other checks of this row say why")
    return result
