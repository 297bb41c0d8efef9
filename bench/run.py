"""The suite's speed and request budget, measured in one run as ratios (issue 8).

    python bench/run.py [--repeat N] [--latency SECONDS] [--output DIR] [--setting LABEL ...]

1. replay: a full replay of the bundled reference cassettes, against the start-up floor
   (``python -c "import conformance, pytest, openai"``); median wall time of N runs each, without
   node (the Python client and the schemas) and with it (the TypeScript client too).
2. pacing: live runs against the reference server holding every answer back ``--latency``
   seconds, against the least time its latency, the concurrency and its limits allow (a greedy
   schedule: ``concurrency`` at a time, at most ``limit`` starts in any window), in four settings:
   nothing announced (the full run); 600 a minute announced with an empty window (the full run);
   30 a minute announced, a sliding window the run must wait for (the rows of the models, chat
   completions, streaming and the keys, about 40 requests); and the same 30 a minute declared with
   ``--rpm 30`` against an unlimited server. The run's own duration is compared (interpreter
   start-up is the floor of part 1); the rate-limit probe is off, since it waits for Retry-After on
   purpose. Each must send every request once and have no 429 judged. ``--setting`` measures only those
   named (and "nothing announced", which part 3 compares with).
3. requests: requests sent against distinct exchanges, live in one process and under
   ``pytest -n 2``, with the dry run's upper bound beside them.

It prints a table and writes reports/bench/bench.json. Targets: replay <= 1.5x the floor (the
TypeScript oracle adding at most 0.5 s), each
pacing setting <= 1.2x its least time with no self-caused 429, requests = distinct exchanges.
Timings on a shared machine are noisy: read the ratios.
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
TARGETS = {"replay": 1.5, "live": 1.2, "typescript_seconds": 0.5}
# the rows of the limited settings: enough requests that a 30-a-minute window must be waited for
LIMITED_ROWS = "test_models or test_chat_completions or test_streaming or test_errors_auth"
SETTINGS = {
    # the reference server announces a generous limit on chat completions unless told not to
    "nothing announced": {"fault": "no-rate-limit-headers"},
    "600/min announced, empty window": {"key_limit": (600, 60.0)},
    "30/min announced, sliding window": {"key_limit": (30, 60.0), "rows": LIMITED_ROWS},
    "30/min declared (--rpm 30)": {"rpm": 30, "rows": LIMITED_ROWS},
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    # measure what users get: compiled modules are cached after the first run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["REFERENCE_API_KEY"] = KEY
    return env


def _timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env={**_env(), **(env or {})}, capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(command[:4])} ... exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return took


def _interleaved(commands: list[tuple[list[str], dict[str, str] | None]], cwd: Path, repeat: int) -> list[list[float]]:
    """Wall times of each command (with its environment), run in turn ``repeat`` times (so that all
    meet the same load)."""
    for command, env in commands:
        _timed(command, cwd, env)  # warm-up: caches bytecode, parsed cassettes and the file system
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for position, (command, env) in enumerate(commands):
            times[position].append(_timed(command, cwd, env))
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
    """The full replay with both client oracles, and without node (the Python client and the schemas
    alone: the replay as it was before the TypeScript oracle), against the import floor."""
    replay = _suite("--target", "reference", "--report-dir", str(work / "replay"))
    # node is looked up on PATH: a PATH with the interpreter's folder only has none
    without_node = {"PATH": str(Path(sys.executable).parent)}
    # the run with node comes last in each round: its report says which TypeScript release judged
    floor_runs, python_runs, replay_runs = _interleaved(
        [([sys.executable, "-c", "import conformance, pytest, openai"], None), (replay, without_node), (replay, None)],
        work,
        repeat,
    )
    floor, with_ts, python_only = (statistics.median(runs) for runs in (floor_runs, replay_runs, python_runs))
    report = _report(work / "replay")
    return {
        "floor_seconds": round(floor, 3),
        "replay_seconds": round(python_only, 3),
        "ratio": round(python_only / floor, 2),
        "target": TARGETS["replay"],
        "with_typescript_seconds": round(with_ts, 3),
        "ratio_with_typescript": round(with_ts / floor, 2),
        "typescript_seconds": round(with_ts - python_only, 3),
        "typescript_target_seconds": TARGETS["typescript_seconds"],
        "typescript_sdk": report["suite"].get("typescript_sdk"),
        "checks": len(report["checks"]),
        "runs": {
            "floor": [round(t, 3) for t in floor_runs],
            "replay": [round(t, 3) for t in python_runs],
            "replay_with_typescript": [round(t, 3) for t in replay_runs],
        },
    }


def least_time(requests: int, latency: float, concurrency: int, limit: int | None, window: float) -> float:
    """The least time ``requests`` requests of ``latency`` each can take, ``concurrency`` at a time,
    with at most ``limit`` starts in any ``window`` seconds: each starts when a slot is free and the
    start ``limit`` places before it has left the window."""
    free = [0.0] * concurrency
    starts: list[float] = []
    for number in range(requests):
        slot = min(range(concurrency), key=free.__getitem__)
        start = free[slot]
        if limit is not None and number >= limit:
            start = max(start, starts[number - limit] + window)
        starts.append(start)
        free[slot] = start + latency
    return max(free)


def measure_live(
    work: Path,
    latency: float,
    workers: int | None = None,
    *,
    key_limit: tuple[int, float] | None = None,
    rpm: int | None = None,
    rows: str | None = None,
    fault: str | None = None,
    label: str = "live",
) -> dict[str, Any]:
    from conformance.reference import ReferenceConfig, ReferenceServer

    profile = _bench_profile(work)
    report_dir = work / re.sub(r"[^a-z0-9]+", "-", f"{label}-{workers or 1}".lower())
    args = ["--target", str(profile), "--mode", "live", "--report-dir", str(report_dir)]
    args += ["--rpm", str(rpm)] if rpm else []
    # the limited settings cross one window: model checks keep their first five trials (no draws beyond them)
    args += ["--max-trials", "5"] if rows else []
    pytest_args = (["-n", str(workers)] if workers else []) + (["-k", rows] if rows else [])
    config = ReferenceConfig(api_keys=frozenset({KEY}), latency=latency, key_limit=key_limit)
    with ReferenceServer(config) as server:
        base_url = server.base_url
        if fault:
            base_url = base_url.removesuffix("/compat/v1") + f"/faults/{fault}/compat/v1"
        command = _suite(*args, "--base-url", base_url, *(["--", *pytest_args] if pytest_args else []))
        wall = _timed(command, work)
    report = _report(report_dir)
    run = report["run"]
    concurrency = int(tomllib.loads(profile.read_text())["limits"]["concurrency"])
    limit, window = key_limit if key_limit else (rpm, 60.0) if rpm else (None, 60.0)
    least = least_time(run["exchanges_made"], latency, concurrency, limit, window)
    judged_429 = sum(
        1 for e in report["exchanges"].values() if e.get("response") and e["response"].get("status") == 429
    )
    return {
        "latency_seconds": latency,
        "concurrency": concurrency,
        "limit": None if limit is None else f"{limit} per {window:g} s",
        "requests_sent": run["requests_sent"],
        "exchanges": run["exchanges_made"],
        "retries_after_429": run["retries_after_429"],
        "judged_429": judged_429,
        "waited_for_limits": run["waited_for_limits"],
        "run_seconds": run["duration"],
        "process_seconds": round(wall, 3),
        "least_seconds": round(least, 3),
        "ratio": round(run["duration"] / least, 2),
        "target": TARGETS["live"],
        "verdicts": {check["id"]: check["status"] for check in report["checks"]},
    }


def _met(setting: dict[str, Any]) -> bool:
    once = setting["requests_sent"] == setting["exchanges"] and setting["retries_after_429"] == 0
    return setting["ratio"] <= setting["target"] and once and setting["judged_429"] == 0


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
    parser.add_argument(
        "--setting",
        action="append",
        choices=list(SETTINGS),
        help="a pacing setting to measure (repeatable; default: all of them, the limited ones a minute each)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.latency <= 0:
        parser.error("--repeat must be at least 1 and --latency positive")
    chosen = {label: SETTINGS[label] for label in SETTINGS if label in (args.setting or SETTINGS)}
    chosen.setdefault("nothing announced", SETTINGS["nothing announced"])
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "conformance")], check=False)
    with tempfile.TemporaryDirectory(prefix="conformance-bench-") as tmp:
        work = Path(tmp)
        replay = measure_replay(work, args.repeat)
        pacing = {
            label: measure_live(work, args.latency, label=label, **setting)  # type: ignore[arg-type]
            for label, setting in chosen.items()
        }
        live = dict(pacing["nothing announced"])
        parallel = measure_live(work, args.latency, workers=2, **SETTINGS["nothing announced"])  # type: ignore[arg-type]
        planned = planned_requests(work)
    requests = {
        "planned_at_most": planned,
        "one_process": {"requests_sent": live["requests_sent"], "exchanges": live["exchanges"]},
        "xdist_2_workers": {"requests_sent": parallel["requests_sent"], "exchanges": parallel["exchanges"]},
        "equal": live["requests_sent"] == live["exchanges"] == parallel["requests_sent"] == parallel["exchanges"],
        "same_verdicts_under_xdist": live.pop("verdicts") == parallel.pop("verdicts"),
    }
    for setting in pacing.values():
        setting.pop("verdicts")
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": f"{platform.system()} {platform.machine()}",
        },
        "replay": replay,
        "live": live,
        "pacing": pacing,
        "live_xdist_2_workers": parallel,
        "requests": requests,
        "targets_met": {
            "replay": replay["ratio"] <= TARGETS["replay"],
            "typescript": replay["typescript_sdk"] is not None
            and replay["typescript_seconds"] <= TARGETS["typescript_seconds"],
            "live": all(_met(setting) for setting in pacing.values()),
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
            f"replay with the TypeScript oracle ({replay['typescript_sdk'] or 'no node'})",
            f"{replay['with_typescript_seconds']:.2f} s",
            f"+{replay['typescript_seconds']:.2f} s",
            f"{replay['ratio_with_typescript']:.2f}x",
            f"<= +{replay['typescript_target_seconds']} s {verdict(met['typescript'])}",
        ),
        *(
            (
                f"live, {label}",
                f"{setting['run_seconds']:.2f} s",
                f"least {setting['least_seconds']:.2f} s",
                f"{setting['ratio']:.2f}x",
                f"<= {setting['target']}x, {setting['requests_sent']} sent for {setting['exchanges']}, "
                f"{setting['judged_429']} 429 judged {verdict(_met(setting))}",
            )
            for label, setting in result["pacing"].items()
        ),
        (
            "live, pytest -n 2",
            f"{parallel['run_seconds']:.2f} s",
            f"least {parallel['least_seconds']:.2f} s",
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
