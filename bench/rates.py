"""Model behaviour measured as rates: does the gate fail on real drops, and never by chance? (issues 14, 32)

    python bench/rates.py [--runs 101] [--drop-runs 100] [--noise 0.3] [--output DIR]

Against the reference server behaving like a hosted model (``--model-noise``: its wording varies at
temperature 0, it calls a mentioned tool on "auto" with probability 1 - noise/2, it sometimes calls
tools in parallel), with the default trials (5, up to 20 when they leave a check undecided):

1. flips: ``--runs`` identical live runs; the checks whose status goes between pass and fail across
   them;
2. spurious gate failures: each run k (k >= 2) gated against a baseline written from run k - 1, so
   every gate compares two independent runs of an unchanged target (target: at most 1 in 100, the
   family-wise 1 % of conformance.rates);
3. a real drop: ``--drop-runs`` runs with the fault auto-rarely-calls on (auto calls a mentioned tool
   in 20 % of answers), run j gated against the baseline of clean run j; the gate must fail on
   tools.auto_choice_calls_a_tool in at least 95 % of them.

It prints a table and writes reports/bench/rates.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import KEY, ROOT, _bench_profile, _report, _suite, _timed

from conformance.baseline import gate, write_baseline
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
    varying = {check_id: dict(Counter(seen)) for check_id, seen in statuses.items() if len(set(seen)) > 1}
    baselines = [write_baseline(report) for report in reports]
    spurious, listed = [], Counter()
    for number in range(2, runs + 1):
        result = gate(baselines[number - 2], reports[number - 1])
        listed.update(change.id for change in result.changed)
        if not result.passed:
            spurious.append({"run": number, "regressions": [str(change) for change in result.regressions]})
    caught = []
    for number, report in enumerate(dropped, 1):
        result = gate(baselines[(number - 1) % runs], report)
        caught.append(
            {
                "run": number,
                "gate_failed": not result.passed,
                "on_the_check": any(change.id == DROP_CHECK for change in result.regressions),
                "regressions": [str(change) for change in result.regressions],
                "rate": next(c["rate"] for c in report["checks"] if c["id"] == DROP_CHECK),
            }
        )
    model_rates = {
        check["id"]: [
            f"{rate['successes']}/{rate['trials']}"
            for rate in (next(c for c in r["checks"] if c["id"] == check["id"]).get("rate") for r in reports)
            if rate
        ]
        for check in reports[0]["checks"]
        if check.get("kind") == "model"
    }
    requests = [report["run"]["requests_sent"] for report in reports]
    return {
        "noise": noise,
        "trials": reports[0]["run"]["trials"],
        "runs": runs,
        "requests_per_run": {
            "min": min(requests),
            "median": statistics.median(requests),
            "max": max(requests),
        },
        "flips": flips,
        "status_changes": varying,
        "changes_listed_by_the_gate": dict(listed.most_common()),
        "successes_per_run": model_rates,
        "spurious_gate_failures": spurious,
        "gates": runs - 1,
        "drop": {"fault": DROP_FAULT, "check": DROP_CHECK, "runs": drop_runs, "results": caught},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=101, help="identical live runs (default 101: 100 gates)")
    parser.add_argument("--drop-runs", type=int, default=100, help="runs with the real drop (default 100)")
    parser.add_argument("--noise", type=float, default=0.3, help="the reference server's model noise (default 0.3)")
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
    allowed = (args.runs - 1) // 100  # at most 1 in 100 gates
    needed = -(-95 * args.drop_runs // 100)  # at least 95 in 100 drops
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **measured,
        "targets": {"spurious_gate_failures_at_most": allowed, "drops_caught_at_least": needed},
        "targets_met": {
            "spurious_gate_failures": len(measured["spurious_gate_failures"]) <= allowed,
            "drops_caught": caught >= needed,
        },
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "rates.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written: {args.output / 'rates.json'}")
    return 0 if all(result["targets_met"].values()) else 1


def table(result: dict[str, Any]) -> str:
    runs, drop, targets = result["runs"], result["drop"], result["targets"]
    caught = sum(r["gate_failed"] and r["on_the_check"] for r in drop["results"])
    met = result["targets_met"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    requests = result["requests_per_run"]
    lines = [
        f"model noise {result['noise']}, {result['trials']} trials (more when undecided), "
        f"{requests['min']}-{requests['max']} requests a run (median {requests['median']})",
        f"checks between pass and fail over {runs} runs: {len(result['flips'])} {result['flips'] or ''}".rstrip(),
        f"spurious gate failures, each run against the previous run's baseline: "
        f"{len(result['spurious_gate_failures'])} of {result['gates']} "
        f"(target at most {targets['spurious_gate_failures_at_most']}, {verdict(met['spurious_gate_failures'])})",
        f"real drop ({drop['fault']}) failing the gate on {drop['check']}: {caught} of {drop['runs']} "
        f"(target at least {targets['drops_caught_at_least']}, {verdict(met['drops_caught'])})",
    ]
    for failure in result["spurious_gate_failures"]:
        lines.append(f"  spurious: run {failure['run']}: {'; '.join(failure['regressions'])}")
    for check_id, seen in sorted(result["status_changes"].items()):
        lines.append(f"  varied: {check_id}: {', '.join(f'{s} {n}' for s, n in sorted(seen.items()))}")
    lines.append(result["measured_at"])
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
