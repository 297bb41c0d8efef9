"""One defect, one verdict: a flaw in one field of every answer is reported once, by the check that owns
the form of that kind of answer, and blocks (never fails) the checks that read the answer for a claim of
their own; nulls the SDKs accept are no failure; transport faults and rate limits are findings of their
own rows."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from helpers import (
    CHAT_MODEL,
    chat_completion,
    chat_exchange,
    context,
    error_body,
    make_exchange,
    sse,
    stream_exchange,
    text_stream,
)

from conformance.checks.errors_400 import GENERATED
from conformance.exchange import TransportFailure
from conformance.registry import CHECKS
from conformance.runner import run_check
from conformance.verdicts import Kind, Level, Status

CHAT_PROBES = (
    "chat-completions/basic",
    "chat-completions/system-role",
    "chat-completions/developer-role",
    "chat-completions/multi-turn",
    "chat-completions/content-parts",
    "chat-completions/named-messages",
    "chat-completions/long-history",
    "sampling/temperature",
    "sampling/top-p",
    "sampling/seed",
)
CHAT_CHECKS = [
    check_id
    for check_id in CHECKS
    if check_id.startswith(("chat-completions.", "sampling."))
    and not check_id.endswith(("n_is_honoured", "_refused", "stop_is_honoured", "stop_keeps_the_text_before_it"))
    and check_id != "chat-completions.prompt_tokens_count_the_whole_history"
    # these read their own forms and twins (tests/test_checks_message_shapes.py)
    and check_id
    not in (
        "chat-completions.every_message_form_is_answered",
        "chat-completions.text_parts_reach_the_model",
        "chat-completions.developer_message_reaches_the_model",
    )
    and "max_" not in check_id
    and "seed_makes" not in check_id
    and "logprobs" not in check_id
    and CHECKS[check_id].kind == Kind.PROTOCOL  # model checks read trials and twins: tested on their own
]


def answers(body):
    return [
        chat_exchange(probe_id, copy.deepcopy(body), request_json={"model": CHAT_MODEL, "messages": []})
        for probe_id in CHAT_PROBES
    ]


def verdicts(exchanges, check_ids):
    ctx_exchanges = list(exchanges)
    return {check_id: run_check(CHECKS[check_id], context(ctx_exchanges)) for check_id in check_ids}


def test_the_chat_checks_pass_on_good_answers():
    results = verdicts(answers(chat_completion()), CHAT_CHECKS)
    assert {r.status for r in results.values()} == {Status.PASS}, {k: r.message for k, r in results.items()}


def test_nulls_the_sdks_accept_give_no_must_failure():
    body = chat_completion()
    body["choices"][0]["message"].update(tool_calls=None, function_call=None, refusal=None, audio=None)
    body["choices"][0]["logprobs"] = None
    results = verdicts(answers(body), CHAT_CHECKS)
    failing = {k: r.message for k, r in results.items() if r.status == Status.FAIL and r.level == Level.MUST}
    assert failing == {}
    assert {r.status for r in results.values()} == {Status.PASS}
    # streamed: null tool_calls in every delta, null usage before the end
    chunks = text_stream("Hello there.")
    for item in chunks:
        item["choices"][0]["delta"].update(tool_calls=None, function_call=None)
        item["usage"] = None
    stream = stream_exchange("streaming/basic", sse(chunks))
    result = run_check(CHECKS["streaming.chunks_are_schema_valid"], context([stream]))
    assert result.status == Status.PASS, result.message


def test_an_answer_without_id_fails_only_the_chat_completion_form():
    body = chat_completion()
    del body["id"]
    results = verdicts(answers(body), CHAT_CHECKS)
    failing = sorted(k for k, r in results.items() if r.status == Status.FAIL)
    assert failing == ["chat-completions.response_is_schema_valid"]
    form = results["chat-completions.response_is_schema_valid"]
    assert f"{len(CHAT_PROBES)} of {len(CHAT_PROBES)} chat completions" in form.message
    assert "'id' is a required property" in form.message


def test_an_answer_whose_choices_cannot_be_read_blocks_the_checks_that_read_it():
    body = chat_completion()
    body["choices"] = "none"
    results = verdicts(answers(body), CHAT_CHECKS)
    failing = sorted(k for k, r in results.items() if r.status == Status.FAIL)
    assert failing == ["chat-completions.message_is_assistant_text", "chat-completions.response_is_schema_valid"]
    accepted = results["chat-completions.accepts_system_role"]
    assert accepted.status == Status.BLOCKED
    assert accepted.blocked_by == "chat-completions.response_is_schema_valid"


def test_a_finish_reason_outside_the_enum_on_a_natural_end_is_the_chat_form():
    body = chat_completion()
    body["choices"][0]["finish_reason"] = "eos_token"
    results = verdicts(answers(body), CHAT_CHECKS)
    failing = sorted(k for k, r in results.items() if r.status == Status.FAIL)
    assert failing == ["chat-completions.response_is_schema_valid"]


def test_null_content_is_one_failure_and_blocks_what_needs_text():
    body = chat_completion(content=None)
    exchanges = answers(body)
    text = run_check(CHECKS["chat-completions.message_is_assistant_text"], context(exchanges))
    assert text.status == Status.FAIL
    assert "content is None" in text.message
    twin = chat_exchange("streaming/non-streamed-twin", copy.deepcopy(body))
    stream = stream_exchange("streaming/basic", sse(text_stream("Hello there.")))
    joined = run_check(CHECKS["streaming.deltas_join_to_the_non_streamed_answer"], context([twin, stream]))
    assert joined.status == Status.BLOCKED
    assert joined.blocked_by == "chat-completions.message_is_assistant_text"


def test_a_dropped_connection_retried_into_a_good_answer_is_only_a_transport_finding():
    dropped = make_exchange(
        "chat-completions/basic",
        method="POST",
        path="/chat/completions",
        status=None,
        failure=TransportFailure("protocol", "connection failed before a response: Server disconnected"),
    )
    exchanges = answers(chat_completion())
    exchanges[0] = replace(exchanges[0], earlier=(dropped,))
    results = verdicts(exchanges, [*CHAT_CHECKS, "transport.connections_are_not_dropped"])
    failing = {k: r for k, r in results.items() if r.status == Status.FAIL}
    assert sorted(failing) == ["transport.connections_are_not_dropped"]
    finding = failing["transport.connections_are_not_dropped"]
    assert finding.level == Level.SHOULD
    assert "dropped or refused 1 connections before answering" in finding.message
    assert "1 of those requests were then answered" in finding.message
    clean = run_check(CHECKS["transport.connections_are_not_dropped"], context(answers(chat_completion())))
    assert clean.status == Status.PASS


def test_an_answer_that_did_not_come_in_time_is_the_transport_rows_finding_and_blocks_the_rest():
    """Issue 32: a read timeout on a slow server was charged to tools.auto_choice_calls_are_valid as a MUST
    failure, and streams cut by it failed the streaming checks."""
    late = make_exchange(
        "chat-completions/basic",
        method="POST",
        path="/chat/completions",
        status=None,
        failure=TransportFailure("timeout", "no response headers within 30 s (the read timeout)"),
    )
    stalled = stream_exchange(
        "streaming/basic",
        sse(text_stream("Hello there."))[:2],
        failure=TransportFailure("timeout", "body stalled: no data for 30 s after 120 bytes (the read timeout)"),
    )
    exchanges = answers(chat_completion())
    exchanges[0] = late
    checks = [*CHAT_CHECKS, "streaming.stream_ends_with_done", "transport.answers_come_in_time"]
    results = verdicts([*exchanges, stalled], checks)
    failing = {k: r for k, r in results.items() if r.status == Status.FAIL}
    assert sorted(failing) == ["transport.answers_come_in_time"]
    finding = failing["transport.answers_come_in_time"]
    assert finding.level == Level.SHOULD
    assert finding.message.startswith("2 of ")
    assert "not answered in time (first: POST /chat/completions" in finding.message
    blocked = results["chat-completions.basic_request_succeeds"]
    assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "transport.answers_come_in_time")
    # sent again alone, it was answered: a pass that says the target queues requests
    queued = replace(chat_exchange("chat-completions/basic"), earlier=(late,))
    alone = run_check(CHECKS["transport.answers_come_in_time"], context([queued]))
    assert alone.status == Status.PASS
    assert "1 requests timed out while others were in flight and were answered when sent again alone" in alone.message


def test_a_stream_cut_off_while_others_were_in_flight_is_the_transport_rows_finding():
    """Issue 32: llama-cpp-python's server ends a stream ([DONE], no finish_reason) when the next request arrives;
    sent again alone it comes whole, and the streaming checks judge that answer."""
    whole = stream_exchange("streaming/basic", sse(text_stream("Hello there.")))
    cut = stream_exchange("streaming/basic", [*sse(text_stream("Hello there."))[:1], b"data: [DONE]\n\n"])
    assert cut.cut_short()
    assert not whole.cut_short()
    error = b'data: {"error": {"message": "boom", "type": "server_error"}}\n\n'
    assert not stream_exchange("streaming/basic", [*sse(text_stream("Hi."))[:1], error]).cut_short()
    resent = replace(whole, earlier=(cut,))
    checks = ["streaming.one_finish_reason_per_choice", "transport.answers_come_in_time"]
    results = verdicts([*answers(chat_completion()), resent], checks)
    assert results["streaming.one_finish_reason_per_choice"].status == Status.PASS
    finding = results["transport.answers_come_in_time"]
    assert (finding.status, finding.level) == (Status.FAIL, Level.SHOULD)
    assert finding.message.startswith("1 streams ended before any choice finished (no finish_reason) while other")
    assert "came whole when sent again alone" in finding.message
    # cut off even alone: the streaming checks' finding, not the transport row's
    alone = verdicts([*answers(chat_completion()), cut], checks)
    assert alone["streaming.one_finish_reason_per_choice"].status == Status.FAIL
    assert alone["transport.answers_come_in_time"].status == Status.PASS


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (503, error_body("Rate limit reached for requests. Please try again in 57s."), None),
        (529, error_body("overloaded"), [("content-type", "application/json"), ("retry-after", "5")]),
        (500, error_body("Too many requests"), None),
    ],
)
def test_a_rate_limit_with_another_status_is_judged_in_the_rate_limit_row(status, body, headers):
    limited = chat_exchange("sampling/temperature", body, status=status, headers=headers)
    result = run_check(CHECKS["errors-rate-limit.rate_limits_are_signalled_with_429"], context([limited]))
    assert result.status == Status.FAIL
    assert f"rate limited with HTTP {status}, expected 429" in result.message
    # the row whose request met it is not blamed
    accepted = run_check(CHECKS["sampling.temperature_is_accepted"], context([limited]))
    assert accepted.status == Status.BLOCKED
    assert accepted.blocked_by == "errors-rate-limit.rate_limits_are_signalled_with_429"
    # a retried attempt counts as well as a kept one
    later = replace(chat_exchange("sampling/temperature"), earlier=(limited,))
    retried = run_check(CHECKS["errors-rate-limit.rate_limits_are_signalled_with_429"], context([later]))
    assert retried.status == Status.FAIL
    assert run_check(CHECKS["sampling.temperature_is_accepted"], context([later])).status == Status.PASS


def test_a_429_is_the_right_signal_and_an_ordinary_500_is_no_rate_limit():
    four_twenty_nine = chat_exchange("sampling/temperature", error_body("slow down"), status=429)
    result = run_check(CHECKS["errors-rate-limit.rate_limits_are_signalled_with_429"], context([four_twenty_nine]))
    assert result.status == Status.PASS
    assert "1 rate limits, all 429" in result.message
    crash = chat_exchange("sampling/temperature", error_body("upstream exploded"), status=500)
    assert crash.rate_limited() is None
    result = run_check(CHECKS["errors-rate-limit.rate_limits_are_signalled_with_429"], context([crash]))
    assert result.status == Status.PASS
    assert run_check(CHECKS["sampling.temperature_is_accepted"], context([crash])).status == Status.FAIL


def test_an_accepted_invalid_request_is_one_verdict_in_its_own_row():
    # a body that should have been refused, answered 200 with an odd completion: errors-400 says so;
    # the chat-completion form has no contract for that answer and does not judge it
    odd = chat_completion()
    del odd["id"]
    accepted = chat_exchange("errors-400/generated-1", odd, request_json={"model": CHAT_MODEL, "messages": 3})
    good = answers(chat_completion())
    form = run_check(CHECKS["chat-completions.response_is_schema_valid"], context([*good, accepted]))
    assert form.status == Status.PASS, form.message
    assert "errors-400/generated-1" not in form.exchanges
    others = [
        chat_exchange(f"errors-400/generated-{n}", error_body("invalid"), status=400) for n in range(2, GENERATED + 1)
    ]
    refused = run_check(
        CHECKS["errors-400.generated_invalid_requests_are_refused_cleanly"], context([accepted, *others])
    )
    assert refused.status == Status.FAIL
    assert refused.message.startswith(f"1 of {GENERATED} generated invalid bodies: ")


def test_moderation_answers_none_of_which_came_back_block_the_category_check():
    refused = [
        make_exchange(probe_id, method="POST", path="/moderations", status=400, body=error_body("no"))
        for probe_id in ("moderation/single", "moderation/list", "moderation/multimodal")
    ]
    result = run_check(CHECKS["moderation.flagged_matches_the_categories"], context(refused))
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "moderation.one_result_per_input"
