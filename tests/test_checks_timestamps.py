"""Timestamps in seconds on every object that carries one (issue 28, item 4): which fields are timestamps comes from
the catalogue; each is judged against when its request was made, a day either side."""

from __future__ import annotations

from helpers import chat_completion, chat_exchange, chunk, judge, make_exchange, sse, stream_exchange

from conformance.checks.timestamps import carried, unit_paths, values_at
from conformance.verdicts import Status

CHAT = "chat-completions.timestamps_are_unix_seconds"
RESPONSES = "responses.response_timestamps_are_unix_seconds"
# the hand-made exchanges are made at 2026-01-01T00:00:00Z
ASKED = 1_767_225_600


def test_the_timestamps_come_from_the_catalogue():
    assert set(unit_paths("POST /chat/completions", "response")) >= {"created", "choices[].message.audio.expires_at"}
    assert unit_paths("POST /chat/completions", "stream") == ("created",)
    assert set(unit_paths("POST /responses", "response")) == {"created_at", "completed_at"}
    assert carried("POST /responses", "stream")["response.completed"] == {"response": "POST /responses response"}


def test_values_are_found_through_arrays():
    value = {"choices": [{"message": {"audio": {"expires_at": 1}}}, {"message": {}}]}
    assert list(values_at(value, "choices[].message.audio.expires_at")) == [
        ("$.choices[0].message.audio.expires_at", 1)
    ]


def chat(created, streamed_created=ASKED):
    return [
        chat_exchange("chat-completions/basic", chat_completion("Hi.", created=created)),
        stream_exchange("streaming/basic", sse([chunk({"content": "Hi"}, created=streamed_created)])),
    ]


def test_seconds_near_the_request_pass_and_milliseconds_or_zero_fail():
    assert judge(CHAT, *chat(ASKED + 5)).status == Status.PASS
    result = judge(CHAT, *chat(ASKED * 1000))
    assert (result.status, result.level) == (Status.FAIL, "MUST")
    assert f"$.created is {ASKED * 1000} (milliseconds?), more than a day from when it was asked" in result.message
    streamed = judge(CHAT, *chat(ASKED, streamed_created=0))
    assert "event 0 $.created is 0 (not a time)" in streamed.message
    # a string is the schema checks' finding, not this one's
    assert judge(CHAT, *chat(str(ASKED))).status == Status.PASS


def response(created_at, completed_at):
    body = {"id": "resp_1", "object": "response", "created_at": created_at, "completed_at": completed_at, "output": []}
    return make_exchange("responses/basic", method="POST", path="/responses", body=body, request_json={"input": "x"})


def test_a_response_in_milliseconds_fails_and_null_completion_is_no_timestamp():
    assert judge(RESPONSES, response(ASKED, None)).status == Status.PASS
    result = judge(RESPONSES, response(ASKED, ASKED * 1000))
    assert result.status == Status.FAIL
    assert f"$.completed_at is {ASKED * 1000} (milliseconds?)" in result.message
