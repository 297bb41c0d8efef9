"""The errors-not-found checks (404), and the envelope of every error answer, judged by both oracles
(in errors-400, once for the run)."""

from __future__ import annotations

import pytest
from helpers import error_body, judge, make_exchange, model

from conformance.checks.errors_not_found import UNKNOWN_MODEL
from conformance.verdicts import Status

ID = "errors-not-found/retrieve-unknown-model"
# every error answer of the run is judged for its envelope there, once
ENVELOPE = "errors-400.refusals_use_the_error_envelope"


def unknown(status=404, body=None, **kwargs):
    return make_exchange(ID, path=f"/models/{UNKNOWN_MODEL}", status=status, body=body, **kwargs)


# the other 404s the envelope check reads, answered correctly
OTHERS = [
    make_exchange(
        "errors-not-found/moderation-unknown-model",
        method="POST",
        path="/moderations",
        status=404,
        body=error_body("no such model", code="model_not_found", param="model"),
    ),
    make_exchange(
        "errors-not-found/unknown-route", path="/conformance-no-such-route", status=404, body=error_body("Invalid URL")
    ),
]


def test_404_with_the_envelope_passes_both_checks():
    exchange = unknown(body=error_body("The model does not exist", code="model_not_found", param="model"))
    assert judge("errors-not-found.unknown_model_retrieve_is_404", exchange).status == Status.PASS
    envelope = judge(ENVELOPE, exchange, *OTHERS)
    assert envelope.status == Status.PASS
    assert envelope.message == "3 error answers, all as claimed"


@pytest.mark.parametrize(
    ("status", "consequence"),
    [(200, "user code receives a model that does not exist"), (400, "BadRequestError"), (500, "InternalServerError")],
)
def test_another_status_fails_and_says_what_the_sdk_does(status, consequence):
    body = model(UNKNOWN_MODEL) if status == 200 else error_body()
    result = judge("errors-not-found.unknown_model_retrieve_is_404", unknown(status, body))
    assert result.status == Status.FAIL
    assert f"(HTTP {status})" in result.message or f"with HTTP {status}, expected 404" in result.message
    assert consequence in result.message


def test_an_answered_unknown_model_is_not_judged_for_its_envelope():
    result = judge(ENVELOPE, unknown(200, model(UNKNOWN_MODEL)), *OTHERS)
    assert result.status == Status.PASS
    assert result.message == "2 error answers, all as claimed"


@pytest.mark.parametrize(
    ("exchange", "expected"),
    [
        (unknown(body={"detail": "Not Found"}), "'error' is a required property"),
        (unknown(body={"error": "model not found"}), "$.error: 'model not found' is not of type 'object'"),
        (unknown(body={"error": {"message": "x", "type": "t", "code": 404, "param": None}}), "$.error.code"),
        (unknown(body={"error": {"message": "x", "type": "t"}}), "'param' is a required property"),
        (unknown(raw=b"Not Found", headers=[("content-type", "text/plain")]), "Content-Type"),
    ],
)
def test_envelope_deviations_fail(exchange, expected):
    result = judge(ENVELOPE, exchange, *OTHERS)
    assert result.status == Status.FAIL
    assert expected in result.message


def test_an_envelope_without_message_is_refused_by_the_sdk_oracle_too():
    exchange = unknown(body={"error": {"type": "not_found", "param": None, "code": None}})
    result = judge(ENVELOPE, exchange, *OTHERS)
    oracles = result.details["oracles"]
    assert (oracles["json_schema"], oracles["openai_sdk"]) == ("reject", "reject")
    # err.error.message is where a Node app finds the reason too
    assert oracles["typescript_sdk"] in ("reject", "not run")
