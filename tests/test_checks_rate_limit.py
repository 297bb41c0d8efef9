"""The rate-limit checks (errors-rate-limit): 429s are well formed wherever they were met, a burst is limited and
recovers after one wait a run, and the documented rate-limit headers are sent."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import FakeSource, chat_exchange, context, error_body, judge

from conformance.checks.errors_rate_limit import retry_after
from conformance.registry import CHECKS
from conformance.runner import run_check
from conformance.verdicts import CheckFailed, Status


def limited(exchange_id, **headers):
    return chat_exchange(
        exchange_id,
        error_body("Rate limit reached", code="rate_limit_exceeded"),
        status=429,
        headers=[("content-type", "application/json"), *headers.items()],
    )


def test_retry_after_forms():
    assert retry_after(limited("x/y", **{"retry-after": "3"})) == 3
    assert retry_after(limited("x/y", **{"retry-after-ms": "1500"})) == 1.5
    assert retry_after(limited("x/y", **{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert retry_after(limited("x/y")) is None
    with pytest.raises(CheckFailed, match="neither a number of seconds nor an HTTP date"):
        retry_after(limited("x/y", **{"retry-after": "soon"}))


def test_every_429_is_judged_wherever_it_was_met():
    elsewhere = limited("sampling/temperature", **{"retry-after": "2"})
    assert judge("errors-rate-limit.every_429_is_well_formed", elsewhere).status == Status.PASS
    assert judge("errors-rate-limit.rate_limited_answers_say_when_to_retry", elsewhere).status == Status.PASS
    bare = chat_exchange(
        "sampling/temperature", raw=b"Too Many Requests", status=429, headers=[("content-type", "text/plain")]
    )
    assert judge("errors-rate-limit.every_429_is_well_formed", bare).status == Status.FAIL
    silent = judge("errors-rate-limit.rate_limited_answers_say_when_to_retry", limited("sampling/top-p"))
    assert (silent.status, silent.level) == (Status.FAIL, "SHOULD")
    assert "carry no Retry-After" in silent.message
    assert judge("errors-rate-limit.every_429_is_well_formed", chat_exchange("x/y")).status == Status.SKIPPED


def burst(until: int, *, recovery_status=200, retry="1"):
    exchanges = [chat_exchange(f"errors-rate-limit/burst/{n:03d}") for n in range(1, until)]
    exchanges.append(limited(f"errors-rate-limit/burst/{until:03d}", **{"retry-after": retry}))
    recovery = (
        chat_exchange("errors-rate-limit/recovery")
        if recovery_status == 200
        else limited("errors-rate-limit/recovery", **{"retry-after": retry})
    )
    return [*exchanges, recovery]


def test_the_burst_is_limited_and_recovers():
    options = {"rate_limit": {"probe": True, "budget": 5}, "mode": "replay"}
    result = judge("errors-rate-limit.burst_is_limited_then_recovers", *burst(4), **options)
    assert result.status == Status.PASS
    assert result.details == {"requests_until_429": 4, "retry_after": 1.0}
    stuck = judge("errors-rate-limit.burst_is_limited_then_recovers", *burst(4, recovery_status=429), **options)
    assert stuck.status == Status.FAIL
    assert "the limit does not recover" in stuck.message
    unlimited = [chat_exchange(f"errors-rate-limit/burst/{n:03d}") for n in range(1, 6)]
    assert judge("errors-rate-limit.burst_is_limited_then_recovers", *unlimited, **options).status == Status.SKIPPED


class _Made(FakeSource):
    """A live source whose run has made only what was asked for so far."""

    def every_exchange(self):
        asked = {request.id for request in self.requested}
        return {key: value for key, value in self.exchanges.items() if key in asked}


def test_the_recovery_wait_comes_once_a_run_whatever_the_checks_that_read_the_bursts():
    """Issue 32: the 65 s wait was waited once per check that read the bursts (four times: 261 s for 8 requests)."""
    ctx = context(burst(4), rate_limit={"probe": True, "budget": 5})
    ctx.source = _Made(burst(4))
    waits = []
    for check_id in (
        "errors-rate-limit.burst_is_limited_then_recovers",
        "errors-rate-limit.every_429_is_well_formed",
        "errors-rate-limit.rate_limited_answers_say_when_to_retry",
        "errors-rate-limit.rate_limit_headers_are_sent",
    ):
        judged = replace(ctx, used=[])
        judged.pause = waits.append
        run_check(CHECKS[check_id], judged)
    assert waits == [1.0]
    assert judge("errors-rate-limit.burst_is_limited_then_recovers").message.startswith(
        "the rate-limit probe is opt-in"
    )


def test_documented_rate_limit_headers():
    headers = [
        ("content-type", "application/json"),
        ("x-ratelimit-limit-requests", "10"),
        ("x-ratelimit-remaining-requests", "9"),
        ("x-ratelimit-limit-tokens", "100"),
        ("x-ratelimit-remaining-tokens", "90"),
    ]
    with_headers = chat_exchange("chat-completions/basic", headers=headers)
    assert (
        judge("errors-rate-limit.rate_limit_headers_are_sent", with_headers, dialect="llama-api").status == Status.PASS
    )
    openai = judge("errors-rate-limit.rate_limit_headers_are_sent", with_headers)
    assert openai.status == Status.FAIL
    assert "x-ratelimit-reset-requests" in openai.message
