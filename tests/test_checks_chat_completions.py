"""Each check of the chat-completions row passes on a conforming exchange and fails on its deviation."""

from __future__ import annotations

import pytest
from helpers import chat_completion, error_body, judge, make_exchange

from conformance.verdicts import Status


def chat(exchange_id="chat-completions/basic", body=None, **kwargs):
    return make_exchange(
        exchange_id, method="POST", path="/chat/completions", body=chat_completion() if body is None else body, **kwargs
    )


def test_a_good_completion_passes_every_check():
    basic = chat()
    for check_id in (
        "chat-completions.basic_request_succeeds",
        "chat-completions.response_is_schema_valid",
        "chat-completions.message_is_assistant_text",
        "chat-completions.usage_is_reported",
        "chat-completions.usage_adds_up",
    ):
        assert judge(check_id, basic).status == Status.PASS, check_id


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (chat_completion(object="chat.completion.chunk"), "$.object"),
        (chat_completion(created="2025-01-01"), "$.created"),
        (chat_completion(choices=[]), "$.choices"),
        (chat_completion(choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}}]), "finish_reason"),
        (
            chat_completion(
                choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "eos"}]
            ),
            "$.choices[0].finish_reason",
        ),
        (chat_completion(usage={"prompt_tokens": 1, "completion_tokens": 1}), "total_tokens"),
        (chat_completion(id=None), "$.id"),
    ],
)
def test_schema_check_names_the_offending_field(body, where):
    result = judge("chat-completions.response_is_schema_valid", chat(body=body))
    assert result.status == Status.FAIL
    assert where in result.message


def test_schema_check_sees_what_the_sdk_refuses_when_the_schema_accepts():
    # message role "user": the schema refuses it, and so would a strict client; the app's client reads it
    body = chat_completion(choices=[{"index": 0, "message": {"role": "user", "content": "x"}, "finish_reason": "stop"}])
    result = judge("chat-completions.response_is_schema_valid", chat(body=body))
    assert result.status == Status.FAIL
    oracles = result.details["oracles"]
    assert (oracles["json_schema"], oracles["openai_sdk"], oracles["openai_sdk_strict"]) == (
        "reject",
        "accept",
        "reject",
    )
    # a Node app reads any JSON object with choices of messages: the TypeScript client takes it
    assert oracles["typescript_sdk"] in ("accept", "not run")
    assert (
        "a strict client, _strict_response_validation=True, rejects it: $.choices[0].message.role"
        in (result.details["sdk"])
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"role": "system", "content": "x"}, "role is 'system'"),
        ({"role": "assistant", "content": None}, "content is None"),
        ({"role": "assistant", "content": [{"type": "text", "text": "x"}]}, "expected a string"),
    ],
)
def test_message_must_be_assistant_text(message, expected):
    body = chat_completion(choices=[{"index": 0, "message": message, "finish_reason": "stop"}])
    result = judge("chat-completions.message_is_assistant_text", chat(body=body))
    assert result.status == Status.FAIL
    assert expected in result.message


def test_usage_missing_is_a_should_failure_and_the_arithmetic_is_not_judged():
    body = chat_completion()
    del body["usage"]
    reported = judge("chat-completions.usage_is_reported", chat(body=body))
    assert (reported.status, reported.level) == (Status.FAIL, "SHOULD")
    assert judge("chat-completions.usage_adds_up", chat(body=body)).status == Status.SKIPPED


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 9}, "prompt_tokens 5 + completion_tokens 3 = 8"),
        ({"prompt_tokens": -1, "completion_tokens": 3, "total_tokens": 2}, "$.usage.prompt_tokens is -1"),
        ({"prompt_tokens": 5, "completion_tokens": "3", "total_tokens": 8}, "$.usage.completion_tokens is '3'"),
    ],
)
def test_usage_arithmetic(usage, expected):
    result = judge("chat-completions.usage_adds_up", chat(body=chat_completion(usage=usage)))
    assert result.status == Status.FAIL
    assert expected in result.message


@pytest.mark.parametrize(
    ("check_id", "exchange_id"),
    [
        ("chat-completions.accepts_system_role", "chat-completions/system-role"),
        ("chat-completions.accepts_developer_role", "chat-completions/developer-role"),
        ("chat-completions.accepts_multi_turn_history", "chat-completions/multi-turn"),
    ],
)
def test_role_checks_pass_on_an_answer_and_fail_on_a_refusal(check_id, exchange_id):
    assert judge(check_id, chat(exchange_id)).status == Status.PASS
    refused = judge(check_id, chat(exchange_id, status=400, body=error_body("role not supported")))
    assert refused.status == Status.FAIL
    assert "expected HTTP 200, got 400" in refused.message


def test_developer_refusal_says_so():
    result = judge(
        "chat-completions.accepts_developer_role",
        chat("chat-completions/developer-role", status=400, body=error_body("Invalid role developer")),
    )
    assert result.message.startswith("the developer role is refused")


def test_a_timeout_blocks_the_check_with_the_reason_and_is_the_transport_rows_finding():
    from conformance.exchange import TransportFailure

    exchange = chat(
        status=None, failure=TransportFailure("timeout", "no response headers within 1 s (the read timeout)")
    )
    result = judge("chat-completions.basic_request_succeeds", exchange)
    assert (result.status, result.blocked_by) == (Status.BLOCKED, "transport.answers_come_in_time")
    assert "no response headers within 1 s" in result.message
    assert judge("transport.answers_come_in_time", exchange).status == Status.FAIL


def test_a_body_cut_short_fails():
    from conformance.exchange import TransportFailure

    exchange = chat(failure=TransportFailure("protocol", "connection broke after 10 bytes"))
    result = judge("chat-completions.basic_request_succeeds", exchange)
    assert result.status == Status.FAIL
    assert "cut short" in result.message


def test_no_chat_model_makes_the_checks_not_applicable():
    result = judge("chat-completions.basic_request_succeeds", models={"chat": None})
    assert result.status == Status.SKIPPED
    assert "does not apply" in result.message


def test_a_history_too_long_for_the_context_window_is_not_judged():
    refused = chat(
        "chat-completions/long-history",
        error_body("request (1298 tokens) exceeds the available context size (1024 tokens)"),
        status=400,
    )
    result = judge("chat-completions.accepts_long_history", refused)
    assert result.status == Status.SKIPPED
    assert "does not fit the target's context window" in result.message
    other = chat("chat-completions/long-history", error_body("invalid role"), status=400)
    assert judge("chat-completions.accepts_long_history", other).status == Status.FAIL
