"""The embeddings row's checks, on hand-made exchanges: each passes on OpenAI's answers and fails, with the message
that names the defect, on the answers real servers gave."""

from __future__ import annotations

import base64
import math
import struct

from helpers import CHAT_MODEL, error_body, judge, make_exchange, trial_exchanges

from conformance.checks.embeddings import TEXTS, TOKEN_LISTS, TOKENS
from conformance.checks.embeddings_refusals import LONG_WORDS
from conformance.verdicts import Status

EMBEDDING_MODEL = "model-embed"
MODELS = {"models": {"chat": CHAT_MODEL, "embedding": EMBEDDING_MODEL}}
LENGTH = 8


def vector(seed: int, length: int = LENGTH, scale: float = 1.0) -> list[float]:
    values = [math.sin(seed * 7.1 + k * 1.3) for k in range(length)]
    size = math.sqrt(sum(v * v for v in values))
    return [scale * v / size for v in values]


def packed(values: list[float], layout: str = "<f") -> str:
    return base64.b64encode(b"".join(struct.pack(layout, v) for v in values)).decode()


def answer(vectors: list, *, usage: tuple[int, int] | None = (10, 10), indexes: list[int] | None = None) -> dict:
    indexes = list(range(len(vectors))) if indexes is None else indexes
    body: dict = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in zip(indexes, vectors, strict=True)],
        "model": EMBEDDING_MODEL,
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": usage[0], "total_tokens": usage[1]}
    return body


def exchange(exchange_id: str, body: dict | None = None, *, status: int = 200, encoding: str = "float"):
    return make_exchange(
        exchange_id,
        method="POST",
        path="/embeddings",
        status=status,
        body=body,
        request_json={"encoding_format": encoding},
    )


def refusal(exchange_id: str, status: int = 400, message: str = "bad input", **error) -> object:
    return exchange(exchange_id, error_body(message, **error), status=status)


def good() -> dict:
    """OpenAI's answers to every probe of the row."""
    a, b, c = vector(1), vector(2), vector(3)
    return {
        "embeddings/basic": exchange("embeddings/basic", answer([a])),
        "embeddings/default": exchange("embeddings/default", answer([packed(a)]), encoding="base64"),
        "embeddings/list": exchange("embeddings/list", answer([a, b, c], usage=(30, 30))),
        "embeddings/tokens": exchange("embeddings/tokens", answer([vector(4)], usage=(len(TOKENS),) * 2)),
        "embeddings/token-lists": exchange(
            "embeddings/token-lists", answer([vector(5), vector(6)], usage=(sum(map(len, TOKEN_LISTS)),) * 2)
        ),
        "embeddings/dimensions": exchange("embeddings/dimensions", answer([vector(1, 16)])),
        "embeddings/dimensions-zero": refusal("embeddings/dimensions-zero", param="dimensions"),
    }


def gated(check_id: str, *exchanges, **options):
    """A check over these exchanges and the row's gate (embeddings/basic, which says the endpoint is served)."""
    return judge(check_id, good()["embeddings/basic"], *exchanges, **{**MODELS, **options})


def run(check_id: str, **changed):
    exchanges = {**good(), **changed}
    return judge(check_id, *exchanges.values(), **MODELS)


def test_openai_answers_pass_every_check_of_the_answers():
    for check_id in (
        "embeddings.strings_are_embedded_one_per_input",
        "embeddings.token_ids_are_embedded",
        "embeddings.base64_is_the_float_vector",
        "embeddings.dimensions_are_honoured_or_refused",
        "embeddings.vectors_are_finite_and_of_one_length",
        "embeddings.vectors_have_unit_length",
        "embeddings.usage_counts_the_input",
        "embeddings.response_is_schema_valid",
    ):
        result = run(check_id)
        assert result.status == Status.PASS, (check_id, result.message)


def test_the_form_of_every_answer_is_judged_by_schema_and_both_clients():
    broken = answer([vector(1)])
    del broken["usage"]["prompt_tokens"]
    result = run("embeddings.response_is_schema_valid", **{"embeddings/basic": exchange("embeddings/basic", broken)})
    assert result.status == Status.FAIL
    assert "violates the openai/embedding-list schema" in result.message
    assert "prompt_tokens" in result.message


def test_a_list_out_of_order_or_mixed_up_fails():
    a, b, c = vector(1), vector(2), vector(3)
    check_id = "embeddings.strings_are_embedded_one_per_input"
    shifted = exchange("embeddings/list", answer([a, b, c], indexes=[1, 2, 3]))
    assert "the indexes of data are [1, 2, 3]" in run(check_id, **{"embeddings/list": shifted}).message
    reversed_ = exchange("embeddings/list", answer([c, b, a], indexes=[2, 1, 0]))
    assert "expected [0, 1, 2] in order" in run(check_id, **{"embeddings/list": reversed_}).message
    batched = exchange("embeddings/list", answer([vector(9), b, c]))
    result = run(check_id, **{"embeddings/list": batched})
    assert result.status == Status.FAIL
    assert "is not the one" in result.message
    same = exchange("embeddings/list", answer([a, a, a]))
    assert "got the same vector" in run(check_id, **{"embeddings/list": same}).message
    short = exchange("embeddings/list", answer([a]))
    assert "gave 1 embeddings, expected 3" in run(check_id, **{"embeddings/list": short}).message


def test_token_ids_refused_or_counted_as_text_fail():
    check_id = "embeddings.token_ids_are_embedded"
    refused = refusal("embeddings/tokens", 422, "Input should be a valid string")
    result = run(check_id, **{"embeddings/tokens": refused})
    assert result.status == Status.FAIL
    assert "expected HTTP 200, got 422" in result.message
    as_text = exchange("embeddings/tokens", answer([vector(4)], usage=(40, 40)))
    assert "were not embedded as the tokens they are" in run(check_id, **{"embeddings/tokens": as_text}).message


def test_base64_ignored_or_packed_otherwise_fails_and_says_what_each_client_gets():
    check_id = "embeddings.base64_is_the_float_vector"
    floats = exchange("embeddings/default", answer([vector(1)]), encoding="base64")
    result = run(check_id, **{"embeddings/default": floats})
    assert result.status == Status.FAIL
    assert "encoding_format base64 was ignored" in result.message
    assert "Python's embeddings.create() hands the app the vector" in result.message
    doubles = exchange("embeddings/default", answer([packed(vector(1), "<d")]), encoding="base64")
    assert "it packs float64" in run(check_id, **{"embeddings/default": doubles}).message
    big = exchange("embeddings/default", answer([packed(vector(1), ">f")]), encoding="base64")
    assert "it packs big-endian float32" in run(check_id, **{"embeddings/default": big}).message


def test_dimensions_ignored_or_not_renormalised_fail_and_a_named_refusal_passes():
    check_id = "embeddings.dimensions_are_honoured_or_refused"
    ignored = exchange("embeddings/dimensions", answer([vector(1)]))
    assert "dimensions 16 was ignored" in run(check_id, **{"embeddings/dimensions": ignored}).message
    cut = exchange("embeddings/dimensions", answer([vector(1, 16, scale=0.5)]))
    assert "without being renormalised" in run(check_id, **{"embeddings/dimensions": cut}).message
    zero = exchange("embeddings/dimensions-zero", answer([vector(1, 16)]))
    assert "dimensions 0 was answered" in run(check_id, **{"embeddings/dimensions-zero": zero}).message
    named = refusal("embeddings/dimensions", message="This model does not support specifying dimensions.")
    assert run(check_id, **{"embeddings/dimensions": named}).status == Status.PASS
    unnamed = refusal("embeddings/dimensions", message="bad request")
    assert "without naming it" in run(check_id, **{"embeddings/dimensions": unnamed}).message


def test_vectors_of_zeros_or_of_two_lengths_fail():
    check_id = "embeddings.vectors_are_finite_and_of_one_length"
    zeros = exchange("embeddings/list", answer([vector(1), vector(2), [0.0] * LENGTH]))
    assert "is all zeros" in run(check_id, **{"embeddings/list": zeros}).message
    ragged = exchange("embeddings/list", answer([vector(1), vector(2), vector(3, LENGTH - 2)]))
    assert "the vectors differ in length" in run(check_id, **{"embeddings/list": ragged}).message


def test_vectors_not_of_unit_length_fail_the_should():
    check_id = "embeddings.vectors_have_unit_length"
    scaled = exchange("embeddings/basic", answer([vector(1, scale=3.0)]))
    result = run(check_id, **{"embeddings/basic": scaled})
    assert result.status == Status.FAIL
    assert "has length 3, not 1" in result.message


def test_usage_of_nothing_or_not_growing_fails():
    check_id = "embeddings.usage_counts_the_input"
    zero = exchange("embeddings/basic", answer([vector(1)], usage=(0, 0)))
    assert "expected the input's tokens in both" in run(check_id, **{"embeddings/basic": zero}).message
    flat = exchange("embeddings/list", answer([vector(1), vector(2), vector(3)], usage=(10, 10)))
    assert "three strings count 10 tokens" in run(check_id, **{"embeddings/list": flat}).message


def test_the_same_string_must_get_the_same_vector_over_trials():
    check_id = "embeddings.same_input_gives_the_same_vector"
    steady = trial_exchanges(good()["embeddings/basic"], 3)
    assert judge(check_id, *steady, **MODELS, limits={"trials": 3}).status == Status.PASS
    moving = trial_exchanges(good()["embeddings/basic"], 3, lambda n: exchange("embeddings/basic", answer([vector(n)])))
    result = judge(check_id, *moving, **MODELS, limits={"trials": 3})
    assert result.status == Status.FAIL
    assert "the same string got another vector" in result.message
    assert judge(check_id, *steady[:1], **MODELS).status == Status.SKIPPED


def test_refusals_are_judged_by_status():
    empties = {
        "embeddings/empty-string": refusal("embeddings/empty-string"),
        "embeddings/empty-list": refusal("embeddings/empty-list"),
    }
    assert gated("embeddings.empty_input_is_refused", *empties.values()).status == Status.PASS
    answered = exchange("embeddings/empty-string", answer([vector(1)]))
    result = gated("embeddings.empty_input_is_refused", answered, empties["embeddings/empty-list"])
    assert "was answered (HTTP 200) instead of refused" in result.message
    broke = refusal("embeddings/empty-list", 500, "RuntimeError")
    result = gated("embeddings.empty_input_is_refused", empties["embeddings/empty-string"], broke)
    assert "was refused with HTTP 500" in result.message
    for check_id, probe_id, good_status, bad_status in (
        ("embeddings.too_many_inputs_are_refused", "embeddings/too-many", 400, 200),
        ("embeddings.chat_model_is_refused", "embeddings/chat-model", 403, 200),
        ("embeddings.missing_model_is_refused", "embeddings/no-model", 400, 200),
        ("embeddings.unknown_model_is_refused", "embeddings/unknown-model", 404, 400),
    ):
        refused = refusal(probe_id, good_status, "no")
        assert gated(check_id, refused).status == Status.PASS, check_id
        wrong = exchange(probe_id, answer([vector(1)])) if bad_status == 200 else refusal(probe_id, bad_status)
        assert gated(check_id, wrong).status == Status.FAIL, check_id


def test_an_overlong_input_is_refused_or_embedded_whole():
    check_id = "embeddings.overlong_input_is_refused_not_truncated"
    assert gated(check_id, refusal("embeddings/over-context")).status == Status.PASS
    whole = exchange("embeddings/over-context", answer([vector(1)], usage=(LONG_WORDS + 1,) * 2))
    assert gated(check_id, whole).status == Status.PASS
    cut = exchange("embeddings/over-context", answer([vector(1)], usage=(512, 512)))
    result = gated(check_id, cut)
    assert result.status == Status.FAIL
    assert "it was truncated in silence" in result.message


def test_an_unknown_encoding_is_refused_naming_it():
    check_id = "embeddings.unknown_encoding_is_refused"
    named = refusal("embeddings/invalid-encoding", param="encoding_format")
    assert gated(check_id, named).status == Status.PASS
    unnamed = refusal("embeddings/invalid-encoding", message="The format to return the embeddings in.")
    assert "does not name encoding_format" in gated(check_id, unnamed).message
    answered = exchange("embeddings/invalid-encoding", answer([vector(1)]))
    assert "was answered (HTTP 200)" in gated(check_id, answered).message


def test_the_embedding_model_must_not_chat():
    check_id = "model-selection.embedding_model_does_not_chat"
    refused = make_exchange(
        "model-selection/embedding-model", method="POST", path="/chat/completions", status=404, body=error_body()
    )
    assert judge(check_id, refused, **MODELS).status == Status.PASS
    answered = make_exchange(
        "model-selection/embedding-model", method="POST", path="/chat/completions", body={"choices": []}
    )
    result = judge(check_id, answered, **MODELS)
    assert result.status == Status.FAIL
    assert "a chat request to the embedding model was answered" in result.message
    assert judge(check_id, refused).status == Status.SKIPPED


def test_the_row_does_not_apply_without_an_embedding_model():
    assert judge("embeddings.strings_are_embedded_one_per_input").status == Status.SKIPPED


def test_unit_vectors_stay_unit():
    assert len(TEXTS) == 3
    assert abs(math.sqrt(sum(v * v for v in vector(5))) - 1) < 1e-9


def test_vectors_of_another_length_than_the_model_states_fail():
    check_id = "embeddings.vectors_are_finite_and_of_one_length"
    stated = {"models": {**MODELS["models"], "embedding_dimensions": LENGTH}}
    assert judge(check_id, *good().values(), **stated).status == Status.PASS
    other = {"models": {**MODELS["models"], "embedding_dimensions": 1536}}
    result = judge(check_id, *good().values(), **other)
    assert result.status == Status.FAIL
    assert f"has {LENGTH} numbers; the profile states the model's vectors have 1536" in result.message
