"""Model behaviour measured as rates: does the gate fail on real drops, and never by chance? (issue 14)

    python bench/rates.py [--runs 10] [--drop-runs 5] [--noise 0.1] [--output DIR]

Against the reference server behaving like a hosted model (``--model-noise``: its wording varies at
temperature 0, it calls a mentioned tool on "auto" with probability 1 - noise/2, it sometimes calls
tools in parallel), with the default trials:

1. flips: ``--runs`` identical live runs; the checks whose status goes between pass and fail across
   them (target 0);
2. spurious gate failures: runs 2..N gated against a baseline written from run 1 (target 0 of N-1);
3. a real drop: ``--drop-runs`` runs with the fault auto-rarely-calls on (auto calls a mentioned tool
   in 20 % of answers), each gated against run 1's baseline; the gate must fail every time, and on
   tools.auto_choice_calls_a_tool (target: all of them).

It prints a table and writes reports/bench/rates.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import KEY, ROOT, _bench_profile, _report, _suite, _timed

from conformance.baseline import describe, gate, write_baseline
from conformance.reference import ReferenceConfig, ReferenceServer

DROP_FAULT = "auto-rarely-calls"
DROP_CHECK = "tools.auto_choice_calls_a_tool"


TRIALS: list[str] = []  # --trials N for the suite, when the bench is told


def _live(work: Path, profile: Path, base_url: str, name: str) -> dict[str, Any]:
    report_dir = work / name
    arguments = ["--target", str(profile), "--mode", "live", "--base-url", base_url, "--report-dir", str(report_dir)]
    _timed(_suite(*arguments, *TRIALS), work)
    return _report(report_dir)


def measure(work: Path, runs: int, drop_runs: int, noise: float) -> dict[str, Any]:
    profile = _bench_profile(work)
    config = ReferenceConfig(api_keys=frozenset({KEY}), model_noise=noise)
    with ReferenceServer(config) as server:
        root = server.base_url.removesuffix("/compat/v1")
        reports = [_live(work, profile, server.base_url, f"run-{n}") for n in range(1, runs + 1)]
        dropped = [
            _live(work, profile, f"{root}/faults/{DROP_FAULT}/compat/v1", f"drop-{n}") for n in range(1, drop_runs + 1)
        ]
    statuses: dict[str, list[str]] = defaultdict(list)
    for report in reports:
        for check in report["checks"]:
            statuses[check["id"]].append(check["status"])
    flips = sorted(check_id for check_id, seen in statuses.items() if {"pass", "fail"} <= set(seen))
    varying = {check_id: seen for check_id, seen in statuses.items() if len(set(seen)) > 1}
    baseline = write_baseline(reports[0])
    spurious = []
    for number, report in enumerate(reports[1:], 2):
        result = gate(baseline, report)
        if not result.passed:
            spurious.append({"run": number, "regressions": [str(change) for change in result.regressions]})
    caught = []
    for number, report in enumerate(dropped, 1):
        result = gate(baseline, report)
        on_the_check = any(change.id == DROP_CHECK for change in result.regressions)
        caught.append(
            {
                "run": number,
                "gate_failed": not result.passed,
                "on_the_check": on_the_check,
                "regressions": [str(change) for change in result.regressions],
                "rate": next(c["rate"] for c in report["checks"] if c["id"] == DROP_CHECK),
            }
        )
    model_rates = {
        check["id"]: [next(c for c in r["checks"] if c["id"] == check["id"])["rate"]["successes"] for r in reports]
        for check in reports[0]["checks"]
        if check.get("rate")
    }
    return {
        "noise": noise,
        "trials": reports[0]["run"]["trials"],
        "runs": runs,
        "requests_per_run": reports[0]["run"]["requests_sent"],
        "flips": flips,
        "status_changes": varying,
        "successes_per_run": model_rates,
        "spurious_gate_failures": spurious,
        "drop": {"fault": DROP_FAULT, "check": DROP_CHECK, "runs": drop_runs, "results": caught},
        "last_gate": describe(gate(baseline, reports[-1]))[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="identical live runs (default 10)")
    parser.add_argument("--drop-runs", type=int, default=5, help="runs with the real drop (default 5)")
    parser.add_argument("--noise", type=float, default=0.1, help="the reference server's model noise (default 0.1)")
    parser.add_argument("--trials", type=int, help="trials per model check (default: the suite's, 5)")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "bench", help="where rates.json goes")
    args = parser.parse_args(argv)
    if args.trials is not None:
        TRIALS[:] = ["--trials", str(args.trials)]
    if args.runs < 2 or args.drop_runs < 1 or not 0 <= args.noise <= 1:
        parser.error("--runs must be at least 2, --drop-runs at least 1, --noise a probability")
    with tempfile.TemporaryDirectory(prefix="conformance-bench-rates-") as tmp:
        measured = measure(Path(tmp), args.runs, args.drop_runs, args.noise)
    caught = sum(r["gate_failed"] and r["on_the_check"] for r in measured["drop"]["results"])
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **measured,
        "targets": {"flips": 0, "spurious_gate_failures": 0, "drops_caught": args.drop_runs},
        "targets_met": {
            "flips": not measured["flips"],
            "spurious_gate_failures": not measured["spurious_gate_failures"],
            "drops_caught": caught == args.drop_runs,
        },
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "rates.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written: {args.output / 'rates.json'}")
    return 0 if all(result["targets_met"].values()) else 1


def table(result: dict[str, Any]) -> str:
    runs, drop = result["runs"], result["drop"]
    caught = sum(r["gate_failed"] and r["on_the_check"] for r in drop["results"])
    met = result["targets_met"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = [
        f"model noise {result['noise']}, {result['trials']} trials, {result['requests_per_run']} requests a run",
        f"checks between pass and fail over {runs} runs: {len(result['flips'])} (target 0, {verdict(met['flips'])})",
        f"spurious gate failures, runs 2-{runs} against run 1: {len(result['spurious_gate_failures'])} of {runs - 1} "
        f"(target 0, {verdict(met['spurious_gate_failures'])})",
        f"real drop ({drop['fault']}) failing the gate on {drop['check']}: {caught} of {drop['runs']} "
        f"(target {drop['runs']}, {verdict(met['drops_caught'])})",
    ]
    for check_id, seen in sorted(result["status_changes"].items()):
        lines.append(f"  varied within chance: {check_id}: {', '.join(seen)}")
    lines.append(result["measured_at"])
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
