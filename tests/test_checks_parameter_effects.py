"""The parameters whose effect is the model's choice of words: honoured, accepted and ignored (a failure, or a
deviation the dialect declares), refused (the sweep's finding), or left to errors-400 where the dialect lists them
as unsupported; and the Responses API's logprobs when included."""

from __future__ import annotations

from typing import Any

from helpers import chat_completion, chat_exchange, error_body, judge, make_exchange, trial_exchanges

from conformance.checks import parameter_effects
from conformance.checks.parameter_effects import BIAS_PROBES, period, repeats
from conformance.verdicts import Status

REPEATED = "hello hello hello hello hello hello"


def answers(probe_id: str, texts: list[str], *, status: int = 200, finish: str = "stop") -> list[Any]:
    """Trials of a probe, trial n answering texts[n - 1] (a refusal with ``status`` other than 200)."""

    def made(n: int) -> Any:
        if status != 200:
            return chat_exchange(probe_id, error_body("Unsupported parameter."), status=status)
        body = chat_completion(texts[n - 1])
        body["choices"][0]["finish_reason"] = finish
        return chat_exchange(probe_id, body)

    return trial_exchanges(made(1), len(texts), made)


def test_how_repetition_and_a_repeated_piece_are_counted():
    assert repeats("Hello hello, HELLO world") == 2
    assert repeats("one two three") == 0
    assert period("ab ab ab") == 3
    assert period(" link link link link") == 5
    assert period("ixixixix") == 2
    assert period("The sky is blue.") is None
    assert period("aa") == 1


def _penalty(check_id: str, plain: list[str], penalised: list[str], **options: Any):
    probe = parameter_effects.FREQUENCY if "frequency" in check_id else parameter_effects.PRESENCE
    exchanges = [*answers(parameter_effects.REPEAT_PLAIN, plain), *answers(probe, penalised)]
    return judge(check_id, *exchanges, limits={"trials": len(plain)}, **options)


def test_a_penalty_must_make_the_answer_repeat_itself_less():
    for check_id in ("parameters.frequency_penalty_repeats_less", "parameters.presence_penalty_repeats_less"):
        honoured = _penalty(check_id, [REPEATED] * 3, ["hello there, how are you"] * 3)
        assert (honoured.status, honoured.kind, honoured.rate["successes"]) == (Status.PASS, "model", 3), honoured
        ignored = _penalty(check_id, [REPEATED] * 20, [REPEATED] * 20)
        assert (ignored.status, ignored.level) == (Status.FAIL, "SHOULD")
        assert "(the same answer)" in ignored.message
        assert f"the target accepts {check_id.split('.')[1].removesuffix('_repeats_less')} and ignores it" in (
            ignored.message
        )
        # an answer that repeats nothing without the penalty shows nothing: every trial left out
        nothing = _penalty(check_id, ["one two three"] * 3, ["one two three"] * 3)
        assert nothing.status == Status.SKIPPED


def test_a_penalty_the_dialect_lets_be_ignored_is_a_deviation_and_an_unsupported_one_is_not_judged():
    ignored = _penalty("parameters.frequency_penalty_repeats_less", [REPEATED] * 20, [REPEATED] * 20)
    assert ignored.status == Status.FAIL
    # the Llama API lists the penalties as unsupported: errors-400 sends them, no probe here does
    skipped = _penalty(
        "parameters.frequency_penalty_repeats_less", [REPEATED] * 20, [REPEATED] * 20, dialect="llama-api"
    )
    assert skipped.status == Status.SKIPPED
    assert "errors-400.unsupported_parameters_are_ignored_or_refused" in skipped.message


def test_a_refused_penalty_is_the_sweeps_finding():
    exchanges = [
        *answers(parameter_effects.REPEAT_PLAIN, [REPEATED] * 2),
        *answers(parameter_effects.FREQUENCY, [REPEATED] * 2, status=400),
    ]
    result = judge("parameters.frequency_penalty_repeats_less", *exchanges, limits={"trials": 2})
    # "Unsupported parameter." says the server does not support it
    assert result.status == Status.UNSUPPORTED
    refused = [
        *answers(parameter_effects.REPEAT_PLAIN, [REPEATED] * 2),
        *trial_exchanges(chat_exchange(parameter_effects.FREQUENCY, error_body("Invalid request."), status=400), 2),
    ]
    result = judge("parameters.frequency_penalty_repeats_less", *refused, limits={"trials": 2})
    assert (result.status, result.blocked_by) == (Status.BLOCKED, "parameters.valid_values_are_accepted")


def _bias(first: list[str], second: list[str]):
    exchanges = [*answers(BIAS_PROBES[0], first), *answers(BIAS_PROBES[1], second)]
    return judge("parameters.logit_bias_selects_the_token", *exchanges, limits={"trials": len(first)})


def test_a_bias_of_100_must_make_its_token_the_whole_answer():
    honoured = _bias(["ixixixixixix"] * 3, [" ONE ONE ONE ONE"] * 3)
    assert (honoured.status, honoured.rate["successes"]) == (Status.PASS, 3), honoured.message
    ignored = _bias(["Hello! How can I help?"] * 20, ["Hello! How can I help?"] * 20)
    assert ignored.status == Status.FAIL
    assert "the same answer whichever token was biased" in ignored.message
    assert "accepts logit_bias and ignores it" in ignored.message
    # a model that loops on its own: the same loop whichever token is biased
    looping = _bias(["the the the the"] * 20, ["the the the the"] * 20)
    assert looping.status == Status.FAIL
    # biased answers that are not one token said over and over
    loose = _bias(["ixixix and more"] * 20, ["Hello there."] * 20)
    assert loose.status == Status.FAIL
    assert "no token said over and over" in loose.message
    # a token that decodes to nothing in this tokenizer says nothing
    empty = _bias([""] * 3, ["ONE ONE"] * 3)
    assert empty.status == Status.SKIPPED


def _verbosity(low: list[str], high: list[str], *, low_finish: str = "stop", dialect: str = "openai"):
    exchanges = [
        *answers(parameter_effects.VERBOSITY_LOW, low, finish=low_finish),
        *answers(parameter_effects.VERBOSITY_HIGH, high),
    ]
    return judge("parameters.verbosity_changes_the_length", *exchanges, limits={"trials": len(low)}, dialect=dialect)


def test_verbosity_low_must_be_more_concise_than_high():
    short, long = "Rayleigh scattering.", "Sunlight is scattered by the air, blue light the most, so the sky is blue."
    honoured = _verbosity([short] * 3, [long] * 3)
    assert (honoured.status, honoured.rate["successes"]) == (Status.PASS, 3)
    ignored = _verbosity([long] * 20, [long] * 20)
    assert ignored.status == Status.FAIL
    assert 'the same answer at "low" and "high"' in ignored.message
    assert "accepts verbosity and ignores it" in ignored.message
    reversed_ = _verbosity([long] * 20, [short] * 20)
    assert reversed_.status == Status.FAIL
    # a word more at "high" (a hosted model rewording its answer) is not conciseness at "low"
    reworded = _verbosity([long] * 20, ["Well, " + long] * 20)
    assert reworded.status == Status.FAIL
    assert "not a fifth fewer" in reworded.message
    # "low" cut at the cap, no shorter than "high": nothing to tell
    capped = _verbosity([long + " More."] * 3, [long] * 3, low_finish="length")
    assert capped.status == Status.SKIPPED
    # the Llama API may ignore verbosity, as its dialect says
    declared = _verbosity([long] * 20, [long] * 20, dialect="llama-api")
    assert declared.status == Status.DEVIATION
    assert "verbosity accepted and ignored, as the dialect allows" in declared.message


def _logprob(token: str, alternatives: int) -> dict[str, Any]:
    entry = {"token": token, "logprob": -0.1, "bytes": list(token.encode())}
    return {**entry, "top_logprobs": [entry] * alternatives}


def _with_logprobs(logprobs: Any, *, status: int = 200, refusal: str = "") -> list[Any]:
    part = {"type": "output_text", "text": "Blue.", "annotations": [], "logprobs": logprobs}
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [part]}
    response = {"id": "resp_1", "object": "response", "status": "completed", "output": [message]}
    gate = make_exchange("responses/basic", method="POST", path="/responses", body=response)
    body = response if status == 200 else error_body(refusal)
    return [gate, make_exchange("responses-parameters/top-logprobs", method="POST", path="/responses", status=status,
                                body=body)]  # fmt: skip


def test_responses_logprobs_come_when_included():
    check_id = "responses-parameters.logprobs_come_when_included"
    assert judge(check_id, *_with_logprobs([_logprob("Blue", 2), _logprob(".", 1)])).status == Status.PASS
    empty = judge(check_id, *_with_logprobs([]))
    assert empty.status == Status.FAIL
    assert "the logprobs included are not there" in empty.message
    no_alternatives = judge(check_id, *_with_logprobs([_logprob("Blue", 0)]))
    assert no_alternatives.status == Status.FAIL
    assert "top_logprobs holds 0, expected 1 to 2" in no_alternatives.message
    without_bytes = judge(check_id, *_with_logprobs([{"token": "Blue", "logprob": -0.1, "top_logprobs": []}]))
    assert "not a token with its logprob and bytes" in without_bytes.message
    # OpenAI's reasoning models refuse them
    refused = _with_logprobs(None, status=400, refusal="logprobs are not supported with reasoning models.")
    assert judge(check_id, *refused).status == Status.UNSUPPORTED
    # llama-server's refusal of a valid top_logprobs is the sweep's finding
    refused = _with_logprobs(None, status=400, refusal="top_logprobs requires logprobs to be set to true")
    result = judge(check_id, *refused)
    assert (result.status, result.blocked_by) == (Status.BLOCKED, "responses-parameters.valid_values_are_accepted")


def _functions(message: dict[str, Any], *, dialect: str = "openai", status: int = 200, refusal: str = ""):
    body = chat_completion(None) if status == 200 else error_body(refusal)
    if status == 200:
        body["choices"][0]["message"] = {"role": "assistant", **message}
    exchange = chat_exchange(parameter_effects.LEGACY, body, status=status)
    return judge("parameters.deprecated_functions_are_honoured", exchange, dialect=dialect)


def test_the_deprecated_functions_must_be_answered_in_their_own_form():
    call = {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}
    assert _functions({"content": None, "function_call": call}).status == Status.PASS
    ignored = _functions({"content": "It is sunny in Paris."})
    assert ignored.status == Status.FAIL
    assert "answered with text as if functions had not been sent" in ignored.message
    as_tools = _functions({"content": None, "tool_calls": [{"id": "c", "type": "function", "function": call}]})
    assert as_tools.status == Status.FAIL
    assert "tool_calls, the form of tools" in as_tools.message
    wrong = _functions({"content": None, "function_call": {"name": "get_time", "arguments": "{}"}})
    assert "expected get_weather" in wrong.message
    loose = _functions({"content": None, "function_call": {"name": "get_weather", "arguments": "Paris"}})
    assert "not a JSON object in a string" in loose.message
    # vLLM refuses them ("Extra inputs are not permitted"), Azure too ("Unrecognized request arguments")
    refused = _functions({}, status=400, refusal="functions: Extra inputs are not permitted")
    assert refused.status == Status.UNSUPPORTED
    # the Llama API ignores them, as its dialect says
    declared = _functions({"content": "It is sunny in Paris."}, dialect="llama-api")
    assert declared.status == Status.DEVIATION
