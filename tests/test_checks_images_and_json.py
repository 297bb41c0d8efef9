"""Image understanding and structured output checks, on hand-made exchanges."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import CHAT_MODEL, chat_completion, chat_exchange, error_body, judge, judge_trials

from conformance import images
from conformance.checks import image_understanding, structured_output
from conformance.profiles import build_target
from conformance.schema_strategies import PLACEHOLDER, _generated_schemas, generated_schemas
from conformance.verdicts import Status

ANSWERED = [
    ("image-understanding.png_data_url_is_understood", "image-understanding/png"),
    ("image-understanding.jpeg_data_url_is_understood", "image-understanding/jpeg"),
    ("image-understanding.gif_data_url_is_understood", "image-understanding/gif"),
    ("image-understanding.http_image_url_is_understood", "image-understanding/http-url"),
    ("image-understanding.several_images_up_to_the_limit_are_understood", "image-understanding/several"),
    ("image-understanding.detail_levels_are_accepted", "image-understanding/detail"),
]
REFUSED = [
    ("image-understanding.images_over_the_limit_are_refused", "image-understanding/too-many"),
    ("image-understanding.text_only_model_refuses_images", "image-understanding/text-only-model"),
    ("image-understanding.corrupt_base64_is_refused", "image-understanding/corrupt-base64"),
    ("image-understanding.unsupported_image_type_is_refused", "image-understanding/unsupported-type"),
]
PROFILE = {"dialect": "llama-api", "models": {"chat": CHAT_MODEL, "vision": "v", "text_only": "t"}}


@pytest.mark.parametrize(("check_id", "exchange_id"), ANSWERED)
def test_images_must_be_answered(check_id, exchange_id):
    assert judge(check_id, chat_exchange(exchange_id), **PROFILE).status == Status.PASS
    refused = judge(check_id, chat_exchange(exchange_id, error_body("bad image"), status=400), **PROFILE)
    assert refused.status == Status.FAIL
    assert "expected HTTP 200, got 400" in refused.message


@pytest.mark.parametrize(("check_id", "exchange_id"), REFUSED)
def test_bad_images_must_be_refused_with_400(check_id, exchange_id):
    assert judge(check_id, chat_exchange(exchange_id, error_body(), status=400), **PROFILE).status == Status.PASS
    answered = judge(check_id, chat_exchange(exchange_id), **PROFILE)
    assert answered.status == Status.FAIL
    assert "answered (HTTP 200) instead of refused with 400" in answered.message
    crashed = judge(check_id, chat_exchange(exchange_id, error_body(), status=500), **PROFILE)
    assert "refused with HTTP 500, expected 400" in crashed.message


def test_the_colour_is_judged_as_model_behaviour():
    said_red = chat_exchange("image-understanding/png", chat_completion("Red."))
    said_blue = chat_exchange("image-understanding/png", chat_completion("Blue."))
    assert judge("image-understanding.reply_mentions_the_colour", said_red).status == Status.PASS
    once = judge("image-understanding.reply_mentions_the_colour", said_blue)
    assert once.status == Status.INCONCLUSIVE  # one trial says nothing beyond chance
    result = judge_trials("image-understanding.reply_mentions_the_colour", said_blue)
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "model behaviour" in result.message


def test_probes_follow_the_dialect_and_the_profile():
    llama = build_target({"name": "t", "dialect": "llama-api", "models": {"chat": "c", "vision": "v"}, "image_url": ""})
    openai = build_target({"name": "t", "dialect": "openai", "models": {"chat": "c", "vision": "v", "text_only": "c"}})
    several = image_understanding.several(llama)
    assert several is not None
    assert len(several.json["messages"][0]["content"]) == 1 + 9
    too_many = image_understanding.too_many(llama)
    assert too_many is not None
    assert len(too_many.json["messages"][0]["content"]) == 1 + 10
    assert image_understanding.too_many(openai) is None  # OpenAI documents no limit to test
    assert image_understanding.http_url(llama) is None  # image_url "" switches it off
    assert "image/webp" in json.dumps(image_understanding.unsupported_type(llama).json)
    assert "image/tiff" in json.dumps(image_understanding.unsupported_type(openai).json)
    assert image_understanding.text_only_model(llama) is None
    assert image_understanding.text_only_model(openai).json["model"] == "c"


def test_images_are_real_and_deterministic():
    for kind, magic in (
        ("png", b"\x89PNG"),
        ("jpeg", b"\xff\xd8\xff"),
        ("gif", b"GIF8"),
        ("webp", b"RIFF"),
        ("tiff", b"II*\x00"),
    ):
        assert images.image_bytes(kind).startswith(magic)
    assert images.data_url("png") == images.data_url("png")
    assert images.data_url("png", "red") != images.data_url("png", "blue")


def test_a_replay_makes_no_image_and_still_matches_its_recordings():
    """A replay matches data URLs by media type (conformance.cassettes), so it needs no Pillow."""
    code = (
        "import sys\n"
        "from conformance import generation, images\n"
        "from conformance.cassettes import _without_payloads\n"
        "generation.use_placeholders(True)\n"
        "url = images.data_url('webp', 'blue', 16)\n"
        "assert url.startswith('data:image/webp;base64,'), url\n"
        "assert 'PIL' not in sys.modules\n"
        "generation.use_placeholders(False)\n"
        "real = images.data_url('webp', 'blue', 16)\n"
        "assert real != url and _without_payloads(real) == _without_payloads(url)\n"
        "assert _without_payloads(images.data_url('png')) != _without_payloads(url)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


CITY = {
    "city": "Rome",
    "coastal": False,
    "neighbours": ["Italy"],
    "location": {"hemisphere": "north", "continent": "Europe"},
}


def json_answer(exchange_id, value, finish="stop"):
    body = chat_completion(value if isinstance(value, str) else json.dumps(value))
    body["choices"][0]["finish_reason"] = finish
    return chat_exchange(exchange_id, body)


def test_json_object_must_be_a_json_object():
    check_id = "structured-output.json_object_gives_json"
    assert judge(check_id, json_answer("structured-output/json-object", {"city": "Rome"})).status == Status.PASS
    prose = judge(check_id, json_answer("structured-output/json-object", "Rome is in Italy."))
    assert prose.status == Status.FAIL
    assert "the answer is not JSON" in prose.message
    array = judge(check_id, json_answer("structured-output/json-object", [1, 2]))
    assert array.status == Status.FAIL
    assert "not an object" in array.message
    cut = judge(check_id, json_answer("structured-output/json-object", '{"city":   \n  "Ro', finish="length"))
    assert cut.status == Status.PASS
    assert "a JSON object as far as it goes" in cut.message
    cut_prose = judge(check_id, json_answer("structured-output/json-object", "Rome is a city in", finish="length"))
    assert cut_prose.status == Status.FAIL
    assert "not JSON even as far as it goes" in cut_prose.message


def test_a_cut_schema_answer_is_judged_only_as_far_as_it_goes():
    check_id = "structured-output.strict_json_schema_is_followed"
    padded = judge(check_id, json_answer("structured-output/json-schema-strict", '{"city":  \t  "Rome",   ', "length"))
    assert padded.status == Status.SKIPPED
    assert "valid JSON as far as it goes" in padded.message
    prose = judge(check_id, json_answer("structured-output/json-schema-strict", "The city is Rome", "length"))
    assert prose.status == Status.FAIL


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({**CITY, "city": "London"}, "$.city"),
        ({k: v for k, v in CITY.items() if k != "location"}, "'location' is a required property"),
        ({**CITY, "extra": 1}, "Additional properties"),
        ({**CITY, "location": {"hemisphere": "north"}}, "$.location"),
        ({**CITY, "neighbours": "Italy"}, "$.neighbours"),
    ],
)
def test_strict_schema_answers_must_validate(value, where):
    good = judge(
        "structured-output.strict_json_schema_is_followed", json_answer("structured-output/json-schema-strict", CITY)
    )
    assert good.status == Status.PASS
    bad = judge(
        "structured-output.strict_json_schema_is_followed", json_answer("structured-output/json-schema-strict", value)
    )
    assert bad.status == Status.FAIL
    assert where in bad.message


def test_loose_schema_is_should_level():
    result = judge_trials(
        "structured-output.loose_json_schema_is_followed",
        json_answer("structured-output/json-schema-loose", {"city": "Rome"}),
    )
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")


def test_sdk_parse_gets_the_pydantic_model():
    good = judge(
        "structured-output.sdk_parse_returns_the_model",
        json_answer("structured-output/sdk-parse", {"city": "Oslo", "sunny": False}),
    )
    assert good.status == Status.PASS
    assert "Forecast" in good.message
    wrong = judge(
        "structured-output.sdk_parse_returns_the_model", json_answer("structured-output/sdk-parse", {"city": "Oslo"})
    )
    assert wrong.status == Status.FAIL
    assert "ValidationError" in wrong.message


def test_the_sdk_parse_probe_sends_what_the_sdk_sends():
    target = build_target({"name": "t", "models": {"chat": CHAT_MODEL}})
    request = structured_output.sdk_parse(target)
    assert request is not None
    assert request.replay_match == "route"
    schema = request.json["response_format"]["json_schema"]
    assert schema["name"] == "Forecast"
    assert schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False


def test_an_accepted_invalid_schema_fails():
    check_id = "structured-output.invalid_schema_is_refused"
    assert (
        judge(check_id, chat_exchange("structured-output/invalid-schema", error_body(), status=400)).status
        == Status.PASS
    )
    assert judge(check_id, chat_exchange("structured-output/invalid-schema")).status == Status.FAIL


def generated_exchange(number, value, schema=None):
    schema = schema or generated_schemas(structured_output.GENERATED)[number - 1]
    request = {"response_format": {"json_schema": {"schema": schema}}}
    body = chat_completion(json.dumps(value))
    return chat_exchange(f"structured-output/generated-{number}", body, request_json=request)


def test_generated_schemas_are_judged_against_the_recorded_request():
    from conformance.reference.instances import instance

    schemas = generated_schemas(structured_output.GENERATED)
    assert len(schemas) == structured_output.GENERATED
    good = [generated_exchange(n, instance(schemas[n - 1])) for n in range(1, 4)]
    assert judge("structured-output.generated_schemas_are_followed", *good).status == Status.PASS
    bad = [*good[:2], generated_exchange(3, {"nothing": True})]
    result = judge("structured-output.generated_schemas_are_followed", *bad)
    assert result.status == Status.FAIL
    assert result.message.startswith("1 of 3 answers: schema 3: ")
    # every answer is judged, not only up to the first that fails
    worse = [generated_exchange(1, {"nothing": True}), good[1], generated_exchange(3, {"nothing": True})]
    result = judge("structured-output.generated_schemas_are_followed", *worse)
    assert result.message.startswith("2 of 3 answers: schema 1: ")
    assert "; schema 3: " in result.message
    # a recording made with another schema is judged against its own request
    own = {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}
    replayed = [*good[:2], generated_exchange(3, {"x": True}, schema=own)]
    assert judge("structured-output.generated_schemas_are_followed", *replayed).status == Status.PASS


def test_generated_schemas_are_deterministic_and_strict():
    first = generated_schemas(structured_output.GENERATED)
    assert first == _generated_schemas.__wrapped__(structured_output.GENERATED, False)
    assert len(first) == structured_output.GENERATED
    assert len({json.dumps(schema, sort_keys=True) for schema in first}) == len(first)
    for schema in first:
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])


def test_a_replay_generates_nothing():
    """Replays judge recorded requests, so generation gives placeholders and never imports hypothesis."""
    from conformance import generation

    generation.use_placeholders(True)
    try:
        assert generated_schemas(structured_output.GENERATED) == (PLACEHOLDER,) * structured_output.GENERATED
    finally:
        generation.use_placeholders(False)
    assert generated_schemas(structured_output.GENERATED)[0] != PLACEHOLDER
