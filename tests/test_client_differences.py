"""Where the two official clients hand an app different things: each kind found on a hand-made answer, noted by the
check that judges it whatever its verdict, gathered on the rows of the report, and the client columns it may turn."""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import chunk, error_body, judge, make_exchange, sse, stream_exchange, text_stream

from conformance import client_differences, report, ts_oracle
from conformance.verdicts import CheckResult, Level, Status

needs_node = pytest.mark.skipif(
    shutil.which("node") is None and not os.environ.get("CONFORMANCE_REQUIRE_NODE"), reason="no node on this machine"
)
ENVELOPE = "errors-400.refusals_use_the_error_envelope"
PYTHON_HELPER = "streaming.python_stream_helper_assembles_every_stream"


def _error(body: object, status: int = 400) -> object:
    return make_exchange(
        "errors-400/missing-messages", method="POST", path="/chat/completions", status=status, body=body
    )


def _cut_stream() -> object:
    chunks = [chunk({"role": "assistant", "content": ""}), chunk({"content": "Hello"}), chunk({}, "length")]
    return stream_exchange("streaming/basic", sse(chunks))


@needs_node
def test_an_integer_error_code_reaches_each_app_in_its_own_type():
    found = client_differences.differences(_error(error_body("bad", code=400)), "error")
    assert [difference.kind for difference in found] == ["error-code"]
    assert '"400" (a string)' in found[0].python
    assert "400 (a number)" in found[0].typescript
    assert found[0].worse is None


@needs_node
def test_an_error_that_is_a_string_reaches_only_the_typescript_message():
    (found,) = client_differences.differences(_error({"error": "Unauthorized"}, 401), "error")
    assert found.kind == "error-message"
    assert found.worse == "python"
    assert "Error code: 401" in found.python
    assert "Unauthorized" in found.typescript


@needs_node
def test_a_stream_cut_by_the_cap_raises_in_python_by_design():
    (found,) = client_differences.differences(_cut_stream(), "chat-completion-stream-helper")
    assert found.kind == "one-raises"
    assert found.python_raises == "LengthFinishReasonError"
    assert found.typescript_raises is None
    assert found.worse is None  # the completion rides on the exception: a difference, not a failure
    assert "finish_reason 'length'" in found.typescript


@needs_node
def test_a_stream_both_helpers_fail_on_is_noted_against_both():
    chunks = [{key: value for key, value in item.items() if key != "choices"} for item in text_stream()]
    (found,) = client_differences.differences(
        stream_exchange("streaming/basic", sse(chunks)), "chat-completion-stream-helper"
    )
    assert found.kind == "both-raise"
    assert found.worse == "both"
    assert found.python_raises
    assert found.typescript_raises


@needs_node
def test_clients_that_agree_leave_nothing_to_note():
    assert client_differences.differences(_error(error_body("bad")), "error") == []
    stream = stream_exchange("streaming/basic", sse(text_stream()))
    assert client_differences.differences(stream, "chat-completion-stream-helper") == []
    assert client_differences.differences(stream, "chat-completion-stream") == []


def test_without_the_typescript_client_there_is_nothing_to_compare(monkeypatch):
    monkeypatch.setattr(ts_oracle, "judge", lambda exchange, kind: ts_oracle.TsVerdict(False, False, None, "no node"))
    assert client_differences.differences(_error(error_body("bad", code=400)), "error") == []


@needs_node
def test_the_check_that_judges_the_answer_notes_the_difference_whatever_its_verdict():
    failed = judge(ENVELOPE, _error(error_body("bad", code=400)))
    assert failed.status == Status.FAIL  # the schema wants a string code: the answer is at fault
    (group,) = failed.client_differences
    assert group["kind"] == "error-code"
    assert group["exchanges"] == ["errors-400/missing-messages"]

    passed = judge(PYTHON_HELPER, _cut_stream())
    assert passed.status == Status.PASS  # a stream cut by the cap is a valid stream
    (group,) = passed.client_differences
    assert group["python_raises"] == "LengthFinishReasonError"
    assert "a note on the row" in passed.message


def _result(check_id: str, row: str, status: Status, groups: list[dict], **details: object) -> CheckResult:
    return CheckResult(
        check_id,
        row,
        Level.MUST,
        status,
        "m",
        "c",
        "openai-errors",
        ["a", "b"],
        dict(details),
        client_differences=groups,
    )


def _group(exchanges: list[str], worse: str | None, kind: str = "one-raises") -> dict:
    return {
        "call": "chat.completions.create()",
        "kind": kind,
        "python": "p",
        "typescript": "t",
        "python_raises": "TypeError" if worse == "python" else None,
        "typescript_raises": "TypeError" if worse == "typescript" else None,
        "worse": worse,
        "exchanges": exchanges,
        "count": len(exchanges),
    }


def test_a_row_shows_each_difference_once_and_fails_only_the_client_that_reads_a_faulted_answer_worse():
    rows = [
        {"id": row, "clients": {"python": "works", "typescript": "works"}} for row in ("chat-completions", "streaming")
    ]
    results = [
        _result("chat-completions.x", "chat-completions", Status.FAIL, [_group(["a"], "python")], failing=["a"]),
        _result("chat-completions.y", "chat-completions", Status.PASS, [_group(["a", "b"], "python")]),
        _result("streaming.z", "streaming", Status.PASS, [_group(["c"], "typescript")]),
    ]
    report._gather_differences(rows, results)
    chat, streaming = rows
    assert chat["clients"]["python"] == "fails"  # "a" was faulted by a failing check of this row
    assert chat["clients"]["typescript"] == "works"
    named = [(group["check"], group["exchanges"], group["at_fault"]) for group in chat["clients"]["differences"]]
    assert named == [("chat-completions.x", ["a"], True), ("chat-completions.y", ["b"], False)]
    assert streaming["clients"] == {  # a difference on an answer no check faults is a note, never a failure
        "python": "works",
        "typescript": "works",
        "differences": [{**_group(["c"], "typescript"), "check": "streaming.z", "at_fault": False}],
    }


def test_a_strict_client_alone_never_makes_the_column_fail():
    oracles = {
        "json_schema": "accept",
        "openai_sdk": "accept",
        "openai_sdk_strict": "reject",
        "typescript_sdk": "accept",
    }
    result = _result("responses.response_is_schema_valid", "responses", Status.FAIL, [], oracles=oracles)
    assert report._clients([result], typescript_ran=True) == {"python": "works", "typescript": "works"}
    rejected = _result(
        "responses.response_is_schema_valid", "responses", Status.FAIL, [], oracles={"openai_sdk": "reject"}
    )
    assert report._clients([rejected], typescript_ran=True)["python"] == "fails"
