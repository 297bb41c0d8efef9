"""A replay judged on both cores (conformance.ahead) reports exactly what a replay in one process
reports, takes every result from the split when it can, and judges what the split could not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import Run

from conformance.ahead import own_share, run_order

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(path.name for path in (ROOT / "cassettes").iterdir() if path.is_dir())
CHECKS = len(run_order())

# the CLI, with the copy made to end after STOP_AFTER results and the original saying what it took
HARNESS = """
import os, sys
from conformance import ahead, cli
parent, stop_after, sent, took = os.getpid(), int(os.environ.get("STOP_AFTER", "0")), [0], []
send, finish = ahead._send, ahead.finish
def counted(pipe, message):
    if os.getpid() != parent:
        sent[0] += 1
        if sent[0] == stop_after:
            os._exit(3)
    return send(pipe, message)
def reported():
    split = ahead.current()
    if split is not None:
        took.append(f"split: took {split.taken} of {len(split.order)}")
    finish()
ahead._send, ahead.finish = counted, reported
code = cli.main(sys.argv[1:])
for line in took:
    print(line, file=sys.stderr)
sys.exit(code)
"""


def _run(tmp_path: Path, *args: str, **env: str) -> Run:
    report_dir = tmp_path / f"report-{len(list(tmp_path.iterdir()))}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    environment.update(env, CONFORMANCE_CACHE_DIR=str(tmp_path.parent / "conformance-cache"))
    command = [sys.executable, "-c", HARNESS, "run", "--report-dir", str(report_dir), *args]
    done = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    return Run(done.returncode, done.stdout, done.stderr, 0.0, report_dir)


def _comparable(report: dict[str, Any]) -> tuple[Any, ...]:
    checks = [{key: value for key, value in check.items() if key != "duration"} for check in report["checks"]]
    return checks, report["exchanges"], report["summary"], report["rows"], report["run"]["exit_code"]


def _console(run: Run) -> str:
    return re.sub(r"report-\d+", "report-N", re.sub(r" in [0-9.]+s", "", run.stdout))


@pytest.mark.parametrize("target", BUNDLED)
def test_a_split_replay_reports_what_one_process_reports(tmp_path, target):
    split = _run(tmp_path, "--target", target)
    alone = _run(tmp_path, "--target", target, CONFORMANCE_JUDGE_AHEAD="0")
    assert f"split: took {CHECKS} of {CHECKS}" in split.stderr, split.stderr
    assert "split:" not in alone.stderr
    assert split.code == alone.code
    assert _comparable(split.report) == _comparable(alone.report)
    assert _console(split) == _console(alone)  # the copy prints nothing


@pytest.mark.parametrize("stop_after", [1, 30, 60])
def test_a_copy_that_dies_leaves_the_rest_to_the_original(tmp_path, stop_after):
    """The copy ends after some results (before, during and after the checks that run last): the
    original judges the rest, with the exchanges counted as one process counts them."""
    split = _run(tmp_path, "--target", "reference", STOP_AFTER=str(stop_after))
    alone = _run(tmp_path, "--target", "reference", CONFORMANCE_JUDGE_AHEAD="0")
    taken = int(re.search(r"split: took (\d+) of", split.stderr).group(1))  # type: ignore[union-attr]
    # what the copy sent before it ended, and the original's own share
    assert taken == stop_after - 1 + len(own_share(run_order()))
    assert split.code == alone.code == 0
    assert _comparable(split.report) == _comparable(alone.report)


def test_pytest_arguments_turn_the_split_off(tmp_path):
    """With arguments for pytest the checks and their order may differ: one process judges them."""
    run = _run(tmp_path, "--target", "reference", "--", "-k", "test_models or test_transport")
    assert "split:" not in run.stderr
    assert run.code == 0, run.stdout
    assert {check["row"] for check in run.report["checks"]} == {"models", "transport"}


def test_a_live_run_is_not_split(tmp_path):
    run = _run(tmp_path, "--target", "reference", "--mode", "live")
    assert "split:" not in run.stderr
    assert run.code == 0, run.stdout


@pytest.mark.parametrize("judge_ahead", ["1", "0"])
def test_the_checks_that_run_last_see_the_probes_of_a_later_row(tmp_path, judge_ahead):
    """Every stream's events are judged, the reasoning row's too, though that row comes after the streaming row
    and only checks that run last need its stream."""
    run = _run(tmp_path, "--target", "reference-openai", CONFORMANCE_JUDGE_AHEAD=judge_ahead)
    check = next(c for c in run.report["checks"] if c["id"] == "responses-streaming.events_are_typed_json")
    assert "responses-reasoning/stream" in check["evidence"], check
