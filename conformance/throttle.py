"""When the next live request may start: as soon as the target's limits allow, and never so soon
that the suite causes a 429 it did not ask for.

Limits are budgets, spent in bursts within the window the target describes, not intervals between
starts. Three sources, all honoured at once:

- declared (the profile's ``limits``, or ``--rpm``/``--tpm``): at most ``requests_per_minute``
  starts and ``tokens_per_minute`` tokens (each request's upper bound) in any sliding minute,
  stretched by a little slack for the clock and the network. Nothing declared: no cap but the
  concurrency;
- announced by the target: ``x-ratelimit-remaining-requests`` and ``-tokens`` with a
  ``x-ratelimit-reset-*`` are a budget until that reset (a token bucket or a fixed window: when the
  reset has passed with nothing left, one request goes first and its answer says what the window
  holds); a limit and what remains without a reset (the Llama API's way) are a sliding window, whose
  length is inferred from the declared rate (a limit of 10 at a declared 10 per minute is one
  minute), else a minute. Targets announce per model, and a key-wide limit shows in every model's
  headers: every start is spent from every model's budget (for a per-model limit, too much, until
  that model's next answer says what it holds), and a model with no answer of its own yet, while
  another has announced a limit, sends one request at a time under the other's budget until its own
  answer comes;
- a 429: every start waits for its ``Retry-After`` (``retry-after-ms``, the reset headers, or an
  exponential back-off when the target says nothing), and from then on the starts are spaced:
  twice as wide as the declared rate (or the pace the run went at when it met the 429, when nothing
  was declared),
  narrowing back with each answer that is not a 429. The 429s of requests already in flight when a
  pause began belong to that pause.

``projected`` tells how long a number of further requests will take under these rules (the ETA of
the live display). The clock and the sleep are injected, so the rules are tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from conformance.limit_headers import header_int as _int
from conformance.limit_headers import parse_duration, retry_after_seconds

__all__ = ["SLACK", "Throttle", "Ticket", "parse_duration", "retry_after_seconds"]

WINDOW = 60.0
# starts are spaced this much wider than the declared rate, so that clock jitter and network delays
# never put one request too many into the target's window
SLACK = 1.02
# and never less than this much wider, so that a window of a second is not missed by a busy machine's jitter
JITTER = 0.1
# back-off after a 429 that says nothing about when to retry: 1 s, 2 s, 4 s, ...
BACKOFF_BASE = 1.0
# after a 429 the starts are spaced twice as wide; each answer that is not a 429 narrows them by this
# factor, back to the declared rate
RECOVERY = 0.97
# how often a start waiting for a scout's answer looks again
SCOUT_POLL = 0.005


@dataclass(eq=False)
class Ticket:
    started: float
    tokens: int
    bucket: str = ""


@dataclass
class ThrottleStats:
    # seconds starts were held back, and why
    waited: float = 0.0
    # starts that had to wait for a limit (declared, announced, or a 429's pause)
    held: int = 0
    paused_by_target: int = 0


@dataclass
class _Announced:
    """What the target last said about the limits of one bucket (a model). With a reset time: the
    requests and tokens left until then. Without one: the window's limit and the requests other
    clients (or other models of a key-wide limit) spend in it."""

    answered: bool = False
    # x-ratelimit-limit-requests as last announced: models announcing the same limit with a reset
    # are taken to share it (a key-wide limit): each is held to the least any of them has left, and
    # one whose reset has passed takes the latest answer as the news of the window
    announced_limit: int | None = None
    requests_window: float = WINDOW
    requests_left: int | None = None
    requests_reset: float | None = None
    limit: int | None = None
    others: int = 0
    tokens_left: int | None = None
    tokens_reset: float | None = None
    in_flight: list[Ticket] = field(default_factory=list)


class Throttle:
    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        longest_wait: float = 3600.0,
    ) -> None:
        self._rpm = requests_per_minute
        self._tpm = tokens_per_minute
        # the spacing of starts once a 429 has been met (None before: limits are spent in bursts)
        self._base_interval: float | None = None
        self._interval: float | None = None
        self._clock = clock
        self._sleep = sleep
        # no start waits longer than this for what the target announces (a reset an hour away is
        # believed only this far; the 429 that may follow is retried or judged)
        self._longest_wait = longest_wait
        self._lock = threading.Lock()
        self._next_start = 0.0
        # the suite's own starts in the last minute or two, and the tokens each may spend
        self._starts: deque[float] = deque()
        self._spent: deque[tuple[float, int]] = deque()
        # (started, answered) of requests answered lately: which of them the target had surely
        # counted when it announced what remains
        self._answered: deque[tuple[float, float]] = deque()
        self._buckets: dict[str, _Announced] = {}
        self._last_answered: _Announced | None = None
        # the one request, of any model, sent while a window's state is unknown (its reset passed
        # with nothing left, or the model was not heard from): the others wait for its answer, since
        # the limit may be the key's
        self._scout: Ticket | None = None
        self._paused_until = 0.0
        self._backoff = BACKOFF_BASE
        # when the current pause for a 429 began: requests already in flight then may still get
        # theirs, which says nothing new
        self._pause_began = float("-inf")
        self.stats = ThrottleStats()
        # when each start held back now may go (by thread): what a live display shows
        self._holding: dict[int, float] = {}

    def holding(self) -> float:
        """Seconds until the last start held back now may go (0: none is held)."""
        with self._lock:
            now = self._clock()
            return max((when - now for when in self._holding.values()), default=0.0)

    def acquire(self, tokens: int, bucket: str = "") -> Ticket:
        """Block until a request of ``tokens`` to ``bucket`` (its model) may start; the ticket goes
        back with ``release``."""
        waited = 0.0
        latest = self._clock() + self._longest_wait
        while True:
            with self._lock:
                now = self._clock()
                announced = self._bucket(bucket)
                when = min(self._earliest(now, tokens, announced), latest)
                if when <= now:
                    self._holding.pop(threading.get_ident(), None)
                    return self._start(now, tokens, bucket, announced, waited)
                self._holding[threading.get_ident()] = when
            pause = min(when - now, 5.0)  # re-evaluate at least every 5 s: other answers may change it
            self._sleep(pause)
            waited += pause

    def _bucket(self, name: str) -> _Announced:
        announced = self._buckets.get(name)
        if announced is None:
            announced = self._buckets[name] = _Announced()
        model = self._last_answered
        if not announced.answered and model is not None and model is not announced:
            # a model not heard from yet (even one whose requests went before any answer came): under
            # the budget of the last one that was, until it answers
            in_flight = announced.in_flight
            announced = self._buckets[name] = replace(model, answered=False, in_flight=in_flight)
        return announced

    def _start(self, now: float, tokens: int, bucket: str, announced: _Announced, waited: float) -> Ticket:
        ticket = Ticket(now, tokens, bucket)
        if self._interval is not None:
            self._next_start = now + self._interval
        self._starts.append(now)
        self._spent.append((now, tokens))
        announced.in_flight.append(ticket)
        if _scouting(announced, now):
            self._scout = ticket
        # a key-wide limit is spent by every model's requests
        for other in self._buckets.values():
            if other.requests_left is not None:
                other.requests_left -= 1
            if other.tokens_left is not None:
                other.tokens_left -= tokens
        if waited > 0:
            self.stats.waited += waited
            self.stats.held += 1
        return ticket

    def _forget(self, now: float) -> None:
        horizon = now - 2 * WINDOW
        for ledger in (self._starts, self._answered):
            while ledger and (ledger[0] if isinstance(ledger[0], float) else ledger[0][0]) <= horizon:
                ledger.popleft()
        while self._spent and self._spent[0][0] <= now - WINDOW:
            self._spent.popleft()

    def _earliest(self, now: float, tokens: int, announced: _Announced) -> float:
        self._forget(now)
        when = max(now, self._paused_until)
        if self._interval is not None:
            when = max(when, self._next_start)
        if self._rpm is not None:
            # the declared rate: at most that many starts in any (slightly stretched) minute
            recent = [start for start in self._starts if start > now - WINDOW * SLACK]
            if len(recent) >= self._rpm:
                when = max(when, recent[-self._rpm] + WINDOW * SLACK)
        if _scouting(announced, now) and self._scout is not None:
            return max(when, now + SCOUT_POLL)  # wait for the scout's answer
        if announced.requests_reset is not None:
            if announced.requests_left is not None and announced.requests_left <= 0 and announced.requests_reset > now:
                when = max(when, announced.requests_reset)
        elif announced.limit is not None:
            # a sliding window: the suite's own starts in it, plus the others', stay under the limit
            window = max(announced.requests_window * SLACK, announced.requests_window + JITTER)
            mine = [start for start in self._starts if start > now - window]
            excess = len(mine) + announced.others + 1 - announced.limit
            if excess > 0:
                when = max(when, mine[min(excess, len(mine)) - 1] + window if mine else now + window)
        if announced.tokens_left is not None and announced.tokens_left < tokens:
            reset = announced.tokens_reset
            if reset is None:
                when = max(when, self._spent[0][0] + WINDOW if self._spent else now)
            elif reset > now:
                when = max(when, reset)
        if self._tpm is not None and self._spent:
            spent = sum(n for _, n in self._spent)
            if spent + tokens > self._tpm:
                # wait until enough of the minute's tokens have aged out (or the window is empty)
                freed, at = 0, self._spent[-1][0] + WINDOW
                for started, n in self._spent:
                    freed += n
                    if spent - freed + tokens <= self._tpm:
                        at = started + WINDOW
                        break
                when = max(when, at)
        return when

    def release(self, ticket: Ticket, status: int | None, headers: Mapping[str, str]) -> float | None:
        """Learn from an answer; for a 429, how long every start now waits (the caller's retry delay)."""
        with self._lock:
            now = self._clock()
            announced = self._bucket(ticket.bucket)
            if ticket in announced.in_flight:
                announced.in_flight.remove(ticket)
            if self._scout is ticket:
                self._scout = None
            self._learn(ticket, announced, now, headers)
            self._answered.append((ticket.started, now))
            if status != 429:
                self._backoff = BACKOFF_BASE
                if self._interval is not None and self._base_interval is not None:
                    # back towards the base rate, a little with every answer
                    self._interval = max(self._base_interval, self._interval * RECOVERY)
                return None
            return self._paused(ticket, now, headers)

    def _learn(self, ticket: Ticket, announced: _Announced, now: float, headers: Mapping[str, str]) -> None:
        """What an answer's x-ratelimit-* headers say about its bucket's window."""
        remaining = _int(headers, "x-ratelimit-remaining-requests")
        remaining_tokens = _int(headers, "x-ratelimit-remaining-tokens")
        if remaining is None and remaining_tokens is None:
            if not announced.answered:
                # this model announces nothing: what it inherited from another does not hold for it
                announced.requests_left = announced.limit = announced.tokens_left = None
                announced.requests_reset = announced.tokens_reset = None
                announced.answered = True
            return
        announced.answered = True
        self._last_answered = announced
        # what the target may not have counted when it admitted this request (answers come back out
        # of order: a slow stream's headers tell of its window at its start): the requests started
        # since, and those started before that had no answer yet when it started (they may have
        # reached the target after it); of any model, since the limit may be the key's. Only a
        # request answered before this one was sent was surely counted.
        began = ticket.started
        flying = [t for bucket in self._buckets.values() for t in bucket.in_flight if t.started <= began]
        overlapping = sum(1 for started, answered in self._answered if started <= began < answered)
        uncounted = len(flying) + overlapping + sum(1 for start in self._starts if start > began)
        uncounted_tokens = sum(t.tokens for t in flying) + sum(n for s, n in self._spent if s > began)
        limit = _int(headers, "x-ratelimit-limit-requests")
        reset = parse_duration(headers.get("x-ratelimit-reset-requests", "") or "")
        if limit is not None and limit > 0:
            rate = self._rpm
            announced.requests_window = min(max(WINDOW * limit / rate, 1.0), WINDOW) if rate else WINDOW
        announced.announced_limit = limit
        if remaining is not None and reset is not None:
            announced.requests_left = remaining - uncounted
            announced.requests_reset = now + reset
            announced.limit = None
            sharing = [
                other
                for other in self._buckets.values()
                if other is not announced and other.answered and other.announced_limit == limit
            ]
            for other in sharing:
                if other.requests_reset is None or other.requests_left is None or other.requests_reset <= now:
                    # what it knew is stale (its reset passed): this answer is the news of the window
                    other.requests_left, other.requests_reset = announced.requests_left, announced.requests_reset
                elif announced.requests_left < other.requests_left:
                    other.requests_left = announced.requests_left
                    other.requests_reset = max(other.requests_reset, announced.requests_reset)
        elif remaining is not None:
            # which of the suite's own starts the target surely counted: this one, and those
            # answered before it was sent
            window_start = now - announced.requests_window * SLACK
            counted = 1 + sum(1 for s, a in self._answered if a <= ticket.started and s > window_start)
            announced.limit = limit if limit is not None and limit > 0 else remaining + counted
            announced.others = max(announced.limit - remaining - counted, 0)
            announced.requests_reset = None
            announced.requests_left = None
        if remaining_tokens is not None:
            announced.tokens_left = remaining_tokens - uncounted_tokens
            reset = parse_duration(headers.get("x-ratelimit-reset-tokens", "") or "")
            announced.tokens_reset = now + reset if reset is not None else None

    def _paused(self, ticket: Ticket, now: float, headers: Mapping[str, str]) -> float:
        """A 429: the pause every start now waits, and the spacing of starts from now on."""
        delay = retry_after_seconds(headers)
        if ticket.started <= self._pause_began:
            # sent before the pause began: part of the episode already paused for
            return max(delay if delay is not None else 0.0, self._paused_until - now)
        if delay is None:
            delay, self._backoff = self._backoff, min(self._backoff * 2, WINDOW)
        # the rate that caused it was too high for the target, whatever the profile declares; a
        # 429 may be for the whole key, so every start waits, whatever its model
        if self._base_interval is None:
            if self._rpm is not None:
                self._base_interval = WINDOW / self._rpm * SLACK
            else:
                # the pace the run went at when it met the 429: its starts of the last minute over the
                # time they spanned (at least a second)
                recent = [start for start in self._starts if start > now - WINDOW]
                span = max(now - recent[0], 1.0) if recent else WINDOW
                self._base_interval = span / max(len(recent), 1) * SLACK
            self._interval = self._base_interval
        assert self._interval is not None
        self._interval = min(self._interval * 2, WINDOW)
        self._next_start = max(self._next_start, now)
        self._pause_began = now
        self._paused_until = max(self._paused_until, now + delay)
        self.stats.paused_by_target += 1
        return delay

    def projected(self, requests: int, latency: float, concurrency: int) -> float:
        """Seconds ``requests`` more requests of ``latency`` each will take from now, ``concurrency``
        at a time, under the declared limits, the limits the target has announced so far (taken to
        hold as they are, a minute's window unless it said otherwise), and the spacing after a 429:
        the ETA of a live run."""
        if requests <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._forget(now)
            waves = -(-requests // max(concurrency, 1)) * latency
            spaced = (requests - 1) * self._interval if self._interval is not None else 0.0
            paused = max(self._paused_until - now, 0.0)
            windows = [(self._rpm, WINDOW * SLACK)] if self._rpm is not None else []
            for announced in self._buckets.values():
                if announced.limit is not None:
                    windows.append((announced.limit - announced.others, announced.requests_window * SLACK))
                elif announced.announced_limit is not None and announced.requests_reset is not None:
                    windows.append((announced.announced_limit, WINDOW))
            limited = max((self._window_time(requests, latency, now, *w) for w in windows), default=0.0)
            holding = max((when - now for when in self._holding.values()), default=0.0)
            return max(waves, spaced + latency, limited, holding + latency) + paused

    def _window_time(self, requests: int, latency: float, now: float, limit: int, window: float) -> float:
        """How long ``requests`` starts take with at most ``limit`` in any ``window`` seconds: the
        first beyond the window's room waits for its oldest start, each further window holds
        ``limit`` more."""
        limit = max(limit, 1)
        recent = [start for start in self._starts if start > now - window]
        room = limit - len(recent)
        if requests <= room:
            return 0.0
        beyond = requests - max(room, 0)
        oldest = recent[0] + window - now if recent else 0.0
        return max(oldest, 0.0) + (beyond - 1) // limit * window + latency


def _scouting(announced: _Announced, now: float) -> bool:
    """Whether the next start to this bucket goes alone, its answer saying what the window holds:
    the bucket has inherited another's budget, or its reset has passed with nothing left."""
    if not announced.answered and (announced.requests_left is not None or announced.limit is not None):
        return True
    return (
        announced.requests_reset is not None
        and announced.requests_left is not None
        and announced.requests_left <= 0
        and announced.requests_reset <= now
    )
