"""What only the TypeScript client needs: its stream helper, and parse() with a zod schema.

The form of every answer is judged by both clients already (``_expect.expect_valid`` and the stream
form checks): these checks judge what Node apps do beyond reading the answer. ``ChatCompletionStream``
(``client.chat.completions.stream(...)``, ``finalChatCompletion()``) assembles a stream into one chat
completion and throws where a stream lacks what it needs to assemble; the Python SDK reads the same
streams chunk by chunk and never assembles them. Where the helper throws for a reason another check
owns (no role, no finish_reason, a streamed tool call without its type or name), that check reports
it, saying what the helper throws, and this one leaves the stream alone.

Without node these checks are skipped ("node not found"), and the run says so once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from conformance import sdk_oracle, ts_oracle
from conformance.checks._every import CHAT_FORM, CHUNK_FORM, STREAM_FRAMING, every, kind_of
from conformance.checks._expect import shown
from conformance.checks.stream_form import choices_of, chunks, error_event, framed, joined_content
from conformance.checks.structured_output import Forecast, content_of_parse_probe
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

BASIC = "streaming/basic"
PARSE_OWNER = "structured-output.sdk_parse_returns_the_model"
TOOL_STREAM = "tools.streamed_calls_reassemble"
PYTHON_READS = "the Python SDK reads them chunk by chunk, with no helper to assemble them"

# what the helper's message says -> the check that judges that part of every stream
_OWNED = (
    (re.compile(r"missing finish_reason"), "streaming.one_finish_reason_per_choice"),
    (re.compile(r"missing role|without sending any chunks"), "streaming.role_comes_first_and_once"),
)
# ... and of the streamed tool calls, which tools.streamed_calls_reassemble judges in its own stream
_TOOL_CALLS = re.compile(r"tool_calls\[\d+\]\.(type|function\.name|function\.arguments)|tool call")
TOOL_STREAM_PROBE = "tools/stream"


def _not_run(verdict: ts_oracle.TsVerdict) -> NotApplicable:
    return NotApplicable(f"{verdict.detail}: the TypeScript client was not run")


def _owner(exchange: Exchange, detail: str) -> str | None:
    if exchange.id == TOOL_STREAM_PROBE and _TOOL_CALLS.search(detail):
        return TOOL_STREAM
    return next((owner for pattern, owner in _OWNED if pattern.search(detail)), None)


def _readable(ctx: CheckContext, exchange: Exchange) -> bool:
    """A stream the protocol checks accept as far as chunks go: framed, every chunk of the schema, no error event."""
    if not framed(exchange) or any(error_event(event.data) for event in exchange.stream.events):
        return False
    try:
        found = chunks(exchange)
    except CheckFailed:
        return False
    return bool(found) and all(not ctx.schemas.validate("chat-completion-chunk", chunk.value) for chunk in found)


@check("streaming", Level.MUST, source="openai-node-helpers", needs=(BASIC,), runs_last=True)
def typescript_stream_helper_assembles_every_stream(ctx: CheckContext) -> str | None:
    """The TypeScript client's stream helper (ChatCompletionStream, finalChatCompletion()) assembles every stream
    whose chunks are well-formed into a chat completion, with the text the deltas carry."""
    streams = every(ctx, "stream")
    if not streams:
        raise NotApplicable("the run got no stream")
    readable = [exchange for exchange in streams if _readable(ctx, exchange)]
    if not readable:
        raise Blocked(STREAM_FRAMING if not any(framed(e) for e in streams) else CHUNK_FORM, "no stream is readable")
    judged, owned, failures = 0, [], []
    for exchange in readable:
        verdict = ts_oracle.judge(exchange, "chat-completion-stream")
        if not verdict.ran:
            raise _not_run(verdict)
        helper = verdict.helper
        if helper is None:
            failures.append(f"{exchange.describe()}: {verdict.summary()}")
            continue
        if not helper.accepted:
            owner = _owner(exchange, helper.detail)
            if owner is not None:
                owned.append(owner)
                continue
            failures.append(
                f"{exchange.describe()}: TypeScript openai {ts_oracle.version()} ChatCompletionStream throws "
                f"{helper.raised}: {helper.detail}"
            )
            continue
        judged += 1
        final = helper.data.get("final") or {}
        if not final.get("first_choice"):
            indexes = sorted({str(choice.get("index")) for found in chunks(exchange) for choice in choices_of(found)})
            failures.append(
                f"{exchange.describe()}: finalChatCompletion().choices[0] holds no message: the stream numbers its "
                f"choices {', '.join(indexes)}, and the helper puts each at its index"
            )
            continue
        joined = joined_content(chunks(exchange))
        content = final.get("content")
        if content != joined and not (not joined and content in (None, "")):
            failures.append(
                f"{exchange.describe()}: finalChatCompletion() holds {shown(final.get('content'), 60)}, the deltas "
                f"join to {shown(joined, 60)}"
            )
    if failures:
        shown_failures = "; ".join(failures[:3]) + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
        raise CheckFailed(f"{len(failures)} of {len(readable)} streams: {shown_failures}; {PYTHON_READS}")
    if not judged:
        raise Blocked(owned[0], "the helper throws on every stream for a reason that check reports")
    return f"{judged} streams assembled by TypeScript openai {ts_oracle.version()}"


@check("structured-output", Level.MUST, source="openai-node-helpers", needs=("structured-output/sdk-parse",))
def typescript_parse_returns_the_object(ctx: CheckContext) -> str | None:
    """client.chat.completions.parse with zodResponseFormat (the zod twin of the pydantic model) gets back the
    parsed object."""
    exchange = ctx.exchange("structured-output/sdk-parse")
    content_of_parse_probe(ctx, exchange)
    verdict = ts_oracle.judge(exchange, "parse")
    if not verdict.ran:
        raise _not_run(verdict)
    if verdict.accepted:
        return f"parsed {verdict.data.get('value')!r}"
    if not ts_oracle.judge(exchange, "chat-completion").accepted:
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: the TypeScript client cannot read the chat completion itself")
    python = sdk_oracle.parse_structured(exchange, Forecast)
    if not python.accepted:
        raise Blocked(PARSE_OWNER, f"neither client parses it: {verdict.summary()}")
    raise CheckFailed(f"{exchange.describe()}: Python's parse() reads it; {verdict.summary()}")


_KINDS: dict[str, ts_oracle.Kind] = {
    "chat-completion": "chat-completion",
    "stream": "chat-completion-stream",
    "model-list": "model-list",
    "model": "model",
    "moderation": "moderation",
    "error": "error",
    "response": "response",
    "response-stream": "response-stream",
}


def replay_pairs(exchanges: Iterable[Exchange]) -> list[tuple[Exchange, ts_oracle.Kind]]:
    """What the TypeScript client will be asked about these recordings: each answer as its kind (the
    form checks read every one), and the parse() probe's through parse()."""
    pairs: list[tuple[Exchange, ts_oracle.Kind]] = []
    for exchange in exchanges:
        kind = kind_of(exchange)
        if kind is not None:
            pairs.append((exchange, _KINDS[kind]))
        if exchange.id == "structured-output/sdk-parse":
            pairs.append((exchange, "parse"))
    return pairs
