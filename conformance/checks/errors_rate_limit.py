"""Row ``errors-rate-limit``: 429s are well formed, and a burst is limited and then recovers.

Every 429 the run meets is judged (these checks run last, also under xdist, so they see every
exchange, and the burst exhausts no limit another check still needs), the 429s of POST /responses
with them. Provoking one is opt-in (``--allow-rate-limit-probe`` or ``[rate_limit] probe = true``): it
spends up to the profile's budget of tiny requests on each endpoint, and waits for the window to pass
before checking recovery (a replay does not wait); see ``_bursts``.
"""

from __future__ import annotations

import math

from conformance import sdk_oracle
from conformance.checks._bursts import chat_burst_request, chat_plan, made, retry_after
from conformance.checks._bursts import limited as is_limited
from conformance.checks._every import judge_each
from conformance.checks._expect import (
    error_message,
    expect_error_envelope,
    expect_json,
    expect_status,
    response_of,
    shown,
    succeeded,
)
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import CheckFailed, Level, NotApplicable, Note


def _every_429(ctx: CheckContext) -> list[Exchange]:
    """The 429s the run kept (the bursts' included). A 429 the suite waited out and retried is not
    judged here: whether a run meets one depends on pacing, and a verdict must not (a rate limit
    signalled with another status is judged over every attempt, by rate_limits_are_signalled_with_429)."""
    if ctx.target.rate_limit.probe:
        made(ctx)
    return [e for e in ctx.every_exchange() if e.response is not None and e.response.status == 429]


@check("errors-rate-limit", Level.MUST, source="openai-errors", extra=chat_plan, runs_last=True)
def burst_is_limited_then_recovers(ctx: CheckContext) -> str | Note | None:
    """A burst of requests over the target's limit is limited (with a 429, or however the target says so: how is
    rate_limits_are_signalled_with_429's claim), and after Retry-After the target answers again (opt-in)."""
    settings = ctx.target.rate_limit
    if not settings.probe:
        raise NotApplicable(
            f"the rate-limit probe is opt-in: --allow-rate-limit-probe (it spends up to {settings.budget} requests)"
        )
    if chat_burst_request(ctx.target, 1) is None:
        raise NotApplicable("no model for the burst")
    bursts = made(ctx)
    for exchange in (*bursts.chat, *([bursts.recovery] if bursts.recovery else [])):
        ctx.cite(exchange)
    limited, number, answer = bursts.chat_limited, bursts.chat_number, bursts.recovery
    if limited is None or answer is None:
        raise NotApplicable(f"{settings.budget} requests in a row were not limited: the limit is above the budget")
    try:
        wait = retry_after(limited)
    except CheckFailed:
        wait = None  # every_429_is_well_formed says so
    if is_limited(answer, bursts.past):
        raise CheckFailed(
            f"{answer.describe()}: still limited ({response_of(answer).status}) after waiting {bursts.waited or 0:g} s "
            "(the Retry-After, or the profile's max_wait): the limit does not recover"
        )
    expect_status(answer, 200)
    how = "429" if response_of(limited).status == 429 else bursts.past.get(limited.id) or limited.rate_limited()
    details = {"requests_until_429": number, "retry_after": wait}
    return Note(
        f"limited ({how}) after {number} requests; answered again after {wait if wait is not None else '?'} s",
        details,
    )


@check("errors-rate-limit", Level.MUST, source="openai-errors", extra=chat_plan, runs_last=True)
def every_429_is_well_formed(ctx: CheckContext) -> str | None:
    """Every 429 the run met is JSON in the error envelope (the SDK raises RateLimitError), and its Retry-After,
    if any, parses."""
    limited = _every_429(ctx)
    if not limited:
        raise NotApplicable("the run met no 429")

    def judge(exchange: Exchange) -> None:
        ctx.cite(_cited(ctx, exchange))
        expect_json(exchange, 429)
        expect_error_envelope(ctx, exchange, "this check")
        raised = sdk_oracle.judge(exchange, "error").raised
        if raised != "RateLimitError":
            raise CheckFailed(f"{exchange.describe()}: the SDK raises {raised} for this 429, not RateLimitError")
        retry_after(exchange)

    judge_each(limited, judge, noun="429s", empty="the run met no 429")
    return f"{len(limited)} 429s"


def _signals(ctx: CheckContext) -> list[tuple[Exchange, str]]:
    """Every answer of the run that says the rate was limited (every attempt the suite retried included), and
    every answer of the bursts that came past the limit the target announced, each with how."""
    past = made(ctx).past if ctx.target.rate_limit.probe else {}
    found = []
    for exchange in ctx.every_exchange():
        found += [(a, signal) for a in (*exchange.earlier, exchange) if (signal := a.rate_limited()) is not None]
        if exchange.id in past:
            found.append((exchange, past[exchange.id]))
    return found


@check("errors-rate-limit", Level.MUST, source="openai-errors", needs=("chat-completions/basic",), runs_last=True)
def rate_limits_are_signalled_with_429(ctx: CheckContext) -> str | None:
    """A rate limit is signalled with HTTP 429 (the SDK raises RateLimitError and waits), not with another status
    whose body or Retry-After says so (a 503 or 500 the SDK treats as a server failure), nor with anything else
    past the limit the target announced (x-ratelimit-remaining-* 0): another status, an error inside a 200, a
    dropped connection."""
    seen = _signals(ctx)
    other = [(e, signal) for e, signal in seen if signal != "HTTP 429"]
    for exchange, _ in seen:
        ctx.cite(_cited(ctx, exchange))
    if other:
        exchange, signal = other[0]
        raise CheckFailed(
            f"{len(other)} rate-limited answers came with another status than 429: {exchange.describe()} was rate "
            f"limited with {signal}, expected 429; message {shown(error_message(exchange) or '', 120)}",
            details={"statuses": sorted({signal.split(",")[0] for _, signal in other})},
        )
    if not seen:
        return "the run met no rate limit"
    return f"{len(seen)} rate limits, all 429"


def _cited(ctx: CheckContext, attempt: Exchange) -> Exchange:
    """The exchange of the run an attempt belongs to (a retried attempt is evidence through it)."""
    for exchange in ctx.every_exchange():
        if attempt is exchange or attempt in exchange.earlier:
            return exchange
    return attempt


@check("errors-rate-limit", Level.SHOULD, source="openai-errors", extra=chat_plan, runs_last=True)
def rate_limited_answers_say_when_to_retry(ctx: CheckContext) -> str | None:
    """Every 429 says when to retry: a Retry-After (or retry-after-ms) header."""
    limited = _every_429(ctx)
    if not limited:
        raise NotApplicable("the run met no 429")
    for exchange in limited:
        ctx.cite(_cited(ctx, exchange))
    silent = [exchange.describe() for exchange in limited if retry_after(exchange) is None]
    if silent:
        raise CheckFailed(
            f"{len(silent)} of {len(limited)} 429s carry no Retry-After: {silent[0]}; clients must "
            "guess how long to back off"
        )
    waits = sorted({math.ceil(retry_after(exchange) or 0) for exchange in limited})
    return f"Retry-After {waits} s"


@check("errors-rate-limit", Level.SHOULD, source="openai-errors", needs=("chat-completions/basic",))
def rate_limit_headers_are_sent(ctx: CheckContext) -> str | None:
    """Chat completions carry the rate-limit headers the dialect documents (x-ratelimit-*)."""
    documented = ctx.dialect.rate_limit_headers
    if not documented:
        raise NotApplicable(f"the {ctx.dialect.name} dialect documents no rate-limit headers")
    exchange = ctx.exchange("chat-completions/basic")
    succeeded(exchange, "chat-completions.basic_request_succeeds")
    response = response_of(exchange)
    missing = [name for name in documented if response.header(name) is None]
    if missing:
        raise CheckFailed(
            f"{exchange.describe()}: no {', '.join(missing)} header; the {ctx.dialect.name} dialect "
            f"documents them; sent: {shown(', '.join(k for k, _ in response.headers), 200)}"
        )
    return None
