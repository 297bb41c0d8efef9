"""The throttle's rules, on a fake clock: declared and announced limits as budgets, and 429s."""

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


def throttle(rpm: int | None = None, tpm: int | None = None) -> tuple[Throttle, Clock]:
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


def test_nothing_declared_nor_announced_holds_no_start_back():
    gate, clock = throttle()
    assert starts(gate, clock, 200) == [0] * 200
    assert gate.stats.held == 0


def test_a_declared_rate_is_a_budget_spent_in_a_burst_within_the_minute():
    gate, clock = throttle(rpm=3)
    times = starts(gate, clock, 7)
    assert times[:3] == [0, 0, 0]
    assert times[3:6] == [pytest.approx(60 * SLACK)] * 3
    assert times[6] == pytest.approx(120 * SLACK)


def test_tokens_per_minute_hold_a_request_until_the_minute_frees_enough():
    gate, clock = throttle(tpm=250)
    times = starts(gate, clock, 3, tokens=100)
    assert times[:2] == [0, 0]
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
    # the Llama API: a limit of 10 and what remains, no reset; declared 10 per minute: a one-minute
    # sliding window, spent at once
    gate, clock = throttle(rpm=10)
    times = []
    for remaining in range(9, -1, -1):
        ticket = gate.acquire(1)
        times.append(clock.now)
        headers = {"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": str(remaining)}
        gate.release(ticket, 200, headers)
    assert times == [0] * 10
    gate.acquire(1)
    assert clock.now == pytest.approx(60 * SLACK, abs=0.05)


def test_a_sliding_window_counts_what_other_clients_spend_in_it():
    # a limit of 10, and the answer to the suite's first request says 5 remain: others spent 4
    gate, clock = throttle()
    ticket = gate.acquire(1)
    gate.release(ticket, 200, {"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "5"})
    times = starts(gate, clock, 6)
    assert times[:5] == [0] * 5
    assert times[5] == pytest.approx(60 * SLACK, abs=0.05)


def test_after_a_reset_with_nothing_left_one_request_goes_first_and_its_answer_says_what_remains():
    gate, clock = throttle()
    ticket = gate.acquire(1)
    gate.release(ticket, 200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"})
    scout = gate.acquire(1)
    assert clock.now == pytest.approx(2, abs=0.01)
    answered = []

    def sleep(seconds: float) -> None:
        clock.now += seconds
        if not answered and clock.now >= 2.5:
            # the scout's answer: three remain in the window, which resets in a minute
            gate.release(scout, 200, {"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "60s"})
            answered.append(clock.now)

    gate._sleep = sleep
    times = [round(clock.now, 3)]
    for _ in range(4):
        gate.acquire(1)
        times.append(round(clock.now, 3))
    # the others waited for the scout's answer, then spent the three, then the reset
    assert times[1:4] == [pytest.approx(answered[0], abs=0.01)] * 3
    assert times[4] == pytest.approx(answered[0] + 60, abs=0.05)


def test_a_model_not_heard_from_goes_one_at_a_time_under_the_budget_another_announced():
    # a key-wide limit: one model's answer says one request is left
    gate, clock = throttle()
    ticket = gate.acquire(1, "a")
    headers = {"x-ratelimit-limit-requests": "30", "x-ratelimit-remaining-requests": "1"}
    gate.release(ticket, 200, {**headers, "x-ratelimit-reset-requests": "60s"})
    first = gate.acquire(1, "b")
    assert clock.now == 0
    # nothing is left for either model until b's own answer comes, or the reset passes
    with gate._lock:
        assert gate._earliest(clock.now, 1, gate._bucket("b")) > clock.now
        assert gate._earliest(clock.now, 1, gate._bucket("a")) == pytest.approx(60)
    gate.release(first, 200, {**headers, "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "59s"})
    gate.acquire(1, "a")
    assert clock.now == pytest.approx(60, abs=0.01)


def test_models_announcing_the_same_limit_are_held_to_the_least_left():
    gate, clock = throttle()
    limit = {"x-ratelimit-limit-requests": "30", "x-ratelimit-reset-requests": "60s"}
    for model, remaining in (("a", "20"), ("b", "0")):
        ticket = gate.acquire(1, model)
        gate.release(ticket, 200, {**limit, "x-ratelimit-remaining-requests": remaining})
    gate.acquire(1, "a")
    assert clock.now == pytest.approx(60, abs=0.01)


def test_a_model_that_announces_nothing_sheds_the_budget_it_inherited():
    gate, clock = throttle()
    ticket = gate.acquire(1, "limited")
    gate.release(ticket, 200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "60s"})
    # not heard from: it may share the key's limit, so its first request waits for the reset
    ticket = gate.acquire(1, "free")
    assert clock.now == pytest.approx(60, abs=0.01)
    gate.release(ticket, 200, {})
    times = []
    for _ in range(5):
        ticket = gate.acquire(1, "free")
        times.append(clock.now)
        gate.release(ticket, 200, {})
    assert times == [times[0]] * 5


def test_projected_time_follows_the_declared_budget_and_the_concurrency():
    gate, clock = throttle(rpm=30)
    assert gate.projected(8, latency=1.0, concurrency=4) == pytest.approx(2.0)
    starts(gate, clock, 30)
    assert gate.projected(31, latency=1.0, concurrency=4) == pytest.approx(60 * SLACK + 60 * SLACK + 1, abs=0.01)


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
    assert starts(gate, clock, 3) == [0, 0, 0]  # a budget, until the first 429
    ticket = gate.acquire(1)
    gate.release(ticket, 429, {"retry-after": "0"})
    times = starts(gate, clock, 3)
    assert times[2] - times[1] == pytest.approx(2 * declared * 0.97, abs=0.01)
    times = starts(gate, clock, 40)
    assert times[-1] - times[-2] == pytest.approx(declared, abs=0.01)


def test_with_nothing_declared_a_429_spaces_starts_at_half_the_rate_that_met_it():
    gate, clock = throttle()
    for _ in range(20):  # 20 requests in 4 s, then the target says no
        starts(gate, clock, 1)
        clock.now += 0.2
    ticket = gate.acquire(1)
    gate.release(ticket, 429, {"retry-after": "1"})
    times = starts(gate, clock, 2)
    assert times[0] == pytest.approx(5)
    # the pace that met it: 21 starts over 4 s; then half that pace
    assert times[1] - times[0] == pytest.approx(2 * 4.0 / 21 * SLACK, abs=0.01)


def test_a_limit_announced_for_one_model_does_not_hold_back_the_others():
    # LiteLLM and OpenAI announce per model: a model allowing 2 a minute must not slow the rest
    gate, clock = throttle()
    ticket = gate.acquire(1, "mock-gpt")
    gate.release(ticket, 200, {})
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


def test_an_answer_that_comes_back_late_tells_of_the_window_when_it_was_sent():
    # a slow stream is admitted first; ten quick requests are answered before it
    gate, clock = throttle()
    limit = {"x-ratelimit-limit-requests": "12", "x-ratelimit-reset-requests": "60s"}
    first = gate.acquire(1)
    gate.release(first, 200, {**limit, "x-ratelimit-remaining-requests": "11"})
    slow = gate.acquire(1)
    for remaining in range(9, -1, -1):
        ticket = gate.acquire(1)
        gate.release(ticket, 200, {**limit, "x-ratelimit-remaining-requests": str(remaining)})
    # its headers say 10 remain: true when it was admitted, not now
    gate.release(slow, 200, {**limit, "x-ratelimit-remaining-requests": "10"})
    gate.acquire(1)
    assert clock.now == pytest.approx(60, abs=0.01)


def test_a_model_whose_first_request_went_before_any_answer_takes_the_budget_announced_since():
    gate, clock = throttle()
    first, _ = gate.acquire(1, "a"), gate.acquire(1, "b")  # both sent blind; b's still on its way
    gate.release(first, 200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "60s"})
    gate.acquire(1, "b")
    assert clock.now == pytest.approx(60, abs=0.01)


def test_one_request_of_any_model_goes_first_once_a_window_is_unknown():
    gate, clock = throttle()
    limit = {"x-ratelimit-limit-requests": "5", "x-ratelimit-reset-requests": "1s"}
    tickets = [gate.acquire(1, model) for model in ("a", "b")]
    for ticket in tickets:
        gate.release(ticket, 200, {**limit, "x-ratelimit-remaining-requests": "0"})
    scout = gate.acquire(1, "a")
    assert clock.now == pytest.approx(1, abs=0.01)
    with gate._lock:
        assert gate._earliest(clock.now, 1, gate._bucket("b")) > clock.now  # the key's window is one
    # its answer is the news for every model announcing that limit: four left for a second
    gate.release(scout, 200, {**limit, "x-ratelimit-remaining-requests": "4"})
    before = clock.now
    times = [clock.now for _ in range(4) if gate.acquire(1, "b")]
    assert times == [before] * 4


def test_projected_time_follows_what_the_target_announced():
    gate, _ = throttle()
    headers = {"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "0"}
    for _ in range(10):
        ticket = gate.acquire(1)
        gate.release(ticket, 200, {**headers, "x-ratelimit-reset-requests": "60s"})
    # ten more need the next minute's window, twenty more the one after
    assert gate.projected(10, latency=0.1, concurrency=4) == pytest.approx(60.1, abs=0.01)
    assert gate.projected(20, latency=0.1, concurrency=4) == pytest.approx(120.1, abs=0.01)


def test_a_429_that_says_when_only_in_its_message_is_waited_out_for_that_long():
    from conformance.limit_headers import with_retry_hint

    body = b'{"error": {"message": "Rate limit reached. Please try again in 20s."}}'
    assert with_retry_hint(body, {})["retry-after"] == "20"
    assert with_retry_hint(b"try again in 350ms", {})["retry-after"] == "0.35"
    assert with_retry_hint(body, {"retry-after": "3"}) == {"retry-after": "3"}  # the header wins
    assert with_retry_hint(b"slow down", {}) == {}
