"""The command line: exit codes a CI can rely on, one clear line for every mistake, no tracebacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile import HostileServer

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert lines[0].startswith("conformance: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["run", "--target", "nope"], {}, "unknown target 'nope' (known targets:"),
        (
            ["run", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api-key-env", "NO_SUCH_VAR"],
            {},
            "environment variable NO_SUCH_VAR is not set",
        ),
        (["run", "--base-url", "localhost:8000", "--model", "m"], {}, "malformed base URL 'localhost:8000'"),
        (["run", "--mode", "sometimes"], {}, "argument --mode: invalid choice"),
        (["run", "--dialect", "klingon"], {}, "unknown dialect 'klingon'"),
        (
            ["run", "--target", "reference", "--mode", "replay", "--cassette-dir", "/nonexistent"],
            {},
            "no cassettes for target 'reference'",
        ),
        (["targets", "--", "-x"], {}, "arguments after -- are only for 'run'"),
        (["detect", "--fault", "no-such-fault"], {}, "unknown faults no-such-fault (list them with: conformance"),
        (["detect", "--jobs", "0"], {}, "--jobs must be at least 1"),
        (["serve-reference", "--fault", "no-such-fault"], {}, "unknown faults no-such-fault"),
        (["serve-reference", "--key-limit", "10"], {}, "'10' is not COUNT/SECONDS, e.g. 10/60"),
        (["serve-reference", "--key-limit", "0/60"], {}, "the count and the seconds must be positive"),
        (["serve-reference", "--latency", "-1"], {}, "'-1': the seconds cannot be negative"),
        (["run", "--target", "nope", "--dry-run"], {}, "unknown target 'nope' (known targets:"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli, args, env, expected):
    run = cli(*args, env=env)
    assert run.code == 2, run.stdout + run.stderr
    assert expected in one_line_error(run)


def copy_cassettes(tmp_path: Path) -> Path:
    root = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes" / "reference", root / "reference")
    return root


def test_an_unreadable_cassette_exits_2(cli, tmp_path):
    root = copy_cassettes(tmp_path)
    (root / "reference" / "models" / "list.yaml").write_text("cassette: 1\nid: [broken")
    run = cli("run", "--cassette-dir", str(root))
    assert run.code == 2
    assert "models/list.yaml is unreadable" in one_line_error(run)


def test_a_missing_recording_exits_2_and_names_it(cli, tmp_path):
    root = copy_cassettes(tmp_path)
    (root / "reference" / "chat-completions" / "basic.yaml").unlink()
    run = cli("run", "--cassette-dir", str(root))
    assert run.code == 2, run.stdout
    assert "no recording of exchange 'chat-completions/basic'" in run.stdout
    assert run.report["run"]["exit_code"] == 2
    assert any("no recording" in problem for problem in run.report["run"]["problems"])


def test_an_unused_recording_exits_2(cli, tmp_path):
    root = copy_cassettes(tmp_path)
    shutil.copy(root / "reference" / "models" / "list.yaml", root / "reference" / "models" / "list-old.yaml")
    # the copy claims to be models/list, so it sits in the wrong place: rename its id too
    path = root / "reference" / "models" / "list-old.yaml"
    path.write_text(path.read_text().replace("id: models/list", "id: models/list-old"))
    run = cli("run", "--cassette-dir", str(root))
    assert run.code == 2, run.stdout
    assert "1 recordings in" in run.stdout
    assert "were not used by any check" in run.stdout


def test_a_stale_recording_exits_2(cli, tmp_path):
    root = copy_cassettes(tmp_path)
    path = root / "reference" / "chat-completions" / "basic.yaml"
    path.write_text(path.read_text().replace("Reply with a short greeting.", "Something else."))
    run = cli("run", "--cassette-dir", str(root))
    assert run.code == 2
    assert "is stale: the JSON body differs" in run.stdout


def test_an_unreachable_target_exits_3_quickly(cli):
    with HostileServer("hang") as server:
        port = server.port
    run = cli(
        "run",
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--model",
        "m",
        "--api-key-env",
        "K",
        env={"K": "sk-0123456789abcdef"},
    )
    assert run.code == 3, run.stdout
    assert "the target is unreachable" in run.stdout
    assert run.seconds < 20
    assert run.report["summary"]["error"] == run.report["summary"]["checks"]


def test_a_rejected_key_exits_3(cli, reference_server):
    base_url, _ = reference_server
    run = cli("run", "--target", "reference", "--base-url", base_url, env={"REFERENCE_API_KEY": "sk-wrong-0123456789"})
    assert run.code == 3, run.stdout
    problems = run.report["run"]["problems"]
    assert any("rejected the API key on" in problem and "REFERENCE_API_KEY" in problem for problem in problems)
    assert run.report["summary"]["fail"] == 0


def test_a_hanging_target_stops_the_run_with_exit_3_within_bounded_time(cli):
    with HostileServer("hang") as server:
        run = cli(
            "run",
            "--base-url",
            server.base_url,
            "--model",
            "m",
            "--api-key-env",
            "K",
            "--timeout",
            "0.5",
            env={"K": "sk-0123456789abcdef"},
        )
    # the first two requests got nothing: every other would fare the same, so nothing is judged
    assert run.code == 3, run.stdout
    assert run.seconds < 30
    problems = run.report["run"]["problems"]
    assert any("answered neither of the first two requests" in problem for problem in problems), problems
    assert "no response headers within 0.5 s" in problems[0]
    assert run.report["summary"]["error"] == run.report["summary"]["checks"]
    assert run.report["summary"]["fail"] == 0


def test_a_target_answering_html_fails_with_a_clear_message(cli):
    with HostileServer("not-json") as server:
        run = cli(
            "run", "--base-url", server.base_url, "--model", "m", "--api-key-env", "K", env={"K": "sk-0123456789abcdef"}
        )
    assert run.code == 1
    checks = {check["id"]: check for check in run.report["checks"]}
    assert "expected Content-Type application/json, got text/html" in checks["models.list_succeeds"]["message"]


def test_pytest_arguments_pass_through(cli):
    run = cli("run", "--", "-k", "test_models and not retrieve")
    assert run.code == 0, run.stdout
    ids = set(run.verdicts())
    assert ids
    assert all(check_id.startswith("models.") and "retrieve" not in check_id for check_id in ids)
    assert run.report["run"]["complete"] is False
    # and it says why (issue 32: a -k run ended complete: false without a word)
    assert run.report["run"]["problems"][0].startswith(f"a partial run: {len(ids)} of the suite's ")


def test_pytest_plugins_a_plain_run_leaves_out_are_there_for_pytest_arguments(cli, tmp_path):
    """A run without pytest arguments does without pytest's junitxml, logging, debugging ... plugins;
    given arguments, pytest has all of them."""
    junit = tmp_path / "pytest-junit.xml"
    run = cli("run", "--", "-k", "test_models", f"--junitxml={junit}", "--log-level=INFO")
    assert run.code == 0, run.stdout + run.stderr
    assert "<testsuite" in junit.read_text()


def test_a_selection_matching_nothing_exits_2(cli):
    run = cli("run", "--", "-k", "no_such_check_anywhere")
    assert run.code == 2
    assert "no check matched the selection" in run.stderr


def test_the_listing_commands(cli):
    targets = cli("targets")
    assert targets.code == 0
    assert "reference" in targets.stdout
    assert "built-in reference server" in targets.stdout
    checks = cli("checks", "--row", "models")
    assert checks.code == 0
    assert "models.list_is_schema_valid" in checks.stdout
    assert "chat-completions" not in checks.stdout
    faults = cli("faults", "--row", "tools")
    assert faults.code == 0
    assert "required-as-auto" in faults.stdout
    assert "stream-no-done" not in faults.stdout


def test_detect_scores_the_faults_it_is_given(cli, tmp_path):
    run = cli("detect", "--fault", "stream-no-done", "--fault", "n-ignored", "--output", str(tmp_path / "faults"))
    assert run.code == 0, run.stdout + run.stderr
    assert "caught  stream-no-done" in run.stdout
    assert "2 of 2 faults caught (2 without blaming another row), 0 false alarms" in run.stdout
    written = (tmp_path / "faults" / "detection.md").read_text()
    assert "`n-ignored`" in written
    assert "`chat-completions.n_is_honoured`" in written


def test_replay_blocks_the_network(cli, tmp_path, reference_server):
    base_url, _ = reference_server
    port = int(base_url.split(":")[2].split("/")[0])
    outcome = tmp_path / "outcome.txt"
    (tmp_path / "netprobe.py").write_text(
        "import socket\n"
        "def pytest_sessionfinish(session):\n"
        "    try:\n"
        f"        socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        "        text = 'connected'\n"
        "    except Exception as exc:\n"
        "        text = f'{type(exc).__name__}: {exc}'\n"
        f"    open({str(outcome)!r}, 'w').write(text)\n"
    )
    run = cli("run", "--", "-p", "netprobe", env={"PYTHONPATH": str(tmp_path)})
    assert run.code == 0, run.stdout + run.stderr
    assert outcome.read_text() == "RuntimeError: Network is disabled for host '127.0.0.1'"


def test_serve_reference_answers_with_its_key(tmp_path):
    import os
    import subprocess
    import sys

    import httpx2

    env = {**os.environ, "REFERENCE_API_KEY": "sk-served-0123456789"}
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve-reference", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("reference server: http://127.0.0.1:")
        base_url = first.split()[2]
        response = httpx2.get(f"{base_url}/models", headers={"authorization": "Bearer sk-served-0123456789"}, timeout=5)
        assert response.status_code == 200
        assert httpx2.get(f"{base_url}/models", timeout=5).status_code == 401
        assert "sk-served" not in process.stdout.readline()
    finally:
        process.terminate()
        process.wait(10)


def test_a_replay_makes_as_many_trials_as_its_recording(cli, tmp_path):
    cassettes = tmp_path / "cassettes"
    recorded = cli(
        "run",
        "--target",
        "reference",
        "--mode",
        "record",
        "--trials",
        "2",
        "--max-trials",
        "2",
        "--cassette-dir",
        str(cassettes),
    )
    assert recorded.code == 0, recorded.stdout + recorded.stderr
    assert recorded.report["run"]["trials"] == 2
    assert (cassettes / "reference" / "tools" / "auto-trial-2.yaml").is_file()
    assert not (cassettes / "reference" / "tools" / "auto-trial-3.yaml").exists()
    replayed = cli("run", "--target", "reference", "--cassette-dir", str(cassettes))
    assert replayed.code == 0, replayed.stdout
    assert replayed.report["run"]["trials"] == 2
    assert replayed.report["run"]["problems"] == []
    assert replayed.verdicts() == recorded.verdicts()
    rate = next(c["rate"] for c in replayed.report["checks"] if c["id"] == "tools.auto_choice_calls_a_tool")
    assert (rate["successes"], rate["trials"]) == (6, 6)
    # asking a replay for more trials than were recorded is a cassette problem, in one line per check
    more = cli("run", "--target", "reference", "--cassette-dir", str(cassettes), "--trials", "3")
    assert more.code == 2
    assert "no recording of exchange 'tools/auto-trial-3'" in json.dumps(more.report)


def test_a_recording_made_before_trials_existed_replays_as_one_trial_each(cli, tmp_path):
    cassettes = tmp_path / "cassettes"
    recorded = cli(
        "run",
        "--target",
        "reference",
        "--mode",
        "record",
        "--trials",
        "1",
        "--max-trials",
        "1",
        "--cassette-dir",
        str(cassettes),
    )
    assert recorded.code == 0, recorded.stdout + recorded.stderr
    info = cassettes / "reference" / "cassette-set.yaml"
    text = info.read_text()
    assert "    trials: 1\n" in text
    assert "    max_trials: 1\n" in text
    # as the suite wrote it before trials (and before a check could draw more of them)
    info.write_text(text.replace("    trials: 1\n", "").replace("    max_trials: 1\n", ""))
    replayed = cli("run", "--target", "reference", "--cassette-dir", str(cassettes))
    assert replayed.code == 0, replayed.stdout
    assert replayed.report["run"]["trials"] == 1
    assert replayed.verdicts() == recorded.verdicts()
