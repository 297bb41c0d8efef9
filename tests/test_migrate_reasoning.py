"""The sample app against a reasoning model (the reference server's), captured and migrated: a candidate that
returns the thinking in another field, leaks it into the content, or thinks its answers away shows it in the
migration report, on the request that meets it; a clean one shows nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.reference.catalog import REASONING_MODEL
from tests.migration_helpers import App, capture_sample_app, migrate, noted

TRIALS = "3"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    found = capture_sample_app(tmp_path_factory.mktemp("migrate-reasoning"), model=REASONING_MODEL.id)
    yield found
    found.server.stop()


def _migrate(app: App, fault: str | None) -> tuple[int, dict]:
    base_url = app.faulty(fault) if fault else app.base_url
    code, data, output = migrate(
        app,
        "--to",
        "reference-openai",
        "--base-url",
        base_url,
        "--mode",
        "live",
        "--trials",
        TRIALS,
        report=f"reasoning/{fault or 'clean'}",
    )
    assert code in (0, 1), output
    return code, data


def test_the_captured_answers_carry_thinking_and_a_clean_candidate_shows_nothing(app: App) -> None:
    code, data = _migrate(app, None)
    assert code == 0
    # the profile declares the field the reference returns thinking in: a documented deviation from OpenAI
    assert {check for _, check, status in noted(data) if status != "deviation"} == set()
    assert {check for _, check, _ in noted(data)} == {"reasoning.thinking_comes_in_one_field"}
    checks = {found["id"] for entry in data["requests"] for found in entry["findings"] if found["status"] == "pass"}
    # the thinking of the original answers was compared, and judged by the run's checks of every answer
    assert {"original.thinking_comes_in_the_same_field", "reasoning.thinking_is_not_in_content"} <= checks


@pytest.mark.parametrize(
    ("fault", "shown"),
    [
        ("reasoning-field-renamed", "original.thinking_comes_in_the_same_field"),
        ("thinking-in-content", "reasoning.thinking_is_not_in_content"),
        ("thinking-endless", "reasoning.answers_leave_room_after_thinking"),
        ("reasoning-tokens-outside-completion", "reasoning.reasoning_tokens_fit_in_completion_tokens"),
    ],
)
def test_a_reasoning_fault_shows_on_the_requests_it_changes(app: App, fault: str, shown: str) -> None:
    code, data = _migrate(app, fault)
    checks = {check for _, check, _ in noted(data)}
    assert shown in checks, sorted(checks)
    # a comparison of what the model chose says nothing of an answer starved by its thinking: one verdict
    assert {status for _, check, status in noted(data) if check == "original.finishes_for_the_same_reason"} <= {
        "blocked"
    }
    musts = [f for e in data["requests"] for f in e["findings"] if f["status"] == "fail" and f["level"] == "MUST"]
    assert code == (1 if musts else 0)
