"""The throttle's rules, on a fake clock: declared rates, the target's headers, and 429s."""

from __future__ import annotations

import pytest

from conformance.throttle import SLACK, Throttle, parse_duration, retry_after_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def throttle(rpm: int = 6000, tpm: int | None = None) -> tuple[Throttle, Clock]:
    clock = Clock()
    return Throttle(rpm, tpm, clock=clock, sleep=clock.sleep), clock


def starts(gate: Throttle, clock: Clock, count: int, tokens: int = 1, headers=None) -> list[float]:
    times = []
    for _ in range(count):
        ticket = gate.acquire(tokens)
        times.append(round(clock.now, 3))
        gate.release(ticket, 200, headers or {})
    return times


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1), ("6m0s", 360), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0.5", 0.5), ("7", 7), ("nonsense", None)],
)
def test_reset_durations(text, seconds):
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_retry_after_in_all_its_forms():
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"retry-after": "3"}) == 3
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:05 GMT"}, now_epoch=1445412480.0) == 5
    assert retry_after_seconds({"x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "500ms"}) == 2
    assert retry_after_seconds({}) is None


def test_starts_are_spaced_for_the_declared_rate():
    gate, clock = throttle(rpm=60)
    assert starts(gate, clock, 3) == [0, pytest.approx(SLACK), pytest.approx(2 * SLACK)]


def test_tokens_per_minute_hold_a_request_until_the_minute_frees_enough():
    gate, clock = throttle(tpm=250)
    times = starts(gate, clock, 3, tokens=100)
    assert times[:2] == [0, pytest.approx(0.0102, abs=0.001)]
    assert times[2] == pytest.approx(60, abs=0.01)  # the first request's 100 tokens leave the minute


def test_an_exhausted_window_waits_for_its_reset():
    gate, clock = throttle()
    ticket = gate.acquire(1)
    gate.release(ticket, 200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"})
    gate.acquire(1)
    assert clock.now == pytest.approx(2, abs=0.01)


def test_requests_in_flight_count_against_what_remains():
    gate, clock = throttle()
    first, second = gate.acquire(1), gate.acquire(1)
    # the target counted the first only: one left, but the second is already on its way
    gate.release(first, 200, {"x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "3s"})
    gate.release(second, 200, {})
    before = clock.now
    gate.acquire(1)
    assert clock.now - before == pytest.approx(3, abs=0.02)


def test_without_a_reset_header_the_window_is_inferred_from_the_limit_and_the_declared_rate():
    # the Llama API: a limit of 10 and what remains, no reset; declared 10 per minute: a one-minute window
    gate, clock = throttle(rpm=10)
    times = []
    for remaining in range(9, -1, -1):
        ticket = gate.acquire(1)
        times.append(clock.now)
        headers = {"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": str(remaining)}
        gate.release(ticket, 200, headers)
    gate.acquire(1)
    assert clock.now == pytest.approx(max(times[0] + 60, times[-1] + 6 * SLACK), abs=0.05)


def test_a_429_pauses_every_start_for_its_retry_after_then_backs_off_when_it_says_nothing():
    gate, clock = throttle()
    ticket = gate.acquire(1)
    assert gate.release(ticket, 429, {"retry-after": "4"}) == 4
    gate.acquire(1)
    assert clock.now == pytest.approx(4, abs=0.02)
    delays = []
    for _ in range(3):
        ticket = gate.acquire(1)
        delays.append(gate.release(ticket, 429, {}))
    assert delays == [1, 2, 4]
    ticket = gate.acquire(1)
    assert gate.release(ticket, 200, {}) is None
    ticket = gate.acquire(1)
    assert gate.release(ticket, 429, {}) == 1  # a success resets the back-off
    assert gate.stats.paused_by_target == 5


def test_429s_of_requests_already_in_flight_belong_to_the_pause_they_caused():
    gate, clock = throttle()
    flying = [gate.acquire(1) for _ in range(4)]
    assert gate.release(flying[0], 429, {}) == 1
    # the other three were sent before the pause: they wait it out without doubling it
    assert [gate.release(ticket, 429, {}) for ticket in flying[1:]] == [1, 1, 1]
    assert gate.stats.paused_by_target == 1
    paused_at = clock.now
    ticket = gate.acquire(1)
    assert clock.now == pytest.approx(paused_at + 1)
    assert gate.release(ticket, 429, {}) == 2  # a new 429 after the pause: the back-off grows


def test_after_a_429_starts_are_spaced_wider_then_narrow_back_to_the_declared_rate():
    gate, clock = throttle(rpm=60)
    declared = 60 / 60 * SLACK
    ticket = gate.acquire(1)
    gate.release(ticket, 429, {"retry-after": "0"})
    times = starts(gate, clock, 3)
    assert times[2] - times[1] == pytest.approx(2 * declared * 0.97, abs=0.01)
    times = starts(gate, clock, 40)
    assert times[-1] - times[-2] == pytest.approx(declared, abs=0.01)


def test_a_limit_announced_for_one_model_does_not_hold_back_the_others():
    # LiteLLM and OpenAI announce per model: a model allowing 2 a minute must not slow the rest
    gate, clock = throttle()
    ticket = gate.acquire(1, "mock-limited")
    gate.release(ticket, 200, {"x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "0"})
    times = [clock.now]
    for _ in range(5):
        ticket = gate.acquire(1, "mock-gpt")
        times.append(clock.now)
        gate.release(ticket, 200, {})
    assert times[-1] - times[0] < 0.1
    gate.acquire(1, "mock-limited")
    assert clock.now >= 1.0  # that model's own window is respected
