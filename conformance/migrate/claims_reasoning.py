"""Claims of an app's traffic to a reasoning model: the field its upstream returned thinking in is the one the
candidate returns it in (an app reads one name: vLLM's rename of reasoning_content to reasoning emptied it for
apps that read the old one), the candidate thinks where the original did, and reasoning_effort none does not
think. What every answer must be whatever the request (thinking never in content, one field, reasoning tokens
within completion tokens, a starved answer ending "length", answers written after their thinking) is judged
by the run's own checks of every answer, which judge each request's answers here as they do a run's."""

from __future__ import annotations

from typing import Any

from conformance.checks._reasoning import Read, read_any
from conformance.checks.reasoning_effort import thinking_of
from conformance.migrate.arguments import AGREEMENT
from conformance.migrate.claims import TrafficContext, claim
from conformance.verdicts import CheckFailed, Kind, Level, Measured, NotApplicable

Body = dict[str, Any]


def _reads(ctx: TrafficContext) -> list[Read]:
    reads = [read for exchange in ctx.candidate if (read := read_any(ctx, exchange)) is not None]
    if not reads:
        raise NotApplicable("no answer to judge")
    return reads


def _original(ctx: TrafficContext) -> Read:
    if ctx.original is None or ctx.original.response is None or ctx.original.failure is not None:
        raise NotApplicable("there is no complete original answer to compare with")
    read = read_any(ctx, ctx.original)
    if read is None:
        raise NotApplicable("the original answer cannot be read")
    return read


def _asks_for_no_thinking(body: Body) -> bool:
    return body.get("reasoning_effort") == "none"


@claim("reasoning.effort_none_does_not_think", source="openai-reasoning-effort", applies=_asks_for_no_thinking)
def effort_none_does_not_think(ctx: TrafficContext) -> Measured:
    """An answer to a request with reasoning_effort none shows no thinking (no reasoning tokens, no thinking text)."""
    reads = _reads(ctx)
    misses = [f"{read.exchange.id}: thought {amount}" for read in reads if (amount := thinking_of(read) or 0)]
    return Measured(len(reads) - len(misses), len(reads), "did not think", misses)


@claim(
    "original.thinking_comes_in_the_same_field",
    Level.MUST,
    source="reasoning-fields",
    applies=lambda b: True,
    comparison=True,
)
def thinking_comes_in_the_same_field(ctx: TrafficContext) -> str:
    """Where the original answer returned thinking in a field, every answer that returns thinking returns it in that
    field: the one the app reads."""
    original = _original(ctx)
    if original.thought is None:
        raise NotApplicable("the original answer returned no thinking")
    wanted = original.thought.field
    moved = [read for read in _reads(ctx) if read.thought is not None and read.thought.field != wanted]
    if moved:
        first = moved[0]
        assert first.thought is not None
        raise CheckFailed(
            f"the original returned thinking in `{wanted}`, which the app reads; {len(moved)} answers return it in "
            f"`{first.thought.field}` ({first.exchange.id}): the field the app reads is empty there",
            details={"original": wanted, "candidate": sorted({r.thought.field for r in moved if r.thought})},
        )
    return f"thinking in `{wanted}`, as the original"


@claim(
    "original.thinks_where_the_original_did",
    Level.SHOULD,
    source="reasoning-fields",
    applies=lambda b: b.get("reasoning_effort") != "none",
    kind=Kind.MODEL,
    threshold=AGREEMENT,
    comparison=True,
)
def thinks_where_the_original_did(ctx: TrafficContext) -> Measured:
    """Where the original answer returned thinking, the answer returns thinking too (in any field; which field is
    the claim beside this one)."""
    original = _original(ctx)
    if original.thought is None:
        raise NotApplicable("the original answer returned no thinking")
    reads = _reads(ctx)
    misses = [f"{read.exchange.id}: returned no thinking" for read in reads if read.thought is None]
    return Measured(len(reads) - len(misses), len(reads), "returned thinking, as the original", misses)


__all__ = ["effort_none_does_not_think", "thinking_comes_in_the_same_field", "thinks_where_the_original_did"]
