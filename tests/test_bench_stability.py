"""Verdicts that hold on real models (issue 32, item 3): what the ten-run benchmark counts as a violation, and what
the README says of the committed runs. Nothing here asserts a timing."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_stability", ROOT / "bench" / "stability.py")
assert _spec is not None
assert _spec.loader is not None
stability = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stability)

README = re.sub(r"\s+", " ", (ROOT / "README.md").read_text().replace("**", ""))
RESULTS = sorted((ROOT / "reports" / "bench").glob("stability-*.json"))


def report(**statuses: str | tuple[str, int, int]) -> dict:
    checks = []
    for name, status in statuses.items():
        kind = "model" if name.startswith("model_") else "protocol"
        rate = None
        if isinstance(status, tuple):
            status, successes, trials = status
            rate = {"successes": successes, "trials": trials}
        checks.append({"id": f"row.{name}", "status": status, "kind": kind, "rate": rate})
    return {"checks": checks}


def test_a_model_check_may_move_between_its_verdict_and_inconclusive():
    runs = [report(p="pass", model_a=("pass", 5, 5)), report(p="pass", model_a=("inconclusive", 12, 20))]
    result = stability.compare(runs)
    assert result["violations"] == []
    assert result["flips"] == []
    assert result["varied"]["row.model_a"] == {
        "kind": "model",
        "statuses": {"pass": 1, "inconclusive": 1},
        "rates": ["5/5", "12/20"],
    }
    assert result["model_rates"] == {"row.model_a": ["5/5", "12/20"]}


def test_a_flip_and_a_protocol_check_that_varies_are_violations():
    runs = [
        report(p="pass", q="fail", model_a=("pass", 5, 5), model_b="pass"),
        report(p="blocked", q="fail", model_a=("fail", 0, 20), model_b="blocked"),
    ]
    result = stability.compare(runs)
    assert result["flips"] == ["row.model_a"]
    assert {(v["check"], v["why"]) for v in result["violations"]} == {
        ("row.p", "a protocol check with more than one status"),
        ("row.model_a", "between pass and fail"),
        ("row.model_b", "a model check moving beyond verdict and inconclusive"),
    }
    missing = stability.compare([report(p="pass", q="pass"), report(p="pass")])
    assert missing["violations"] == [{"check": "row.q", "why": "judged in 1 of 2 runs"}]


def test_an_unknown_target_is_one_line_and_exit_2():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "stability.py"), "--target", "no-such-target"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no bundled target 'no-such-target'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("path", RESULTS, ids=[path.stem for path in RESULTS])
def test_the_committed_runs_hold_and_the_readme_quotes_them(path):
    """Repeated live runs of a real-model target: no check between pass and fail, every protocol check the same in
    all, and what varied is in the README with its rates."""
    result = json.loads(path.read_text())
    assert result["runs"] >= 2
    assert result["violations"] == [], result["violations"]
    target = result["target"]
    assert f"`{target}`: {result['runs']} live runs" in README
    for check_id, entry in result["varied"].items():
        assert f"`{check_id}` {' '.join(entry.get('rates', []))}".rstrip() in README, check_id
