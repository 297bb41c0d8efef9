"""Row ``streaming``: POST /chat/completions with ``stream: true``, judged on the raw bytes.

Framing is checked on the exact bytes the target sent (content type, ``data:`` events, blank lines,
``[DONE]``), every chunk against the schema and through the SDK, the chunk invariants (same id,
created and model; role first; one finish_reason per choice; the usage chunk), the joined text
against the same request without streaming, and the arrival times of the chunks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conformance import jsonparse, sdk_oracle, sse
from conformance.checks._expect import complete_response_of, expect_chat_completion, shown, unsupported_if_refused
from conformance.checks._requests import chat_request
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable, Note

# multi-byte characters of two, three and four bytes, which an echoing target repeats and which a
# server that cuts tokens between chunks would break
PROMPT = "Repeat after me: ça va, 日本語, ☕ and 😀."
BASIC = "streaming/basic"
USAGE = "streaming/include-usage"
TWIN = "streaming/non-streamed-twin"


def _streamed(target: Target, exchange_id: str, purpose: str, **params: Any) -> Request | None:
    return chat_request(target, exchange_id, purpose, [{"role": "user", "content": PROMPT}], temperature=0, **params)


@probe(BASIC)
def basic(target: Target) -> Request | None:
    return _streamed(target, BASIC, "a streamed answer at temperature 0", stream=True)


@probe(USAGE)
def include_usage(target: Target) -> Request | None:
    return _streamed(
        target,
        USAGE,
        "a streamed answer with stream_options.include_usage",
        stream=True,
        stream_options={"include_usage": True},
    )


@probe(TWIN)
def twin(target: Target) -> Request | None:
    return _streamed(target, TWIN, "the request of streaming/basic without streaming")


@dataclass(frozen=True)
class Chunk:
    number: int  # 1-based position among the data events
    value: Any


def _stream_ok(exchange: Exchange) -> None:
    """The exchange is a complete event stream; otherwise the check does not apply."""
    response = exchange.response
    if response is None or response.status != 200 or response.media_type != "text/event-stream":
        status = "no response" if response is None else f"HTTP {response.status}, {response.media_type}"
        raise NotApplicable(
            f"{exchange.describe()} gave no event stream ({status}); streaming.request_succeeds says why"
        )


def _data_lines_run_together(stream: sse.Stream) -> int:
    """How many data: lines that are each a whole chunk (or [DONE]) share an event with others: events whose
    blank lines are missing. 0 if there are none (an event split over data: lines is judged elsewhere)."""
    groups = [[value for name, value in event.fields if name == "data"] for event in stream.events]
    trailing = stream.trailing.decode("utf-8", errors="replace").splitlines()
    groups.append([line.removeprefix("data:").removeprefix(" ") for line in trailing if line.startswith("data:")])
    return sum(len(group) for group in groups if len(group) > 1 and all(map(_whole_event, group)))


def _whole_event(data: str) -> bool:
    if data == "[DONE]":
        return True
    try:
        return isinstance(jsonparse.loads(data), dict)
    except ValueError:
        return False


def chunks(exchange: Exchange) -> list[Chunk]:
    """The JSON chunks of a stream (events before ``[DONE]``); a non-JSON event fails the check."""
    _stream_ok(exchange)
    found = []
    for number, event in enumerate(exchange.stream.events, start=1):
        data = event.data
        if data is None or data == "[DONE]":
            continue
        try:
            value = jsonparse.loads(data)
        except ValueError as exc:
            raise CheckFailed(f"{exchange.describe()}: event {number} is not JSON ({exc}): {shown(data)}") from None
        if not isinstance(value, dict):
            raise CheckFailed(f"{exchange.describe()}: event {number} is {shown(data, 60)}, expected a JSON object")
        found.append(Chunk(number, value))
    return found


def choice_index(choice: dict[str, Any]) -> Any:
    """A choice's index, as something a set can hold (whatever type the target sent)."""
    index = choice.get("index")
    return index if isinstance(index, int | str | float | bool) or index is None else repr(index)


def choices_of(chunk: Chunk) -> list[dict[str, Any]]:
    choices = chunk.value.get("choices") if isinstance(chunk.value, dict) else None
    return [choice for choice in choices if isinstance(choice, dict)] if isinstance(choices, list) else []


def joined_content(found: list[Chunk], index: int = 0) -> str:
    parts = []
    for chunk in found:
        for choice in choices_of(chunk):
            delta = choice.get("delta")
            if choice.get("index") == index and isinstance(delta, dict) and isinstance(delta.get("content"), str):
                parts.append(delta["content"])
    return "".join(parts)


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def request_succeeds(ctx: CheckContext) -> str | None:
    """A request with stream: true answers 200 with Content-Type text/event-stream and a complete body."""
    exchange = ctx.exchange(BASIC)
    unsupported_if_refused(exchange, "streaming")
    response = complete_response_of(exchange)
    if response.status != 200:
        raise CheckFailed(
            f"{exchange.describe()}: expected HTTP 200, got {response.status}; body {shown(response.body)}"
        )
    if response.media_type != "text/event-stream":
        raise CheckFailed(
            f"{exchange.describe()}: expected Content-Type text/event-stream, got "
            f"{response.header('content-type') or 'none'}; body {shown(response.body)}"
        )
    return f"{len(exchange.stream.events)} events"


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def events_are_single_data_lines(ctx: CheckContext) -> str | None:
    """Every event is one data: line followed by a blank line, with no event:, id: or other fields."""
    exchange = ctx.exchange(BASIC)
    _stream_ok(exchange)
    stream = exchange.stream
    run_together = _data_lines_run_together(stream)
    if run_together:
        raise CheckFailed(
            f"{exchange.describe()}: {run_together} data: lines follow one another with no blank line between them; "
            "a blank line ends each event, so clients read them as one event of multi-line data (or, at the end "
            "of the stream, drop them)"
        )
    for event in stream.events:
        if event.names != ("data",):
            fields = ", ".join(f"{name}: {shown(value, 60)}" for name, value in event.fields)
            raise CheckFailed(
                f"{exchange.describe()}: event {event.index + 1} has the fields [{fields}]; OpenAI clients read one "
                "data: line per event (an 'event: error' is dropped by the SDK)"
            )
    if stream.trailing:
        raise CheckFailed(
            f"{exchange.describe()}: the stream ends with bytes that are not a complete event: {shown(stream.trailing)}"
        )
    notes = []
    if stream.comments:
        notes.append(f"{len(stream.comments)} comment lines (allowed)")
    if stream.line_endings - {"LF"}:
        notes.append(f"line endings {sorted(stream.line_endings)} (allowed)")
    return "; ".join(notes) or None


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def stream_ends_with_done(ctx: CheckContext) -> str | None:
    """The last event is data: [DONE] and nothing follows it."""
    exchange = ctx.exchange(BASIC)
    _stream_ok(exchange)
    events = exchange.stream.events
    done = [event.index for event in events if event.data == "[DONE]"]
    if not done:
        last = shown(events[-1].data or "", 120) if events else "no events at all"
        raise CheckFailed(f"{exchange.describe()}: no data: [DONE] event; the last event is {last}")
    if done[-1] != len(events) - 1 or len(done) > 1 or exchange.stream.trailing:
        raise CheckFailed(
            f"{exchange.describe()}: data: [DONE] is event {done[0] + 1} of {len(events)}; more follows it"
        )
    return None


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC, USAGE))
def chunks_are_schema_valid(ctx: CheckContext) -> str | None:
    """Every chunk is a chat.completion.chunk object (schema), and the SDK reads the whole stream."""
    total = 0
    for exchange in (ctx.exchange(BASIC), ctx.exchange(USAGE)):
        found = chunks(exchange)
        if not found:
            raise CheckFailed(f"{exchange.describe()}: the stream holds no JSON chunk")
        for chunk in found:
            issues = ctx.schemas.validate("chat-completion-chunk", chunk.value)
            if issues:
                shown_issues = "; ".join(str(issue) for issue in issues[:3])
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} violates the chat-completion-chunk schema: "
                    f"{shown_issues}",
                    details={"chunk": chunk.number, "schema_issues": [str(issue) for issue in issues]},
                )
        verdict = sdk_oracle.judge(exchange, "chat-completion-stream")
        if not verdict.accepted:
            raise CheckFailed(
                f"{exchange.describe()}: the JSON Schema accepts every chunk but {verdict.summary()}",
                details={"oracles": {"json_schema": "accept", "openai_sdk": "reject"}, "sdk": verdict.summary()},
            )
        total += len(found)
    return f"{total} chunks in two streams"


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def chunks_share_id_created_and_model(ctx: CheckContext) -> str | None:
    """Every chunk of a stream carries the same id, created and model."""
    exchange = ctx.exchange(BASIC)
    found = [chunk for chunk in chunks(exchange) if isinstance(chunk.value, dict)]
    if not found:
        raise NotApplicable("the stream holds no JSON object chunk; streaming.chunks_are_schema_valid reports it")
    first = found[0]
    for key in ("id", "created", "model"):
        for chunk in found[1:]:
            if chunk.value.get(key) != first.value.get(key):
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} has {key} {chunk.value.get(key)!r}, "
                    f"but chunk {first.number} has {first.value.get(key)!r}"
                )
    return None


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def role_comes_first_and_once(ctx: CheckContext) -> str | None:
    """The first delta of each choice has role "assistant", and no later delta carries a role."""
    exchange = ctx.exchange(BASIC)
    seen: set[Any] = set()
    for chunk in chunks(exchange):
        for choice in choices_of(chunk):
            index = choice_index(choice)
            delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
            role = delta.get("role")
            if index not in seen:
                seen.add(index)
                if role != "assistant":
                    raise CheckFailed(
                        f"{exchange.describe()}: the first delta of choice {index} (chunk {chunk.number}) has role "
                        f"{role!r}, expected 'assistant'"
                    )
            elif role is not None:
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} repeats role {role!r} for choice {index}; "
                    "only the first delta carries it"
                )
    if not seen:
        raise CheckFailed(f"{exchange.describe()}: no chunk carries a choice")
    return None


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def one_finish_reason_per_choice(ctx: CheckContext) -> str | None:
    """Each choice gets exactly one finish_reason, and no content arrives after it."""
    exchange = ctx.exchange(BASIC)
    finished: dict[Any, int] = {}
    indexes: set[Any] = set()
    for chunk in chunks(exchange):
        for choice in choices_of(chunk):
            index = choice_index(choice)
            indexes.add(index)
            delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
            if index in finished and (delta.get("content") or delta.get("tool_calls")):
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} adds content to choice {index} after its "
                    f"finish_reason in chunk {finished[index]}"
                )
            if choice.get("finish_reason") is not None:
                if index in finished:
                    raise CheckFailed(
                        f"{exchange.describe()}: choice {index} gets a second finish_reason in chunk {chunk.number} "
                        f"(the first was in chunk {finished[index]})"
                    )
                finished[index] = chunk.number
    missing = sorted(str(index) for index in indexes - set(finished))
    if missing:
        raise CheckFailed(f"{exchange.describe()}: choice {', '.join(missing)} never gets a finish_reason")
    return None


@check("streaming", Level.MUST, source="openai-streaming", needs=(USAGE,))
def usage_chunk_when_asked(ctx: CheckContext) -> str | None:
    """With stream_options.include_usage, one last chunk has empty choices and the usage; usage is null before it."""
    exchange = ctx.exchange(USAGE)
    unsupported_if_refused(exchange, "stream_options.include_usage")
    found = chunks(exchange)
    if not found:
        raise CheckFailed(f"{exchange.describe()}: the stream holds no JSON chunk")
    last = found[-1]
    usage = last.value.get("usage") if isinstance(last.value, dict) else None
    if not isinstance(usage, dict) or last.value.get("choices") != []:
        raise CheckFailed(
            f"{exchange.describe()}: the last chunk (chunk {last.number}) has choices "
            f"{shown(json.dumps(last.value.get('choices')), 80)} and usage {usage!r}; "
            "expected choices [] and a usage object"
        )
    for chunk in found[:-1]:
        if chunk.value.get("usage") is not None:
            raise CheckFailed(
                f"{exchange.describe()}: chunk {chunk.number} already carries usage {chunk.value.get('usage')!r}; "
                "only the last chunk should, the others have null"
            )
    counts = [usage.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if not all(isinstance(count, int) and not isinstance(count, bool) for count in counts):
        raise CheckFailed(f"{exchange.describe()}: the usage chunk's counts are {counts}, expected integers")
    if counts[2] != counts[0] + counts[1]:
        raise CheckFailed(
            f"{exchange.describe()}: usage.total_tokens is {counts[2]}, but prompt_tokens {counts[0]} + "
            f"completion_tokens {counts[1]} = {counts[0] + counts[1]}"
        )
    return f"{counts[0]} + {counts[1]} = {counts[2]}"


@check("streaming", Level.SHOULD, source="openai-streaming", needs=(BASIC,))
def no_usage_unless_asked(ctx: CheckContext) -> str | None:
    """Without stream_options.include_usage, no chunk carries usage."""
    exchange = ctx.exchange(BASIC)
    for chunk in chunks(exchange):
        if isinstance(chunk.value, dict) and chunk.value.get("usage") is not None:
            raise CheckFailed(f"{exchange.describe()}: chunk {chunk.number} carries usage although none was asked for")
    return None


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC, TWIN))
def text_is_intact_utf8(ctx: CheckContext) -> str | None:
    """The stream is valid UTF-8, and no delta holds U+FFFD that the same answer without streaming lacks."""
    exchange = ctx.exchange(BASIC)
    _stream_ok(exchange)
    at = exchange.stream.invalid_utf8_at
    if at is not None:
        raise CheckFailed(f"{exchange.describe()}: the stream is not valid UTF-8 at byte {at}")
    streamed = joined_content(chunks(exchange))
    if "\ufffd" in streamed:
        twin_body = ctx.exchange(TWIN).json_body
        twin_text = _twin_text(twin_body.value) if twin_body.ok else None
        if twin_text is not None and "\ufffd" not in twin_text:
            position = streamed.index("\ufffd")
            raise CheckFailed(
                f"{exchange.describe()}: the streamed text holds U+FFFD at character {position} "
                f"({shown(streamed[max(position - 20, 0) : position + 20], 80)}) but the answer without streaming does "
                "not: a multi-byte character was cut between two chunks"
            )
    return None


def _twin_text(body: Any) -> str | None:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


@check("streaming", Level.SHOULD, source="openai-streaming", needs=(BASIC, TWIN))
def deltas_join_to_the_non_streamed_answer(ctx: CheckContext) -> str | None:
    """At temperature 0, the joined deltas equal the answer to the same request without streaming (exact match)."""
    exchange = ctx.exchange(BASIC)
    streamed = joined_content(chunks(exchange))
    twin_exchange = ctx.exchange(TWIN)
    body = expect_chat_completion(ctx, twin_exchange)
    plain = _twin_text(body) or ""
    if streamed != plain:
        at = next(
            (i for i, (a, b) in enumerate(zip(streamed, plain, strict=False)) if a != b), min(len(streamed), len(plain))
        )
        raise CheckFailed(
            f"the streamed text and the answer without streaming differ from character {at}: streamed "
            f"{shown(streamed[at : at + 40], 60)}, not streamed {shown(plain[at : at + 40], 60)} "
            "(both at temperature 0; a deterministic target gives the same text)"
        )
    return f"{len(streamed)} characters match"


@check("streaming", Level.SHOULD, source="openai-streaming", needs=(BASIC,))
def delivered_incrementally(ctx: CheckContext) -> Note:
    """The events arrive over time, not all in one piece at the end (real streaming); records time to first token."""
    exchange = ctx.exchange(BASIC)
    _stream_ok(exchange)
    events = exchange.stream.events
    content_events = [event for event in events if event.data not in (None, "[DONE]")]
    if len(content_events) < 3:
        raise NotApplicable(f"only {len(content_events)} chunks: too few to judge delivery")
    first, last = content_events[0].t, content_events[-1].t
    when = "recorded" if exchange.replayed else "measured"
    timing = f"first chunk after {first * 1000:.0f} ms, last after {last * 1000:.0f} ms ({when})"
    details = {"timing": when, "first_chunk_ms": round(first * 1000, 1), "last_chunk_ms": round(last * 1000, 1)}
    if last <= first:
        raise CheckFailed(
            f"{exchange.describe()}: all {len(content_events)} chunks arrived in one piece ({timing}): the answer was "
            "buffered, not streamed",
            details=details,
        )
    return Note(timing, details)


MID_STREAM = "streaming/mid-stream-error"


@probe(MID_STREAM)
def mid_stream_error(target: Target) -> Request | None:
    if target.mid_stream_error is None:
        return None
    return _streamed(
        target,
        MID_STREAM,
        "a stream the target is told to break off with an error (test targets)",
        stream=True,
        **target.mid_stream_error,
    )


@check("streaming", Level.MUST, source="openai-streaming", needs=(MID_STREAM,))
def mid_stream_error_is_a_data_event(ctx: CheckContext) -> str | None:
    """An error after the stream started arrives as data: {"error": {...}} (which the SDK raises as APIError),
    and the stream then ends."""
    exchange = ctx.exchange(MID_STREAM)
    _stream_ok(exchange)
    if exchange.failure is not None:
        raise CheckFailed(f"{exchange.describe()}: after the error the stream did not end: {exchange.failure.message}")
    for event in exchange.stream.events:
        data = event.data or ""
        try:
            value = jsonparse.loads(data) if data != "[DONE]" else None
        except ValueError:
            continue
        if event.field("event") == "error" or (isinstance(value, dict) and "error" in value):
            if event.names != ("data",):
                raise CheckFailed(
                    f"{exchange.describe()}: the error is sent with the fields {list(event.names)}; "
                    "OpenAI clients only read data: lines, so an 'event: error' is lost"
                )
            error = value.get("error") if isinstance(value, dict) else None
            if not isinstance(error, dict) or not isinstance(error.get("message"), str):
                raise CheckFailed(
                    f"{exchange.describe()}: event {event.index + 1} {shown(data, 120)} has no "
                    "error object with a message"
                )
            verdict = sdk_oracle.judge(exchange, "chat-completion-stream")
            if verdict.raised != "APIError":
                raise CheckFailed(
                    f"{exchange.describe()}: the SDK does not raise APIError for the error event ({verdict.summary()})"
                )
            return f"error at event {event.index + 1}: {shown(error['message'], 80)}"
    raise CheckFailed(
        f"{exchange.describe()}: the target was told to fail mid-stream but the stream carries no error event"
    )
