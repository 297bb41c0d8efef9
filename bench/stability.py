"""Verdicts that hold on real models: repeated live runs against one target (issue 32, item 3).

    python bench/stability.py --target smollm2-llamaserver [--runs 10] [--output DIR]

The target's server must be up and its key in the environment, as for ``conformance run --target``
(each bundled real-model profile says how its server was started). The bench makes ``--runs``
identical live runs with the suite's default trials (5, up to ``limits.max_trials`` when they
leave a model check undecided) and compares every check's status across them:

- a check going between pass and fail is a flip, whatever its kind;
- a protocol check must give the same status in every run;
- a model check may only move between its verdict and *inconclusive* (too few trials to tell).

Anything else is a violation. It prints a table (what varied, with each run's rate for model
checks) and writes reports/bench/stability-<target>.json, after every run (a bench stopped early keeps the runs
it made); it exits 1 on a violation, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 3600.0  # seconds: a full live run against a CPU-served model takes minutes, never an hour
VERDICTS = frozenset({"pass", "fail"})
SETTLING = frozenset({"pass", "fail", "inconclusive"})


def _env() -> dict[str, str]:
    """The caller's environment (it holds the target's key) without suite settings that would
    change what a run does."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}


def live_run(target: str, report_dir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "conformance", "run", "--target", target, "--mode", "live"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--report-dir", str(report_dir)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    took = time.perf_counter() - started
    if done.returncode not in (0, 1) or not (report_dir / "report.json").is_file():
        raise SystemExit(f"stability: {' '.join(command[3:])} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    report = json.loads((report_dir / "report.json").read_text())
    report["_seconds"] = round(took, 1)
    return report


def compare(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Every check's statuses over the runs, the flips, and the violations of item 3."""
    kinds: dict[str, str] = {}
    statuses: dict[str, list[str]] = {}
    rates: dict[str, list[str | None]] = {}
    for report in reports:
        for check in report["checks"]:
            kinds[check["id"]] = check.get("kind") or "protocol"
            statuses.setdefault(check["id"], []).append(check["status"])
            rate = check.get("rate")
            rates.setdefault(check["id"], []).append(f"{rate['successes']}/{rate['trials']}" if rate else None)
    runs = len(reports)
    varied, violations, flips = {}, [], []
    for check_id, seen in statuses.items():
        if len(seen) < runs:
            violations.append({"check": check_id, "why": f"judged in {len(seen)} of {runs} runs"})
        distinct = set(seen)
        if len(distinct) == 1:
            continue
        entry: dict[str, Any] = {"kind": kinds[check_id], "statuses": dict(Counter(seen))}
        if kinds[check_id] == "model":
            entry["rates"] = rates[check_id]
        varied[check_id] = entry
        if distinct >= VERDICTS:
            flips.append(check_id)
            violations.append({"check": check_id, "why": "between pass and fail"})
        elif kinds[check_id] != "model":
            violations.append({"check": check_id, "why": "a protocol check with more than one status"})
        elif not distinct <= SETTLING:
            violations.append({"check": check_id, "why": "a model check moving beyond verdict and inconclusive"})
    model_rates = {
        check_id: [rate for rate in rates[check_id] if rate]
        for check_id, kind in kinds.items()
        if kind == "model" and any(rates[check_id])
    }
    return {
        "checks": len(statuses),
        "protocol_checks": sum(kind != "model" for kind in kinds.values()),
        "model_checks": sum(kind == "model" for kind in kinds.values()),
        "flips": sorted(flips),
        "varied": dict(sorted(varied.items())),
        "violations": violations,
        "model_rates": dict(sorted(model_rates.items())),
    }


def measure(target: str, runs: int, work: Path, path: Path) -> dict[str, Any]:
    """Make the runs, writing what the runs so far show to ``path`` after each (a bench stopped early keeps them)."""
    reports: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for number in range(1, runs + 1):
        report = live_run(target, work / f"run-{number}")
        reports.append(report)
        print(f"run {number}/{runs}: {report['_seconds']} s, {report['run']['requests_sent']} requests", flush=True)
        result = summary(target, reports)
        path.write_text(json.dumps(result, indent=2) + "\n")
    return result


def summary(target: str, reports: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [report["_seconds"] for report in reports]
    requests = [report["run"]["requests_sent"] for report in reports]
    return {
        "target": target,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "runs": len(reports),
        "trials": reports[0]["run"]["trials"],
        "max_trials": reports[0]["run"].get("max_trials"),
        "seconds_per_run": {"min": min(seconds), "median": statistics.median(seconds), "max": max(seconds)},
        "requests_per_run": {"min": min(requests), "median": statistics.median(requests), "max": max(requests)},
        "exit_codes": [report["run"]["exit_code"] for report in reports],
        **compare(reports),
    }


def table(result: dict[str, Any]) -> str:
    seconds, requests = result["seconds_per_run"], result["requests_per_run"]
    lines = [
        f"{result['target']}: {result['runs']} live runs, {result['trials']} trials (up to {result['max_trials']}), "
        f"{seconds['median']} s and {requests['median']} requests a run (median)",
        f"checks: {result['checks']} ({result['protocol_checks']} protocol, {result['model_checks']} model); "
        f"varied: {len(result['varied'])}; between pass and fail: {len(result['flips'])}; "
        f"violations: {len(result['violations'])}",
    ]
    for check_id, entry in result["varied"].items():
        seen = ", ".join(f"{status} {count}" for status, count in sorted(entry["statuses"].items()))
        rates = f" rates {' '.join(entry['rates'])}" if entry.get("rates") else ""
        lines.append(f"  varied ({entry['kind']}): {check_id}: {seen}{rates}")
    for violation in result["violations"]:
        lines.append(f"  VIOLATION: {violation['check']}: {violation['why']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="a bundled target whose server is up")
    parser.add_argument("--runs", type=int, default=10, help="identical live runs (default 10)")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "bench", help="where the result goes")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    if not (ROOT / "targets" / f"{args.target}.toml").is_file():
        parser.error(f"no bundled target {args.target!r} (targets/{args.target}.toml)")
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"stability-{args.target}.json"
    with tempfile.TemporaryDirectory(prefix="conformance-bench-stability-") as tmp:
        result = measure(args.target, args.runs, Path(tmp), path)
    print(table(result))
    print(f"written: {path}")
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
