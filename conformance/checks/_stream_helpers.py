"""What both clients' stream helpers share: which streams they are asked to assemble, and which of their complaints
another check owns."""

from __future__ import annotations

import re

from conformance import client_differences
from conformance.checks._every import CHUNK_FORM, STREAM_FRAMING, every
from conformance.checks.stream_form import chunks, error_event, framed
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.verdicts import Blocked, CheckFailed, NotApplicable

BASIC = "streaming/basic"
TOOL_STREAM = "tools.streamed_calls_reassemble"
TOOL_STREAM_PROBE = "tools/stream"

# what a helper's message says -> the check that judges that part of every stream
_OWNED = (
    (re.compile(r"missing finish_reason"), "streaming.one_finish_reason_per_choice"),
    (re.compile(r"missing role|without sending any chunks"), "streaming.role_comes_first_and_once"),
)
# ... and of the streamed tool calls, which tools.streamed_calls_reassemble judges in its own stream (TypeScript
# names the part; Python's accumulation fails on a delta without an index, or one that skips an index)
_TOOL_CALLS = re.compile(
    r"tool_calls\[\d+\]\.(type|function\.name|function\.arguments)|tool call|`index` key|list index out of range"
)


def owner_of(exchange: Exchange, detail: str) -> str | None:
    """The check that reports what a helper complains of in this stream, if another check does."""
    if exchange.id == TOOL_STREAM_PROBE and _TOOL_CALLS.search(detail):
        return TOOL_STREAM
    return next((owner for pattern, owner in _OWNED if pattern.search(detail)), None)


def readable(ctx: CheckContext, exchange: Exchange) -> bool:
    """A stream the protocol checks accept as far as chunks go: framed, every chunk of the schema, no error event."""
    if not framed(exchange) or any(error_event(event.data) for event in exchange.stream.events):
        return False
    try:
        found = chunks(exchange)
    except CheckFailed:
        return False
    return bool(found) and all(not ctx.schemas.validate("chat-completion-chunk", chunk.value) for chunk in found)


def streams_to_assemble(ctx: CheckContext) -> list[Exchange]:
    """The run's streams whose chunks are well formed, for a helper to assemble; not applicable without streams,
    blocked by the framing or chunk checks when none is readable."""
    streams = every(ctx, "stream")
    if not streams:
        raise NotApplicable("the run got no stream")
    for exchange in streams:
        client_differences.note(exchange, "chat-completion-stream-helper")
    readable_ones = [exchange for exchange in streams if readable(ctx, exchange)]
    if not readable_ones:
        raise Blocked(STREAM_FRAMING if not any(framed(e) for e in streams) else CHUNK_FORM, "no stream is readable")
    return readable_ones
