"""The whole suite, live against the reference server, recorded, and replayed: same verdicts,
no secrets anywhere, and the bundled cassettes give the committed report's verdicts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from conformance.reference import ReferenceConfig, ReferenceServer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def messages(run) -> dict[str, tuple[str, str]]:
    """Status and message of every check; a timing check's message says whether it was measured or
    recorded, so only its status is compared."""
    return {
        check["id"]: (check["status"], "" if "timing" in check["details"] else check["message"])
        for check in run.report["checks"]
    }


def test_live_record_and_replay_give_the_same_verdicts(cli, tmp_path):
    cassettes = tmp_path / "cassettes"
    live = cli("run", "--mode", "live")
    recorded = cli("run", "--mode", "record", "--cassette-dir", str(cassettes))
    replayed = cli("run", "--cassette-dir", str(cassettes))
    for run in (live, recorded, replayed):
        assert run.code == 0, run.stdout + run.stderr
    assert replayed.report["run"]["mode"] == "replay"
    assert replayed.report["run"]["requests_sent"] == 0
    assert recorded.report["run"]["requests_sent"] == recorded.report["run"]["exchanges"]
    assert messages(live) == messages(recorded) == messages(replayed)
    assert replayed.report["run"]["complete"] is True
    info = (cassettes / "reference" / "cassette-set.yaml").read_text()
    assert "recorded_from: the suite's built-in reference server" in info


def test_live_progress_counts_each_failure_once(cli):
    key = "sk-progress-test"
    config = ReferenceConfig(api_keys=frozenset({key}), flavour="openai", base_path="/v1")
    with ReferenceServer(config) as server:
        faulty = server.base_url.removesuffix("/v1") + "/faults/n-ignored/v1"
        run = cli("run", "--target", "reference-openai", "--base-url", faulty, env={"REFERENCE_API_KEY": key})
    assert run.code == 1, run.stdout + run.stderr
    assert run.report["summary"]["fail"] == 1
    progress = [line for line in run.stderr.splitlines() if "so far" in line]
    assert progress[0].startswith("Models (row 1/27) · ")
    assert "0 failures so far" in progress[0]
    # chat-completions.n_is_honoured fails: every later row's line says so, once
    assert "1 failure so far" in progress[-1], progress


def test_no_secret_reaches_a_cassette_a_report_or_the_output(cli, tmp_path, reference_server):
    base_url, key = reference_server
    host = base_url.split("//", 1)[1].split("/", 1)[0]  # 127.0.0.1:<port>
    cassettes = tmp_path / "cassettes"
    run = cli(
        "run",
        "--target",
        "reference",
        "--base-url",
        base_url,
        "--mode",
        "record",
        "--cassette-dir",
        str(cassettes),
        env={"REFERENCE_API_KEY": key},
    )
    assert run.code == 0, run.stdout + run.stderr
    files = [p for p in cassettes.rglob("*") if p.is_file()] + [p for p in run.report_dir.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in (key, host, "127.0.0.1", key[-12:]):
            assert secret not in text, f"{secret!r} leaked into {path}"
        if path.suffix == ".yaml" and path.name != "cassette-set.yaml":
            sent = {name.lower() for name in yaml.safe_load(text)["request"]["headers"]}
            assert sent <= {"accept", "content-type"}, f"{path} records the request headers {sent}"
    for secret in (key, key[-12:]):
        assert secret not in run.stdout + run.stderr
    assert run.report["target"]["base_url"] == "http://<HOST>/compat/v1"
    replayed = cli("run", "--target", "reference", "--cassette-dir", str(cassettes))
    assert replayed.code == 0
    assert messages(replayed) == messages(run)


BUNDLED = sorted(path.name for path in (ROOT / "cassettes").iterdir() if path.is_dir())


@pytest.mark.parametrize("target", BUNDLED)
def test_the_bundled_cassettes_give_the_committed_verdicts(cli, target):
    """Replaying a bundled target (network blocked) gives the verdicts of the run that recorded it."""
    run = cli("run", "--target", target)
    committed = json.loads((ROOT / "reports" / target / "report.json").read_text())
    assert run.report["run"]["mode"] == "replay"
    assert run.report["run"]["requests_sent"] == 0
    assert run.report["run"]["problems"] == [], run.report["run"]["problems"]
    assert {c["id"]: c["status"] for c in committed["checks"]} == run.verdicts()
    assert run.code == committed["run"]["exit_code"], run.stdout
    gated = cli(
        "gate", "--baseline", str(ROOT / "targets" / f"{target}.baseline.json"), str(run.report_dir / "report.json")
    )
    assert gated.code == 0, gated.stdout


def test_the_default_run_replays_the_reference_and_passes(cli):
    run = cli("run")
    assert run.code == 0, run.stdout + run.stderr
    assert run.report["target"]["name"] == "reference"
    assert "exit 0: no MUST-level failure" in run.stdout
    assert "models                       supported" in run.stdout


def test_the_console_script_is_installed(tmp_path):
    import shutil
    import subprocess

    script = shutil.which("conformance", path=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    assert script is not None
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert completed.returncode == 0
    assert completed.stdout.startswith("openai-conformance ")


def test_the_example_workflow_uses_the_action_with_inputs_it_declares():
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text())
    declared = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    steps = [step for step in workflow["jobs"]["conformance"]["steps"] if step.get("uses") == "./"]
    assert [step["with"]["mode"] for step in steps] == ["replay", "live"]
    for step in steps:
        assert set(step["with"]) <= declared
        assert step["with"]["fail-on"] == "regression"
        assert step["with"]["baseline"].startswith("targets/")
    assert steps[1]["with"]["api-key-env"] in steps[1]["env"]
