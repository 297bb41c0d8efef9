"""The parameter sweep's rows: every documented parameter no other row judges, at valid and invalid values,
on chat completions (row parameters) and on /responses (row responses-parameters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers import CHAT_MODEL, chat_completion, context, error_body, live_context, make_exchange, openai_reference

from conformance.checks import parameters, responses_parameters
from conformance.checks._sweep import swept
from conformance.dialects import load_dialect
from conformance.exchange import Request
from conformance.registry import CHECKS
from conformance.runner import run_check
from conformance.surface.values import probes
from conformance.verdicts import Status

Answer = Callable[[Request], tuple[int, Any]]


def _refuse(request: Request) -> tuple[int, Any]:
    """OpenAI's way: the valid values answered, the invalid one refused with 400 naming it."""
    name = request.id.split("/")[1]
    if "/invalid-" in request.id:
        return 400, error_body(f"Invalid value for '{name}'.", param=name, code="invalid_value")
    return 200, chat_completion() if request.path == "/chat/completions" else _response(request)


def _response(request: Request) -> dict[str, Any]:
    echoed = {name: request.json[name] for name in responses_parameters.ECHOED if name in request.json}
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "Hello.", "annotations": []}]}  # fmt: skip
    return {"id": "resp_1", "object": "response", "status": "completed", "output": [message], **echoed}


def _judge(check_id: str, answer: Answer = _refuse, *, dialect: str = "openai", served: bool = True):
    module = responses_parameters if check_id.startswith("responses-") else parameters
    basic = make_exchange("chat-completions/basic", method="POST", path="/chat/completions", body=chat_completion())
    gate = make_exchange(
        "responses/basic",
        method="POST",
        path="/responses",
        status=200 if served else 404,
        body=_response(Request("responses/basic", "POST", "/responses", "", json={}))
        if served
        else error_body("Unknown route POST /v1/responses."),
    )
    ctx = context([basic, gate], dialect=dialect)
    exchanges = []
    for request in module._plan(ctx.target, ctx.dialect):
        status, body = answer(request)
        exchanges.append(make_exchange(request.id, method="POST", path=request.path, status=status, body=body))
    ctx = context([basic, gate, *exchanges], dialect=dialect)
    return run_check(CHECKS[check_id], ctx)


def test_the_sweep_sends_each_unjudged_parameter_at_valid_and_invalid_values():
    openai, llama = load_dialect("openai"), load_dialect("llama-api")
    chat = swept("POST /chat/completions", openai)
    assert "frequency_penalty" in chat
    assert "service_tier" in chat
    assert "temperature" not in chat  # the sampling row judges it
    assert "frequency_penalty" not in swept("POST /chat/completions", llama)  # errors-400 sends the dialect's
    assert "access_programs" not in swept("POST /responses", openai)  # declared by openai-python only
    labels = [(probe.label, probe.valid) for probe in probes("POST /chat/completions", "frequency_penalty")]
    assert labels == [("0.5", True), ("-2", True), ("2", True), ("above the maximum: 3", False)]
    companion = probes("POST /chat/completions", "function_call")[0]
    assert companion.body["function_call"] == "none"
    assert companion.body["functions"][0]["name"] == "get_weather"
    assert [p.valid for p in probes("POST /chat/completions", "web_search_options")] == [False]


def test_a_well_behaved_target_passes_every_check_of_the_sweep():
    sweep = sorted(c for c in CHECKS if c.split(".")[0] in ("parameters", "responses-parameters") and CHECKS[c].extra)
    assert len(sweep) == 9
    for check_id in sweep:
        result = _judge(check_id)
        assert result.status == Status.PASS, (check_id, result.message)


def test_a_5xx_breaks_only_the_never_break_check():
    def crash(request: Request) -> tuple[int, Any]:
        if request.id.startswith("parameters/logit_bias/"):
            return 501, {"detail": "Not implemented"}
        return _refuse(request)

    broken = _judge("parameters.documented_parameters_never_break_the_server", crash)
    assert broken.status == Status.FAIL
    assert "requests of the sweep broke" in broken.message
    assert "logit_bias" in broken.message
    assert _judge("parameters.valid_values_are_accepted", crash).status == Status.PASS
    assert _judge("parameters.invalid_values_are_refused_with_400", crash).status == Status.PASS


def test_everything_broken_blocks_the_other_claims_on_the_never_break_check():
    result = _judge("parameters.valid_values_are_accepted", lambda request: (500, error_body("boom")))
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "parameters.documented_parameters_never_break_the_server"


def test_rate_limited_answers_are_the_rate_limit_rows():
    result = _judge("parameters.invalid_values_are_refused_with_400", lambda request: (429, error_body("slow down")))
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "errors-rate-limit.rate_limits_are_signalled_with_429"


def test_a_valid_value_refused_fails_unless_the_dialect_allows_it():
    def refuse_tier(request: Request) -> tuple[int, Any]:
        if request.id.startswith("parameters/service_tier/valid"):
            return 400, error_body("Unsupported parameter: 'service_tier'.", param="service_tier")
        return _refuse(request)

    refused = _judge("parameters.valid_values_are_accepted", refuse_tier)
    assert refused.status == Status.FAIL
    assert "valid values of documented parameters were refused" in refused.message
    declared = _judge("parameters.valid_values_are_accepted", refuse_tier, dialect="llama-api")
    assert declared.status == Status.DEVIATION


def test_invalid_values_answered_or_refused_with_422_fail():
    def answer_all(request: Request) -> tuple[int, Any]:
        return 200, chat_completion()

    accepted = _judge("parameters.invalid_values_are_refused_with_400", answer_all)
    assert accepted.status == Status.FAIL
    assert "invalid values were not refused with HTTP 400" in accepted.message
    assert "accepted (HTTP 200)" in accepted.message
    # the Llama API ignores the OpenAI parameters it lacks, as documented; user is its own, and is checked
    llama = _judge("parameters.invalid_values_are_refused_with_400", answer_all, dialect="llama-api")
    assert llama.status == Status.FAIL
    assert "user = a number for a string: 12345" in llama.message

    def unprocessable(request: Request) -> tuple[int, Any]:
        status, body = _refuse(request)
        return (422, body) if status == 400 else (status, body)

    wrong = _judge("parameters.invalid_values_are_refused_with_400", unprocessable)
    assert wrong.status == Status.FAIL
    assert "HTTP 422" in wrong.message


def test_refusals_that_name_nothing_fail_the_naming_check():
    def unnamed(request: Request) -> tuple[int, Any]:
        status, body = _refuse(request)
        return (400, error_body("Invalid request body.")) if status == 400 else (status, body)

    result = _judge("parameters.refusals_name_the_parameter", unnamed)
    assert result.status == Status.FAIL
    assert "name neither the parameter" in result.message

    # the name in the message alone is enough (error.param null, as the SDKs tolerate)
    def in_message(request: Request) -> tuple[int, Any]:
        status, body = _refuse(request)
        return (400, error_body(f"bad {request.id.split('/')[1]}")) if status == 400 else (status, body)

    assert _judge("parameters.refusals_name_the_parameter", in_message).status == Status.PASS


def test_settings_dropped_from_the_response_fail_the_echo_check():
    def dropped(request: Request) -> tuple[int, Any]:
        status, body = _refuse(request)
        if status == 200 and request.path == "/responses":
            body = {**body, "max_tool_calls": None, "truncation": "disabled"}
        return status, body

    result = _judge("responses-parameters.settings_are_echoed_as_sent", dropped)
    assert result.status == Status.FAIL
    assert "are not echoed as sent" in result.message
    assert "max_tool_calls" in result.message


def test_a_target_without_responses_leaves_its_row_unsupported():
    result = _judge("responses-parameters.valid_values_are_accepted", served=False)
    assert result.status == Status.UNSUPPORTED


def test_the_chat_model_is_the_one_asked():
    ctx = context([])
    request = parameters._plan(ctx.target, ctx.dialect)[0]
    assert request.json["model"] == CHAT_MODEL
    assert request.json["messages"] == [{"role": "user", "content": "Say hello."}]


# every check of both rows, and the fault of the reference server that makes it fail; each is judged on live
# exchanges with the reference server, clean (it passes) and with that fault
FAILED_BY = {
    "parameters.documented_parameters_never_break_the_server": "parameter-not-implemented",
    "parameters.valid_values_are_accepted": "parameter-valid-refused",
    "parameters.invalid_values_are_refused_with_400": "parameter-values-unchecked",
    "parameters.refusals_name_the_parameter": "parameter-refusal-unnamed",
    "responses-parameters.documented_parameters_never_break_the_server": "parameter-not-implemented",
    "responses-parameters.valid_values_are_accepted": "parameter-valid-refused",
    "responses-parameters.settings_are_echoed_as_sent": "responses-setting-dropped",
    "responses-parameters.invalid_values_are_refused_with_400": "parameter-refusal-422",
    "responses-parameters.refusals_name_the_parameter": "parameter-refusal-unnamed",
    # what a parameter changes (conformance.checks.parameter_effects), and the logprobs /responses includes
    "parameters.frequency_penalty_repeats_less": "frequency-penalty-ignored",
    "parameters.presence_penalty_repeats_less": "presence-penalty-ignored",
    "parameters.logit_bias_selects_the_token": "logit-bias-ignored",
    "parameters.verbosity_changes_the_length": "verbosity-ignored",
    "parameters.deprecated_functions_are_honoured": "functions-ignored",
    "responses-parameters.logprobs_come_when_included": "responses-logprobs-ignored",
}


def test_every_check_of_both_rows_has_its_failing_fault():
    assert sorted(FAILED_BY) == sorted(c for c in CHECKS if c.split(".")[0] in ("parameters", "responses-parameters"))


@pytest.fixture(scope="module")
def live_server():
    with openai_reference("sk-parameter-checks-0123456789") as server:
        yield server


@pytest.mark.parametrize("check_id", sorted(FAILED_BY))
def test_each_check_passes_clean_and_fails_under_its_fault(live_server, check_id):
    root, key = live_server
    for fault, wanted in ((None, Status.PASS), (FAILED_BY[check_id], Status.FAIL)):
        ctx, store = live_context(root, key, fault, {"models": {"chat": "Llama-3.3-70B-Instruct"}})
        try:
            for need in CHECKS[check_id].needs:
                ctx.exchange(need)
            result = run_check(CHECKS[check_id], ctx)
        finally:
            store.close()
        assert result.status == wanted, (fault, result.message)


def test_settings_absent_from_the_response_are_the_field_checks_not_the_echo_checks():
    def absent(request: Request) -> tuple[int, Any]:
        status, body = _refuse(request)
        if status == 200 and request.path == "/responses":
            body = {key: value for key, value in body.items() if key not in responses_parameters.ECHOED}
        return status, body

    result = _judge("responses-parameters.settings_are_echoed_as_sent", absent)
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "responses.response_has_every_open_responses_field"
