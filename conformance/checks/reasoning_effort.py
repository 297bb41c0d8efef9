"""Row ``reasoning``: ``reasoning_effort``. Every documented value is accepted, or refused with 400 naming
the parameter (never a 5xx, never silently); an undocumented value is refused; and, as model behaviour over
trials, a lower effort thinks less and ``none`` does not think at all (Ollama and OpenVINO's model server
were reported to accept the parameter and ignore it).

How much a model thought is read from ``usage.completion_tokens_details.reasoning_tokens``, or where a target
does not count it, from the length of the thinking it returns.
"""

from __future__ import annotations

from conformance.checks._expect import Starved, expect_status
from conformance.checks._reasoning import (
    EFFORT,
    EFFORTS,
    FIELD,
    INVALID_EFFORT,
    Read,
    ask,
    error_text,
    judge_efforts,
    read_answer,
)
from conformance.checks._trials import measure, pair_label
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable, Unsupported

INVALID = "extreme"


def _effort_probe(value: str) -> None:
    exchange_id = f"{EFFORT}{value}"

    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return ask(
            target,
            exchange_id,
            f"the question of reasoning/basic with reasoning_effort {value}",
            reasoning_effort=value,
        )


for _value in EFFORTS:
    _effort_probe(_value)


@probe(INVALID_EFFORT, refusal=True)
def invalid_effort(target: Target) -> Request | None:
    return ask(
        target,
        INVALID_EFFORT,
        f"reasoning_effort {INVALID!r}, a value OpenAI does not document",
        reasoning_effort=INVALID,
    )


def _names_effort(exchange: Exchange) -> bool:
    return "reasoning_effort" in (error_text(exchange) or "")


def refused(exchange: Exchange) -> bool:
    """The effort was refused with 400 naming reasoning_effort (the target does not take this value)."""
    response = exchange.response
    return response is not None and response.status == 400 and _names_effort(exchange)


@check("reasoning", Level.MUST, source="openai-reasoning-effort", needs=tuple(f"{EFFORT}{v}" for v in EFFORTS))
def effort_values_are_accepted_or_refused(ctx: CheckContext) -> str | None:
    """Each documented reasoning_effort (none, minimal, low, medium, high, xhigh, max) is answered, or refused with
    400 naming the parameter: never a server error, never another refusal."""
    return judge_efforts(ctx, EFFORT, refused, "reasoning_effort")


@check("reasoning", Level.MUST, source="openai-reasoning-effort", needs=(INVALID_EFFORT,))
def invalid_effort_is_refused(ctx: CheckContext) -> str | None:
    """A reasoning_effort OpenAI does not document ("extreme") is refused with 400, not answered as if it were another
    (the refusal's envelope and param are judged with every refusal's, by errors-400)."""
    exchange = ctx.exchange(INVALID_EFFORT)
    response = expect_status(exchange, 400, 200)
    if response.status == 200:
        raise CheckFailed(
            f"{exchange.describe()}: reasoning_effort {INVALID!r} was answered (HTTP 200): the target accepts any "
            "effort, so a misspelt one is silently ignored"
        )
    return "refused with 400" + (" naming reasoning_effort" if _names_effort(exchange) else "")


def thinking_of(read: Read) -> int | None:
    """How much the answer thought: its reasoning tokens, else the words of its thinking, else None."""
    if read.reasoning_tokens is not None:
        return read.reasoning_tokens
    if read.thought is not None:
        return len(read.thought.text.split())
    return None


def _trials_of(ctx: CheckContext, value: str) -> list[Exchange]:
    trials = ctx.trials(f"{EFFORT}{value}")
    if refused(trials[0]):
        raise Unsupported(f"{trials[0].describe()}: reasoning_effort {value!r} is refused with 400")
    return trials


def _amount(read: Read) -> int:
    amount = thinking_of(read)
    if amount is None:
        raise NotApplicable(f"{read.exchange.describe()}: neither reasoning tokens nor thinking to measure")
    return amount


@check(
    "reasoning",
    Level.SHOULD,
    source="openai-reasoning-effort",
    needs=(f"{EFFORT}low", f"{EFFORT}high"),
    kind=Kind.MODEL,
    threshold=0.8,
)
def lower_effort_thinks_less(ctx: CheckContext) -> Measured:
    """Asked the same question, the model thinks less at reasoning_effort low than at high, in at least 80 % of
    trial pairs (an effort accepted and ignored thinks the same at both)."""
    ctx.trials(f"{EFFORT}low")  # both read whatever the verdict: a replay reads what the recording made
    ctx.trials(f"{EFFORT}high")
    pairs = list(zip(_trials_of(ctx, "low"), _trials_of(ctx, "high"), strict=True))

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        reads = [read_answer(ctx, e, answered_by="reasoning.effort_values_are_accepted_or_refused") for e in pair]
        if all(read.starved for read in reads):
            raise Starved(f"{pair[0].describe()}: both answers were cut at the cap while thinking")
        low, high = (_amount(read) for read in reads)
        if high == 0:
            raise NotApplicable(f"{pair[1].describe()}: no thinking at effort high")
        return None if low < high else f"thought {low} at low and {high} at high"

    return measure("thought less at low than at high", [(pair_label(n), p) for n, p in enumerate(pairs, 1)], judge)


@check(
    "reasoning",
    Level.SHOULD,
    source="openai-reasoning-effort",
    needs=(f"{EFFORT}none", f"{EFFORT}medium", f"{EFFORT}low", f"{EFFORT}high"),
    kind=Kind.MODEL,
    threshold=0.8,
    trials=(f"{EFFORT}none",),
)
def effort_none_does_not_think(ctx: CheckContext) -> Measured:
    """At reasoning_effort none the model does not think (no reasoning tokens, no thinking returned), in at least
    80 % of trials."""
    ctx.trials(f"{EFFORT}none")  # every trial is read whatever the verdict: a replay reads what the recording made
    medium = (
        read_answer(ctx, ctx.exchange(f"{EFFORT}medium"), answered_by=FIELD)
        if not refused(ctx.exchange(f"{EFFORT}medium"))
        else None
    )
    if medium is not None and thinking_of(medium) is None:
        raise NotApplicable(f"{medium.exchange.describe()}: the target shows no thinking to measure at any effort")

    def judge(exchange: Exchange) -> str | None:
        read = read_answer(ctx, exchange, answered_by="reasoning.effort_values_are_accepted_or_refused")
        amount = thinking_of(read) or 0  # no count and no thinking: no sign that it thought
        return None if amount == 0 else f"thought {amount}"

    trials = _trials_of(ctx, "none")
    if medium is not None and _ignored_altogether(ctx, trials[0], medium):
        raise Blocked(
            "reasoning.lower_effort_thinks_less",
            f"{trials[0].describe()}: reasoning_effort none thinks as much as medium, and low as much as high: the "
            "effort is ignored altogether",
        )
    return measure("did not think", [(e.id, e) for e in trials], judge)


def _ignored_altogether(ctx: CheckContext, none: Exchange, medium: Read) -> bool:
    """Every effort thinks alike: none as much as medium, low as much as high (one defect, which
    lower_effort_thinks_less reports)."""
    try:
        at_none = thinking_of(read_answer(ctx, none)) or 0
        low, high = (thinking_of(read_answer(ctx, ctx.exchange(f"{EFFORT}{v}"))) for v in ("low", "high"))
    except (Blocked, CheckFailed):
        return False
    return at_none >= (thinking_of(medium) or 0) > 0 and low is not None and high is not None and low >= high
