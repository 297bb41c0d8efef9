"""Sampling, model selection and the added chat-completions checks, on hand-made exchanges."""

from __future__ import annotations

import pytest
from helpers import (
    CHAT_MODEL,
    VISION_MODEL,
    chat_completion,
    chat_exchange,
    error_body,
    judge,
    judge_trials,
    make_exchange,
    model_list,
    trial_exchanges,
)

from conformance.checks import sampling
from conformance.checks.model_selection import UNKNOWN_MODEL, ask_model, echoes
from conformance.profiles import build_target
from conformance.verdicts import Status

COUNTED = "You said: one two three four five six"


def cut(tokens: int, finish: str, **usage):
    body = chat_completion(
        "one two three", usage={"prompt_tokens": 9, "completion_tokens": tokens, "total_tokens": 9 + tokens, **usage}
    )
    body["choices"][0]["finish_reason"] = finish
    return body


@pytest.mark.parametrize("check_id", ["sampling.max_tokens_is_honoured", "sampling.max_completion_tokens_is_honoured"])
def test_token_limits(check_id):
    exchange_id = "sampling/max-tokens" if "max_tokens" in check_id else "sampling/max-completion-tokens"
    assert judge(check_id, chat_exchange(exchange_id, cut(5, "length"))).status == Status.PASS
    assert judge(check_id, chat_exchange(exchange_id, cut(3, "stop"))).status == Status.PASS
    ignored = judge(check_id, chat_exchange(exchange_id, cut(40, "stop")))
    assert ignored.status == Status.FAIL
    assert "the limit is ignored" in ignored.message
    wrong_reason = judge(check_id, chat_exchange(exchange_id, cut(5, "stop")))
    assert wrong_reason.status == Status.FAIL
    assert "expected 'length'" in wrong_reason.message


def test_stop_word_is_taken_from_the_answer():
    assert sampling.stop_word("You said: Count from one to one hundred") == "Count"
    assert sampling.stop_word("a a a a") is None
    assert sampling.stop_word("one two") is None


def stop_exchanges(with_stop: str):
    twin = chat_exchange(sampling.STOP_TWIN, chat_completion(COUNTED))
    target = build_target({"name": "t", "models": {"chat": CHAT_MODEL}})
    request = sampling.stop_request(target, twin)
    assert request is not None
    assert request.json["stop"] == ["one"]
    return twin, chat_exchange(request.id, chat_completion(with_stop))


def test_stop_is_honoured_when_the_answer_ends_before_it():
    twin, stopped = stop_exchanges("You said:")
    assert judge("sampling.stop_is_honoured", twin, stopped).status == Status.PASS
    assert judge("sampling.stop_keeps_the_text_before_it", twin, stopped).status == Status.PASS


def test_an_ignored_stop_sequence_fails():
    twin, stopped = stop_exchanges(COUNTED)
    result = judge("sampling.stop_is_honoured", twin, stopped)
    assert result.status == Status.FAIL
    assert "the stop sequence is ignored" in result.message


def test_a_different_prefix_is_a_should_failure():
    twin, stopped = stop_exchanges("Something else")
    five = [*trial_exchanges(twin, 5), *trial_exchanges(stopped, 5)]
    result = judge("sampling.stop_keeps_the_text_before_it", *five, limits={"trials": 5})
    # 0 of 5 is below 50 %, but not beyond chance at 1 % family-wise: twenty trials decide it
    assert (result.status, result.rate["successes"]) == (Status.INCONCLUSIVE, 0)
    twenty = judge_trials("sampling.stop_keeps_the_text_before_it", twin, stopped)
    assert (twenty.status, twenty.level, twenty.rate["successes"]) == (Status.FAIL, "SHOULD", 0)
    # one trial cannot tell a rate of 0 from chance
    assert judge("sampling.stop_keeps_the_text_before_it", twin, stopped).status == Status.INCONCLUSIVE
    # two pairs of five differ (the wording varied): "mostly the same" still holds
    mixed = trial_exchanges(stopped, 5, lambda n: stop_exchanges("Something else" if n < 3 else "You said:")[1])
    result = judge("sampling.stop_keeps_the_text_before_it", *trial_exchanges(twin, 5), *mixed, limits={"trials": 5})
    assert (result.status, result.rate["successes"], result.rate["trials"]) == (Status.PASS, 3, 5)
    assert "pair 1 gave 'Something else'" in result.message


def test_a_twin_without_a_usable_word_makes_stop_not_applicable():
    twin = chat_exchange(sampling.STOP_TWIN, chat_completion("Hi"))
    assert judge("sampling.stop_is_honoured", twin).status == Status.SKIPPED


@pytest.mark.parametrize(
    ("check_id", "exchange_id"),
    [
        ("sampling.out_of_range_temperature_is_refused", "sampling/temperature-too-high"),
        ("sampling.out_of_range_top_p_is_refused", "sampling/top-p-too-high"),
    ],
)
def test_out_of_range_values_must_be_refused_with_400(check_id, exchange_id):
    assert judge(check_id, chat_exchange(exchange_id, error_body(), status=400)).status == Status.PASS
    accepted = judge(check_id, chat_exchange(exchange_id))
    assert accepted.status == Status.FAIL
    assert "answered (HTTP 200) instead of refused" in accepted.message
    crashed = judge(check_id, chat_exchange(exchange_id, error_body("boom"), status=500))
    assert "expected 400" in crashed.message


@pytest.mark.parametrize(
    ("check_id", "exchange_id"),
    [
        ("sampling.temperature_is_accepted", "sampling/temperature"),
        ("sampling.top_p_is_accepted", "sampling/top-p"),
        ("sampling.seed_is_accepted", "sampling/seed"),
    ],
)
def test_parameters_are_accepted_or_declared_unsupported(check_id, exchange_id):
    assert judge(check_id, chat_exchange(exchange_id)).status == Status.PASS
    unsupported = judge(check_id, chat_exchange(exchange_id, error_body("Unsupported parameter"), status=400))
    assert unsupported.status == Status.UNSUPPORTED
    broken = judge(check_id, chat_exchange(exchange_id, error_body("Internal error"), status=500))
    assert broken.status == Status.FAIL


def test_seed_repeatability_is_a_should():
    same = [chat_exchange(f"sampling/seed-repeat-{n}", chat_completion("Whiskers")) for n in (1, 2)]
    assert judge("sampling.seed_makes_sampling_repeatable", *same).status == Status.PASS
    different = [
        chat_exchange("sampling/seed-repeat-1", chat_completion("Whiskers")),
        chat_exchange("sampling/seed-repeat-2", chat_completion("Mittens")),
    ]
    result = judge_trials("sampling.seed_makes_sampling_repeatable", *different)
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "the same seed gave the same answer in 0 of 20 trials" in result.message


def test_model_echo_allows_dated_snapshots_only():
    assert echoes("gpt-4o", "gpt-4o")
    assert echoes("gpt-4o", "gpt-4o-2024-08-06")
    assert not echoes("gpt-4o", "gpt-4o-mini")
    assert not echoes("gpt-4o", None)
    assert echoes("gpt-4o", "gpt-4o-mini") is False


def selection(answers):
    listing = make_exchange("models/list", body=model_list(CHAT_MODEL, VISION_MODEL))
    target = build_target({"name": "t", "models": {"chat": CHAT_MODEL}})
    exchanges = [listing]
    for model_id, answered in answers.items():
        request = ask_model(target, model_id)
        assert request is not None
        exchanges.append(chat_exchange(request.id, chat_completion(model=answered)))
    return exchanges


def test_every_listed_model_answers_as_itself():
    good = judge(
        "model-selection.every_listed_model_answers_as_itself",
        *selection({CHAT_MODEL: CHAT_MODEL, VISION_MODEL: f"{VISION_MODEL}-2025-01-01"}),
    )
    assert good.status == Status.PASS
    swapped = judge(
        "model-selection.every_listed_model_answers_as_itself",
        *selection({CHAT_MODEL: CHAT_MODEL, VISION_MODEL: CHAT_MODEL}),
    )
    assert swapped.status == Status.FAIL
    assert f"asked for {VISION_MODEL!r}, answered as {CHAT_MODEL!r}" in swapped.message


def test_a_listed_model_that_refuses_as_no_chat_model_is_not_asked_to_chat():
    listing = make_exchange("models/list", body=model_list(CHAT_MODEL, "embed-small"))
    target = build_target({"name": "t", "models": {"chat": CHAT_MODEL}})
    answered = chat_exchange(ask_model(target, CHAT_MODEL).id, chat_completion(model=CHAT_MODEL))
    check_id = "model-selection.every_listed_model_answers_as_itself"
    said = "This is not a chat model and thus not supported in the v1/chat/completions endpoint."
    embed_id = ask_model(target, "embed-small").id
    refused = chat_exchange(embed_id, error_body(said, param="model"), status=404)
    result = judge(check_id, listing, answered, refused)
    assert result.status == Status.PASS
    assert "refused as not chat models: embed-small" in result.message
    other = chat_exchange(embed_id, error_body("internal error"), status=404)
    assert judge(check_id, listing, answered, other).status == Status.FAIL
    # a model the profile configures to chat must chat, whatever it says
    configured = judge(check_id, listing, answered, refused, models={"chat": CHAT_MODEL, "vision": "embed-small"})
    assert configured.status == Status.FAIL


def test_an_unknown_model_must_be_refused_not_substituted():
    exchange_id = "model-selection/unknown-model"
    refused = chat_exchange(
        exchange_id,
        error_body(f"The model {UNKNOWN_MODEL} does not exist", code="model_not_found", param="model"),
        status=404,
    )
    assert judge("model-selection.unknown_model_is_refused_with_404", refused).status == Status.PASS
    assert judge("errors-400.refusals_use_the_error_envelope", refused).status == Status.PASS
    substituted = judge("model-selection.unknown_model_is_refused_with_404", chat_exchange(exchange_id))
    assert substituted.status == Status.FAIL
    assert "silently substitutes a model" in substituted.message
    bad_request = judge(
        "model-selection.unknown_model_is_refused_with_404", chat_exchange(exchange_id, error_body(), status=400)
    )
    assert "refused with HTTP 400, expected 404 (the SDK raises BadRequestError)" in bad_request.message


def test_content_parts_names_history_and_n():
    for check_id, exchange_id in (
        ("chat-completions.accepts_text_content_parts", "chat-completions/content-parts"),
        ("chat-completions.accepts_message_names", "chat-completions/named-messages"),
    ):
        assert judge(check_id, chat_exchange(exchange_id)).status == Status.PASS
        assert judge(check_id, chat_exchange(exchange_id, error_body(), status=400)).status == Status.FAIL
    two = chat_completion(
        choices=[
            {"index": i, "message": {"role": "assistant", "content": "Mars"}, "finish_reason": "stop"} for i in (0, 1)
        ]
    )
    assert (
        judge("chat-completions.n_is_honoured", chat_exchange("chat-completions/n-choices", two)).status == Status.PASS
    )
    ignored = judge("chat-completions.n_is_honoured", chat_exchange("chat-completions/n-choices"))
    assert ignored.status == Status.FAIL
    assert "n=2 gave 1 choices" in ignored.message
    same_index = chat_completion(
        choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}] * 2
    )
    assert (
        judge("chat-completions.n_is_honoured", chat_exchange("chat-completions/n-choices", same_index)).status
        == Status.FAIL
    )


def test_a_dropped_history_is_detected_from_usage():
    short = chat_exchange(
        "chat-completions/basic",
        chat_completion(usage={"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}),
    )
    long_ok = chat_exchange(
        "chat-completions/long-history",
        chat_completion(usage={"prompt_tokens": 400, "completion_tokens": 1, "total_tokens": 401}),
    )
    long_dropped = chat_exchange(
        "chat-completions/long-history",
        chat_completion(usage={"prompt_tokens": 18, "completion_tokens": 1, "total_tokens": 19}),
    )
    assert judge("chat-completions.accepts_long_history", long_dropped).status == Status.PASS
    assert judge("chat-completions.prompt_tokens_count_the_whole_history", short, long_ok).status == Status.PASS
    dropped = judge_trials("chat-completions.prompt_tokens_count_the_whole_history", short, long_dropped)
    assert (dropped.status, dropped.level) == (Status.FAIL, "SHOULD")
    assert "either the history is dropped" in dropped.message


def test_stop_checks_do_not_apply_when_the_twin_was_refused():
    # regression: an error body (e.g. 401) used to crash stop_keeps_the_text_before_it with a KeyError
    refused = chat_exchange(sampling.STOP_TWIN, error_body("Incorrect API key provided."), status=401)
    for check_id in ("sampling.stop_is_honoured", "sampling.stop_keeps_the_text_before_it"):
        assert judge(check_id, refused).status == Status.SKIPPED


def test_a_profile_can_name_the_models_to_select():
    listing = make_exchange("models/list", body=model_list(CHAT_MODEL, VISION_MODEL, "embedding-model"))
    target = build_target({"name": "t", "models": {"chat": CHAT_MODEL, "selection": [CHAT_MODEL]}})
    request = ask_model(target, CHAT_MODEL)
    result = judge(
        "model-selection.every_listed_model_answers_as_itself",
        listing,
        chat_exchange(request.id, chat_completion()),
        models={"chat": CHAT_MODEL, "selection": [CHAT_MODEL]},
    )
    assert result.status == Status.PASS
    assert result.message.startswith("1 models answered as themselves (3 listed)")


def open_answers(probe_id: str, texts):
    """Five trials of an open-question probe, trial n answering texts[n - 1]."""
    first = chat_exchange(probe_id, chat_completion(texts[0]))
    return trial_exchanges(first, len(texts), lambda n: chat_exchange(probe_id, chat_completion(texts[n - 1])))


GREEDY = ["The sea is wide."] * 5
SAMPLED = [f"The sea is {word}." for word in ("grey", "calm", "deep", "cold", "loud")]


def test_temperature_must_change_the_answers():
    varied = [*open_answers("sampling/open-cold", GREEDY), *open_answers("sampling/open-hot", SAMPLED)]
    result = judge("sampling.temperature_changes_the_answers", *varied, limits={"trials": 5})
    assert (result.status, result.kind, result.rate["successes"]) == (Status.PASS, "model", 5)
    ignored = [*open_answers("sampling/open-cold", GREEDY * 4), *open_answers("sampling/open-hot", GREEDY * 4)]
    result = judge("sampling.temperature_changes_the_answers", *ignored, limits={"trials": 20})
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "all 40 answers at temperature 0 and 1 are the same text" in result.message
    assert "the target accepts temperature and ignores it" in result.message
    # a hosted model's temperature-0 wording varies: answers at 1 found among them still count as misses
    some = [
        *open_answers("sampling/open-cold", SAMPLED * 4),
        *open_answers("sampling/open-hot", (SAMPLED[:2] * 2 + ["x"]) * 4),
    ]
    result = judge("sampling.temperature_changes_the_answers", *some, limits={"trials": 20})
    assert (result.status, result.rate["successes"]) == (Status.FAIL, 4)
    assert "most answers at temperature 1 are answers given at temperature 0 too, as if the target" in result.message
    four = [*open_answers("sampling/open-cold", GREEDY), *open_answers("sampling/open-hot", [*SAMPLED[:4], GREEDY[0]])]
    result = judge("sampling.temperature_changes_the_answers", *four, limits={"trials": 5})
    assert (result.status, result.rate["successes"]) == (Status.PASS, 4)
    assert "ignores it" not in result.message


def test_top_p_must_narrow_the_answers_to_the_likeliest():
    base = [*open_answers("sampling/open-cold", GREEDY), *open_answers("sampling/open-hot", SAMPLED)]
    narrowed = judge(
        "sampling.top_p_narrows_the_answers", *base, *open_answers("sampling/open-narrow", GREEDY), limits={"trials": 5}
    )
    assert (narrowed.status, narrowed.rate["successes"]) == (Status.PASS, 5)
    ignored = judge(
        "sampling.top_p_narrows_the_answers",
        *open_answers("sampling/open-cold", GREEDY * 4),
        *open_answers("sampling/open-hot", SAMPLED * 4),
        *open_answers("sampling/open-narrow", SAMPLED * 4),
        limits={"trials": 20},
    )
    assert (ignored.status, ignored.rate["successes"]) == (Status.FAIL, 0)
    assert "not the temperature-0 answer 'The sea is wide.'" in ignored.message
    # with temperature ignored, top_p has nothing to narrow: that is temperature's finding
    greedy_only = [*open_answers("sampling/open-cold", GREEDY), *open_answers("sampling/open-hot", GREEDY)]
    blocked = judge(
        "sampling.top_p_narrows_the_answers",
        *greedy_only,
        *open_answers("sampling/open-narrow", GREEDY),
        limits={"trials": 5},
    )
    assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "sampling.temperature_changes_the_answers")
