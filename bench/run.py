"""The suite's speed and request budget, measured in one run as ratios (issue 8).

    python bench/run.py [--repeat N] [--latency SECONDS] [--output DIR]

1. replay: a full replay of the bundled reference cassettes, against the start-up floor
   (``python -c "import conformance, pytest, openai"``); median wall time of N runs each.
2. live: a full live run against the reference server holding every answer back ``--latency``
   seconds, against the ideal (requests x latency / concurrency). The run's own duration is
   compared (interpreter start-up is the floor of part 1); the rate-limit probe is off, since it
   waits for Retry-After on purpose.
3. requests: requests sent against distinct exchanges, live in one process and under
   ``pytest -n 2``, with the dry run's upper bound beside them.

It prints a table and writes reports/bench/bench.json. Targets: replay <= 2x the floor, live <= 1.3x
the ideal, requests = distinct exchanges. Timings on a shared machine are noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-0123456789abcdef"
TARGETS = {"replay": 2.0, "live": 1.3}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    # measure what users get: compiled modules are cached after the first run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["REFERENCE_API_KEY"] = KEY
    return env


def _timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(command[:4])} ... exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return took


def _interleaved(commands: list[list[str]], cwd: Path, repeat: int) -> list[list[float]]:
    """Wall times of each command, run in turn ``repeat`` times (so that both meet the same load)."""
    for command in commands:
        _timed(command, cwd)  # warm-up: caches bytecode and the file system
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for position, command in enumerate(commands):
            times[position].append(_timed(command, cwd))
    return times


def _suite(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", "run", *args]


def _bench_profile(work: Path) -> Path:
    """The reference profile without the rate-limit probe (it sleeps for Retry-After on purpose)."""
    text = (ROOT / "targets" / "reference.toml").read_text()
    text = re.sub(r"(?m)^probe = true$", "probe = false", text)
    path = work / "reference-bench.toml"
    path.write_text(text)
    return path


def _report(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "report.json").read_text())


def measure_replay(work: Path, repeat: int) -> dict[str, Any]:
    floor_runs, replay_runs = _interleaved(
        [
            [sys.executable, "-c", "import conformance, pytest, openai"],
            _suite("--target", "reference", "--report-dir", str(work / "replay")),
        ],
        work,
        repeat,
    )
    floor, replay = statistics.median(floor_runs), statistics.median(replay_runs)
    checks = len(_report(work / "replay")["checks"])
    return {
        "floor_seconds": round(floor, 3),
        "replay_seconds": round(replay, 3),
        "ratio": round(replay / floor, 2),
        "target": TARGETS["replay"],
        "checks": checks,
        "runs": {"floor": [round(t, 3) for t in floor_runs], "replay": [round(t, 3) for t in replay_runs]},
    }


def measure_live(work: Path, latency: float, workers: int | None = None) -> dict[str, Any]:
    from conformance.reference import ReferenceConfig, ReferenceServer

    profile = _bench_profile(work)
    report_dir = work / f"live-{workers or 1}"
    args = ["--target", str(profile), "--mode", "live", "--report-dir", str(report_dir)]
    with ReferenceServer(ReferenceConfig(api_keys=frozenset({KEY}), latency=latency)) as server:
        command = _suite(*args, "--base-url", server.base_url, *(["--", "-n", str(workers)] if workers else []))
        wall = _timed(command, work)
    report = _report(report_dir)
    run = report["run"]
    concurrency = int(tomllib.loads(profile.read_text())["limits"]["concurrency"])
    ideal = run["requests_sent"] * latency / concurrency
    return {
        "latency_seconds": latency,
        "concurrency": concurrency,
        "requests_sent": run["requests_sent"],
        "exchanges": run["exchanges_made"],
        "retries_after_429": run["retries_after_429"],
        "run_seconds": run["duration"],
        "process_seconds": round(wall, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(run["duration"] / ideal, 2),
        "target": TARGETS["live"],
        "verdicts": {check["id"]: check["status"] for check in report["checks"]},
    }


def planned_requests(work: Path) -> int:
    report_dir = work / "plan"
    done = subprocess.run(
        _suite("--target", str(_bench_profile(work)), "--dry-run", "--report-dir", str(report_dir)),
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: the dry run exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return int(json.loads((report_dir / "plan.json").read_text())["requests"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per replay measurement (median)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the reference server holds answers")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "bench", help="where bench.json goes")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.latency <= 0:
        parser.error("--repeat must be at least 1 and --latency positive")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "conformance")], check=False)
    with tempfile.TemporaryDirectory(prefix="conformance-bench-") as tmp:
        work = Path(tmp)
        replay = measure_replay(work, args.repeat)
        live = measure_live(work, args.latency)
        parallel = measure_live(work, args.latency, workers=2)
        planned = planned_requests(work)
    requests = {
        "planned_at_most": planned,
        "one_process": {"requests_sent": live["requests_sent"], "exchanges": live["exchanges"]},
        "xdist_2_workers": {"requests_sent": parallel["requests_sent"], "exchanges": parallel["exchanges"]},
        "equal": live["requests_sent"] == live["exchanges"] == parallel["requests_sent"] == parallel["exchanges"],
        "same_verdicts_under_xdist": live.pop("verdicts") == parallel.pop("verdicts"),
    }
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": f"{platform.system()} {platform.machine()}",
        },
        "replay": replay,
        "live": live,
        "live_xdist_2_workers": parallel,
        "requests": requests,
        "targets_met": {
            "replay": replay["ratio"] <= TARGETS["replay"],
            "live": live["ratio"] <= TARGETS["live"],
            "requests": requests["equal"] and requests["same_verdicts_under_xdist"],
        },
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written: {args.output / 'bench.json'}")
    return 0 if all(result["targets_met"].values()) else 1


def table(result: dict[str, Any]) -> str:
    replay, live, parallel, requests = (
        result["replay"],
        result["live"],
        result["live_xdist_2_workers"],
        result["requests"],
    )
    met = result["targets_met"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = [
        ("measure", "value", "against", "ratio", "target"),
        (
            f"replay, {replay['checks']} checks",
            f"{replay['replay_seconds']:.2f} s",
            f"floor {replay['floor_seconds']:.2f} s",
            f"{replay['ratio']:.2f}x",
            f"<= {replay['target']}x {verdict(met['replay'])}",
        ),
        (
            f"live, {live['latency_seconds'] * 1000:.0f} ms a request",
            f"{live['run_seconds']:.2f} s",
            f"ideal {live['ideal_seconds']:.2f} s",
            f"{live['ratio']:.2f}x",
            f"<= {live['target']}x {verdict(met['live'])}",
        ),
        (
            "live, pytest -n 2",
            f"{parallel['run_seconds']:.2f} s",
            f"ideal {parallel['ideal_seconds']:.2f} s",
            f"{parallel['ratio']:.2f}x",
            "same verdicts" if requests["same_verdicts_under_xdist"] else "verdicts DIFFER",
        ),
        (
            "requests sent",
            f"{live['requests_sent']} / {parallel['requests_sent']} (-n 2)",
            f"{live['exchanges']} exchanges",
            f"plan <= {requests['planned_at_most']}",
            f"equal {verdict(met['requests'])}",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    machine = result["machine"]
    lines.append(f"{result['measured_at']}, {machine['cpus']} CPUs, Python {machine['python']}, {machine['system']}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
