"""When the next live request may start, so that the suite never causes a 429 it did not ask for.

Three sources of limits, all honoured at once:

- the profile's declared ``requests_per_minute`` (starts spaced evenly, with a little slack) and
  ``tokens_per_minute`` (each request's token bound, within a sliding minute);
- what the target says about its own window: ``x-ratelimit-remaining-requests`` and
  ``-tokens``, less what is already in flight, until ``x-ratelimit-reset-*``; per model, since
  OpenAI and the gateways limit (and announce) per model, and a key-wide limit still shows in
  every model's headers. Without a reset
  header (the Llama API sends none), until the oldest of the suite's own starts leaves the target's
  window, whose length is inferred from ``x-ratelimit-limit-requests`` and the declared rate (a
  limit of 10 at a declared 10 per minute is a one-minute window);
- a 429: every start waits for its ``Retry-After`` (``retry-after-ms``, the reset headers, or an
  exponential back-off when the target says nothing), and the starts are spaced twice as wide,
  narrowing back to the declared rate with each answer that is not a 429. The 429s of requests
  already in flight when a pause began belong to that pause.

The clock and the sleep are injected, so the rules are tested without waiting.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

WINDOW = 60.0
# starts are spaced this much wider than the declared rate, so that clock jitter and network delays
# never put one request too many into the target's window
SLACK = 1.02
# back-off after a 429 that says nothing about when to retry: 1 s, 2 s, 4 s, ...
BACKOFF_BASE = 1.0
# after a 429 the starts are spaced twice as wide; each answer that is not a 429 narrows them by this
# factor, back to the declared rate
RECOVERY = 0.97
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?")


def parse_duration(value: str) -> float | None:
    """Seconds in a reset header: "1s", "6m0s", "20ms", "1h2m3.5s", or a plain number of seconds."""
    text = value.strip().lower()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    hours, minutes, seconds, millis = (float(group) if group else 0.0 for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def retry_after_seconds(headers: Mapping[str, str], now_epoch: float | None = None) -> float | None:
    """When a 429 says to retry: retry-after-ms, Retry-After (seconds or an HTTP date), else the
    later of the reset headers."""
    if "retry-after-ms" in headers:
        try:
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(when - (time.time() if now_epoch is None else now_epoch), 0.0)
    names = ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")
    resets = [parse_duration(headers[name]) for name in names if name in headers]
    known = [reset for reset in resets if reset is not None]
    return max(known) if known else None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(float(headers[name]))
    except (KeyError, ValueError):
        return None


@dataclass
class Ticket:
    started: float
    tokens: int
    bucket: str = ""


@dataclass
class ThrottleStats:
    # seconds starts were held back, and why
    waited: float = 0.0
    paused_by_target: int = 0


@dataclass
class _Announced:
    """What the target last said about the limits of one bucket (a model: OpenAI, LiteLLM and
    others announce per model). With a reset time: requests left until then. Without one: the
    window's limit and the requests other clients (or other models of a key-wide limit) spend in it."""

    requests_window: float = WINDOW
    requests_left: int | None = None
    requests_reset: float | None = None
    limit: int | None = None
    others: int = 0
    tokens_left: int | None = None
    tokens_reset: float | None = None
    starts: deque[float] = field(default_factory=deque)
    in_flight: list[Ticket] = field(default_factory=list)


class Throttle:
    def __init__(
        self,
        requests_per_minute: int,
        tokens_per_minute: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        longest_wait: float = 3600.0,
    ) -> None:
        self._rpm = requests_per_minute
        self._declared_interval = WINDOW / requests_per_minute * SLACK
        # the spacing of starts now: the declared one, widened after each 429 (see release)
        self._interval = self._declared_interval
        self._tpm = tokens_per_minute
        self._clock = clock
        self._sleep = sleep
        # no start waits longer than this for what the target announces (a reset an hour away is
        # believed only this far; the 429 that may follow is retried or judged)
        self._longest_wait = longest_wait
        self._lock = threading.Lock()
        self._next_start = 0.0
        self._spent: deque[tuple[float, int]] = deque()
        self._buckets: dict[str, _Announced] = {}
        self._paused_until = 0.0
        self._backoff = BACKOFF_BASE
        # when the current pause for a 429 began: requests already in flight then may still get
        # theirs, which says nothing new
        self._pause_began = float("-inf")
        self.stats = ThrottleStats()

    def acquire(self, tokens: int, bucket: str = "") -> Ticket:
        """Block until a request of ``tokens`` to ``bucket`` (its model) may start; the ticket goes
        back with ``release``."""
        waited = 0.0
        latest = self._clock() + self._longest_wait
        while True:
            with self._lock:
                now = self._clock()
                announced = self._buckets.setdefault(bucket, _Announced())
                when = min(self._earliest(now, tokens, announced), latest)
                if when <= now:
                    ticket = Ticket(now, tokens, bucket)
                    self._next_start = now + self._interval
                    self._spent.append((now, tokens))
                    announced.starts.append(now)
                    announced.in_flight.append(ticket)
                    if announced.requests_left is not None:
                        announced.requests_left -= 1
                    if announced.tokens_left is not None:
                        announced.tokens_left -= tokens
                    self.stats.waited += waited
                    return ticket
            pause = min(when - now, 5.0)  # re-evaluate at least every 5 s: other answers may change it
            self._sleep(pause)
            waited += pause

    def _earliest(self, now: float, tokens: int, announced: _Announced) -> float:
        while announced.starts and announced.starts[0] <= now - WINDOW:
            announced.starts.popleft()
        while self._spent and self._spent[0][0] <= now - WINDOW:
            self._spent.popleft()
        when = max(now, self._next_start, self._paused_until)
        if announced.requests_reset is not None:
            if announced.requests_left is not None and announced.requests_left <= 0:
                when = max(when, announced.requests_reset)
        elif announced.limit is not None:
            # a sliding window: the suite's own starts in it, plus the others', stay under the limit
            mine = _in_window(announced, now)
            excess = len(mine) + announced.others + 1 - announced.limit
            if excess > 0:
                when = max(when, mine[min(excess, len(mine)) - 1] + announced.requests_window if mine else now)
        if announced.tokens_left is not None and announced.tokens_left < tokens and announced.starts:
            reset = announced.tokens_reset
            when = max(when, reset if reset is not None else announced.starts[0] + WINDOW)
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
            announced = self._buckets.setdefault(ticket.bucket, _Announced())
            if ticket in announced.in_flight:
                announced.in_flight.remove(ticket)
            flying = len(announced.in_flight)
            flying_tokens = sum(t.tokens for t in announced.in_flight)
            remaining = _int(headers, "x-ratelimit-remaining-requests")
            limit = _int(headers, "x-ratelimit-limit-requests")
            reset = parse_duration(headers.get("x-ratelimit-reset-requests", "") or "")
            if limit is not None and limit > 0:
                announced.requests_window = min(max(WINDOW * limit / self._rpm, 1.0), WINDOW)
            if remaining is not None and reset is not None:
                announced.requests_left = remaining - flying
                announced.requests_reset = now + reset
            elif remaining is not None:
                mine = len(_in_window(announced, now))
                announced.limit = limit if limit is not None and limit > 0 else remaining + mine
                announced.others = max(announced.limit - remaining - mine, 0)
                announced.requests_reset = None
            remaining_tokens = _int(headers, "x-ratelimit-remaining-tokens")
            if remaining_tokens is not None:
                announced.tokens_left = remaining_tokens - flying_tokens
                reset = parse_duration(headers.get("x-ratelimit-reset-tokens", "") or "")
                announced.tokens_reset = now + reset if reset is not None else None
            if status != 429:
                self._backoff = BACKOFF_BASE
                # back towards the declared rate, a little with every answer
                self._interval = max(self._declared_interval, self._interval * RECOVERY)
                return None
            delay = retry_after_seconds(headers)
            if ticket.started <= self._pause_began:
                # sent before the pause began: part of the episode already paused for
                return max(delay if delay is not None else 0.0, self._paused_until - now)
            if delay is None:
                delay, self._backoff = self._backoff, min(self._backoff * 2, WINDOW)
            # the rate that caused it was too high for the target, whatever the profile declares; a
            # 429 may be for the whole key, so every start waits, whatever its model
            self._interval = min(self._interval * 2, WINDOW)
            self._pause_began = now
            self._paused_until = max(self._paused_until, now + delay)
            self.stats.paused_by_target += 1
            return delay


def _in_window(announced: _Announced, now: float) -> list[float]:
    return [start for start in announced.starts if start > now - announced.requests_window]
