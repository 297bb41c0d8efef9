"""The sample app (a chat, a stream with usage, a tool loop, a structured output), captured through the
proxy against the reference server, migrated to the reference server with each fault of the catalogue
on: a fault that changes what the app gets shows in the migration report; a fault that does not
change it (a feature the app does not use) shows nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.faults import FAULTS
from tests.migration_helpers import App, answers, capture_sample_app, migrate, noted

TRIALS = "5"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    found = capture_sample_app(tmp_path_factory.mktemp("migrate-faults"))
    yield found
    found.server.stop()


@pytest.fixture(scope="module")
def clean(app: App) -> dict:
    code, data, output = migrate(
        app,
        "--to",
        "reference-openai",
        "--base-url",
        app.base_url,
        "--mode",
        "live",
        "--trials",
        TRIALS,
        report="clean",
    )
    assert code == 0, output
    return data


def test_the_clean_reference_server_answers_the_app_as_the_original(clean: dict) -> None:
    assert clean["summary"]["verdicts"]["pass"] == clean["summary"]["requests"] == 5
    assert noted(clean) == set()


@pytest.mark.parametrize("fault_id", sorted(FAULTS))
def test_a_fault_shows_exactly_when_it_changes_what_the_app_gets(app: App, clean: dict, fault_id: str) -> None:
    fault = FAULTS[fault_id]
    code, data, output = migrate(
        app,
        "--to",
        "reference-openai",
        "--base-url",
        app.faulty(fault_id),
        "--mode",
        "live",
        "--trials",
        TRIALS,
        report=f"faults/{fault_id}",
    )
    assert code in (0, 1), output
    touched = answers(data) != answers(clean)
    found = noted(data) - noted(clean)
    must = {item for item in found if item[2] == "fail" and _level(data, item) == "MUST"}
    if fault.benign:
        assert not must, f"{fault_id} is one the SDKs tolerate, yet: {sorted(must)}"
    elif touched:
        assert found, f"{fault_id} changes the answers the app gets, but the migration report shows nothing"
        assert code == 1 or any(_level(data, item) != "MUST" for item in found)
    else:
        assert not found, f"{fault_id} leaves the app's answers as they were, yet the report shows {sorted(found)}"
        assert code == 0


def _level(data: dict, item: tuple[str, str, str]) -> str:
    entry = next(e for e in data["requests"] if e["id"] == item[0])
    return next(f["level"] for f in entry["findings"] if f["id"] == item[1])


def test_the_faults_the_app_meets_cover_every_feature_it_uses(app: App, clean: dict) -> None:
    """The sample app uses a chat, a stream, tools and a strict schema: faults of each show (a guard that the
    parametrised test above judges something in every feature, not only faults that leave the app alone)."""
    shown = {}
    for fault_id in (
        "usage-wrong-total",
        "stream-no-done",
        "tool-finish-stop",
        "json-schema-violated",
        "auto-never-calls",
    ):
        _code, data, _ = migrate(
            app,
            "--to",
            "reference-openai",
            "--base-url",
            app.faulty(fault_id),
            "--mode",
            "live",
            "--trials",
            TRIALS,
            report=f"cover/{fault_id}",
        )
        shown[fault_id] = {check for _, check, _ in noted(data)}
    assert "chat-completions.usage_adds_up" in shown["usage-wrong-total"]
    assert "streaming.stream_ends_with_done" in shown["stream-no-done"]
    assert "tools.calls_finish_with_tool_calls" in shown["tool-finish-stop"]
    assert "structured-output.strict_json_schema_is_followed" in shown["json-schema-violated"]
    assert shown["auto-never-calls"] == {"original.answers_in_the_same_kind"}


def test_the_report_folder_holds_every_rendering(clean: dict, app: App) -> None:
    folder = Path(app.work) / "clean"
    assert {path.name for path in folder.iterdir()} >= {
        "migration.json",
        "migration.md",
        "migration.html",
        "migration-junit.xml",
    }
