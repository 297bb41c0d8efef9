"""Accepted but ignored: the checks that look for what a parameter implies (an image reaches the model,
logprobs come back, "required" calls a tool), passing on a server that honours them and failing on one
that silently drops them."""

from __future__ import annotations

import copy

from helpers import chat_completion, chat_exchange, error_body, judge

from conformance.checks.image_understanding import BLUE, NO_IMAGE, RED
from conformance.verdicts import Status


def answer(text, prompt_tokens):
    body = chat_completion(text)
    body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": 2, "total_tokens": prompt_tokens + 2}
    return body


def test_an_image_that_reaches_the_model_counts_and_changes_the_answer():
    seen = [
        chat_exchange(RED, answer("Red.", 100)),
        chat_exchange(BLUE, answer("Blue.", 100)),
        chat_exchange(NO_IMAGE, answer("I see no square.", 15)),
    ]
    result = judge("image-understanding.images_reach_the_model", *seen)
    assert result.status == Status.PASS, result.message
    assert "100 prompt tokens with the image, 15 without" in result.message


def test_images_dropped_on_the_way_fail_by_their_count_and_their_answer():
    same = [chat_exchange(probe_id, answer("It is a square.", 15)) for probe_id in (RED, BLUE, NO_IMAGE)]
    result = judge("image-understanding.images_reach_the_model", *same)
    assert result.status == Status.FAIL
    assert "usage.prompt_tokens is 15 with the image and 15 without it" in result.message
    assert "all get the answer 'It is a square.'" in result.message
    # counted but not seen: still caught by the answers
    counted = [
        chat_exchange(RED, answer("It is a square.", 100)),
        chat_exchange(BLUE, answer("It is a square.", 100)),
        chat_exchange(NO_IMAGE, answer("It is a square.", 15)),
    ]
    result = judge("image-understanding.images_reach_the_model", *counted)
    assert result.status == Status.FAIL
    assert "dropped before the model" in result.message
    # a refused image is the PNG check's to report
    refused = [chat_exchange(RED, error_body("no images"), status=400), *same[1:]]
    blocked = judge("image-understanding.images_reach_the_model", *refused)
    assert blocked.status == Status.BLOCKED
    assert blocked.blocked_by == "image-understanding.png_data_url_is_understood"


def logprobs(top=2):
    return {
        "content": [
            {
                "token": token,
                "logprob": -0.1,
                "top_logprobs": [{"token": token, "logprob": -0.1}, {"token": "x", "logprob": -3.0}][:top],
            }
            for token in ("Hello", " there")
        ],
        "refusal": None,
    }


def test_logprobs_come_back_when_asked_or_are_refused():
    good = chat_completion("Hello there")
    good["choices"][0]["logprobs"] = logprobs()
    assert judge("sampling.logprobs_are_returned_when_asked", chat_exchange("sampling/logprobs", good)).status == (
        Status.PASS
    )
    refused = chat_exchange("sampling/logprobs", error_body("logprobs are not available"), status=400)
    assert judge("sampling.logprobs_are_returned_when_asked", refused).status == Status.UNSUPPORTED
    ignored = judge("sampling.logprobs_are_returned_when_asked", chat_exchange("sampling/logprobs"))
    assert ignored.status == Status.FAIL
    assert "the logprobs asked for are not there" in ignored.message
    short = copy.deepcopy(good)
    short["choices"][0]["logprobs"] = logprobs(top=1)
    result = judge("sampling.logprobs_are_returned_when_asked", chat_exchange("sampling/logprobs", short))
    assert result.status == Status.FAIL
    assert "top_logprobs holds 1, expected 2" in result.message
    # the llama-api dialect documents logprobs among the parameters its compatibility layer ignores
    deviation = judge(
        "sampling.logprobs_are_returned_when_asked", chat_exchange("sampling/logprobs"), dialect="llama-api"
    )
    assert deviation.status == Status.DEVIATION


def tool_answer(calls, probe_id="tools/required-unneeded"):
    body = chat_completion(None if calls else "Hello!")
    if calls:
        body["choices"][0]["message"]["tool_calls"] = calls
        body["choices"][0]["finish_reason"] = "tool_calls"
    return chat_exchange(probe_id, body)


def test_required_calls_a_tool_even_when_the_question_needs_none():
    call = {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
    needed = tool_answer([call], "tools/required")
    check_id = "tools.required_choice_calls_a_tool_without_reason"
    assert judge(check_id, tool_answer([call]), needed).status == Status.PASS
    as_auto = judge(check_id, tool_answer([]), needed)
    assert as_auto.status == Status.FAIL
    assert "required is treated as auto" in as_auto.message
    # no call even where one is needed: that is required_choice_gives_valid_calls's failure, said once
    never = judge(check_id, tool_answer([]), tool_answer([], "tools/required"))
    assert never.status == Status.BLOCKED
    assert never.blocked_by == "tools.required_choice_gives_valid_calls"
    assert judge("tools.required_choice_gives_valid_calls", tool_answer([], "tools/required")).status == Status.FAIL
