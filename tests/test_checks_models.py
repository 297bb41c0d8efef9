"""Each check of the models row passes on a conforming exchange and fails on the deviation it targets."""

from __future__ import annotations

import pytest
from helpers import CHAT_MODEL, MODERATION_MODEL, VISION_MODEL, judge, make_exchange, model, model_list

from conformance.checks.models import retrieve_model
from conformance.verdicts import Status

LISTED = (CHAT_MODEL, VISION_MODEL)


def listing(body=None, **kwargs):
    return make_exchange("models/list", body=model_list(*LISTED) if body is None else body, **kwargs)


def retrieves(bodies=None):
    bodies = bodies or {model_id: model(model_id) for model_id in LISTED}
    return [
        make_exchange(retrieve_model(model_id).id, path=retrieve_model(model_id).path, body=body)
        for model_id, body in bodies.items()
    ]


def test_list_succeeds_on_json_200():
    assert judge("models.list_succeeds", listing()).status == Status.PASS


@pytest.mark.parametrize(
    ("exchange", "expected"),
    [
        (listing(status=500, body={"error": "boom"}), "expected HTTP 200, got 500"),
        (listing(raw=b"<html>models</html>", headers=[("content-type", "text/html")]), "Content-Type"),
        (listing(raw=b"{not json", headers=[("content-type", "application/json")]), "not JSON"),
        (listing(status=None), "no response"),
    ],
)
def test_list_succeeds_fails_on_a_bad_answer(exchange, expected):
    result = judge("models.list_succeeds", exchange)
    assert result.status == Status.FAIL
    assert expected in result.message


def test_list_schema_passes_and_names_the_model_count():
    result = judge("models.list_is_schema_valid", listing())
    assert result.status == Status.PASS
    assert result.message == "2 models listed"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"data": [model(CHAT_MODEL)]}, "$: 'object' is a required property"),
        ({"object": "list", "data": [model(CHAT_MODEL, object="models")]}, "$.data[0].object"),
        ({"object": "list", "data": [model(CHAT_MODEL, owned_by=None)]}, "$.data[0].owned_by"),
        ({"object": "list", "data": [{"id": CHAT_MODEL, "object": "model", "owned_by": "x"}]}, "'created'"),
        ({"object": "list", "models": []}, "'data' is a required property"),
    ],
)
def test_list_schema_fails_with_the_json_path(body, path):
    result = judge("models.list_is_schema_valid", listing(body))
    assert result.status == Status.FAIL
    assert path in result.message
    assert result.details["oracles"]["json_schema"] == "reject"


def test_list_schema_reports_when_the_oracles_disagree():
    # pydantic (lax) turns "1735718400" into an int; JSON Schema does not
    body = {"object": "list", "data": [model(CHAT_MODEL, created="1735718400")]}
    result = judge("models.list_is_schema_valid", listing(body))
    assert result.status == Status.FAIL
    assert "the oracles disagree" in result.message
    oracles = result.details["oracles"]
    assert (oracles["json_schema"], oracles["openai_sdk"]) == ("reject", "accept")
    assert oracles["typescript_sdk"] in ("accept", "not run")


def test_list_schema_is_blocked_when_the_list_failed():
    result = judge("models.list_is_schema_valid", listing(status=500, body={}))
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "models.list_succeeds"


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (1_735_718_400_000, "milliseconds"),
        (12, "outside"),
        ("1735718400", "not an integer"),
        (1.5, "not an integer"),
        (True, "not an integer"),
    ],
)
def test_created_must_be_unix_seconds(created, expected):
    body = {"object": "list", "data": [model(CHAT_MODEL), model(VISION_MODEL, created=created)]}
    result = judge("models.created_is_unix_seconds", listing(body), *retrieves())
    assert result.status == Status.FAIL
    assert "$.data[1].created" in result.message
    assert expected in result.message


def test_created_passes_for_plausible_times():
    assert judge("models.created_is_unix_seconds", listing(), *retrieves()).status == Status.PASS


def test_a_retrieved_model_created_in_milliseconds_fails_too():
    bodies = {CHAT_MODEL: model(CHAT_MODEL), VISION_MODEL: model(VISION_MODEL, created=1_735_718_400_000)}
    result = judge("models.created_is_unix_seconds", listing(), *retrieves(bodies))
    assert result.status == Status.FAIL
    assert f"GET /models/{VISION_MODEL}: $.created is 1735718400000 (milliseconds?)" in result.message


def test_duplicate_ids_fail_at_should_level():
    body = {"object": "list", "data": [model(CHAT_MODEL), model(CHAT_MODEL)]}
    result = judge("models.ids_are_unique", listing(body))
    assert result.status == Status.FAIL
    assert result.level == "SHOULD"
    assert CHAT_MODEL in result.message


def test_configured_models_must_be_listed():
    assert judge("models.configured_models_are_listed", listing()).status == Status.PASS
    result = judge("models.configured_models_are_listed", listing(model_list(CHAT_MODEL, "other")))
    assert result.status == Status.FAIL
    assert f"{VISION_MODEL} (vision)" in result.message
    assert "other" in result.message


def test_moderation_model_listing_is_a_documented_deviation_for_llama():
    openai = judge("models.moderation_model_is_listed", listing())
    llama = judge("models.moderation_model_is_listed", listing(), dialect="llama-api")
    assert openai.status == Status.FAIL
    assert MODERATION_MODEL in openai.message
    assert llama.status == Status.DEVIATION
    assert "documented deviation of the llama-api dialect" in llama.message


def test_retrieve_checks_pass_when_every_model_answers_as_itself():
    exchanges = [listing(), *retrieves()]
    assert judge("models.retrieve_is_schema_valid", *exchanges).status == Status.PASS
    result = judge("models.retrieve_returns_the_requested_id", *exchanges)
    assert result.status == Status.PASS
    assert result.message == "2 models retrieved under their own id"


def test_retrieve_fails_when_a_model_answers_with_another_id():
    exchanges = [listing(), *retrieves({CHAT_MODEL: model(CHAT_MODEL), VISION_MODEL: model(CHAT_MODEL)})]
    result = judge("models.retrieve_returns_the_requested_id", *exchanges)
    assert result.status == Status.FAIL
    assert f"returned id {CHAT_MODEL!r}, not {VISION_MODEL!r}" in result.message


def test_retrieve_schema_fails_and_counts_every_broken_model():
    exchanges = [listing(), *retrieves({CHAT_MODEL: {"id": CHAT_MODEL}, VISION_MODEL: {"id": VISION_MODEL}})]
    result = judge("models.retrieve_is_schema_valid", *exchanges)
    assert result.status == Status.FAIL
    assert "and 1 more of 2 models" in result.message


def test_retrieve_of_a_slash_id_is_percent_encoded_like_the_sdk():
    request = retrieve_model("meta-llama/Llama-3:8b")
    assert request.path == "/models/meta-llama%2FLlama-3:8b"
    assert request.id == "models/retrieve/meta-llama/Llama-3:8b"


def test_retrieve_is_capped_by_the_dialect_limit():
    ids = [f"m{i}" for i in range(40)]
    listed = make_exchange("models/list", body=model_list(CHAT_MODEL, *ids))
    bodies = {model_id: model(model_id) for model_id in [CHAT_MODEL, *ids]}
    result = judge("models.retrieve_is_schema_valid", listed, *retrieves(bodies))
    assert result.status == Status.PASS
    assert result.message == "retrieved 25 of 41 listed models"
