"""The legacy completions row's checks, on hand-made exchanges: each passes on OpenAI's answers and fails, with the
message that names the defect, on the answers real servers gave (vLLM's offsets, llama.cpp's chat-form logprobs,
TGI's streams)."""

from __future__ import annotations

import re

from helpers import CHAT_MODEL, error_body, judge, make_exchange, sse

from conformance.checks._completions import PROMPT
from conformance.checks.completions import CAP, TOKENS
from conformance.verdicts import Status

_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]")
PROMPT_TOKENS = _TOKEN.findall(PROMPT)
WORDS = [" a", " fisherman", " named", " Tom", " who", " loved", " the", " sea"]


def completion(texts: list[str], *, usage: tuple[int, int] | None = (14, 8), reason: str = "length", **extra) -> dict:
    body: dict = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1_767_225_600,
        "model": CHAT_MODEL,
        "choices": [
            {"text": text, "index": i, "logprobs": None, "finish_reason": reason} for i, text in enumerate(texts)
        ],
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    body.update(extra)
    return body


def exchange(exchange_id: str, body: dict | None, *, status: int = 200, **request) -> object:
    return make_exchange(
        exchange_id,
        method="POST",
        path="/completions",
        status=status,
        body=body,
        request_json={"prompt": PROMPT, **request},
    )


def logprobs(tokens: list[str], *, start: int, echoed: bool = False, top: int = 2) -> dict:
    offsets = [start + sum(len(t) for t in tokens[:k]) for k in range(len(tokens))]
    values = [None if echoed and k == 0 else -0.5 for k in range(len(tokens))]
    tops = [
        None if echoed and k == 0 else {t: -0.5, **{f"x{j}": -2.0 for j in range(top - 1)}}
        for k, t in enumerate(tokens)
    ]
    return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


def with_logprobs(text_tokens: list[str], lists: dict, usage: tuple[int, int]) -> dict:
    body = completion(["".join(text_tokens)], usage=usage)
    body["choices"][0]["logprobs"] = lists
    return body


def good() -> dict:
    """OpenAI's answers (gpt-3.5-turbo-instruct, davinci-002) to the row's probes."""
    made = WORDS[:6]
    return {
        "completions/basic": exchange("completions/basic", completion(["".join(WORDS[:CAP])], usage=(14, CAP))),
        "completions/prompts": exchange(
            "completions/prompts", completion(["one", "two", "three", "four"], usage=(24, 16)), n=2
        ),
        "completions/tokens": exchange("completions/tokens", completion([" x"], usage=(len(TOKENS), 1))),
        "completions/logprobs": exchange(
            "completions/logprobs",
            with_logprobs(made, logprobs(made, start=len(PROMPT)), (len(PROMPT_TOKENS), len(made))),
        ),
        "completions/echo-logprobs": exchange(
            "completions/echo-logprobs",
            with_logprobs(
                [*PROMPT_TOKENS, " a"],
                logprobs([*PROMPT_TOKENS, " a"], start=0, echoed=True, top=1),
                (len(PROMPT_TOKENS), 1),
            ),
        ),
    }


def run(check_id: str, **changed):
    return judge(check_id, *{**good(), **changed}.values())


def test_openai_answers_pass():
    for check_id in (
        "completions.response_is_schema_valid",
        "completions.every_prompt_gets_n_choices",
        "completions.max_tokens_caps_the_text",
        "completions.usage_counts_prompt_and_completion",
        "completions.token_ids_are_a_prompt",
        "completions.logprobs_describe_the_text",
        "completions.text_offsets_count_from_the_prompt",
        "completions.echoed_logprobs_cover_the_prompt",
    ):
        result = run(check_id)
        assert result.status == Status.PASS, (check_id, result.message)


def test_a_chat_labelled_answer_fails_its_form():
    body = completion(["x"], object="chat.completion")
    result = run("completions.response_is_schema_valid", **{"completions/basic": exchange("completions/basic", body)})
    assert result.status == Status.FAIL
    assert "violates the openai/text-completion schema" in result.message


def test_indexes_restarting_per_prompt_fail():
    body = completion(["one", "two", "three", "four"], usage=(24, 16))
    for choice, index in zip(body["choices"], [0, 1, 0, 1], strict=True):
        choice["index"] = index
    result = run(
        "completions.every_prompt_gets_n_choices", **{"completions/prompts": exchange("completions/prompts", body)}
    )
    assert result.status == Status.FAIL
    assert "the choices' indexes are [0, 1, 0, 1]" in result.message


def test_llama_cpp_chat_form_logprobs_fail_and_block_the_others():
    body = completion(["".join(WORDS[:6])], usage=(14, 6))
    body["choices"][0]["logprobs"] = {
        "content": [{"token": " a", "logprob": -0.1, "bytes": [32, 97], "top_logprobs": []}]
    }
    changed = {"completions/logprobs": exchange("completions/logprobs", body)}
    result = run("completions.logprobs_describe_the_text", **changed)
    assert result.status == Status.FAIL
    assert "the log probabilities asked for are not there" in result.message
    assert run("completions.text_offsets_count_from_the_prompt", **changed).status == Status.BLOCKED
    assert run("completions.echoed_logprobs_cover_the_prompt", **changed).status == Status.BLOCKED


def test_vllm_offsets_from_zero_fail_the_should_only():
    made = WORDS[:6]
    body = with_logprobs(made, logprobs(made, start=0), (14, 6))
    changed = {"completions/logprobs": exchange("completions/logprobs", body)}
    assert run("completions.logprobs_describe_the_text", **changed).status == Status.PASS
    result = run("completions.text_offsets_count_from_the_prompt", **changed)
    assert result.status == Status.FAIL
    assert "not at the prompt's length" in result.message


def test_partial_utf8_tokens_join_as_bytes():
    tokens = [" caf", "bytes:\\xc3", "bytes:\\xa9"]
    body = with_logprobs([" café"], logprobs(tokens, start=len(PROMPT)), (14, 3))
    body["choices"][0]["logprobs"]["text_offset"] = [len(PROMPT), len(PROMPT) + 4, len(PROMPT) + 4]
    result = run(
        "completions.logprobs_describe_the_text", **{"completions/logprobs": exchange("completions/logprobs", body)}
    )
    assert result.status == Status.PASS, result.message


def test_prompt_logprobs_missing_with_echo_fail():
    text = [*PROMPT_TOKENS, " a"]
    body = with_logprobs(text, logprobs([" a"], start=len(PROMPT)), (len(PROMPT_TOKENS), 1))
    result = run(
        "completions.echoed_logprobs_cover_the_prompt",
        **{"completions/echo-logprobs": exchange("completions/echo-logprobs", body)},
    )
    assert result.status == Status.FAIL
    assert "the prompt's tokens are not scored" in result.message


def test_echo_with_logprobs_refused_as_openai_does_passes():
    refused = exchange(
        "completions/echo-logprobs",
        error_body("Setting 'echo' and 'logprobs' at the same time is not supported for this model."),
        status=400,
    )
    result = run("completions.echoed_logprobs_cover_the_prompt", **{"completions/echo-logprobs": refused})
    assert result.status == Status.PASS
    assert "refused" in result.message


def stream(exchange_id: str, payloads: list, **kwargs) -> object:
    return make_exchange(
        exchange_id,
        method="POST",
        path="/completions",
        chunks=sse(payloads, done=kwargs.pop("done", True)),
        headers=[("content-type", "text/event-stream")],
        request_json={"prompt": PROMPT, "stream": True, **kwargs},
    )


def piece(text: str, reason: str | None = None, identifier: str = "cmpl-s", **top) -> dict:
    body = {
        "id": identifier,
        "object": "text_completion",
        "created": 1,
        "model": CHAT_MODEL,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": reason}],
    }
    body.update(top)
    return body


def test_streams_pass_and_tgi_streams_fail():
    ok = [piece(" a"), piece(" b", "length")]
    result = judge(
        "completions.stream_is_one_completion", good()["completions/basic"], stream("completions/stream", ok)
    )
    assert result.status == Status.PASS, result.message
    result = judge(
        "completions.streams_are_framed_and_valid", good()["completions/basic"], stream("completions/stream", ok)
    )
    assert result.status == Status.PASS, result.message
    ids = [piece(" a", identifier=""), piece(" b", "length", identifier="cmpl-2")]
    assert (
        "the chunks carry 2 ids"
        in judge(
            "completions.stream_is_one_completion", good()["completions/basic"], stream("completions/stream", ids)
        ).message
    )
    undone = judge(
        "completions.streams_are_framed_and_valid",
        good()["completions/basic"],
        stream("completions/stream", ok, done=False),
    )
    assert "no data: [DONE] event" in undone.message


def test_the_usage_chunk_comes_last_with_no_choices():
    usage = {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16}
    good_usage = [piece(" a", usage=None), piece(" b", "length", usage=None), piece("", choices=[], usage=usage)]
    basic = good()["completions/basic"]
    options = {"stream_options": {"include_usage": True}}
    result = judge(
        "completions.stream_usage_comes_last", basic, stream("completions/stream-usage", good_usage, **options)
    )
    assert result.status == Status.PASS, result.message
    riding = [piece(" a"), piece(" b", "length", usage=usage)]
    result = judge("completions.stream_usage_comes_last", basic, stream("completions/stream-usage", riding, **options))
    assert "the usage chunk has choices" in result.message


def refused(exchange_id: str, message: str = "bad request", status: int = 400, **error) -> object:
    return exchange(exchange_id, error_body(message, **error), status=status)


def test_refusals_pass_when_refused_and_fail_when_answered():
    named = {
        "completions/max-tokens-negative": refused("completions/max-tokens-negative", param="max_tokens"),
        "completions/logprobs-negative": refused("completions/logprobs-negative", "Invalid 'logprobs': -1"),
        "completions/n-zero": refused("completions/n-zero", param="n"),
        "completions/best-of-below-n": refused("completions/best-of-below-n", param="best_of"),
        "completions/best-of-streamed": refused("completions/best-of-streamed", "best_of cannot be streamed"),
        "completions/unknown-model": refused("completions/unknown-model", "no such model", 404),
    }
    for check_id in (
        "completions.out_of_range_values_are_refused",
        "completions.best_of_conflicts_are_refused",
        "completions.unknown_model_is_refused",
        "completions.refusals_name_the_parameter",
    ):
        result = run(check_id, **named)
        assert result.status == Status.PASS, (check_id, result.message)
    answered = exchange("completions/n-zero", completion(["x"]))
    result = run("completions.out_of_range_values_are_refused", **{**named, "completions/n-zero": answered})
    assert result.status == Status.FAIL
    assert "was answered (HTTP 200) instead of refused with 400" in result.message
    streamed = stream("completions/best-of-streamed", [piece(" a", "length")], best_of=2)
    result = run("completions.best_of_conflicts_are_refused", **{**named, "completions/best-of-streamed": streamed})
    assert result.status == Status.FAIL
    substituted = exchange("completions/unknown-model", completion(["x"]))
    result = run("completions.unknown_model_is_refused", **{**named, "completions/unknown-model": substituted})
    assert "the app is answered by another model" in result.message
    unnamed = refused("completions/n-zero", "Invalid request.")
    result = run("completions.refusals_name_the_parameter", **{**named, "completions/n-zero": unnamed})
    assert result.status == Status.FAIL
    assert "n is not named" in result.message


def test_echo_ignored_fails_and_refused_naming_it_passes():
    check_id = "completions.echo_prepends_the_prompt"
    echoed = exchange("completions/echo", completion([PROMPT + " a fisherman"]), echo=True)
    assert run(check_id, **{"completions/echo": echoed}).status == Status.PASS
    ignored = exchange("completions/echo", completion([" a fisherman"]), echo=True)
    assert "echo true was ignored" in run(check_id, **{"completions/echo": ignored}).message
    refused_echo = refused("completions/echo", "echo is not supported", param="echo")
    assert run(check_id, **{"completions/echo": refused_echo}).status == Status.PASS
    unnamed = refused("completions/echo", "Invalid request.")
    assert "without naming echo" in run(check_id, **{"completions/echo": unnamed}).message


def test_the_default_of_16_tokens_and_the_stop_sequence():
    capped = exchange("completions/default-length", completion(["x" * 40], usage=(14, 16)))
    assert run("completions.max_tokens_defaults_to_16", **{"completions/default-length": capped}).status == Status.PASS
    endless = exchange("completions/default-length", completion(["x" * 4000], usage=(14, 998)))
    result = run("completions.max_tokens_defaults_to_16", **{"completions/default-length": endless})
    assert "not at most 16" in result.message
    stopped = exchange("completions/stop", completion([" a kind old fisherman"], reason="stop"))
    assert run("completions.stop_ends_the_text", **{"completions/stop": stopped}).status == Status.PASS
    kept = exchange("completions/stop", completion([" a kind old fisherman."], reason="stop"))
    assert "holds the stop sequence '.'" in run("completions.stop_ends_the_text", **{"completions/stop": kept}).message


def test_suffix_and_best_of_honoured_or_refused_naming_them():
    taken = exchange("completions/suffix", completion([" x"]))
    assert run("completions.suffix_is_taken_or_refused", **{"completions/suffix": taken}).status == Status.PASS
    vllm = refused("completions/suffix", "suffix is not currently supported")
    assert run("completions.suffix_is_taken_or_refused", **{"completions/suffix": vllm}).status == Status.PASS
    unnamed = refused("completions/suffix", "Invalid request.")
    result = run("completions.suffix_is_taken_or_refused", **{"completions/suffix": unnamed})
    assert "suffix was refused with HTTP 400 without naming it" in result.message
    one = exchange("completions/best-of", completion([" x"]))
    assert run("completions.best_of_returns_n_choices", **{"completions/best-of": one}).status == Status.PASS
    both = exchange("completions/best-of", completion([" x", " y"]))
    assert "returned 2 choices" in run("completions.best_of_returns_n_choices", **{"completions/best-of": both}).message


def test_a_seed_repeats_the_text_over_the_trials():
    from helpers import trial_exchanges

    seeded = exchange("completions/seeded", completion([" the same"]), seed=7)
    same = trial_exchanges(seeded, 3)
    result = judge("completions.seed_repeats_the_text", good()["completions/basic"], *same, limits={"trials": 3})
    assert result.status == Status.PASS, result.message
    moved = trial_exchanges(
        seeded, 3, vary=lambda k: exchange("completions/seeded", completion([f" text {k}"]), seed=7)
    )
    result = judge("completions.seed_repeats_the_text", good()["completions/basic"], *moved, limits={"trials": 3})
    assert result.status == Status.FAIL
    assert "seed 7 gave another text" in result.message
