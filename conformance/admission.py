"""How many requests a live run keeps in flight, and how long it waits for an answer: both learnt from the target.

A target that queues requests (a local server with two slots, or one at a time) answers those it has taken and
leaves the others without headers until a slot frees: at the suite's default concurrency they time out, though
each would be answered alone. So a request that times out while others were in flight narrows the run's
concurrency (halved, down to one) and is sent again alone, as the SDKs retry a timeout; what times out alone is
the target's, reported once by ``transport.answers_come_in_time``.

An answer that is not streamed arrives whole when the model has written it: it may take as long as its tokens
take. Its read timeout grows from the token rate the run has measured (twice the time its completion cap would
take, and a margin), within the deadline; one with no cap may take the whole deadline.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from conformance.jsonparse import loads
from conformance.profiles import Limits
from conformance.stopping import RunStop, RunStopped

# a grown read timeout: twice the time the cap would take at the measured rate, and this margin for the prompt
MARGIN_SECONDS = 5.0
# answers larger than this are not parsed for their token count
MEASURED_BODY_BYTES = 256 * 1024


@dataclass
class Admission:
    limits: Limits
    stop: RunStop
    allowed: int = 0
    in_flight: int = 0
    # each narrowing, as "from -> to"
    narrowed: list[str] = field(default_factory=list)
    # requests admitted so far: one that sees this grow while it is in flight was not alone
    entries: int = 0
    _exclusive: bool = False
    _tokens: int = 0
    _seconds: float = 0.0
    _condition: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.allowed = self.allowed or self.limits.concurrency

    def enter(self, *, alone: bool = False) -> int:
        """Wait for a place (``alone``: for the only one, and none other is admitted until it leaves); how many other
        requests were in flight then."""
        with self._condition:
            while self._exclusive or self.in_flight >= (1 if alone else self.allowed):
                if self.stop.stopped:
                    raise RunStopped(self.stop.reason or "the run was stopped")
                self._condition.wait(0.25)
            others = self.in_flight
            self.in_flight += 1
            self.entries += 1
            self._exclusive = alone
            return others

    def leave(self, *, alone: bool = False) -> None:
        with self._condition:
            self.in_flight -= 1
            if alone:
                self._exclusive = False
            self._condition.notify_all()

    def narrow(self) -> None:
        """A request timed out, or its stream was cut off, while others were in flight: keep fewer in flight from
        now on."""
        with self._condition:
            if self.allowed > 1:
                self.narrowed.append(f"{self.allowed} -> {max(1, self.allowed // 2)}")
                self.allowed = max(1, self.allowed // 2)

    def measure(self, body: bytes, seconds: float) -> None:
        """Learn the token rate from a whole answer that reports usage.completion_tokens."""
        if not body or len(body) > MEASURED_BODY_BYTES or seconds <= 0:
            return
        try:
            value = loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        usage = value.get("usage") if isinstance(value, dict) else None
        tokens = usage.get("completion_tokens", usage.get("output_tokens")) if isinstance(usage, dict) else None
        if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
            with self._condition:
                self._tokens += tokens
                self._seconds += seconds

    @property
    def rate(self) -> float | None:
        """Completion tokens a second, over the answers measured so far (None before any)."""
        with self._condition:
            return self._tokens / self._seconds if self._tokens and self._seconds else None

    def read_timeout(self, completion_cap: int | None, *, streamed: bool) -> float:
        """The longest wait between two reads for this request (headers included)."""
        limits = self.limits
        if streamed:
            return limits.timeout  # tokens flow as they are written
        if completion_cap is None:
            return limits.deadline  # no cap: the whole answer may take the whole deadline
        rate = self.rate
        if rate is None or completion_cap == 0:
            return limits.timeout
        return min(limits.deadline, max(limits.timeout, 2 * completion_cap / rate + MARGIN_SECONDS))


__all__ = ["Admission"]
