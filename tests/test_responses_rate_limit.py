"""The opt-in burst on POST /responses (``responses-errors.over_the_limit_is_refused_with_429``) over
hand-made exchanges: what it passes, fails and leaves to the run-wide rate-limit checks, and that both
bursts come in one order with the chat recovery before the /responses burst."""

from __future__ import annotations

import pytest
from helpers import CHAT_MODEL, chat_completion, context, error_body, judge, make_exchange
from test_checks_responses import reference_body

from conformance.checks import _bursts
from conformance.verdicts import Status

CHECK = "responses-errors.over_the_limit_is_refused_with_429"
OPTED_IN = {"rate_limit": {"probe": True, "budget": 4}, "mode": "replay"}


def chat(exchange_id: str, status: int = 200, **headers: str):
    body = chat_completion() if status == 200 else error_body("Rate limit reached", code="rate_limit_exceeded")
    return make_exchange(
        exchange_id,
        method="POST",
        path="/chat/completions",
        status=status,
        body=body,
        headers=[("content-type", "application/json"), *headers.items()],
        request_json={"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Hi."}]},
    )


def chat_burst() -> list:
    """The chat burst the /responses burst follows: a 429 at the second request, then the recovery."""
    return [
        chat("errors-rate-limit/burst/001"),
        chat("errors-rate-limit/burst/002", 429, **{"retry-after": "1"}),
        chat("errors-rate-limit/recovery"),
    ]


def answered(number: int, body=None, status: int = 200, **headers: str):
    return make_exchange(
        f"responses-errors/burst/{number:03d}",
        method="POST",
        path="/responses",
        status=status,
        body=body if body is not None else reference_body(),
        headers=[("content-type", "application/json"), *headers.items()],
        request_json={"model": CHAT_MODEL, "input": "Hi.", "max_output_tokens": 16},
    )


def gate(status: int = 200):
    body = reference_body() if status == 200 else error_body("Unknown route POST /v1/responses.")
    return make_exchange(
        "responses/basic",
        method="POST",
        path="/responses",
        status=status,
        body=body,
        request_json={"model": CHAT_MODEL, "input": "Say hi.", "max_output_tokens": 16},
    )


def limited(number: int, status: int = 429):
    return answered(number, error_body("Rate limit reached for the model.", code="rate_limit_exceeded"), status)


def failed(number: int):
    body = {**reference_body(), "status": "failed", "output": [], "usage": None}
    body["error"] = {"code": "rate_limit_exceeded", "message": "Rate limit reached for the model."}
    return answered(number, body)


def test_a_429_within_the_budget_passes_with_the_count():
    result = judge(CHECK, gate(), *chat_burst(), answered(1), limited(2), **OPTED_IN)
    assert result.status == Status.PASS, result.message
    assert result.details == {"requests_until_429": 2}
    # each burst is the evidence of its own check only
    assert result.exchanges == ["responses/basic", "responses-errors/burst/001", "responses-errors/burst/002"]
    chat = judge(
        "errors-rate-limit.burst_is_limited_then_recovers", gate(), *chat_burst(), answered(1), limited(2), **OPTED_IN
    )
    assert chat.status == Status.PASS, chat.message
    assert chat.exchanges == [
        "errors-rate-limit/burst/001",
        "errors-rate-limit/burst/002",
        "errors-rate-limit/recovery",
    ]


def test_a_failed_response_for_the_rate_fails_and_is_no_other_checks_finding():
    burst = [gate(), *chat_burst(), answered(1), failed(2)]
    result = judge(CHECK, *burst, **OPTED_IN)
    assert result.status == Status.FAIL
    assert "instead of refused with 429" in result.message
    assert "rate_limit_exceeded" in result.message
    # HTTP 200 is no rate limit to the run-wide checks: the defect is reported once, here
    assert judge("errors-rate-limit.rate_limits_are_signalled_with_429", *burst, **OPTED_IN).status == Status.PASS


def test_a_limit_signalled_with_another_status_is_the_run_wide_checks_finding():
    burst = [gate(), *chat_burst(), answered(1), limited(2, status=503)]
    result = judge(CHECK, *burst, **OPTED_IN)
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "errors-rate-limit.rate_limits_are_signalled_with_429"
    assert judge("errors-rate-limit.rate_limits_are_signalled_with_429", *burst, **OPTED_IN).status == Status.FAIL
    # and a well-formed 429 of /responses is judged with every other 429 of the run
    ok = [gate(), *chat_burst(), limited(1)]
    assert judge("errors-rate-limit.every_429_is_well_formed", *ok, **OPTED_IN).status == Status.PASS
    bare = [gate(), *chat_burst(), _plain_429(1)]
    assert judge("errors-rate-limit.every_429_is_well_formed", *bare, **OPTED_IN).status == Status.FAIL


def _plain_429(number: int):
    return make_exchange(
        f"responses-errors/burst/{number:03d}",
        method="POST",
        path="/responses",
        status=429,
        raw=b"Too Many Requests",
        headers=[("content-type", "text/plain")],
        request_json={"model": CHAT_MODEL, "input": "Hi.", "max_output_tokens": 16},
    )


@pytest.mark.parametrize(
    ("burst", "phrase"),
    [
        ([answered(n) for n in range(1, 5)], "4 requests in a row to /responses got no 429"),
        ([answered(1, error_body("Unknown model."), 404)], "refused with HTTP 404"),
    ],
)
def test_no_limit_within_the_budget_is_no_verdict(burst, phrase):
    result = judge(CHECK, gate(), *chat_burst(), *burst, **OPTED_IN)
    assert result.status == Status.SKIPPED
    assert phrase in result.message


def test_the_burst_is_opt_in_and_needs_the_endpoint():
    assert judge(CHECK, gate()).message.startswith("the rate-limit probe is opt-in")
    assert judge(CHECK, gate(404), **OPTED_IN).status == Status.UNSUPPORTED


def test_the_chat_recovery_comes_before_the_responses_burst_which_stops_at_the_first_limit():
    ctx = context([gate(), *chat_burst(), answered(1), limited(2), answered(3)], **OPTED_IN)
    ctx.exchange("responses/basic")
    bursts = _bursts.made(ctx)
    sent = [request.id for request in ctx.source.requested]
    assert sent == [
        "responses/basic",
        "errors-rate-limit/burst/001",
        "errors-rate-limit/burst/002",
        "errors-rate-limit/recovery",
        "responses-errors/burst/001",
        "responses-errors/burst/002",
    ]
    assert (bursts.chat_number, len(bursts.responses)) == (2, 2)
    # a profile that rules the row out sends no /responses burst
    ruled_out = context([gate(), *chat_burst()], capabilities={"unsupported": ["responses-errors"]}, **OPTED_IN)
    ruled_out.exchange("responses/basic")
    assert _bursts.made(ruled_out).responses == ()
