"""What both clients' stream helpers share: which streams they are asked to assemble, which of their complaints
another check owns, and what Python's helper hands an app (for the messages of the checks that report a stream)."""

from __future__ import annotations

import re
from typing import Any

from conformance import sdk_oracle
from conformance.checks._expect import brief, shown
from conformance.checks.stream_form import chunks, error_event, framed
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.verdicts import CheckFailed

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


def first_message(final: Any) -> Any:
    """The message of the first choice of what a helper assembled, or None."""
    choices = getattr(final, "choices", None) or []
    return getattr(choices[0], "message", None) if choices else None


def python_says(exchange: Exchange) -> str:
    """What Python's stream helper hands an app of this stream, in a few words."""
    verdict = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    version = sdk_oracle.SDK_VERSION
    if not verdict.accepted:
        return f"Python openai {version}'s get_final_completion() raises {verdict.raised}: {shown(verdict.detail, 80)}"
    message = first_message(verdict.value)
    if message is None:
        return f"Python openai {version}'s get_final_completion() holds no choice"
    return (
        f"Python openai {version}'s get_final_completion() hands the app role {brief(message.role, 40)} and content "
        f"{brief(message.content, 40)}"
    )
