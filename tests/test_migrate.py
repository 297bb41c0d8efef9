"""conformance migrate: offline replays give the verdicts of the recording, the report follows its
schema and says what the app uses, models are mapped, unsupported parameters are named, gates exit as
asked, and bad input is one line."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import app_features
from conformance.migrate import report as migration
from conformance.redaction import Redactor
from conformance.registry import load_all
from tests.migration_helpers import KEY, MODEL, ROOT, App, capture_sample_app, migrate, noted


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    found = capture_sample_app(tmp_path_factory.mktemp("migrate"))
    yield found
    found.server.stop()


def _live(app: App, *args: str, report: str = "report") -> tuple[int, dict, str]:
    return migrate(app, "--to", "reference-openai", "--base-url", app.base_url, "--mode", "live", *args, report=report)


def _verdicts(data: dict) -> list:
    return [
        (
            entry["id"],
            entry["verdict"],
            [(f["id"], f["status"], f["level"], f["message"], f["rate"]) for f in entry["findings"]],
        )
        for entry in data["requests"]
    ]


def test_the_captured_app_uses_the_features_it_was_written_with(app: App) -> None:
    code, data, output = _live(app, "--trials", "1")
    assert code == 0, output
    assert {feature["id"] for feature in data["features"]} == {
        "chat",
        "streaming",
        "include_usage",
        "tools",
        "tool_choice_auto",
        "tool_results",
        "json_schema_strict",
        "max_tokens",
    }
    tools = next(feature for feature in data["features"] if feature["id"] == "tool_results")
    assert tools["requests"] == ["0004-post-chat-completions"]
    assert data["traffic"] == {"path": str(app.traffic), "origin": "capture", "requests": 5}
    assert migration.problems(data) == []


def test_a_recorded_migration_replays_offline_with_identical_verdicts(app: App) -> None:
    cassettes = str(app.work / "recorded")
    faulty = app.faulty("stream-usage-ignored,auto-rarely-calls,tool-finish-stop")
    args = ("--to", "reference-openai", "--trials", "5", "--cassette-dir", cassettes)
    code, recorded, output = migrate(app, *args, "--base-url", faulty, "--mode", "record", report="recorded")
    assert code == 1, output
    assert noted(recorded)
    code_again, replayed, output = migrate(app, *args, report="replayed")  # no base URL: the recordings are replayed
    assert code_again == code, output
    assert replayed["run"]["mode"] == "replay"
    assert replayed["run"]["requests_sent"] == 0
    assert _verdicts(replayed) == _verdicts(recorded)
    assert replayed["summary"] == recorded["summary"]
    assert migration.problems(replayed) == []
    redactor = Redactor(KEY, None)
    for path in [*Path(cassettes).rglob("*"), *(app.work / "recorded").iterdir(), *app.traffic.rglob("*")]:
        if path.is_file():
            assert not redactor.contains_secret(path.read_bytes()), path


def test_a_replay_of_traffic_that_changed_since_the_recording_is_refused(app: App, tmp_path: Path) -> None:
    traffic = tmp_path / "traffic"
    shutil.copytree(app.traffic, traffic)
    cassettes = str(tmp_path / "cassettes")
    moved = App(app.server, app.base_url, traffic, tmp_path)
    code, _, output = migrate(
        moved,
        "--to",
        "reference-openai",
        "--base-url",
        app.base_url,
        "--mode",
        "record",
        "--trials",
        "1",
        "--cassette-dir",
        cassettes,
    )
    assert code == 0, output
    (traffic / "0005-post-chat-completions.yaml").unlink()
    code, _, _ = migrate(moved, "--to", "reference-openai", "--cassette-dir", cassettes)
    assert code == 2


def test_the_gate_fails_on_the_level_asked_for(app: App) -> None:
    """auto-never-calls changes only what the model chooses (a difference), stream-buffered a SHOULD claim."""
    differ = app.faulty("auto-never-calls")
    assert _live_at(app, differ, "must") == 0
    assert _live_at(app, differ, "should") == 0
    assert _live_at(app, differ, "difference") == 1
    buffered = app.faulty("stream-buffered")
    assert _live_at(app, buffered, "must") == 0
    assert _live_at(app, buffered, "should") == 1


def _live_at(app: App, base_url: str, fail_on: str) -> int:
    code, data, output = migrate(
        app,
        "--to",
        "reference-openai",
        "--base-url",
        base_url,
        "--mode",
        "live",
        "--trials",
        "20",
        "--fail-on",
        fail_on,
    )
    assert data["run"]["fail_on"] == fail_on, output
    return code


def test_a_request_the_candidate_refuses_breaks_the_gate_at_must(app: App) -> None:
    code, data, _ = migrate(
        app,
        "--to",
        "reference-openai",
        "--base-url",
        app.faulty("tool-round-trip-refused"),
        "--mode",
        "live",
        "--trials",
        "1",
    )
    assert code == 1
    entry = next(e for e in data["requests"] if e["id"] == "0004-post-chat-completions")
    assert entry["verdict"] in ("fail", "unsupported")
    status = next(f for f in entry["findings"] if f["id"] == "original.answers_with_the_same_status_class")
    assert status["level"] == "MUST"
    assert "the original answered HTTP 200" in status["message"]
    blocked = [f for f in entry["findings"] if f["status"] == "blocked"]
    assert blocked
    assert all(f["blocked_by"] == "original.answers_with_the_same_status_class" for f in blocked)


def test_the_conformance_report_of_the_candidate_says_whether_each_feature_is_supported(app: App) -> None:
    report = ROOT / "reports" / "reference" / "report.json"
    code, data, _ = _live(app, "--trials", "1", "--conformance", str(report))
    assert code == 0
    assert data["conformance"]["target"] == "reference"
    by_id = {feature["id"]: feature for feature in data["features"]}
    assert by_id["include_usage"]["conformance"]["checks"][0]["id"] == "streaming.usage_chunk_when_asked"
    assert {feature["conformance"]["supported"] for feature in data["features"]} == {"yes"}
    assert "supported by reference" in (app.work / "report" / "migration.md").read_text()


def test_a_feature_is_as_supported_as_its_own_checks_say_or_else_its_row() -> None:
    conformance = {
        "rows": [{"id": "streaming", "status": "supported"}, {"id": "tools", "status": "partial"}],
        "checks": [
            {"id": "streaming.usage_chunk_when_asked", "status": "deviation", "message": "ignored"},
            {"id": "tools.tool_results_round_trip", "status": "fail", "message": "refused"},
        ],
    }
    requests = [("a", ["streaming", "include_usage", "tools", "tool_results", "moderation"])]
    found = {f["id"]: f["conformance"]["supported"] for f in app_features.summary(requests, conformance)}
    assert found == {
        "streaming": "yes",
        "include_usage": "documented deviation",
        "tools": "partly",
        "tool_results": "no",
        "moderation": "unknown",
    }


def test_the_llama_dialect_names_the_parameters_it_documents_as_unsupported(app: App) -> None:
    code, data, _ = _live(app, "--trials", "1", "--dialect", "llama-api")
    assert code == 0
    chat = next(e for e in data["requests"] if e["id"] == "0001-post-chat-completions")
    assert chat["unsupported_parameters"] == ["max_tokens"]
    structured = next(e for e in data["requests"] if e["id"] == "0005-post-chat-completions")
    assert structured["unsupported_parameters"] == ["max_tokens"]  # json_schema is a Llama format; json_object is not
    assert data["summary"]["unsupported_parameters"] == ["max_tokens"]
    assert "`max_tokens`" in (app.work / "report" / "migration.md").read_text()


def test_models_are_mapped_and_jsonl_traffic_is_expected_to_succeed(app: App, tmp_path: Path) -> None:
    lines = [
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]},
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
        {"method": "GET", "path": "/models/gpt-4o"},
    ]
    jsonl = tmp_path / "bodies.jsonl"
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines))
    moved = App(app.server, app.base_url, jsonl, tmp_path)
    code, data, output = migrate(
        moved,
        "--to",
        "reference-openai",
        "--base-url",
        app.base_url,
        "--mode",
        "live",
        "--trials",
        "1",
        "--map-model",
        f"gpt-4o={MODEL}",
    )
    assert code == 0, output
    assert data["traffic"]["origin"] == "jsonl"
    assert [e["models"] for e in data["requests"]] == [[{"captured": "gpt-4o", "sent": MODEL}]] * 3
    assert data["requests"][2]["path"] == f"/models/{MODEL}"
    assert all(entry["original"] is None for entry in data["requests"])
    code, data, _ = migrate(
        moved, "--to", "reference-openai", "--base-url", app.base_url, "--mode", "live", "--trials", "1"
    )
    assert code == 1  # gpt-4o is unknown to the candidate: the requests, expected to succeed, do not
    status = next(
        f for f in data["requests"][0]["findings"] if f["id"] == "original.answers_with_the_same_status_class"
    )
    assert "expected to succeed" in status["message"]


def test_a_cassette_set_of_a_run_is_traffic_too(app: App, tmp_path: Path) -> None:
    source = ROOT / "cassettes" / "reference-openai"
    traffic = tmp_path / "set"
    shutil.copytree(source / "chat-completions", traffic / "chat-completions")
    shutil.copy(source / "cassette-set.yaml", traffic)
    moved = App(app.server, app.base_url, traffic, tmp_path)
    code, data, output = migrate(
        moved, "--to", "reference-openai", "--base-url", app.base_url, "--mode", "live", "--trials", "1"
    )
    assert code == 0, output
    assert data["traffic"]["origin"] == "cassettes"
    assert len(data["requests"]) == len(list((traffic / "chat-completions").rglob("*.yaml")))


def test_the_junit_rendering_has_a_case_per_request(app: App) -> None:
    code, _data, _ = migrate(
        app,
        "--to",
        "reference-openai",
        "--base-url",
        app.faulty("usage-wrong-total"),
        "--mode",
        "live",
        "--trials",
        "1",
    )
    assert code == 1
    suite = ET.fromstring((app.work / "report" / "migration-junit.xml").read_text())
    cases = suite.findall("testcase")
    assert len(cases) == 5
    assert sum(1 for case in cases if case.find("failure") is not None) == 4  # every non-streamed answer
    html = (app.work / "report" / "migration.html").read_text()
    assert "usage_adds_up" in html
    assert "original" in html


def test_render_reads_a_migration_report(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    from conformance import cli

    code, _, _ = _live(app, "--trials", "1", report="rendered")
    assert code == 0
    path = app.work / "rendered" / "migration.json"
    assert cli.main(["render", str(path), "--format", "md"]) == 0
    assert capsys.readouterr().out == (app.work / "rendered" / "migration.md").read_text()
    broken = app.work / "rendered" / "broken.json"
    broken.write_text(json.dumps({"kind": "migration"}))
    assert cli.main(["render", str(broken)]) == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json\n", "not JSON"),
        ('{"prompt": "no messages"}\n', "neither a chat request body"),
        ("[1, 2]\n", "a request body is a JSON object"),
        ('{"path": "chat/completions", "body": {}}\n', 'starts with "/"'),
        ("", "holds no request"),
    ],
)
def test_bad_jsonl_traffic_is_one_line_and_exit_2(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(content)
    code, _, _ = migrate(App(app.server, app.base_url, jsonl, tmp_path), "--to", "reference-openai")
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert expected in err[0]
    assert "Traceback" not in err[0]


def test_an_unreachable_candidate_exits_3(app: App, tmp_path: Path) -> None:
    code, _, _ = migrate(
        app, "--to", "reference-openai", "--base-url", "http://127.0.0.1:9/v1", "--mode", "live", "--trials", "1"
    )
    assert code == 3


def test_missing_traffic_and_unknown_candidates_are_usage_errors(app: App, tmp_path: Path) -> None:
    assert migrate(App(app.server, app.base_url, tmp_path / "nothing", tmp_path), "--to", "reference-openai")[0] == 2
    assert migrate(app, "--to", "no-such-target")[0] == 2


def test_every_feature_names_a_row_and_checks_that_exist() -> None:
    checks = load_all()
    for feature in app_features.FEATURES:
        assert all(check_id in checks for check_id in feature.checks), feature.id
        assert feature.row is None or any(check.row == feature.row for check in checks.values())


def test_the_migration_report_schema_is_a_valid_schema() -> None:
    assert migration.problems({"kind": "migration"})  # and it refuses what is not a report


def test_one_defect_is_one_verdict_in_a_migration(app: App) -> None:
    """A stream with usage in every chunk is the usage chunk's defect, not also a prompt-token difference; an
    answer without a model is its form's, not also the model claim's."""
    for fault, owner in (
        ("stream-usage-always", "streaming.usage_chunk_when_asked"),
        ("answer-without-id", "chat-completions.response_is_schema_valid"),
    ):
        code, data, _ = migrate(
            app, "--to", "reference-openai", "--base-url", app.faulty(fault), "--mode", "live", "--trials", "1"
        )
        assert code == 1
        failing = {f["id"] for e in data["requests"] for f in e["findings"] if f["status"] == "fail"}
        assert failing == {owner}, fault


def test_capture_with_a_bad_upstream_or_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance import cli

    assert cli.main(["capture", "--upstream", "not a url"]) == 2
    assert cli.main(["capture", "--upstream", "http://127.0.0.1:1/v1", "--port", "1", "--host", "192.0.2.1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert "malformed base URL" in lines[0]
    assert "cannot listen on 192.0.2.1:1" in lines[1]
