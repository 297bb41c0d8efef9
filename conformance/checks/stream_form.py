"""Row ``streaming``, the form of every stream the run got: framing on the exact bytes (content type,
one ``data:`` line per event, blank lines, ``[DONE]`` last), every chunk against the schema and
through the SDK, and the chunk invariants (same id, created and model; role first and once; one
finish_reason per choice; no usage unless asked).

These checks run last and judge every stream of every row (streaming, tools, ...), so a broken
chunk anywhere is one verdict here; the checks that read a stream for a claim of their own use
``read_chunks``, which blocks them (naming the check here that reports why) instead of failing.

A stream that carries an error event after it started (``data: {"error": ...}``) is judged up to
the error: the error event is not a chunk, and no ``[DONE]`` is owed after it
(``streaming.mid_stream_error_is_a_data_event`` judges the error itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance import client_differences, jsonparse, sdk_oracle, ts_oracle
from conformance.checks._every import CHUNK_FORM, STREAM_FRAMING, every, judge_each
from conformance.checks._expect import brief, clients, expect_status, shown
from conformance.checks._python_helper import joined_role
from conformance.checks._stream_events import (
    broke_off,
    data_lines_run_together,
    done_problem,
    error_event,
    events_before_the_end,
    framed,
    is_event_stream,
)
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

BASIC = "streaming/basic"
USAGE = "streaming/include-usage"


@dataclass(frozen=True)
class Chunk:
    number: int  # 1-based position among the events
    value: Any


def chunks(exchange: Exchange) -> list[Chunk]:
    """The chunks of a stream; an event that is not a JSON object fails the check."""
    found = []
    for number, data in events_before_the_end(exchange):
        try:
            value = jsonparse.loads(data)
        except ValueError as exc:
            raise CheckFailed(f"{exchange.describe()}: event {number} is not JSON ({exc}): {shown(data)}") from None
        if not isinstance(value, dict):
            raise CheckFailed(f"{exchange.describe()}: event {number} is {shown(data, 60)}, expected a JSON object")
        found.append(Chunk(number, value))
    return found


def read_chunks(
    exchange: Exchange, *, answered_by: str | None = None, framing: str = STREAM_FRAMING, form: str = CHUNK_FORM
) -> list[Chunk]:
    """The chunks of a stream a check reads for its own claim: the request must be answered (else the
    check fails, or is blocked by ``answered_by`` where another check owns that claim); a body that is
    no event stream blocks the check by ``framing``, an event that is no chunk by ``form`` (the owners of
    those claims for this kind of stream)."""
    expect_status(exchange, 200, answered_by=answered_by)
    if not framed(exchange):
        response = exchange.response
        assert response is not None
        raise Blocked(framing, f"{exchange.describe()} is not a framed event stream ({response.media_type})")
    try:
        found = chunks(exchange)
    except CheckFailed as failure:
        raise Blocked(form, failure.message) from None
    if not found:
        raise Blocked(form, f"{exchange.describe()}: the stream holds no chunk")
    return found


def choice_index(choice: dict[str, Any]) -> Any:
    """A choice's index, as something a set can hold (whatever type the target sent)."""
    index = choice.get("index")
    return index if isinstance(index, int | str | float | bool) or index is None else repr(index)


def choices_of(chunk: Chunk) -> list[dict[str, Any]]:
    choices = chunk.value.get("choices") if isinstance(chunk.value, dict) else None
    return [choice for choice in choices if isinstance(choice, dict)] if isinstance(choices, list) else []


def delta_of(choice: dict[str, Any]) -> dict[str, Any]:
    delta = choice.get("delta")
    return delta if isinstance(delta, dict) else {}


def first_index(found: list[Chunk]) -> Any:
    """The index of the first choice a stream carries: what ``chunk.choices[0]`` reads in the Python SDK
    (a stream that numbers its only choice 1 is the TypeScript helper's check to report)."""
    return next((choice_index(choice) for chunk in found for choice in choices_of(chunk)), 0)


def joined_content(found: list[Chunk], index: int = 0) -> str:
    parts = []
    for chunk in found:
        for choice in choices_of(chunk):
            content = delta_of(choice).get("content")
            if choice.get("index") == index and isinstance(content, str):
                parts.append(content)
    return "".join(parts)


def _streams(ctx: CheckContext) -> list[Exchange]:
    return every(ctx, "stream")


def _over_streams(ctx: CheckContext, judge: Callable[[Exchange, list[Chunk]], None]) -> str:
    """Judge the chunks of every stream that is an event stream of chunks (the others are the
    framing and chunk-form checks' to report)."""
    readable = []
    for exchange in _streams(ctx):
        if not framed(exchange):
            continue
        try:
            found = chunks(exchange)
        except CheckFailed:
            continue
        if found:
            readable.append((exchange, found))
    if not readable and _streams(ctx):
        raise Blocked(CHUNK_FORM, "no stream of the run holds chunks to read")
    by_id = {exchange.id: found for exchange, found in readable}
    return judge_each(
        (exchange for exchange, _ in readable),
        lambda exchange: judge(exchange, by_id[exchange.id]),
        noun="streams",
        empty="the run got no stream",
    )


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,), runs_last=True)
def events_are_single_data_lines(ctx: CheckContext) -> str | None:
    """Every stream of the run is text/event-stream, each event one data: line followed by a blank line, with no
    event:, id: or other fields."""
    notes: set[str] = set()

    def judge(exchange: Exchange) -> None:
        response = exchange.response
        assert response is not None
        if not is_event_stream(exchange):
            raise CheckFailed(
                f"{exchange.describe()}: expected Content-Type text/event-stream, got "
                f"{response.header('content-type') or 'none'}; body {shown(response.body)}"
            )
        stream = exchange.stream
        run_together = data_lines_run_together(stream)
        if run_together:
            raise CheckFailed(
                f"{exchange.describe()}: {run_together} data: lines follow one another with no blank line between "
                "them; a blank line ends each event, so clients read them as one event of multi-line data (or, at "
                "the end of the stream, drop them)"
            )
        for event in stream.events:
            if event.names != ("data",):
                fields = ", ".join(f"{name}: {shown(value, 60)}" for name, value in event.fields)
                raise CheckFailed(
                    f"{exchange.describe()}: event {event.index + 1} has the fields [{fields}]; OpenAI clients read "
                    "one data: line per event (an 'event: error' is dropped by the SDK)"
                )
        if stream.trailing:
            raise CheckFailed(
                f"{exchange.describe()}: the stream ends with bytes that are not a complete event: "
                f"{shown(stream.trailing)}"
            )
        if stream.comments:
            notes.add("comment lines (allowed)")
        if stream.line_endings - {"LF"}:
            notes.add(f"line endings {sorted(stream.line_endings)} (allowed)")

    verdict = judge_each(_streams(ctx), judge, noun="streams", empty="the run got no stream")
    return "; ".join([verdict, *sorted(notes)])


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,), runs_last=True)
def stream_ends_with_done(ctx: CheckContext) -> str | None:
    """Every stream ends with the event data: [DONE] (or with an error event), and nothing follows it."""

    def judge(exchange: Exchange) -> None:
        problem = done_problem(exchange)
        if problem:
            raise CheckFailed(problem)

    return judge_each([e for e in _streams(ctx) if framed(e)], judge, noun="streams", empty="no framed stream")


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC, USAGE), runs_last=True)
def chunks_are_schema_valid(ctx: CheckContext) -> str | None:
    """Every chunk of every stream is a chat.completion.chunk object (schema), and the SDK reads every stream."""

    def judge(exchange: Exchange) -> None:
        differ = client_differences.note(exchange, "chat-completion-stream")
        found = chunks(exchange)
        errors = [event for event in exchange.stream.events if error_event(event.data)]
        if not found and errors:
            return  # an error in place of the stream: the check of that request's claim judges it
        if not found:
            raise CheckFailed(f"{exchange.describe()}: the stream holds no chunk")
        for chunk in found:
            issues = ctx.schemas.validate("chat-completion-chunk", chunk.value)
            if issues:
                shown_issues = "; ".join(str(issue) for issue in issues[:3])
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} violates the chat-completion-chunk schema: "
                    f"{shown_issues}",
                    details={"chunk": chunk.number, "schema_issues": [str(issue) for issue in issues]},
                )
        if any(error_event(event.data) for event in exchange.stream.events):
            return  # the SDK raises the error, as it should: mid_stream_error_is_a_data_event judges it
        verdict = sdk_oracle.judge(exchange, "chat-completion-stream")
        typescript = ts_oracle.judge(exchange, "chat-completion-stream")
        ts_rejects = typescript.ran and not typescript.accepted
        if not verdict.accepted or ts_rejects:
            raise CheckFailed(
                f"{exchange.describe()}: the JSON Schema accepts every chunk but "
                f"{clients(verdict, typescript, differ)}",
                details={
                    "oracles": {
                        "json_schema": "accept",
                        "openai_sdk": "accept" if verdict.accepted else "reject",
                        "typescript_sdk": ("reject" if ts_rejects else "accept") if typescript.ran else "not run",
                    },
                    "sdk": verdict.summary(),
                    "typescript_sdk": typescript.summary(),
                },
            )

    return judge_each([e for e in _streams(ctx) if framed(e)], judge, noun="streams", empty="no framed stream")


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,), runs_last=True)
def chunks_share_id_created_and_model(ctx: CheckContext) -> str | None:
    """Every chunk of a stream carries the same id, created and model (in every stream of the run)."""

    def judge(exchange: Exchange, found: list[Chunk]) -> None:
        first = found[0]
        for key in ("id", "created", "model"):
            for chunk in found[1:]:
                if chunk.value.get(key) != first.value.get(key):
                    raise CheckFailed(
                        f"{exchange.describe()}: chunk {chunk.number} has {key} {brief(chunk.value.get(key))}"
                        f", but chunk {first.number} has {brief(first.value.get(key))}"
                    )

    return _over_streams(ctx, judge)


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,), runs_last=True)
def role_comes_first_and_once(ctx: CheckContext) -> str | None:
    """In every stream, the first delta of each choice has role "assistant", and no later delta carries a role."""

    def judge(exchange: Exchange, found: list[Chunk]) -> None:
        seen: set[Any] = set()
        for chunk in found:
            for choice in choices_of(chunk):
                index = choice_index(choice)
                role = delta_of(choice).get("role")
                if index not in seen:
                    seen.add(index)
                    if role != "assistant":
                        raise CheckFailed(
                            f"{exchange.describe()}: the first delta of choice {index} (chunk {chunk.number}) has "
                            f"role {brief(role, 40)}, expected 'assistant'"
                        )
                elif role is not None:
                    raise CheckFailed(
                        f"{exchange.describe()}: chunk {chunk.number} repeats role {brief(role, 40)} for choice "
                        f"{index}; only the first delta carries it{joined_role(exchange)}"
                    )
        if not seen:
            raise CheckFailed(f"{exchange.describe()}: no chunk carries a choice")

    return _over_streams(ctx, judge)


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,), runs_last=True)
def one_finish_reason_per_choice(ctx: CheckContext) -> str | None:
    """In every stream, each choice gets exactly one finish_reason, and no content arrives after it."""

    broken: list[str] = []
    judged: list[str] = []

    def judge(exchange: Exchange, found: list[Chunk]) -> None:
        judged.append(exchange.id)
        if broke_off(exchange):
            broken.append(exchange.id)  # no finish_reason is owed: the check of its request judges the error
            return
        finished: dict[Any, int] = {}
        indexes: set[Any] = set()
        for chunk in found:
            for choice in choices_of(chunk):
                index = choice_index(choice)
                indexes.add(index)
                delta = delta_of(choice)
                if index in finished and (delta.get("content") or delta.get("tool_calls")):
                    raise CheckFailed(
                        f"{exchange.describe()}: chunk {chunk.number} adds content to choice {index} after its "
                        f"finish_reason in chunk {finished[index]}"
                    )
                if choice.get("finish_reason") is not None:
                    if index in finished:
                        raise CheckFailed(
                            f"{exchange.describe()}: choice {index} gets a second finish_reason in chunk "
                            f"{chunk.number} (the first was in chunk {finished[index]})"
                        )
                    finished[index] = chunk.number
        missing = sorted(str(index) for index in indexes - set(finished))
        if missing:
            raise CheckFailed(f"{exchange.describe()}: choice {', '.join(missing)} never gets a finish_reason")

    message = _over_streams(ctx, judge)
    if broken and len(broken) == len(judged):
        raise NotApplicable(
            f"every stream broke off with an error event, which owes no finish_reason (the check of each request "
            f"judges the error): {', '.join(broken[:5])}"
        )
    if broken:
        message += (
            f"; {len(broken)} of them not judged: they broke off with an error event, which owes no finish_reason "
            f"(the check of each request judges the error): {', '.join(broken[:5])}"
        )
    return message


def _asked_for_usage(exchange: Exchange) -> bool:
    body = exchange.request.json
    options = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(options, dict) and options.get("include_usage") is True


@check("streaming", Level.SHOULD, source="openai-streaming", needs=(BASIC,), runs_last=True)
def no_usage_unless_asked(ctx: CheckContext) -> str | None:
    """Without stream_options.include_usage, no chunk carries usage (in every stream of the run)."""

    def judge(exchange: Exchange, found: list[Chunk]) -> None:
        if _asked_for_usage(exchange):
            return
        for chunk in found:
            if chunk.value.get("usage") is not None:
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} carries usage although none was asked for"
                )

    try:
        return _over_streams(ctx, judge)
    except NotApplicable:
        raise NotApplicable("the run got no stream without include_usage") from None


__all__ = ["broke_off", "done_problem", "error_event", "framed", "is_event_stream"]
