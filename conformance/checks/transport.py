"""Row ``transport``: what happened to the connections, apart from what the answers said.

A connection dropped, reset or refused before any answer is tried again on a fresh connection, as
the official SDKs do (twice); the request's own check judges the answer that came back, and the
drop is reported here, once for the whole run. A timeout is not retried: it stays a verdict about
the request that met it.
"""

from __future__ import annotations

from conformance.checks._limits import limit_signals
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import CheckFailed, Level


@check("transport", Level.SHOULD, source="sdk-retries", needs=("models/list",), runs_last=True)
def connections_are_not_dropped(ctx: CheckContext) -> str | None:
    """No request of the run met a connection dropped, reset or refused before its answer (the SDKs retry these,
    so an app only pays a delay; the suite retried them too)."""
    dropped = []
    exchanges = ctx.every_exchange()
    limited = limit_signals(exchanges)  # a connection dropped past an announced limit is the rate limit's finding
    for exchange in (e for e in exchanges if e.id not in limited):
        for attempt in exchange.earlier:
            if (
                attempt.response is None
                and attempt.failure is not None
                and attempt.failure.kind in ("connect", "protocol")
            ):
                dropped.append((exchange, attempt))
                ctx.cite(exchange)
    if dropped:
        exchange, attempt = dropped[0]
        assert attempt.failure is not None
        answered = sum(1 for e, _ in dropped if e.response is not None)
        raise CheckFailed(
            f"the target dropped or refused {len(dropped)} connections before answering (first: {exchange.describe()}: "
            f"{attempt.failure.message}); retried on a fresh connection, {answered} of those requests were then "
            "answered"
        )
    return f"{len(exchanges)} requests, no connection dropped"


@check("transport", Level.SHOULD, source="sdk-retries", needs=("models/list",), runs_last=True)
def answers_come_in_time(ctx: CheckContext) -> str | None:
    """Every request of the run is answered, whole, within its timeouts (the read timeout, grown from the token rate
    the run measured for answers that come whole, and the deadline). A request that timed out while others were in
    flight is sent again alone, as the SDKs retry a timeout, and the run keeps fewer in flight; so is a stream that
    ended before any choice finished while others were in flight, which is a finding (an app sending requests side
    by side gets it truncated). What the target cannot answer in time alone is this row's finding, not the failure
    of the check that needed it."""
    exchanges = ctx.every_exchange()
    late: list[Exchange] = []
    crowded: list[Exchange] = []
    cut: list[Exchange] = []
    for exchange in exchanges:
        if exchange.timed_out():
            late.append(exchange)
            ctx.cite(exchange)
        elif not exchange.cut_short() and any(attempt.cut_short() for attempt in exchange.earlier):
            cut.append(exchange)
            ctx.cite(exchange)
        elif any(attempt.timed_out() for attempt in exchange.earlier):
            crowded.append(exchange)
            ctx.cite(exchange)
    queued = ""
    if crowded:
        queued = (
            f"; {len(crowded)} requests timed out while others were in flight and were answered when sent again "
            f"alone (first: {crowded[0].describe()}): the target takes fewer requests at a time than the run's "
            "limits.concurrency, and the run kept fewer in flight"
        )
    truncated = ""
    if cut:
        truncated = (
            f"{len(cut)} streams ended before any choice finished (no finish_reason) while other requests were in "
            f"flight, and came whole when sent again alone (first: {cut[0].describe()}): an app that sends requests "
            "side by side gets truncated answers; the run kept fewer in flight"
        )
    if late:
        first = late[0]
        assert first.failure is not None
        raise CheckFailed(
            f"{len(late)} of {len(exchanges)} requests were not answered in time (first: {first.describe()}: "
            f"{first.failure.message}); the checks that needed them are blocked{'; ' + truncated if cut else ''}"
            f"{queued}",
            details={"failing": [exchange.id for exchange in late + cut]},
        )
    if cut:
        raise CheckFailed(f"{truncated}{queued}", details={"failing": [exchange.id for exchange in cut]})
    return f"{len(exchanges)} requests, every one answered in time{queued}"
