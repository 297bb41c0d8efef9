"""The Responses checks over hand-made exchanges: what a target that serves no /responses gets, the
stream's order, sequence and join judged on raw bytes, stored state declared absent, and the oracles
(schemas, the Python client) on the response object."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import CHAT_MODEL, error_body, judge, live_context, make_exchange, openai_reference

from conformance import sdk_oracle
from conformance.checks._responses import Event
from conformance.checks.responses_streaming import join_problem, order_problem, sequence_problem
from conformance.dialects import load_dialect
from conformance.reference import catalog, responses, responses_answer
from conformance.schemas import schema_set
from conformance.verdicts import Status

OPENAI = catalog.FLAVOURS["openai"]


def reference_body(active: frozenset[str] = frozenset(), **sent: Any) -> dict[str, Any]:
    body = {"model": "Llama-3.3-70B-Instruct", "input": "one two three", **sent}
    parsed = responses.parse(body, OPENAI, None)
    return responses_answer.build(parsed, active)[0]


def stream_bytes(active: frozenset[str] = frozenset(), fail: bool = False) -> list[bytes]:
    body = reference_body(active, stream=True)
    return responses_answer.encode(responses_answer.stream_events(body, active, fail), active)


def response_exchange(exchange_id: str, body: Any, status: int = 200, **sent: Any) -> Any:
    asked = {"model": CHAT_MODEL, "input": "hi", "max_output_tokens": 16, **sent}
    return make_exchange(exchange_id, method="POST", path="/responses", status=status, body=body, request_json=asked)


def streamed(pieces: list[bytes]) -> Any:
    return make_exchange(
        "responses-streaming/basic",
        method="POST",
        path="/responses",
        chunks=pieces,
        headers=[("content-type", "text/event-stream")],
        request_json={"model": CHAT_MODEL, "input": "hi", "stream": True},
    )


def events(pieces: list[bytes]) -> list[Event]:
    exchange = streamed(pieces)
    found = []
    for event in exchange.stream.events:
        found.append(Event(event.index, event.field("event"), json.loads(event.data or "{}")))
    return found


def test_a_target_without_responses_gets_unsupported_rows_not_failures():
    missing = response_exchange("responses/basic", error_body("Unknown route POST /v1/responses."), status=404)
    result = judge("responses.basic_request_is_answered", missing)
    assert result.status == Status.UNSUPPORTED
    assert "does not serve POST /responses" in result.message
    # a 404 about the model is the target answering: a failure, not a missing endpoint
    no_model = response_exchange("responses/basic", error_body("The model `m` does not exist."), status=404)
    assert judge("responses.basic_request_is_answered", no_model).status == Status.FAIL


def test_the_basic_check_passes_a_reference_answer_and_fails_an_unfinished_one():
    assert judge(
        "responses.basic_request_is_answered", response_exchange("responses/basic", reference_body())
    ).status == (Status.PASS)
    unfinished = reference_body(frozenset({"responses-status-in-progress"}))
    result = judge("responses.basic_request_is_answered", response_exchange("responses/basic", unfinished))
    assert result.status == Status.FAIL
    assert "in_progress" in result.message


def test_a_clean_stream_has_no_problem_and_each_stream_fault_one():
    clean = events(stream_bytes())
    assert (sequence_problem(clean), order_problem(clean)) == (None, None)
    assert "sequence_number" in str(
        sequence_problem(events(stream_bytes(frozenset({"responses-stream-sequence-repeats"}))))
    )
    assert "before" in str(order_problem(events(stream_bytes(frozenset({"responses-stream-out-of-order"})))))
    assert "response.completed" in str(
        order_problem(events(stream_bytes(frozenset({"responses-stream-no-completed"}))))
    )
    # a stream that failed may leave its item unfinished; its terminal event is response.failed
    assert order_problem(events(stream_bytes(fail=True))) is None


def test_deltas_that_do_not_join_are_found():
    exchange = make_exchange("x", method="POST", path="/responses", request_json={"stream": True})
    assert join_problem(exchange, events(stream_bytes())) is None
    lost = join_problem(exchange, events(stream_bytes(frozenset({"responses-stream-deltas-mismatch"}))))
    assert lost is not None
    assert "output_text.done says" in lost


def test_stored_state_is_unsupported_where_the_profile_says_nothing_is_stored():
    first = response_exchange("responses-state/first", reference_body(), store=True)
    basic = response_exchange("responses/basic", reference_body())
    result = judge(
        "responses-state.stored_response_is_retrievable", first, basic, capabilities={"stores_responses": False}
    )
    assert result.status == Status.UNSUPPORTED
    assert "stores no responses" in result.message


def test_the_schemas_judge_the_form_and_the_open_responses_fields_apart():
    schemas = schema_set(load_dialect("openai"))
    assert schemas.validate("response", reference_body()) == []
    assert schemas.validate("response-open-responses", reference_body()) == []
    as_string = reference_body(frozenset({"responses-content-as-string"}))
    assert any("content" in str(issue) for issue in schemas.validate("response", as_string))
    assert schemas.validate("response-open-responses", as_string) == []  # the form's, judged once
    thin = reference_body(frozenset({"responses-spec-fields-missing"}))
    assert schemas.validate("response", thin) == []
    assert any("completed_at" in str(issue) for issue in schemas.validate("response-open-responses", thin))


def test_every_reference_stream_event_is_of_its_schema():
    schemas = schema_set(load_dialect("openai"))
    for event in events(stream_bytes()):
        assert schemas.validate("response-stream-event", event.data) == [], event.type
    broken = dict(events(stream_bytes())[4].data)  # an output_text.delta
    del broken["delta"]
    assert schemas.validate("response-stream-event", broken)


@pytest.mark.parametrize(
    ("active", "strict"),
    [(frozenset(), True), (frozenset({"responses-usage-without-cache-writes"}), False)],
)
def test_the_python_client_reads_the_response_and_a_strict_one_judges_its_types(active, strict):
    """The app's client reads a response its types would refuse; strict validation says so as a second opinion."""
    verdict = sdk_oracle.judge(response_exchange("responses/basic", reference_body(active)), "response")
    assert verdict.accepted
    assert (verdict.strict is None) is strict
    if not strict:
        assert verdict.strict is not None
        assert "cache_write_tokens" in verdict.strict.detail
        assert "a strict client" in verdict.summary()


# every Responses check, and the fault of the reference server that makes it fail (its failing side);
# each is judged on live exchanges with the reference server, clean (it passes) and with that fault
FAILED_BY = {
    "responses.basic_request_is_answered": "responses-status-in-progress",
    "responses.response_is_schema_valid": "responses-content-as-string",
    "responses.response_has_every_open_responses_field": "responses-spec-fields-missing",
    "responses.usage_is_reported": "responses-no-usage",
    "responses.usage_adds_up": "responses-usage-wrong-total",
    "responses.system_and_developer_items_are_answered": "responses-developer-refused",
    "responses.temperature_and_top_p_are_accepted": "responses-top-p-refused",
    "responses.settings_are_echoed": "responses-settings-not-echoed",
    "responses.instructions_reach_the_model": "responses-instructions-ignored",
    "responses.max_output_tokens_is_honoured": "responses-max-output-ignored",
    "responses-streaming.events_are_typed_json": "responses-stream-named-wrong",
    "responses-streaming.events_name_their_type": "responses-stream-no-event-lines",
    "responses-streaming.sequence_numbers_increase": "responses-stream-sequence-repeats",
    "responses-streaming.events_come_in_order": "responses-stream-out-of-order",
    "responses-streaming.text_deltas_join_to_the_done_text": "responses-stream-deltas-mismatch",
    "responses-streaming.failure_mid_stream_is_an_event": "responses-stream-failure-unmarked",
    "responses-streaming.streamed_request_completes": "responses-stream-no-completed",
    "responses-streaming.clients_assemble_every_stream": "responses-usage-without-cache-writes",
    "responses-tools.required_choice_gives_valid_calls": "responses-tool-arguments-off-schema",
    "responses-tools.none_choice_gives_no_call": "responses-tool-choice-none-ignored",
    "responses-tools.named_choice_calls_that_tool": "responses-tool-named-ignored",
    "responses-tools.auto_choice_calls_the_tool": "responses-auto-never-calls",
    "responses-tools.parallel_calls_have_distinct_call_ids": "responses-parallel-same-call-id",
    "responses-tools.call_output_round_trip_is_answered": "responses-call-output-refused",
    "responses-tools.streamed_call_arguments_join": "responses-stream-arguments-mismatch",
    "responses-structured-output.json_schema_text_matches_the_schema": "responses-json-schema-ignored",
    "responses-structured-output.json_object_text_is_an_object": "responses-json-object-ignored",
    "responses-multimodal.data_url_image_is_answered": "responses-image-refused",
    "responses-multimodal.image_reaches_the_model": "responses-image-ignored",
    "responses-multimodal.image_that_is_not_one_is_refused": "responses-bad-image-accepted",
    "responses-multimodal.reply_names_the_colour": "responses-image-ignored",
    "responses-state.input_items_carry_the_history": "responses-input-history-dropped",
    "responses-state.previous_response_id_continues_the_conversation": "responses-previous-ignored",
    "responses-state.stored_response_is_retrievable": "responses-not-retrievable",
    "responses-state.unstored_response_is_not_kept": "responses-store-false-kept",
    "responses-errors.out_of_range_value_is_refused_with_400": "server-error-for-bad-requests",
    "responses-errors.missing_input_is_refused_with_400": "server-error-for-bad-requests",
    "responses-errors.refusals_name_the_param": "responses-errors-no-param",
    "responses-errors.wrong_key_is_401": "responses-auth-not-enforced",
    "responses-errors.retrieving_with_a_wrong_key_is_401": "response-retrieval-auth-not-enforced",
    "responses.response_timestamps_are_unix_seconds": "responses-created-at-ms",
    "responses-errors.unknown_model_is_refused": "responses-unknown-model-answered",
    "responses-errors.invalid_streamed_request_is_an_http_error": "responses-stream-errors-as-events",
    "responses-errors.over_the_limit_is_refused_with_429": "responses-rate-limit-as-failed-response",
}


@pytest.fixture(scope="module")
def live_server():
    with openai_reference("sk-responses-checks-0123456789") as server:
        yield server


PROFILE = {
    "models": {"chat": "Llama-3.3-70B-Instruct", "vision": "Llama-4-Scout-17B-16E-Instruct-FP8"},
    "limits": {"trials": 3},
    "mid_stream_error": {"metadata": {"reference_fault": "mid-stream-error"}},
    # the bursts: the reference's rate-limited model allows 3 requests a second
    "rate_limit": {"probe": True, "model": catalog.RATE_LIMITED_MODEL, "budget": 6, "max_wait": 3},
}


def test_every_responses_check_has_its_failing_fault():
    from conformance.registry import load_all

    # the responses-reasoning row's faults are in test_checks_reasoning, responses-parameters' in test_checks_parameters
    assert sorted(FAILED_BY) == sorted(
        c
        for c in load_all()
        if c.split(".")[0].startswith("responses") and not c.startswith(("responses-reasoning", "responses-parameters"))
    )


@pytest.mark.parametrize("check_id", sorted(FAILED_BY))
def test_each_responses_check_passes_clean_and_fails_under_its_fault(live_server, check_id):
    from conformance.registry import CHECKS
    from conformance.runner import run_check

    root, key = live_server
    for fault, wanted in ((None, Status.PASS), (FAILED_BY[check_id], Status.FAIL)):
        ctx, store = live_context(root, key, fault, PROFILE)
        try:
            for need in CHECKS[check_id].needs:  # what a whole run has made before a check of every answer
                ctx.exchange(need)
            result = run_check(CHECKS[check_id], ctx)
        finally:
            store.close()
        assert result.status == wanted, (fault, result.message)


def test_a_last_done_is_tolerated_as_the_sdks_tolerate_it_but_nothing_may_follow_it():
    basic = response_exchange("responses/basic", reference_body())
    check = "responses-streaming.events_are_typed_json"
    done = b"data: [DONE]\n\n"
    assert judge(check, basic, streamed([*stream_bytes(), done])).status == Status.PASS
    assert judge("responses-streaming.events_come_in_order", basic, streamed([*stream_bytes(), done])).status == (
        Status.PASS
    )
    pieces = stream_bytes()
    late = judge(check, basic, streamed([*pieces[:-1], done, pieces[-1]]))
    assert late.status == Status.FAIL
    assert "after data: [DONE]" in late.message


def test_a_responses_request_is_budgeted_by_its_input_and_its_max_output_tokens():
    from conformance.budget import token_bound
    from conformance.exchange import Request

    parts = [{"type": "input_text", "text": "hello there"}, {"type": "input_image", "image_url": "data:x"}]
    body = {"model": "m", "input": [{"role": "user", "content": parts}], "max_output_tokens": 16}
    prompt, completion, images = token_bound(Request("r", "POST", "/responses", "p", json=body))
    assert (completion, images) == (16, 1)
    assert prompt > len("hello there")
    uncapped = token_bound(Request("r", "POST", "/responses", "p", json={"model": "m", "input": "hi"}))
    assert uncapped[1] is None


def test_a_defect_of_form_is_reported_once_and_blocks_the_claims_that_read_it():
    def unnumbered(piece: bytes) -> bytes:
        name, data = piece.decode().split("data: ", 1)
        event = json.loads(data)
        event.pop("sequence_number")
        return f"{name}data: {json.dumps(event)}\n\n".encode()

    basic = response_exchange("responses/basic", reference_body())
    pieces = [unnumbered(piece) for piece in stream_bytes()]
    assert judge("responses-streaming.events_are_typed_json", basic, streamed(pieces)).status == Status.FAIL
    sequence = judge("responses-streaming.sequence_numbers_increase", basic, streamed(pieces))
    assert sequence.status == Status.BLOCKED
    assert sequence.blocked_by == "responses-streaming.events_are_typed_json"
    # settings the response leaves out are the Open Responses check's; the echo check has nothing to judge
    bare = {k: v for k, v in reference_body().items() if k not in ("temperature", "top_p", "max_output_tokens")}
    bare.pop("metadata")
    bare.pop("instructions")
    settings = response_exchange("responses/settings", bare, temperature=0.5, top_p=0.9, metadata={"a": "b"})
    told = response_exchange("responses/instructions", bare, instructions="x")
    echo = judge("responses.settings_are_echoed", basic, settings, told)
    assert echo.status == Status.BLOCKED
    assert echo.blocked_by == "responses.response_has_every_open_responses_field"
    assert judge("responses.response_has_every_open_responses_field", settings).status == Status.FAIL


def test_a_failed_response_may_carry_no_usage_but_a_finished_one_must():
    basic = response_exchange("responses/basic", reference_body())
    failed = {**reference_body(), "status": "failed", "output": [], "usage": None}
    failed["error"] = {"code": "server_error", "message": "The model failed."}
    assert judge("responses.usage_is_reported", basic, response_exchange("x/failed", failed)).status == Status.PASS
    unreported = response_exchange("x/finished", {**reference_body(), "usage": None})
    assert judge("responses.usage_is_reported", basic, unreported).status == Status.FAIL


def test_usage_is_read_where_a_stream_answered_carries_it_and_an_unreadable_answer_is_the_form_checks():
    """Issue 32: a response answered as a stream was said to have "no usage" though its response.completed event
    carried it, where the sibling checks said blocked."""
    basic = response_exchange("responses/basic", reference_body())
    as_stream = make_exchange(
        "responses/settings",
        method="POST",
        path="/responses",
        chunks=stream_bytes(),
        headers=[("content-type", "text/event-stream")],
        request_json={"model": CHAT_MODEL, "input": "hi"},
    )
    assert judge("responses.usage_is_reported", basic, as_stream).status == Status.PASS
    garbled = make_exchange(
        "responses/settings", method="POST", path="/responses", raw=b"oops", request_json={"model": CHAT_MODEL}
    )
    blocked = judge("responses.usage_is_reported", basic, garbled)
    assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "responses.response_is_schema_valid")
