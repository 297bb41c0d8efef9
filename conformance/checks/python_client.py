"""What the Python client's stream helper makes of every chat stream.

``client.chat.completions.stream(...)`` reads the same chunks ``create(stream=True)`` yields and accumulates each
delta into one chat completion (``get_final_completion()``). It accumulates by key: strings are joined, so a role
repeated in every delta comes out as "assistantassistant…"; the choices and the tool calls are placed by their
``index``, so a stream that numbers its only choice 1 makes it raise. The TypeScript helper does the same work its
own way (``ts_client``): where both fail on the same streams, the TypeScript check reports it and says what
Python does; where only Python's fails, this check does.
"""

from __future__ import annotations

from typing import Any

from conformance import sdk_oracle, ts_oracle
from conformance.checks._expect import brief, shown
from conformance.checks._python_helper import first_message
from conformance.checks._stream_helpers import BASIC, owner_of, streams_to_assemble
from conformance.checks.stream_form import chunks, joined_content
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import Blocked, CheckFailed, Level

TYPESCRIPT_HELPER = "streaming.typescript_stream_helper_assembles_every_stream"
ROLE_OWNER = "streaming.role_comes_first_and_once"


def _role_is_wrong(exchange: Exchange) -> bool:
    """The first delta of a choice has no role "assistant", or a later one carries a role again
    (role_comes_first_and_once's finding)."""
    seen: set[Any] = set()
    for chunk in chunks(exchange):
        for choice in chunk.value.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
            if (index in seen and delta.get("role") is not None) or (
                index not in seen and delta.get("role") != "assistant"
            ):
                return True
            seen.add(index)
    return False


def _typescript_fails(exchange: Exchange) -> bool:
    """The TypeScript helper fails on this stream too, for a reason no other check owns (so its check reports it)."""
    verdict = ts_oracle.judge(exchange, "chat-completion-stream")
    if not verdict.ran or verdict.helper is None:
        return False
    if not verdict.helper.accepted:
        return owner_of(exchange, verdict.helper.detail) is None
    return not (verdict.helper.data.get("final") or {}).get("first_choice")


def _judge(exchange: Exchange) -> tuple[str | None, str | None]:
    """(what is wrong with what Python's helper hands the app, the check that owns it), both None when right."""
    verdict = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    if not verdict.accepted:
        said = f"get_final_completion() raises {verdict.raised}: {verdict.detail}"
        return said, owner_of(exchange, verdict.detail)
    message = first_message(verdict.value)
    if message is None:
        return "get_final_completion() holds no choice", None
    if message.role != "assistant":
        said = f"get_final_completion() hands the app role {brief(message.role, 40)}"
        return said, ROLE_OWNER if _role_is_wrong(exchange) else None
    joined = joined_content(chunks(exchange))
    if message.content != joined and not (not joined and message.content in (None, "")):
        said = f"get_final_completion() holds {brief(message.content, 60)}, the deltas join to {shown(joined, 60)}"
        return said, None
    return None, None


@check("streaming", Level.MUST, source="openai-python-helpers", needs=(BASIC,), runs_last=True)
def python_stream_helper_assembles_every_stream(ctx: CheckContext) -> str | None:
    """The Python client's stream helper (chat.completions.stream(), get_final_completion()) assembles every stream
    whose chunks are well-formed into a chat completion whose first choice has role "assistant" and the text the
    deltas carry."""
    judged = streams_to_assemble(ctx)
    failures: list[tuple[Exchange, str]] = []
    owned: list[str] = []
    for exchange in judged:
        said, owner = _judge(exchange)
        if said is None:
            continue
        if owner is not None:
            owned.append(owner)
        else:
            failures.append((exchange, said))
    if failures and all(_typescript_fails(exchange) for exchange, _ in failures):
        raise Blocked(TYPESCRIPT_HELPER, f"both clients' helpers fail on these streams; Python's: {failures[0][1]}")
    if failures:
        listed = "; ".join(f"{exchange.describe()}: {said}" for exchange, said in failures[:3])
        more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        raise CheckFailed(
            f"{len(failures)} of {len(judged)} streams, read by Python openai {sdk_oracle.SDK_VERSION}'s "
            f"chat.completions.stream(): {listed}{more}",
            details={"failing": [exchange.id for exchange, _ in failures]},
        )
    if len(owned) == len(judged):
        raise Blocked(owned[0], "the helper fails on every stream for a reason that check reports")
    return f"{len(judged) - len(owned)} streams assembled by Python openai {sdk_oracle.SDK_VERSION}"
