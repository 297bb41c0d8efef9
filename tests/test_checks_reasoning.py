"""The reasoning rows: each check passes on the reference server's reasoning model and fails under the fault
named for it; how thinking is read in every spelling; answers starved by thinking or with thinking in their
content block the checks that read them (one defect, one verdict); the run's sizing for thinking."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import (
    chat_completion,
    chat_exchange,
    judge,
    live_context,
    make_exchange,
    openai_reference,
    sse,
    stream_exchange,
)

from conformance import thinking
from conformance.checks._expect import Starved, expect_written
from conformance.checks._requests import chat_request, user
from conformance.profiles import build_target
from conformance.reference import catalog
from conformance.verdicts import Blocked, Kind, NotApplicable, Status

REASONER = catalog.REASONING_MODEL.id

FAILED_BY = {
    "reasoning.thinking_comes_in_one_field": "reasoning-field-renamed",
    "reasoning.thinking_is_not_in_content": "thinking-in-content",
    "reasoning.streamed_thinking_comes_first": "thinking-not-streamed",
    "reasoning.reasoning_tokens_are_reported": "reasoning-tokens-uncounted",
    "reasoning.reasoning_tokens_fit_in_completion_tokens": "reasoning-tokens-outside-completion",
    "reasoning.the_cap_covers_thinking": "thinking-outside-cap",
    "reasoning.starved_answers_end_with_length": "starved-finish-stop",
    "reasoning.max_tokens_is_honoured_or_refused": "thinking-max-tokens-500",
    "reasoning.effort_values_are_accepted_or_refused": "effort-500",
    "reasoning.invalid_effort_is_refused": "invalid-effort-accepted",
    "reasoning.lower_effort_thinks_less": "effort-ignored",
    "reasoning.effort_none_does_not_think": "thinking-despite-effort-none",
    "reasoning.thinking_sent_back_is_accepted": "reasoning-sent-back-refused",
    "reasoning.thinking_in_a_tool_loop_is_accepted": "reasoning-refused-in-tool-loops",
    "reasoning.answers_leave_room_after_thinking": "thinking-endless",
    "responses-reasoning.thinking_is_apart_from_the_answer": "responses-thinking-in-text",
    "responses-reasoning.reasoning_tokens_count_the_thinking": "responses-reasoning-tokens-outside-output",
    "responses-reasoning.reasoning_events_are_consistent": "responses-reasoning-deltas-mismatch",
    "responses-reasoning.the_cap_covers_thinking": "responses-starved-completed",
    "responses-reasoning.answers_leave_room_after_thinking": "responses-thinking-endless",
    "responses-reasoning.effort_values_are_accepted_or_refused": "responses-effort-500",
    "responses-reasoning.invalid_effort_is_refused": "responses-invalid-effort-accepted",
    "responses-reasoning.lower_effort_thinks_less": "responses-effort-ignored",
    "responses-reasoning.summary_comes_when_asked": "responses-no-summary",
    "responses-reasoning.encrypted_content_comes_when_included": "responses-encrypted-content-missing",
    "responses-reasoning.reasoning_items_are_accepted_back": "responses-reasoning-refused-back",
}
# a clean run's verdicts that are not a pass: the profile declares the field the reference returns thinking in
CLEAN = {"reasoning.thinking_comes_in_one_field": Status.DEVIATION}


def test_every_reasoning_check_has_its_failing_fault():
    from conformance.registry import load_all

    assert sorted(FAILED_BY) == sorted(c for c in load_all() if c.split(".")[0] in ("reasoning", "responses-reasoning"))


@pytest.fixture(scope="module")
def live_server():
    with openai_reference("sk-reasoning-checks-0123456789") as server:
        yield server


PROFILE = {
    "models": {"chat": "Llama-3.3-70B-Instruct", "reasoning": REASONER},
    "reasoning": {"field": "reasoning_content"},
    "limits": {"trials": 3},
}


@pytest.mark.parametrize("check_id", sorted(FAILED_BY))
def test_each_reasoning_check_passes_clean_and_fails_under_its_fault(live_server, check_id):
    from conformance.registry import CHECKS
    from conformance.runner import run_check

    root, key = live_server
    for fault, wanted in ((None, CLEAN.get(check_id, Status.PASS)), (FAILED_BY[check_id], Status.FAIL)):
        ctx, store = live_context(root, key, fault, PROFILE)
        try:
            judged = CHECKS[check_id]
            needs = list(judged.needs)
            if judged.kind == Kind.MODEL and not judged.trial_needs:
                # a rate over every answer of the run: enough answers to decide it, as a run of the row makes
                needs += [need for other in CHECKS.values() if other.row == judged.row for need in other.needs]
            for need in dict.fromkeys(needs):  # what a whole run has made before a check of every answer
                try:
                    ctx.exchange(need)
                except NotApplicable:
                    continue
            result = run_check(CHECKS[check_id], ctx)
        finally:
            store.close()
        assert result.status == wanted, (fault, result.message)


@pytest.mark.parametrize(
    ("message", "field", "text"),
    [
        ({"content": "42", "reasoning_content": "hm"}, "reasoning_content", "hm"),
        ({"content": "42", "reasoning": "hm"}, "reasoning", "hm"),
        ({"content": "42", "reasoning_details": [{"type": "reasoning.text", "text": "h"}, {"text": "m"}]}, None, "hm"),
        ({"content": "42", "thinking_blocks": [{"type": "thinking", "thinking": "hm"}]}, "thinking_blocks", "hm"),
        ({"content": "42", "reasoning_content": ""}, None, None),
    ],
)
def test_thinking_is_read_in_every_spelling(message, field, text):
    found = thinking.thought_in(message)
    if text is None:
        assert found is None
    else:
        assert found is not None
        assert found.text == text
        assert found.field == (field or "reasoning_details")


def test_thinking_marks_are_found_in_content_and_nowhere_else():
    for text in ("<think>x</think>42", "x</think>\n42", "<|channel|>analysis<|message|>x", "[THINK]x[/THINK]42"):
        assert thinking.marker_in(text) is not None, text
    for text in ("42", "I think 42", "thinking about it: 42", None):
        assert thinking.marker_in(text) is None, text


def _answer(message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None) -> Any:
    body = chat_completion(**({"usage": usage} if usage else {}))
    body["choices"][0].update(message={"role": "assistant", **message}, finish_reason=finish)
    return chat_exchange("chat-completions/basic", body)


def test_the_run_notices_a_model_that_thinks_from_any_sign_of_it():
    target = build_target({"name": "t", "models": {"chat": "m"}})
    usage = {"prompt_tokens": 5, "completion_tokens": 40, "total_tokens": 45}
    signs = [
        _answer({"content": "42", "reasoning": "hm"}),
        _answer({"content": "42"}, usage={**usage, "completion_tokens_details": {"reasoning_tokens": 30}}),
        _answer({"content": "<think>hm</think>42"}),
        _answer({"content": ""}, finish="length"),
    ]
    for exchange in signs:
        assert thinking.noticed(target, exchange).reasoning.thinks is True
    plain = _answer({"content": "42"}, usage={**usage, "completion_tokens_details": {"reasoning_tokens": 0}})
    assert thinking.noticed(target, plain).reasoning.thinks is False
    declared = build_target({"name": "t", "reasoning": {"thinks": False}})
    assert thinking.noticed(declared, signs[0]).reasoning.thinks is False  # the profile wins


def test_a_target_that_thinks_gets_every_answer_cap_raised_and_the_reasoning_model_always():
    base = {"name": "t", "models": {"chat": "m", "reasoning": "r"}, "limits": {"max_reasoning_tokens": 500}}
    quiet, thinker = build_target(base), build_target({**base, "reasoning": {"thinks": True}})
    for target, cap in ((quiet, 16), (thinker, 516)):
        request = chat_request(target, "x/y", "p", user("hi"))
        assert request is not None
        assert request.json["max_tokens"] == cap
    asked = chat_request(quiet, "x/y", "p", user("hi"), model="r")
    assert asked is not None
    assert asked.json["max_tokens"] == 516
    capped = chat_request(thinker, "x/y", "p", user("hi"), answer_tokens=5, thinking=False)
    assert capped is not None
    assert capped.json["max_tokens"] == 5


def test_a_starved_answer_or_thinking_in_content_blocks_the_claim_instead_of_failing_it():
    exchange = _answer({"content": ""})
    usage = {"completion_tokens": 16, "completion_tokens_details": {"reasoning_tokens": 16}}
    with pytest.raises(Starved) as starved:
        expect_written(exchange, {"content": "", "reasoning_content": "hm"}, "length", usage)
    assert starved.value.by == "reasoning.answers_leave_room_after_thinking"
    with pytest.raises(Blocked) as marked:
        expect_written(exchange, {"content": "<think>hm</think> 42"}, "stop")
    assert marked.value.by == "reasoning.thinking_is_not_in_content"
    expect_written(exchange, {"content": "", "tool_calls": [{"id": "c"}]}, "length", usage)  # a call was written
    expect_written(exchange, {"content": "42"}, "length")  # cut, but written


def test_a_starved_colour_answer_is_blocked_not_failed():
    body = chat_completion("")
    body["choices"][0].update(finish_reason="length")
    body["choices"][0]["message"]["reasoning_content"] = "Let me look at the picture"
    exchange = chat_exchange("image-understanding/png", body)
    result = judge("image-understanding.reply_mentions_the_colour", exchange)
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "reasoning.answers_leave_room_after_thinking"


def test_content_null_beside_thinking_is_an_answer_that_has_not_begun():
    body = chat_completion(None)
    body["choices"][0].update(finish_reason="length")
    body["choices"][0]["message"]["reasoning"] = "Let me think"
    result = judge("chat-completions.message_is_assistant_text", chat_exchange("chat-completions/basic", body))
    assert result.status == Status.PASS
    bare = chat_completion(None)
    assert judge(
        "chat-completions.message_is_assistant_text", chat_exchange("chat-completions/basic", bare)
    ).status == (Status.FAIL)


def test_thinking_streamed_in_another_field_than_the_answer_is_blocked_by_the_field_check():
    plain = chat_completion("42")
    plain["choices"][0]["message"]["reasoning_content"] = "hm"
    basic = chat_exchange("reasoning/basic", plain, request_json={"model": REASONER, "messages": []})
    chunks = [{"role": "assistant", "content": ""}, {"reasoning": "hm"}, {"content": "42"}]
    stream = stream_exchange(
        "reasoning/stream",
        sse([_chunk(delta) for delta in chunks] + [_chunk({}, "stop")]),
        request_json={"model": REASONER, "messages": [], "stream": True},
    )
    result = judge("reasoning.streamed_thinking_comes_first", basic, stream)
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "reasoning.thinking_comes_in_one_field"
    fields = judge("reasoning.thinking_comes_in_one_field", basic, stream)
    assert fields.status == Status.FAIL
    assert "more than one field" in fields.message


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": REASONER,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def test_the_field_a_dialect_or_profile_declares_is_a_documented_deviation_and_holds_the_target():
    answer = chat_completion("42")
    answer["choices"][0]["message"]["reasoning"] = "hm"
    basic = chat_exchange("reasoning/basic", answer, request_json={"model": REASONER, "messages": []})
    stream = stream_exchange(
        "reasoning/stream",
        sse([_chunk({"role": "assistant", "content": ""}), _chunk({"reasoning": "hm"}), _chunk({}, "stop")]),
        request_json={"model": REASONER, "messages": [], "stream": True},
    )
    undeclared = judge("reasoning.thinking_comes_in_one_field", basic, stream)
    assert undeclared.status == Status.PASS
    assert undeclared.details == {"field": "reasoning"}
    declared = judge("reasoning.thinking_comes_in_one_field", basic, stream, reasoning={"field": "reasoning"})
    assert declared.status == Status.DEVIATION
    other = judge("reasoning.thinking_comes_in_one_field", basic, stream, reasoning={"field": "reasoning_content"})
    assert other.status == Status.FAIL
    assert "an app reading `reasoning_content` gets nothing" in other.message


def test_a_model_that_withholds_its_thinking_as_openai_does_passes_the_field_check():
    usage = {"prompt_tokens": 5, "completion_tokens": 40, "total_tokens": 45}
    body = chat_completion("42", usage={**usage, "completion_tokens_details": {"reasoning_tokens": 30}})
    basic = chat_exchange("reasoning/basic", body, request_json={"model": REASONER, "messages": []})
    stream = make_exchange("reasoning/stream", method="POST", path="/chat/completions", status=500, body={})
    result = judge("reasoning.thinking_comes_in_one_field", basic, stream)
    assert result.status == Status.PASS
    assert "withheld" in result.message


def test_an_answer_in_both_spellings_holds_to_the_declared_one():
    answer = chat_completion("42")
    answer["choices"][0]["message"].update(reasoning_content="hm", reasoning="hm")
    basic = chat_exchange("reasoning/basic", answer, request_json={"model": REASONER, "messages": []})
    stream = make_exchange("reasoning/stream", method="POST", path="/chat/completions", status=500, body={})
    for field in ("reasoning", "reasoning_content"):
        result = judge("reasoning.thinking_comes_in_one_field", basic, stream, reasoning={"field": field})
        assert result.status == Status.DEVIATION, result.message
