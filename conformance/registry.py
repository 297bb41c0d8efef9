"""The catalogue of probes (requests) and checks (claims about exchanges).

A probe builds one request for a target; its id is the exchange id and the cassette name. A check
is a small function over a ``CheckContext`` that reads exchanges and passes, or raises one of the
outcomes in ``conformance.verdicts``. Both are registered by decorators in the row modules under
``conformance/checks/``; the check id is ``<row>.<function name>``, the same name everywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.rows import ROW_IDS
from conformance.sources import SOURCES
from conformance.verdicts import Kind, Level

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.dialects import Dialect
    from conformance.exchange import Request
    from conformance.profiles import Target
    from conformance.verdicts import Note

ProbeBuilder = Callable[["Target"], "Request | None"]
CheckFunction = Callable[["CheckContext"], "str | Note | None"]
# the requests a check may send itself, beyond its probes: an upper bound, for the run's plan; where
# they depend on answers (a model list, an answer's words), stand-ins of the same size
ExtraPlanner = Callable[["Target", "Dialect"], "list[Request]"]


@dataclass(frozen=True)
class Probe:
    id: str
    row: str
    build: ProbeBuilder
    # the request is one the target should refuse: an answer to it has no form to judge (accepting
    # it is the defect, and the check that sent it reports that)
    refusal: bool = False


@dataclass(frozen=True)
class Check:
    id: str
    row: str
    level: Level
    source: str
    needs: tuple[str, ...]
    func: CheckFunction
    claim: str
    # timing or rate-limit checks that say nothing about a replay
    live_only: bool = False
    extra: ExtraPlanner | None = None
    # runs after every other check of the run (also under xdist): it reads every exchange, or it
    # exhausts a limit other checks would meet
    runs_last: bool = False
    kind: Kind = Kind.PROTOCOL
    # a model check: the share of trials that must do what it claims (conformance.rates)
    threshold: float | None = None
    # the probes it reads over the run's trials (each sent once per trial, not once per run); a check
    # with trials sends the requests of its own (``extra``) once per trial too
    trial_needs: tuple[str, ...] = ()


PROBES: dict[str, Probe] = {}
CHECKS: dict[str, Check] = {}


def probe(exchange_id: str, *, refusal: bool = False) -> Callable[[ProbeBuilder], ProbeBuilder]:
    row = exchange_id.split("/", 1)[0]
    if row not in ROW_IDS:
        raise ValueError(f"probe {exchange_id!r} does not start with a feature row id")

    def register(build: ProbeBuilder) -> ProbeBuilder:
        if exchange_id in PROBES:
            raise ValueError(f"probe {exchange_id!r} is registered twice")
        PROBES[exchange_id] = Probe(exchange_id, row, build, refusal)
        return build

    return register


def check(
    row: str,
    level: Level,
    *,
    source: str,
    needs: tuple[str, ...] = (),
    live_only: bool = False,
    extra: ExtraPlanner | None = None,
    runs_last: bool = False,
    kind: Kind = Kind.PROTOCOL,
    threshold: float | None = None,
    trials: bool | tuple[str, ...] | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check. ``needs`` names the probes it reads; a check that sends requests of its own
    (``ctx.fetch``) declares them with ``extra``, so that a dry run can count them.

    A ``model`` check (what the model chose to do) is SHOULD, declares the ``threshold`` its rate
    must reach, and reads its probes over the run's trials; a protocol check that needs the model to
    do something first (a tool call, to judge its form) may read trials too (``trials=True`` for all its
    probes, or the ids of those it reads over trials)."""
    if row not in ROW_IDS:
        raise ValueError(f"unknown feature row {row!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if kind == Kind.MODEL and (level != Level.SHOULD or threshold is None or not 0 <= threshold <= 1):
        raise ValueError("a model check is SHOULD and declares a threshold between 0 and 1")
    if kind == Kind.PROTOCOL and threshold is not None:
        raise ValueError("a protocol check has no threshold: it passes or fails on what came back")

    def register(func: CheckFunction) -> CheckFunction:
        check_id = f"{row}.{func.__name__}"
        if check_id in CHECKS:
            raise ValueError(f"check {check_id!r} is registered twice")
        # the claim is the docstring's first paragraph, on one line
        claim = " ".join(inspect.cleandoc(func.__doc__ or check_id).split("\n\n")[0].split())
        CHECKS[check_id] = Check(
            check_id,
            row,
            level,
            source,
            tuple(needs),
            func,
            claim,
            live_only,
            extra,
            runs_last,
            kind,
            threshold,
            _trial_needs(tuple(needs), kind, trials),
        )
        return func

    return register


def _trial_needs(needs: tuple[str, ...], kind: Kind, trials: bool | tuple[str, ...] | None) -> tuple[str, ...]:
    if trials is None:
        trials = kind == Kind.MODEL
    if isinstance(trials, tuple):
        if set(trials) - set(needs):
            raise ValueError(f"trials of probes the check does not need: {sorted(set(trials) - set(needs))}")
        return trials
    return needs if trials else ()


def load_all() -> dict[str, Check]:
    """Import every row module so that all probes and checks are registered."""
    import conformance.checks  # noqa: F401 - registers on import

    for found in CHECKS.values():
        unknown = [need for need in found.needs if need not in PROBES]
        if unknown:
            raise ValueError(f"check {found.id!r} needs unregistered probes {unknown}")
    return CHECKS


def checks_of(row: str) -> list[Check]:
    load_all()
    return [c for c in CHECKS.values() if c.row == row]
