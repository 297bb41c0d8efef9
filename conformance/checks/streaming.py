"""Row ``streaming``: POST /chat/completions with ``stream: true``, the claims about particular
requests: a stream is answered, the usage chunk when asked, intact UTF-8, the joined text against the
same request without streaming, the arrival times of the chunks, an error after the stream started.

The form of every stream (framing on the exact bytes, every chunk, the chunk invariants) is judged
once, over every stream of the run, in ``conformance.checks.stream_form``.
"""

from __future__ import annotations

import json
from typing import Any

from conformance import jsonparse, sdk_oracle, ts_oracle
from conformance.checks._every import CHAT_TEXT, STREAM_FRAMING
from conformance.checks._expect import (
    clients,
    complete_response_of,
    expect_chat_completion,
    shown,
    unsupported_if_refused,
)
from conformance.checks._reasoning import stream_written
from conformance.checks._requests import chat_request
from conformance.checks._trials import measure, pair_label
from conformance.checks.stream_form import (
    BASIC,
    USAGE,
    Chunk,
    broke_off,
    first_index,
    is_event_stream,
    joined_content,
    read_chunks,
)
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable, Note

# multi-byte characters of two, three and four bytes, which an echoing target repeats and which a
# server that cuts tokens between chunks would break
PROMPT = "Repeat after me: ça va, 日本語, ☕ and 😀."
# the check that owns the claim that the basic stream is answered; the others on it are blocked by it
ANSWERED = "streaming.request_succeeds"
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


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC,))
def request_succeeds(ctx: CheckContext) -> str | None:
    """A request with stream: true is answered with HTTP 200 and a complete body."""
    exchange = ctx.exchange(BASIC)
    unsupported_if_refused(exchange, "streaming")
    response = complete_response_of(exchange)
    if response.status != 200:
        raise CheckFailed(
            f"{exchange.describe()}: expected HTTP 200, got {response.status}; body {shown(response.body)}"
        )
    broken = broke_off(exchange)
    if broken is not None:
        raise CheckFailed(broken)
    return f"{len(exchange.stream.events)} events"


@check("streaming", Level.MUST, source="openai-streaming", needs=(USAGE,))
def usage_chunk_when_asked(ctx: CheckContext) -> str | None:
    """With stream_options.include_usage, one last chunk has empty choices and the usage; usage is null before it."""
    exchange = ctx.exchange(USAGE)
    unsupported_if_refused(exchange, "stream_options.include_usage")
    return judge_usage_chunk(exchange, read_chunks(exchange))


def judge_usage_chunk(exchange: Exchange, found: list[Chunk]) -> str:
    """The usage chunk a stream asked for with include_usage: last, with choices [] and integer counts that add
    up, and no usage before it (also judged for an app's own streams, by conformance.migrate)."""
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


@check("streaming", Level.MUST, source="openai-streaming", needs=(BASIC, TWIN))
def text_is_intact_utf8(ctx: CheckContext) -> str | None:
    """The stream is valid UTF-8, and no delta holds U+FFFD that the same answer without streaming lacks."""
    exchange = ctx.exchange(BASIC)
    at = exchange.stream.invalid_utf8_at if is_event_stream(exchange) else None
    if at is not None:
        raise CheckFailed(f"{exchange.describe()}: the stream is not valid UTF-8 at byte {at}")
    found = read_chunks(exchange, answered_by=ANSWERED)
    stream_written(exchange, found, first_index(found))
    streamed = joined_content(found, first_index(found))
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


@check(
    "streaming",
    Level.SHOULD,
    source="openai-seed-best-effort",
    needs=(BASIC, TWIN),
    kind=Kind.MODEL,
    threshold=0.5,
)
def deltas_join_to_the_non_streamed_answer(ctx: CheckContext) -> Measured:
    """At temperature 0, the joined deltas equal the answer to the same request without streaming (exact match),
    in at least half of the pairs of trials."""

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        exchange, twin_exchange = pair
        found = read_chunks(exchange, answered_by=ANSWERED)
        stream_written(exchange, found, first_index(found))
        streamed = joined_content(found, first_index(found))
        plain = _twin_text(expect_chat_completion(ctx, twin_exchange))
        if plain is None:
            raise Blocked(CHAT_TEXT, f"{twin_exchange.describe()} holds no answer text")
        if streamed == plain:
            return None
        at = next(
            (i for i, (a, b) in enumerate(zip(streamed, plain, strict=False)) if a != b), min(len(streamed), len(plain))
        )
        return (
            f"differ from character {at}: streamed {shown(streamed[at : at + 40], 50)}, not streamed "
            f"{shown(plain[at : at + 40], 50)}"
        )

    pairs = zip(ctx.trials(BASIC), ctx.trials(TWIN), strict=True)
    return measure(
        "the streamed text was the answer without streaming",
        [(pair_label(n), pair) for n, pair in enumerate(pairs, 1)],
        judge,
    )


@check("streaming", Level.SHOULD, source="openai-streaming", needs=(BASIC,))
def delivered_incrementally(ctx: CheckContext) -> Note:
    """The events arrive over time, not all in one piece at the end (real streaming); records time to first token."""
    exchange = ctx.exchange(BASIC)
    read_chunks(exchange, answered_by=ANSWERED)
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
    if exchange.response is not None and exchange.response.status == 200 and not is_event_stream(exchange):
        raise Blocked(STREAM_FRAMING, f"{exchange.describe()} is not an event stream")
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
            typescript = ts_oracle.judge(exchange, "chat-completion-stream")
            if verdict.raised != "APIError" or (typescript.ran and typescript.raised != "APIError"):
                raise CheckFailed(
                    f"{exchange.describe()}: an official client does not raise APIError for the error event "
                    f"({clients(verdict, typescript)})"
                )
            return f"error at event {event.index + 1}: {shown(error['message'], 80)}"
    raise CheckFailed(
        f"{exchange.describe()}: the target was told to fail mid-stream but the stream carries no error event"
    )
