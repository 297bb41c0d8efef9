"""An evaluation harness on legacy completions (echo with logprobs, as lm-evaluation-harness scores; a list of
prompts with n) captured and migrated: a clean candidate passes the gate; one that scores only the tokens it wrote
(llama.cpp's echo with logprobs) fails it, in the claim that owns it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.migration_helpers import App, capture_sample_app, migrate, noted


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    found = capture_sample_app(tmp_path_factory.mktemp("eval"), script="sample_eval_app.py")
    yield found
    found.server.stop()


def _to(app: App, base_url: str, report: str) -> tuple[int, dict, str]:
    return migrate(
        app, "--to", "reference-openai", "--base-url", base_url, "--mode", "live", "--trials", "2", report=report
    )


def test_a_clean_candidate_passes_the_gate(harness: App) -> None:
    code, data, output = _to(harness, harness.base_url, "clean")
    assert code == 0, output
    features = {feature["id"] for feature in data["features"]}
    assert {"completions", "completions_scored"} <= features
    entries = [entry for entry in data["requests"] if "completions" in entry["id"] and "chat" not in entry["id"]]
    assert len(entries) == 3
    found = {f["id"]: f["status"] for entry in entries for f in entry["findings"]}
    assert found["completions.response_is_schema_valid"] == "pass"
    assert found["completions.every_prompt_gets_n_choices"] == "pass"
    assert found["completions.echo_prepends_the_prompt"] == "pass"
    assert found["completions.logprobs_describe_the_text"] == "pass"
    assert noted(data) == set()


def test_a_candidate_that_scores_only_what_it_wrote_fails_the_gate(harness: App) -> None:
    code, data, output = _to(harness, harness.faulty("completions-echo-logprobs-completion-only"), "unscored")
    assert code == 1, output
    failing = {(found[1], found[2]) for found in noted(data) if found[2] != "blocked"}
    assert failing == {("completions.logprobs_describe_the_text", "fail")}


def test_a_candidate_that_ignores_n_fails_the_gate(harness: App) -> None:
    code, data, output = _to(harness, harness.faulty("completions-n-ignored"), "one-each")
    assert code == 1, output
    failing = {(found[1], found[2]) for found in noted(data) if found[2] != "blocked"}
    assert failing == {("completions.every_prompt_gets_n_choices", "fail")}
