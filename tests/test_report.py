"""The report: row statuses, exit codes, and the versioned schema every report must meet."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from helpers import make_exchange

from conformance.render.html import render_html
from conformance.render.markdown import render_markdown
from conformance.report import build_report, exchange_evidence, exit_code_for, report_problems
from conformance.rows import ROW_IDS
from conformance.runconfig import RunOptions, resolve
from conformance.verdicts import CheckResult, ErrorCause, Level, RowStatus, Status, row_status

ROOT = Path(__file__).resolve().parents[1]


def result(status: Status, level: Level = Level.MUST, row: str = "models", cause: ErrorCause | None = None, n: int = 0):
    return CheckResult(
        check_id=f"{row}.check_{n}",
        row=row,
        level=level,
        status=status,
        message="m",
        claim="c",
        source="openai-models",
        exchanges=["models/list"],
        error_cause=cause,
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([Status.PASS, Status.PASS], RowStatus.SUPPORTED),
        ([Status.PASS, Status.DEVIATION], RowStatus.SUPPORTED),
        ([Status.PASS, (Status.FAIL, Level.SHOULD)], RowStatus.SUPPORTED),
        ([Status.PASS, Status.FAIL], RowStatus.PARTIAL),
        ([Status.PASS, Status.UNSUPPORTED], RowStatus.PARTIAL),
        ([Status.FAIL, Status.FAIL], RowStatus.UNSUPPORTED),
        ([Status.UNSUPPORTED, Status.SKIPPED], RowStatus.UNSUPPORTED),
        ([Status.SKIPPED, Status.ERROR], RowStatus.UNTESTED),
        ([], RowStatus.UNTESTED),
    ],
)
def test_row_status(statuses, expected):
    results = [result(*s) if isinstance(s, tuple) else result(s) for s in statuses]
    assert row_status(results) == expected


def test_a_row_declared_unsupported_is_unsupported():
    assert row_status([result(Status.PASS)], declared_unsupported=True) == RowStatus.UNSUPPORTED


@pytest.mark.parametrize(
    ("results", "cassette", "aborted", "code"),
    [
        ([result(Status.PASS), result(Status.FAIL, Level.SHOULD)], False, None, 0),
        ([result(Status.PASS), result(Status.FAIL)], False, None, 1),
        ([result(Status.FAIL), result(Status.ERROR, cause=ErrorCause.HARNESS)], False, None, 4),
        ([result(Status.FAIL), result(Status.ERROR, cause=ErrorCause.ENVIRONMENT)], False, None, 3),
        ([result(Status.PASS)], False, ErrorCause.ENVIRONMENT, 3),
        ([result(Status.PASS)], False, ErrorCause.HARNESS, 4),
        ([result(Status.ERROR, cause=ErrorCause.CASSETTE)], False, None, 2),
        ([result(Status.PASS)], True, None, 2),
        # nothing judged never exits 0
        ([], False, None, 4),
        ([result(Status.SKIPPED), result(Status.UNSUPPORTED)], False, None, 2),
    ],
)
def test_exit_codes(results, cassette, aborted, code):
    assert exit_code_for(results, cassette, aborted) == code


def sample_report(results=None, **changes):
    config = resolve(RunOptions(), env={}, cwd=ROOT)
    exchange = make_exchange("models/list", body={"object": "list", "data": []})
    document = build_report(
        config=config,
        results=results or [result(Status.PASS), result(Status.ERROR, cause=ErrorCause.HARNESS, n=1)],
        exchanges={"models/list": exchange_evidence(exchange)},
        started_at="2026-11-24T10:00:00Z",
        finished_at="2026-11-24T10:00:01Z",
        duration=1.0,
        requests_sent=0,
        base_url=None,
        cassettes={"path": "cassettes/reference"},
        complete=False,
        problems=[],
        exit_code=4,
    )
    document.update(changes)
    return document


def test_a_built_report_meets_its_schema():
    document = sample_report()
    assert report_problems(document) == []
    assert [row["id"] for row in document["rows"]] == list(ROW_IDS)
    assert document["summary"]["checks"] == 2
    assert document["rows"][0]["status"] == "supported"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("summary"), "'summary' is a required property"),
        (lambda d: d["checks"][0].update(status="passed"), "$.checks[0].status"),
        (lambda d: d["checks"][0].update(error_cause="harness"), "$.checks[0].error_cause"),
        (lambda d: d["target"].update(base_url="https://api.secret-host.example/v1"), "$.target.base_url"),
        (lambda d: d["exchanges"]["models/list"]["request"]["headers"].update(authorization="Bearer x"), "$.exchanges"),
        (lambda d: d.update(report_version="2.0"), "$.report_version"),
        (lambda d: d["rows"].pop(), "$.rows"),
        (lambda d: d.update(extra=1), "Additional properties"),
    ],
)
def test_the_schema_rejects_broken_reports(mutate, expected):
    document = copy.deepcopy(sample_report())
    mutate(document)
    problems = report_problems(document)
    assert problems
    assert any(expected in problem for problem in problems), problems


def test_the_committed_reference_report_meets_the_schema():
    document = json.loads((ROOT / "reports" / "reference" / "report.json").read_text())
    assert report_problems(document) == []
    cited = {exchange_id for check in document["checks"] for exchange_id in check["evidence"]}
    assert cited == set(document["exchanges"])


def test_a_key_left_in_a_written_report_is_removed_and_the_report_says_so(tmp_path, monkeypatch):
    from conformance import finish as finishing
    from conformance.redaction import Redactor

    key = "sk-left-behind-0123456789abcdef"
    state = _finished_state(tmp_path, key)
    # as if an encoding the redaction missed had reached a check's message
    state.results["models.list_succeeds"].message = f"echoed {key}"
    monkeypatch.setattr(finishing, "scrub", lambda text: text)
    state.redactor = Redactor(key, None)
    finishing.finish(state, stopped_early=False)
    for path in tmp_path.joinpath("report").iterdir():
        assert key not in path.read_text(), path
    problems = json.loads((tmp_path / "report" / "report.json").read_text())["run"]["problems"]
    assert any("the key was found in" in problem and "removed" in problem for problem in problems)


def _finished_state(tmp_path: Path, key: str):
    import time

    from conformance.cassettes import CassetteSet
    from conformance.runstate import RunState
    from conformance.schemas import schema_set
    from conformance.store import ExchangeStore

    config = resolve(RunOptions(report_dir=str(tmp_path / "report")), env={}, cwd=ROOT)
    cassettes = CassetteSet.load(config.cassette_dir)
    state = RunState(
        config=config,
        schemas=schema_set(config.dialect),
        store=ExchangeStore("replay", cassettes=cassettes),
        base_url=None,
        cassettes=cassettes,
        server=None,
        started_at="2026-12-01T00:00:00Z",
        t0=time.monotonic(),
    )
    passed = result(Status.PASS)
    passed.check_id = "models.list_succeeds"
    state.results[passed.check_id] = passed
    return state


def test_a_row_whose_answers_another_rows_check_faults_points_to_it():
    """Issue 32: the 401 and 404 rows read "supported" when every 401/404 body was {"detail": ...}; the envelope
    finding is errors-400's, and those rows now point to it (a pointer, the verdict stays where it is)."""
    envelope = result(Status.FAIL, row="errors-400", n=7)
    envelope.details = {"failing": ["errors-auth/no-key", "errors-auth/wrong-key", "errors-400/bad-json"]}
    document = sample_report([result(Status.PASS, row="errors-auth"), envelope])
    assert report_problems(document) == []
    rows = {row["id"]: row for row in document["rows"]}
    assert rows["errors-auth"]["status"] == "supported"
    assert rows["errors-auth"]["see_also"] == [
        {
            "check": "errors-400.check_7",
            "row": "errors-400",
            "status": "fail",
            "count": 2,
            "exchanges": ["errors-auth/no-key", "errors-auth/wrong-key"],
        }
    ]
    assert "see_also" not in rows["errors-400"]
    markdown = render_markdown(document)
    assert "errors-400.check_7 (Errors: bad requests (400)) faults 2 of its answers: errors-auth/no-key" in markdown
    assert "errors-400.check_7" in render_html(document)
