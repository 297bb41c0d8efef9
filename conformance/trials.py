"""Trials: a model check's probe is sent N times, each time as an exchange (and a cassette) of its own.

Trial 1 is the probe's own exchange, so protocol checks that read the probe once share it; trial k
(k > 1) is the same request under the id ``<probe id>-trial-<k>``. A replay reads the same files, so
it reproduces the rate. How many trials a run makes is the profile's ``limits.trials`` (``--trials``);
a replay makes as many as its recording did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from conformance.exchange import Request
from conformance.verdicts import Kind

if TYPE_CHECKING:
    from conformance.dialects import Dialect
    from conformance.profiles import Target
    from conformance.registry import Check

MARK = "-trial-"


def trial_id(exchange_id: str, number: int) -> str:
    return exchange_id if number == 1 else f"{exchange_id}{MARK}{number}"


def trial_requests(request: Request, count: int) -> list[Request]:
    """The request once per trial: the first is the request itself."""
    return [
        request
        if number == 1
        else replace(request, id=trial_id(request.id, number), purpose=f"{request.purpose} (trial {number})")
        for number in range(1, count + 1)
    ]


def planned_requests(
    check: Check, target: Target, dialect: Dialect, *, bound: bool = False
) -> Iterable[tuple[Request, str, bool]]:
    """What a check will send: (request, row, sent by the check itself), each trial counted; with ``bound``,
    the trials a model check may draw beyond its first ones too (``limits.max_trials``)."""
    from conformance.registry import PROBES

    trials = target.limits.trial_bound if bound and check.kind == Kind.MODEL else target.limits.trials
    for probe_id in check.needs:
        request = PROBES[probe_id].build(target)
        if request is not None:
            count = trials if probe_id in check.trial_needs else 1
            for trial in trial_requests(request, count):
                yield trial, PROBES[probe_id].row, False
    for request in check.extra(target, dialect) if check.extra else []:
        for trial in trial_requests(request, trials if check.trial_needs else 1):
            yield trial, check.row, True


def trial_number(request_id: str) -> int:
    """Which trial a request is (1 for a probe's own request)."""
    _, mark, number = request_id.rpartition(MARK)
    return int(number) if mark and number.isdigit() else 1


__all__ = ["MARK", "planned_requests", "trial_id", "trial_number", "trial_requests"]
