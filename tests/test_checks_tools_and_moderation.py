"""Tools and moderation checks, on hand-made exchanges."""

from __future__ import annotations

import copy

import pytest
from helpers import (
    chat_completion,
    chat_exchange,
    chunk,
    error_body,
    judge,
    judge_trials,
    make_exchange,
    sse,
    stream_exchange,
    trial_exchanges,
)

from conformance.checks.moderation import INPUTS
from conformance.registry import CHECKS
from conformance.verdicts import Kind, Status


def call(name="get_weather", arguments='{"city":"Paris","unit":"celsius"}', call_id="call_1"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_answer(exchange_id, calls, finish="tool_calls", content=None):
    body = chat_completion(content)
    body["choices"][0]["message"]["tool_calls"] = calls
    body["choices"][0]["finish_reason"] = finish
    if not calls:
        del body["choices"][0]["message"]["tool_calls"]
    return chat_exchange(exchange_id, body)


def test_required_calls_pass_and_every_flaw_fails():
    check_id = "tools.required_choice_gives_valid_calls"
    assert judge(check_id, tool_answer("tools/required", [call()])).status == Status.PASS
    flaws = [
        ([], "has no tool_calls"),
        ([call("get_stock")], "calls 'get_stock', which was not offered"),
        ([call(arguments="not json")], "arguments is not JSON"),
        ([call(arguments='{"city":"London","unit":"celsius"}')], "do not match get_weather's parameters"),
    ]
    for calls, expected in flaws:
        result = judge(check_id, tool_answer("tools/required", calls, content="text" if not calls else None))
        assert result.status == Status.FAIL, expected
        assert expected in result.message


def test_a_call_not_of_the_form_every_call_has_blocks_the_tool_checks():
    """An id, type, name or arguments of the wrong form is the chat completion's form: reported once, by
    chat-completions.response_is_schema_valid, over every answer; the tools checks are blocked by it."""
    object_arguments = copy.deepcopy(call())
    object_arguments["function"]["arguments"] = {"city": "Paris", "unit": "celsius"}
    for flawed, expected in (
        ({**call(), "id": ""}, "tool_calls[0].id: '' should be non-empty"),
        ({**call(), "type": "tool"}, "tool_calls[0].type: 'function' was expected"),
        (object_arguments, "arguments"),
    ):
        answer = tool_answer("tools/required", [flawed])
        result = judge("tools.required_choice_gives_valid_calls", answer)
        assert result.status == Status.BLOCKED, result.message
        assert result.blocked_by == "chat-completions.response_is_schema_valid"
        form = judge("chat-completions.response_is_schema_valid", answer)
        assert form.status == Status.FAIL
        assert expected in form.message


def test_finish_reasons_follow_observed_openai():
    assert (
        judge("tools.required_choice_finishes_with_tool_calls", tool_answer("tools/required", [call()])).status
        == Status.PASS
    )
    stop = judge("tools.required_choice_finishes_with_tool_calls", tool_answer("tools/required", [call()], "stop"))
    assert stop.status == Status.FAIL
    named = tool_answer("tools/named", [call("get_time", '{"timezone":"Europe/Paris"}')], "stop")
    assert judge("tools.named_choice_calls_that_tool", named).status == Status.PASS
    assert judge("tools.named_choice_finishes_with_stop", named).status == Status.PASS
    named_tool_calls = tool_answer("tools/named", [call("get_time", '{"timezone":"Europe/Paris"}')])
    result = judge("tools.named_choice_finishes_with_stop", named_tool_calls)
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")


def test_named_choice_must_call_only_that_tool():
    wrong = judge("tools.named_choice_calls_that_tool", tool_answer("tools/named", [call()], "stop"))
    assert wrong.status == Status.FAIL
    assert "not offered" in wrong.message  # get_weather is not the tool named


AUTO = ("tools/auto", "tools/auto-rome", "tools/auto-oslo")


def auto_trials(calls_in: int, trials: int = 5, extra=None):
    """The three auto questions over ``trials`` trials each; the first ``calls_in`` of the 3 * trials
    answers call get_weather (with ``extra`` calls beside it), the others answer in text."""
    made = []
    for position, exchange_id in enumerate(AUTO):

        def answer(number, position=position, exchange_id=exchange_id):
            if position * trials + number <= calls_in:
                return tool_answer(exchange_id, [call(), *(extra or [])])
            return tool_answer(exchange_id, [], "stop", content="It is sunny.")

        made += trial_exchanges(answer(1), trials, answer)
    return made


def test_auto_and_none():
    text_only = [tool_answer(exchange_id, [], "stop", content="It is sunny.") for exchange_id in AUTO]
    assert judge("tools.auto_choice_calls_are_valid", *text_only).status == Status.SKIPPED
    behaviour = judge_trials("tools.auto_choice_calls_a_tool", *text_only)
    assert (behaviour.status, behaviour.level) == (Status.FAIL, "SHOULD")
    assert "called get_weather in 0 of 60 trials" in behaviour.message
    assert "tools/auto answered in text" in behaviour.message
    called = [tool_answer(exchange_id, [call()]) for exchange_id in AUTO]
    assert judge("tools.auto_choice_calls_are_valid", *called).status == Status.PASS
    assert (
        judge("tools.none_choice_calls_no_tool", tool_answer("tools/none", [], "stop", content="Sunny.")).status
        == Status.PASS
    )
    ignored = judge("tools.none_choice_calls_no_tool", tool_answer("tools/none", [call()]))
    assert ignored.status == Status.FAIL
    assert 'tool_choice "none" but the answer has 1 tool calls' in ignored.message


@pytest.mark.parametrize(
    ("calls_in", "status"),
    # 8 of 15 is below 80 % by the 95 % interval, not beyond chance at 1 % family-wise; 5 of 15 is
    [(15, Status.PASS), (12, Status.PASS), (10, Status.INCONCLUSIVE), (8, Status.INCONCLUSIVE), (5, Status.FAIL)],
)
def test_auto_calls_are_a_rate_over_three_questions_and_their_trials(calls_in, status):
    result = judge("tools.auto_choice_calls_a_tool", *auto_trials(calls_in), limits={"trials": 5})
    assert (result.status, result.rate["successes"], result.rate["trials"]) == (status, calls_in, 15)
    assert result.kind == "model"
    valid = judge("tools.auto_choice_calls_are_valid", *auto_trials(calls_in), limits={"trials": 5})
    assert (valid.status, valid.message) == (Status.PASS, f"the calls of {calls_in} of 15 trials are well formed")


def test_a_bad_call_in_any_trial_fails_the_form_of_auto_calls():
    exchanges = auto_trials(15)
    exchanges[7] = tool_answer("tools/auto-rome-trial-3", [call("get_weather", '{"city":"Lima"}')])
    result = judge("tools.auto_choice_calls_are_valid", *exchanges, limits={"trials": 5})
    assert result.status == Status.FAIL
    assert "tools/auto-rome-trial-3" in result.message
    # the rate counts what the model chose (it called get_weather), not the form of its call
    assert judge("tools.auto_choice_calls_a_tool", *exchanges, limits={"trials": 5}).status == Status.PASS


def test_parallel_ids_are_judged_in_every_trial_not_cut_at_the_cap():
    both = [call(), call("get_time", '{"timezone":"Europe/Paris"}', "call_2")]
    same = [call(), call("get_time", '{"timezone":"Europe/Paris"}', "call_1")]
    required = tool_answer("tools/required", [call()])

    def trials(answers):
        first = tool_answer("tools/parallel", answers[0][0], answers[0][1])
        return trial_exchanges(first, len(answers), lambda n: tool_answer("tools/parallel", *answers[n - 1]))

    cut = ([call()], "length")
    result = judge(
        "tools.parallel_calls_have_distinct_ids",
        required,
        *trials([cut, (both, "tool_calls"), cut]),
        limits={"trials": 3},
    )
    assert (result.status, result.message) == (
        Status.PASS,
        "1 trials judged, 1 with several calls, each with ids of its own",
    )
    shared = judge(
        "tools.parallel_calls_have_distinct_ids",
        required,
        *trials([(both, "tool_calls"), (same, "tool_calls")]),
        limits={"trials": 2},
    )
    assert shared.status == Status.FAIL
    assert "tools/parallel-trial-2" in shared.message or "share ids" in shared.message
    all_cut = judge("tools.parallel_calls_have_distinct_ids", required, *trials([cut, cut]), limits={"trials": 2})
    assert all_cut.status == Status.SKIPPED


def test_parallel_calls_need_distinct_ids():
    both = [call(), call("get_time", '{"timezone":"Europe/Paris"}', "call_2")]
    assert judge("tools.parallel_calls_have_distinct_ids", tool_answer("tools/parallel", both)).status == Status.PASS
    assert judge("tools.parallel_request_gets_several_calls", tool_answer("tools/parallel", both)).status == Status.PASS
    same = [call(), call("get_time", '{"timezone":"Europe/Paris"}', "call_1")]
    result = judge("tools.parallel_calls_have_distinct_ids", tool_answer("tools/parallel", same))
    assert result.status == Status.FAIL
    assert "share ids" in result.message
    one = judge_trials("tools.parallel_request_gets_several_calls", tool_answer("tools/parallel", [call()]))
    assert (one.status, one.level) == (Status.FAIL, "SHOULD")


def tool_stream(parts, finish="tool_calls"):
    chunks = [chunk({"role": "assistant", "content": None})]
    chunks += [chunk({"tool_calls": [part]}) for part in parts]
    chunks.append(chunk({}, finish))
    return stream_exchange("tools/stream", sse(chunks))


GOOD_PARTS = [
    {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    {"index": 0, "function": {"arguments": '{"city":"Par'}},
    {"index": 0, "function": {"arguments": 'is","unit":"celsius"}'}},
]


def test_streamed_tool_calls_reassemble():
    check_id = "tools.streamed_calls_reassemble"
    assert judge(check_id, tool_stream(GOOD_PARTS)).status == Status.PASS
    no_index = [GOOD_PARTS[0], {"function": {"arguments": "{}"}}]
    assert "has no index" in judge(check_id, tool_stream(no_index)).message
    no_id = [{k: v for k, v in GOOD_PARTS[0].items() if k != "id"}, *GOOD_PARTS[1:]]
    assert "without id, type 'function' and function.name" in judge(check_id, tool_stream(no_id)).message
    renamed = [*GOOD_PARTS, {"index": 0, "function": {"name": "get_time"}}]
    assert "changes the id or name" in judge(check_id, tool_stream(renamed)).message
    broken = [GOOD_PARTS[0], GOOD_PARTS[1]]
    assert "is not JSON" in judge(check_id, tool_stream(broken)).message
    assert "finishes with 'stop'" in judge(check_id, tool_stream(GOOD_PARTS, "stop")).message


def test_a_tool_stream_broken_off_by_a_server_error_fails_its_own_check_not_the_finish_reason_one():
    """Issue 32: transformers serve ended a tool stream with data: {"error": ...} after an exception; the finish
    check passed it "as claimed" and the tool-stream check, blocked by it, never judged it."""
    chunks = [chunk({"role": "assistant", "content": None}), chunk({"tool_calls": [GOOD_PARTS[0]]})]
    broken = stream_exchange("tools/stream", sse([*chunks, {"error": {"message": "generation failed"}}], done=False))
    result = judge("tools.streamed_calls_reassemble", broken)
    assert result.status == Status.FAIL
    assert "the stream broke off with an error at event 3" in result.message
    alone = judge("streaming.one_finish_reason_per_choice", broken)
    assert (alone.status, alone.message[:30]) == (Status.SKIPPED, "every stream broke off with an")
    whole = stream_exchange("streaming/basic", sse([chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop")]))
    finish = judge("streaming.one_finish_reason_per_choice", broken, whole)
    assert finish.status == Status.PASS
    assert "1 of them not judged: they broke off with an error event" in finish.message


def test_answers_cut_at_the_token_cap_are_not_judged_for_calls():
    cut = tool_answer("tools/required", [], "length", content='<tool_call>{"name": "get_weather", "arguments": {  ')
    result = judge("tools.required_choice_gives_valid_calls", cut)
    assert result.status == Status.SKIPPED
    assert "cut at the token cap" in result.message
    none_cut = tool_answer("tools/none", [], "length", content="It is sunny and")
    assert judge("tools.none_choice_calls_no_tool", none_cut).status == Status.PASS
    parts = [
        *GOOD_PARTS,
        {"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": '{"time'}},
    ]
    streamed = judge("tools.streamed_calls_reassemble", tool_stream(parts, "length"))
    assert streamed.status == Status.PASS
    assert "1 complete call(s) before the token cap" in streamed.message
    nothing = judge("tools.streamed_calls_reassemble", tool_stream(GOOD_PARTS[:2], "length"))
    assert nothing.status == Status.SKIPPED


def test_a_no_argument_tool_needs_an_empty_object():
    check_id = "tools.no_argument_tool_gets_an_empty_object"
    good = tool_answer("tools/no-arguments", [call("get_server_time", "{}")], "stop")
    assert judge(check_id, good).status == Status.PASS
    empty = judge(check_id, tool_answer("tools/no-arguments", [call("get_server_time", "")], "stop"))
    assert empty.status == Status.FAIL
    assert "arguments is not JSON" in empty.message


def test_the_round_trip_must_be_answered():
    check_id = "tools.tool_results_round_trip"
    assert judge(check_id, chat_exchange("tools/round-trip", chat_completion("21 degrees."))).status == Status.PASS
    refused = judge(check_id, chat_exchange("tools/round-trip", error_body("invalid tool message"), status=400))
    assert refused.status == Status.FAIL


LLAMA_RESULT = {"flagged": False, "categories": {"privacy": False, "self-harm": False, "hate": False}}
UNSAFE_RESULT = {"flagged": True, "categories": {"privacy": False, "self-harm": False, "violent-crimes": True}}


def moderations(results_list, results_single=None, results_parts=None):
    def answer(exchange_id, results):
        return make_exchange(
            exchange_id,
            method="POST",
            path="/moderations",
            body={"id": "modr-1", "model": "Llama-Guard", "results": results},
        )

    return [
        answer("moderation/single", results_single or [UNSAFE_RESULT]),
        answer("moderation/list", results_list),
        answer("moderation/multimodal", results_parts or [LLAMA_RESULT]),
    ]


GOOD_LIST = [LLAMA_RESULT, UNSAFE_RESULT, LLAMA_RESULT]


def test_llama_moderation_passes_with_documented_deviations():
    exchanges = moderations(GOOD_LIST)
    llama = {"dialect": "llama-api"}
    for check_id in (
        "moderation.response_is_schema_valid",
        "moderation.one_result_per_input",
        "moderation.flagged_matches_the_categories",
        "moderation.categories_are_the_dialects",
        "moderation.harmful_text_is_flagged",
    ):
        result = judge(check_id, *exchanges, **llama)
        assert result.status == Status.PASS, (check_id, result.message)
    for check_id in ("moderation.category_scores_are_reported", "moderation.category_applied_input_types_are_reported"):
        assert judge(check_id, *exchanges, **llama).status == Status.DEVIATION
        assert judge(check_id, *exchanges).status == Status.FAIL  # the openai dialect requires them


def test_llama_shape_fails_the_openai_dialect():
    result = judge("moderation.response_is_schema_valid", *moderations(GOOD_LIST))
    assert result.status == Status.FAIL
    assert "'harassment' is a required property" in result.message


def test_present_scores_are_reported_as_beyond_the_dialect():
    scored = [{**r, "category_scores": dict.fromkeys(r["categories"], 0.1)} for r in GOOD_LIST]
    result = judge("moderation.category_scores_are_reported", *moderations(scored), dialect="llama-api")
    assert result.status == Status.PASS
    assert "documents a deviation here, but the target behaves like OpenAI" in result.message
    out_of_range = [{**r, "category_scores": dict.fromkeys(r["categories"], 3)} for r in GOOD_LIST]
    assert judge("moderation.category_scores_are_reported", *moderations(out_of_range)).status == Status.FAIL


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([LLAMA_RESULT], f"gave 1 results, expected {len(INPUTS)}"),
        ([LLAMA_RESULT, {**UNSAFE_RESULT, "flagged": False}, LLAMA_RESULT], "flagged is False but the true categories"),
        ([LLAMA_RESULT, {**UNSAFE_RESULT, "categories": {"harassment": True}}, LLAMA_RESULT], "does not know"),
        ([LLAMA_RESULT, LLAMA_RESULT, LLAMA_RESULT], "flagged: single"),
    ],
)
def test_moderation_deviations(results, expected):
    check = {
        "gave 1": "moderation.one_result_per_input",
        "flagged is": "moderation.flagged_matches_the_categories",
        "does not know": "moderation.categories_are_the_dialects",
        "flagged: single": "moderation.harmful_text_is_flagged",
    }
    check_id = next(value for key, value in check.items() if key in expected)
    judged = judge_trials if CHECKS[check_id].kind == Kind.MODEL else judge
    result = judged(check_id, *moderations(results), dialect="llama-api")
    assert result.status == Status.FAIL
    assert expected in result.message


def test_free_text_cut_at_the_cap_shows_tool_choice_is_not_enforced():
    garbage = tool_answer("tools/required", [], "length", content="co[ futding].QIyear Distutils license sock")
    result = judge("tools.required_choice_gives_valid_calls", garbage)
    assert result.status == Status.FAIL
    assert 'tool_choice "required" but the answer has no tool_calls' in result.message
    json_start = tool_answer("tools/required", [], "length", content='{"name": "get_weather", "arguments": {   ')
    assert judge("tools.required_choice_gives_valid_calls", json_start).status == Status.SKIPPED


def test_a_tool_choice_ignored_everywhere_is_one_failure_not_one_per_request():
    ignored = tool_answer("tools/required", [], "stop", content="Sunny.")
    honoured = tool_answer("tools/required", [call()])
    parallel = tool_answer("tools/parallel", [], "stop", content="Sunny and noon.")
    streamed = stream_exchange(
        "tools/stream", sse([chunk({"role": "assistant", "content": "Sunny."}), chunk({}, "stop")])
    )
    assert judge("tools.required_choice_gives_valid_calls", ignored).status == Status.FAIL
    for check_id, exchange in [
        ("tools.parallel_calls_have_distinct_ids", parallel),
        ("tools.streamed_calls_reassemble", streamed),
    ]:
        blocked = judge(check_id, exchange, ignored)
        assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "tools.required_choice_gives_valid_calls")
        # where "required" is honoured elsewhere, this request's own failure is reported
        assert judge(check_id, exchange, honoured).status == Status.FAIL
    other_tool = tool_answer("tools/named", [call()])
    no_arguments = tool_answer("tools/no-arguments", [call()])
    assert judge("tools.named_choice_calls_that_tool", other_tool).status == Status.FAIL
    blocked = judge("tools.no_argument_tool_gets_an_empty_object", no_arguments, other_tool)
    assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "tools.named_choice_calls_that_tool")
    named = tool_answer("tools/named", [call("get_time", '{"timezone":"Europe/Paris"}')], "stop")
    assert judge("tools.no_argument_tool_gets_an_empty_object", no_arguments, named).status == Status.FAIL
