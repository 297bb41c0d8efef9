"""Rate limits however they are signalled (issue 28, item 5): past the limit a target announced
(``x-ratelimit-remaining-*: 0``), whatever came back instead of a 429 is the rate-limit row's finding, and no
other row judges those answers."""

from __future__ import annotations

import dataclasses

from helpers import chat_completion, chat_exchange, error_body, judge, make_exchange

from conformance.checks._limits import instead_of_429, limit_signals, past_the_limit
from conformance.exchange import TransportFailure
from conformance.verdicts import Status

OPTED_IN = {"rate_limit": {"probe": True, "budget": 5}, "mode": "replay"}
SIGNALLED = "errors-rate-limit.rate_limits_are_signalled_with_429"


def announcing(number: int, remaining: int, reset: str | None = "0.9s", limit: int = 3):
    headers = [
        ("content-type", "application/json"),
        ("x-ratelimit-limit-requests", str(limit)),
        ("x-ratelimit-remaining-requests", str(remaining)),
    ]
    headers += [("x-ratelimit-reset-requests", reset)] if reset is not None else []
    return chat_exchange(f"errors-rate-limit/burst/{number:03d}", headers=headers)


def past(number: int, status: int | None = 500, body=None, raw: bytes | None = None, at: str | None = None):
    exchange = chat_exchange(
        f"errors-rate-limit/burst/{number:03d}",
        body if body is not None or raw is not None else error_body("Internal server error.", type="server_error"),
        raw=raw,
        status=status,
        headers=[("content-type", "text/html" if raw else "application/json")],
        failure=TransportFailure("protocol", "connection failed before a response: reset") if status is None else None,
    )
    return dataclasses.replace(exchange, started_at=at) if at else exchange


def recovery():
    return chat_exchange("errors-rate-limit/recovery")


def three_then(answer):
    return [announcing(1, 2), announcing(2, 1), announcing(3, 0), answer]


def test_what_comes_instead_of_a_429_past_the_announced_limit():
    found = past_the_limit(three_then(past(4)))
    assert found == {
        "errors-rate-limit/burst/004": "HTTP 500, past the limit it announced (x-ratelimit-remaining-requests: 0 "
        "on request 3)"
    }
    html = past(4, 503, raw=b"<html><h1>503 Service Temporarily Unavailable</h1></html>")
    assert past_the_limit(three_then(html))["errors-rate-limit/burst/004"].startswith("HTTP 503, past")
    inside = past(4, 200, chat_completion(None, error={"message": "Provider returned error", "code": 429}))
    assert "a success with an error object in the body" in past_the_limit(three_then(inside))[inside.id]
    dropped = past(4, None)
    assert past_the_limit(three_then(dropped))[dropped.id].startswith("no answer (connection failed")
    # a 429 is what was asked for, and a success means the limit was not enforced: neither is a finding here
    assert past_the_limit(three_then(chat_exchange("errors-rate-limit/burst/004"))) == {}
    assert instead_of_429(chat_exchange("x", error_body("Rate limit reached"), status=429)) is None


def test_only_what_comes_before_the_announced_limit_could_have_changed():
    # the reset (0.9 s for a limit of 3: a request back in 0.3 s at the latest) has passed
    later = past(4, at="2026-01-01T00:00:00.400Z")
    assert past_the_limit(three_then(later)) == {}
    # no reset named: a second, read short of doubt
    assert past_the_limit([announcing(1, 0, reset=None), past(2, at="2026-01-01T00:00:00.900Z")])
    assert past_the_limit([announcing(1, 0, reset=None), past(2, at="2026-01-01T00:00:01.200Z")]) == {}
    # something remained, or nothing was announced: an error is the checks' of its own kind
    assert past_the_limit([announcing(1, 1), past(2)]) == {}
    assert past_the_limit([chat_exchange("errors-rate-limit/burst/001"), past(2)]) == {}


def test_words_of_a_usage_limit_are_a_rate_limit_whatever_the_status():
    said = "You have reached your specified API usage limits. You will regain access in 1 s."
    usage = chat_exchange("x/y", error_body(said), status=400)
    assert usage.rate_limited() == "HTTP 400"
    exhausted = chat_exchange("x/y", error_body("RESOURCE_EXHAUSTED: tokens per minute"), status=500)
    assert exhausted.rate_limited() == "HTTP 500"
    assert chat_exchange("x/y", error_body("messages must not be empty"), status=400).rate_limited() is None


def test_the_rate_limit_row_fails_what_came_instead_and_the_burst_still_recovers():
    basic = chat_exchange("chat-completions/basic")
    exchanges = [basic, *three_then(past(4)), recovery()]
    result = judge(SIGNALLED, *exchanges, **OPTED_IN)
    assert result.status == Status.FAIL
    assert "rate limited with HTTP 500, past the limit it announced" in result.message
    assert "errors-rate-limit/burst/004" in result.exchanges
    # without the probe the bursts are not read (and a recording of them says nothing)
    assert judge(SIGNALLED, basic).status == Status.PASS
    recovered = judge("errors-rate-limit.burst_is_limited_then_recovers", *exchanges, **OPTED_IN)
    assert recovered.status == Status.PASS, recovered.message
    assert recovered.message.startswith("limited (HTTP 500, past the limit")
    still = [*three_then(past(4)), past(5, 500)]
    still[-1] = dataclasses.replace(still[-1], id="errors-rate-limit/recovery")
    stuck = judge("errors-rate-limit.burst_is_limited_then_recovers", basic, *still, **OPTED_IN)
    assert stuck.status == Status.FAIL
    assert "still limited (500)" in stuck.message


def test_no_other_row_judges_the_limited_answers_of_the_bursts():
    inside = past(4, 200, chat_completion(None, error={"message": "Provider returned error", "code": 429}))
    dropped = dataclasses.replace(chat_exchange("errors-rate-limit/burst/004"), earlier=(past(4, None),))
    for answer in (inside, dropped, past(4)):
        assert answer.id in limit_signals(three_then(answer))
    basic = chat_exchange("chat-completions/basic")
    schema = judge("chat-completions.response_is_schema_valid", basic, *three_then(inside))
    assert schema.status == Status.PASS, schema.message
    assert "errors-rate-limit/burst/004" not in schema.exchanges
    transport = judge("transport.connections_are_not_dropped", make_exchange("models/list"), *three_then(dropped))
    assert transport.status == Status.PASS, transport.message
    envelope = "errors-400.refusals_use_the_error_envelope"
    html = past(4, 503, raw=b"<html>503</html>")
    assert "errors-rate-limit/burst/004" not in judge(envelope, *three_then(html)).exchanges
