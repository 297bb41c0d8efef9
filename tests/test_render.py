"""Renderings (Markdown, HTML, JUnit), comparisons, baselines and every decision of the gate."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conformance.baseline import gate, write_baseline
from conformance.render import compare_html, compare_markdown, render_html, render_junit, render_markdown
from conformance.report import report_problems
from conformance.rows import ROWS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("CONFORMANCE_TEST_ARTIFACTS", ROOT / ".artifacts"))


def bundled(target: str) -> dict:
    return json.loads((ROOT / "reports" / target / "report.json").read_text())


VLLM = bundled("vllm")
REFERENCE = bundled("reference")


def with_status(report: dict, check_id: str, status: str, message: str = "changed") -> dict:
    changed = copy.deepcopy(report)
    for check in changed["checks"]:
        if check["id"] == check_id:
            check["status"], check["message"] = status, message
            check["error_cause"] = "harness" if status == "error" else None
    assert not report_problems(changed)
    return changed


def test_markdown_has_the_feature_table_and_the_failures():
    text = render_markdown(VLLM)
    assert (
        "| Feature | Support | Pass | Fail | Blocked | Inconclusive | Deviation | Unsupported | Skipped | Error |"
        in text
    )
    assert "| Models | 🟡 Partial | 5 | 1 |" in text
    assert "| Image understanding | ❌ Unsupported |" in text
    failed = next(c for c in VLLM["checks"] if c["status"] == "fail" and c["level"] == "MUST")
    assert f"**`{failed['id']}`** (MUST)" in text
    assert failed["message"].replace("|", "\\|") in text
    assert "Evidence: `GET <BASE_URL>/models" in text
    assert "## MUST failures (" in text
    assert "## SHOULD failures (" in text


def test_markdown_lists_documented_deviations():
    assert "## Documented deviations (" in render_markdown(REFERENCE)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained_and_holds_every_check_and_its_evidence():
    page = render_html(VLLM)
    parser = _Collector()
    parser.feed(page)
    tags = parser.tags
    assert not [a for t, a in tags if t in ("script", "img", "iframe") and a.get("src")]
    assert not [a for t, a in tags if t == "link"]
    assert sum(1 for t, a in tags if t == "tr" and a.get("class") == "row-line") == len(ROWS)
    checks = [a for t, a in tags if t == "details" and a.get("class") == "check"]
    assert len(checks) == len(VLLM["checks"])
    assert {a["data-status"] for a in checks} == {c["status"] for c in VLLM["checks"]}
    for check in VLLM["checks"]:
        assert check["id"] in page
    assert "── event 1" in page  # a stream's events, one by one
    assert "&quot;object&quot;: &quot;list&quot;" in page or '"object": "list"' in page


def test_html_escapes_what_the_target_said():
    hostile = with_status(VLLM, "models.list_succeeds", "fail", "<script>alert('x')</script>")
    page = render_html(hostile)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_junit_has_one_case_per_check_and_consistent_counts():
    root = ET.fromstring(render_junit(VLLM))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests")) == len(VLLM["checks"])
    assert len([c for c in cases if c.find("failure") is not None]) == int(suite.get("failures"))
    assert len([c for c in cases if c.find("skipped") is not None]) == int(suite.get("skipped"))
    failure = next(c.find("failure") for c in cases if c.find("failure") is not None)
    assert failure.get("type") in ("MUST", "SHOULD")
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["mode"] == VLLM["run"]["mode"]


def test_compare_puts_rows_against_targets():
    reports = [REFERENCE, VLLM, bundled("llamaserver"), bundled("litellm")]
    table = compare_markdown(reports)
    lines = table.split("\n\n")[0].splitlines()  # the rows; the coverage of the API surface follows
    assert lines[0].startswith("| Feature | `reference (llama-api, ")
    assert len(lines) == 2 + len(ROWS)
    assert "| Moderation | ✅ Supported | ❌ Unsupported |" in table
    by_check = compare_markdown(reports, checks=True)
    assert "| `models.list_succeeds` | ✅ pass | ✅ pass |" in by_check
    page = compare_html(reports, checks=True)
    rows = page.split("<h2>Coverage of the API surface</h2>")[0]
    assert rows.count("<tr>") == 1 + len({c["id"] for r in reports for c in r["checks"]})


def test_compare_flags_reports_of_different_suite_versions():
    older = copy.deepcopy(VLLM)
    older["suite"]["version"] = "0.0.9"
    assert "different suite versions (0.0.9, 0.1.0)" in compare_markdown([REFERENCE, older])


def test_gate_unchanged():
    result = gate(write_baseline(VLLM), VLLM)
    assert result.passed
    assert (result.regressions, result.improvements, result.new, result.changed) == ([], [], [], [])
    assert result.unchanged == len(VLLM["checks"])


def test_gate_regression_on_a_failing_check_and_a_dropped_row():
    baseline = write_baseline(REFERENCE)
    worse = with_status(REFERENCE, "streaming.stream_ends_with_done", "fail")
    worse["rows"][4]["status"] = "partial"
    result = gate(baseline, worse)
    assert not result.passed
    assert [str(c) for c in result.regressions] == [
        "check streaming.stream_ends_with_done: pass -> fail",
        "row streaming: supported -> partial",
    ]


def test_gate_improvement_is_listed_but_passes():
    baseline = write_baseline(with_status(VLLM, "models.retrieve_is_schema_valid", "fail"))
    better = with_status(VLLM, "models.retrieve_is_schema_valid", "pass")
    result = gate(baseline, better)
    assert result.passed
    assert [str(c) for c in result.improvements] == ["check models.retrieve_is_schema_valid: fail -> pass"]


def test_gate_new_check_is_not_a_regression():
    baseline = write_baseline(VLLM)
    del baseline["checks"]["models.ids_are_unique"]
    result = gate(baseline, VLLM)
    assert result.passed
    assert [c.id for c in result.new] == ["models.ids_are_unique"]


def test_gate_removed_check_is_a_regression():
    removed = copy.deepcopy(VLLM)
    removed["checks"] = [c for c in removed["checks"] if c["id"] != "models.ids_are_unique"]
    result = gate(write_baseline(VLLM), removed)
    assert not result.passed
    assert [str(c) for c in result.regressions] == ["check models.ids_are_unique: pass -> absent"]


def test_gate_a_failure_that_becomes_a_skip_is_a_change_not_an_improvement():
    baseline = write_baseline(with_status(VLLM, "models.ids_are_unique", "fail"))
    result = gate(baseline, with_status(VLLM, "models.ids_are_unique", "skipped"))
    assert result.passed
    assert result.improvements == []
    assert [str(c) for c in result.changed] == ["check models.ids_are_unique: fail -> skipped"]


def test_gate_notes_a_baseline_from_another_suite_version():
    baseline = write_baseline(VLLM)
    baseline["suite_version"] = "0.0.1"
    assert any("written by suite 0.0.1" in note for note in gate(baseline, VLLM).notes)


def test_the_gate_command_exit_codes(cli, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(VLLM))
    written = cli("baseline", "write", str(report))
    assert written.code == 0
    baseline = tmp_path / "vllm.baseline.json"
    baseline.write_text(written.stdout)
    assert cli("gate", "--baseline", str(baseline), str(report)).code == 0
    worse = tmp_path / "worse.json"
    worse.write_text(json.dumps(with_status(VLLM, "models.list_succeeds", "fail")))
    gated = cli("gate", "--baseline", str(baseline), str(worse))
    assert gated.code == 1
    assert "regression: check models.list_succeeds: pass -> fail" in gated.stdout
    broken = cli("gate", "--baseline", str(tmp_path / "missing.json"), str(report))
    assert broken.code == 2
    assert "cannot read the baseline" in broken.stderr
    not_a_report = tmp_path / "nope.json"
    not_a_report.write_text("{}")
    assert cli("render", str(not_a_report)).code == 2


def test_render_and_compare_commands(cli, tmp_path):
    page = tmp_path / "vllm.html"
    assert cli("render", str(ROOT / "reports/vllm/report.json"), "--format", "html", "-o", str(page)).code == 0
    assert page.read_text().startswith("<!doctype html>")
    compared = cli("compare", str(ROOT / "reports/reference/report.json"), str(ROOT / "reports/vllm/report.json"))
    assert compared.code == 0
    assert compared.stdout.startswith("| Feature | `reference")


def test_every_bundled_report_is_rendered_in_every_format():
    for folder in (ROOT / "reports").iterdir():
        if folder.is_dir() and (folder / "report.json").exists():
            report = json.loads((folder / "report.json").read_text())
            assert (folder / "report.md").read_text() == render_markdown(report), folder
            assert (folder / "report.html").read_text() == render_html(report), folder
            assert (folder / "junit.xml").read_text() == render_junit(report), folder


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CONFORMANCE_REQUIRE_BROWSER"), reason="no Chromium on this machine"
)
def test_the_html_report_renders_in_chromium_without_script_errors(tmp_path):
    assert CHROMIUM is not None, "CONFORMANCE_REQUIRE_BROWSER is set but Chromium is missing"
    page = tmp_path / "report.html"
    page.write_text(render_html(VLLM))
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dumped = subprocess.run(
        [CHROMIUM, *BROWSER_FLAGS, *profile, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert 'data-ready="yes"' in dumped.stdout, dumped.stderr[-2000:]
    assert dumped.stdout.count('class="row-line"') == len(ROWS)
    console = [line for line in dumped.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            *BROWSER_FLAGS,
            "--user-data-dir=" + str(tmp_path / "profile2"),
            "--window-size=1280,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.exists()
    assert shot.stat().st_size > 10_000
