"""Schemas (with dialect overlays) and the SDK oracle agree on good objects and both see bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import chat_completion, error_body, make_exchange, model, model_list
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance import sdk_oracle
from conformance.dialects import available_dialects, load_dialect
from conformance.errors import ConfigError
from conformance.schemas import dialect_documents, merge_patch, schema_set

ROOT = Path(__file__).resolve().parents[1]
OPENAI = schema_set(load_dialect("openai"))
LLAMA = schema_set(load_dialect("llama-api"))


def test_merge_patch_follows_rfc_7386():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "list": [3], "new": {"x": 1}}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "list": [3], "new": {"x": 1}}
    assert target["c"] == {"d": "e", "f": "g"}  # the original is untouched


@pytest.mark.parametrize("dialect", available_dialects())
def test_every_schema_file_is_valid_json_schema(dialect):
    """Runs do not check the bundled schemas against the metaschema: this test does, for every dialect."""
    schemas = schema_set(load_dialect(dialect))
    assert set(schemas.names()) == set(OPENAI.names())
    for name in schemas.names():
        assert schemas.documents[name]["$schema"].endswith("2020-12/schema")
        Draft202012Validator.check_schema(schemas.documents[name])


def test_a_broken_schema_fails_the_metaschema_test():
    broken = {**OPENAI.documents["model"], "properties": {"id": {"type": "strng"}}}
    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(broken)


GOOD = {
    "model": model("m"),
    "model-list": model_list("a", "b"),
    "chat-completion": chat_completion(),
    "error": error_body(),
}
KINDS = {"model": "model", "model-list": "model-list", "chat-completion": "chat-completion", "error": "error"}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_objects_pass_both_oracles(name):
    assert OPENAI.validate(name, GOOD[name]) == []
    status = 404 if name == "error" else 200
    verdict = sdk_oracle.judge(make_exchange("x/y", status=status, body=GOOD[name]), KINDS[name])
    assert verdict.accepted, verdict


def test_schema_issues_carry_the_json_path():
    bad = chat_completion(choices=[{"index": "0", "message": {"role": "tool", "content": 1}, "finish_reason": "stop"}])
    issues = [str(issue) for issue in OPENAI.validate("chat-completion", bad)]
    assert "$.choices[0].index: '0' is not of type 'integer'" in issues
    assert any(issue.startswith("$.choices[0].message.role") for issue in issues)
    assert any(issue.startswith("$.choices[0].message.content") for issue in issues)


def test_the_llama_overlay_changes_only_moderation():
    openai_docs = dialect_documents(("openai",), ROOT / "schemas")
    llama_docs = dialect_documents(("openai", "llama-api"), ROOT / "schemas")
    changed = {name for name in openai_docs if openai_docs[name] != llama_docs[name]}
    assert changed == {"moderation"}
    llama_result = {"flagged": True, "categories": {"privacy": True, "self-harm": False}}
    body = {"id": "modr-1", "model": "Llama-Guard", "results": [llama_result]}
    assert LLAMA.validate("moderation", body) == []
    issues = [str(issue) for issue in OPENAI.validate("moderation", body)]
    assert any("'category_scores' is a required property" in issue for issue in issues)
    assert any("'harassment' is a required property" in issue for issue in issues)


def test_a_patch_without_a_base_is_a_config_error(tmp_path):
    (tmp_path / "openai").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "ghost.patch.json").write_text(json.dumps({"title": "x"}))
    with pytest.raises(ConfigError, match=r"ghost.patch.json has no ghost.json"):
        dialect_documents(("openai", "vendor"), tmp_path)


def test_the_sdk_oracle_explains_what_user_code_would_see():
    """The verdict is the client an app constructs (OpenAI()'s defaults) and the app's first read of what it got;
    strict response validation is a second opinion beside it, never the verdict."""
    not_json = make_exchange("x/y", raw=b"<html>", headers=[("content-type", "text/html")])
    verdict = sdk_oracle.judge(not_json, "model-list")
    assert not verdict.accepted
    assert verdict.raised == "AttributeError"  # the default client builds the models from the text, and fails

    lax = make_exchange("x/y", body=model("m", created="17"))
    assert sdk_oracle.judge(lax, "model").accepted  # pydantic's lax mode coerces the string

    wrong = make_exchange("x/y", body=model("m", object=None, created=[]))
    verdict = sdk_oracle.judge(wrong, "model")
    assert verdict.accepted  # the app's client reads the id it asked for
    assert verdict.strict is not None
    assert verdict.strict.raised == "APIResponseValidationError"
    assert "$.created" in verdict.strict.detail
    assert "a strict client" in verdict.summary()
    assert "$.created" in verdict.summary()

    no_id = sdk_oracle.judge(make_exchange("x/y", body={"object": "model"}), "model")
    assert not no_id.accepted
    assert no_id.raised == "TypeError"
    assert "model.id is None" in no_id.detail

    success_instead_of_error = sdk_oracle.judge(make_exchange("x/y", body=model("m")), "error")
    assert not success_instead_of_error.accepted
    assert "raises no exception" in success_instead_of_error.summary()


def test_dialects_inherit_limits_statuses_and_deviations():
    llama = load_dialect("llama-api")
    assert llama.lineage == ("openai", "llama-api")
    assert llama.limits["max_images_per_request"] == 9
    assert llama.limits["models_retrieved"] == 25  # inherited
    assert llama.status_for("unknown_model") == (404,)
    assert llama.deviation_for("models.moderation_model_is_listed") is not None
    assert load_dialect("openai").deviation_for("models.moderation_model_is_listed") is None


def test_dialect_deviations_name_registered_checks():
    from conformance.registry import load_all

    checks = load_all()
    for name in ("openai", "llama-api"):
        for check_id in load_dialect(name).deviations:
            assert check_id in checks, f"{name} documents a deviation for unknown check {check_id}"
