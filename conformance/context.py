"""What a check sees: the target, its dialect, the schemas, and the exchanges it reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from conformance import gates
from conformance.registry import PROBES
from conformance.stopping import RunStop, RunStopped
from conformance.trials import trial_requests
from conformance.verdicts import EnvironmentProblem, NotApplicable

if TYPE_CHECKING:
    from conformance.dialects import Dialect
    from conformance.exchange import Exchange, Request
    from conformance.profiles import Target
    from conformance.schemas import SchemaSet


class ExchangeSource(Protocol):
    mode: str

    def get(self, request: Request) -> Exchange: ...

    def get_many(self, requests: Iterable[Request]) -> list[Exchange]: ...

    def made(self) -> dict[str, Exchange]: ...

    def every_exchange(self) -> dict[str, Exchange]: ...


@dataclass
class CheckContext:
    target: Target
    dialect: Dialect
    schemas: SchemaSet
    source: ExchangeSource
    used: list[str] = field(default_factory=list)
    # the run's stop (signals, the run's time bound): waits end early when it is set
    stop: RunStop | None = None
    # the run's probes can be read (False where a migration judges an app's own traffic, which has none)
    probes: bool = True
    # how many trials ``trials()`` makes: the profile's ``limits.trials``, until the runner asks a model check
    # left undecided by them to draw more (up to ``limits.max_trials``)
    trial_count: int | None = None

    @property
    def mode(self) -> str:
        return self.source.mode

    def request(self, probe_id: str) -> Request:
        request = PROBES[probe_id].build(self.target)
        if request is None:
            raise NotApplicable(f"the probe {probe_id} does not apply to this target (nothing configured for it)")
        return request

    def exchange(self, probe_id: str) -> Exchange:
        """The exchange of a registered probe, made (or replayed) once per run; a probe of an endpoint the target
        does not serve (its row unsupported, or its gate refused as an unknown route) is not made for a check of
        another row either."""
        row = PROBES[probe_id].row
        gate = gates.gate_of(row)
        if gate is not None and gate != probe_id:
            if row in self.target.capabilities.unsupported:
                raise NotApplicable(f"{probe_id}: the target does not serve {row}")
            if why := gates.missing(self.fetch(self.request(gate))):
                raise NotApplicable(f"{probe_id}: the target does not serve its endpoint ({why} on {gate})")
        return self.fetch(self.request(probe_id))

    def trials(self, probe_id: str) -> list[Exchange]:
        """The exchanges of a probe's trials (conformance.trials), made concurrently; the first is
        ``exchange(probe_id)``."""
        return self.fetch_trials(self.request(probe_id))

    def fetch_trials(self, request: Request) -> list[Exchange]:
        return self.fetch_many(trial_requests(request, self.trial_count or self.target.limits.trials))

    def fetch(self, request: Request) -> Exchange:
        return self._note(self.source.get(request))

    def fetch_many(self, requests: Iterable[Request]) -> list[Exchange]:
        return [self._note(exchange) for exchange in self.source.get_many(list(requests))]

    def cite(self, exchange: Exchange) -> None:
        """Count an exchange from every_exchange() as evidence of this check."""
        if exchange.id not in self.used:
            self.used.append(exchange.id)

    def every_exchange(self) -> list[Exchange]:
        """Every exchange this run has made so far (checks run row by row, errors-rate-limit last;
        under pytest-xdist, also those other processes made)."""
        return list(self.source.every_exchange().values())

    def pause(self, seconds: float) -> None:
        """Wait (for a rate-limit window to pass); a stopped run ends the check instead."""
        stop = self.stop or RunStop()
        if stop.wait(seconds):
            raise RunStopped(stop.reason or "the run was stopped")

    def _note(self, exchange: Exchange) -> Exchange:
        if exchange.failure is not None and exchange.failure.kind == "stopped":
            raise RunStopped(exchange.failure.message)
        if exchange.id not in self.used:
            self.used.append(exchange.id)
        if exchange.failure is not None and exchange.failure.kind == "connect":
            raise EnvironmentProblem(f"{exchange.describe()}: {exchange.failure.message}")
        return exchange
