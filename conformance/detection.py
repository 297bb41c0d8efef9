"""Measuring what the suite catches: run it against the reference server with each fault switched
on, and against the clean server, and score the verdicts.

A fault is *caught* when a row it declares reports a failure (at its level) whose message contains
the fault's phrase, and *precise* when no other row fails that passes on the clean server. The
clean server must give no failure at all (a failure there is a false alarm). Each run is the
ordinary suite in a subprocess, against the reference server's OpenAI flavour, with the fault
switched on by path (``/faults/<id>/v1``).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance import __version__, files
from conformance.reference import ReferenceConfig, ReferenceServer
from conformance.reference.faults import FAULTS, Fault
from conformance.report import now_iso

TARGET = "reference-openai"
RUN_TIMEOUT = 300
ROOT = Path(__file__).resolve().parents[1]
# what the verdicts of a detection run follow from: the suite and its server, the schemas and dialects they read,
# the TypeScript client's oracle, the target profile and the declared dependencies
INPUTS = ("conformance", "schemas", "dialects", "js", f"targets/{TARGET}.toml", "pyproject.toml")


@dataclass
class FaultVerdict:
    fault: str
    rows: list[str]
    level: str
    gap: str | None
    caught: bool
    precise: bool
    # the checks that caught it, the first one's message (or why it was not caught)
    by: list[str]
    message: str
    # checks failing outside the declared rows that pass on the clean server
    strays: list[str] = field(default_factory=list)
    # every check that failed in this run
    failing: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Detection:
    suite_version: str
    date: str
    faults: int
    caught: int
    precise: int
    false_alarms: list[str]
    seconds: float
    verdicts: list[FaultVerdict]
    # how many checks the suite has, and those that no fault makes fail (their failing side is
    # proven only by the unit tests on hand-made exchanges)
    checks: int = 0
    never_failed: list[str] = field(default_factory=list)
    # checks that do not apply to the clean server (the OpenAI flavour), so no fault can fail them
    not_applicable: list[str] = field(default_factory=list)
    # the reference server's model noise in these runs (0: deterministic)
    model_noise: float = 0.0
    # the digest of what the runs follow from (inputs_digest), when they covered the whole catalogue
    inputs: str = ""

    def score(self) -> str:
        return (
            f"{self.caught} of {self.faults} faults caught ({self.precise} without blaming another row), "
            f"{len(self.false_alarms)} false alarms on the clean server"
        )


def inputs_digest(root: Path = ROOT) -> str:
    """SHA-256 over every file the verdicts follow from (as git tracks them in a checkout, else as they lie), the
    Python release and the openai client's: equal digests, equal code under test."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--", *INPUTS], capture_output=True, check=True, timeout=60
        ).stdout.decode()
        paths = sorted(name for name in listed.split("\0") if name)
    except (OSError, subprocess.SubprocessError):
        paths = []
    if not paths:
        found = (p for name in INPUTS for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*")))
        skipped = ("__pycache__", "node_modules", "_data")
        paths = sorted(
            p.relative_to(root).as_posix()
            for p in found
            if p.is_file() and p.suffix != ".pyc" and not set(p.relative_to(root).parts) & set(skipped)
        )
    digest = hashlib.sha256(f"python {platform.python_version()} openai {metadata.version('openai')}\n".encode())
    for name in paths:
        path = root / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"(deleted)") + b"\0")
    return digest.hexdigest()


def load(path: Path) -> Detection:
    """A written detection (``write``), as the run gave it."""
    data = json.loads(path.read_text())
    return Detection(**{**data, "verdicts": [FaultVerdict(**verdict) for verdict in data["verdicts"]]})


def _failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [check for check in report["checks"] if check["status"] in ("fail", "error")]


def judge(fault: Fault, report: dict[str, Any], clean: dict[str, Any]) -> FaultVerdict:
    failing = _failures(report)
    clean_failing = {check["id"] for check in _failures(clean)}
    if fault.benign:
        return _judge_benign(fault, failing, clean_failing)
    catching = [
        check
        for check in failing
        if check["row"] in fault.rows
        and fault.expect in check["message"]
        and (fault.level == "SHOULD" or check["level"] == "MUST")
    ]
    strays = sorted(
        check["id"]
        for check in failing
        if (check["row"] not in fault.rows or check["status"] == "error") and check["id"] not in clean_failing
    )
    by = [check["id"] for check in catching]
    if catching:
        message = catching[0]["message"]
    else:
        in_rows = [check for check in failing if check["row"] in fault.rows]
        message = f"no failure in {', '.join(fault.rows)} says {fault.expect!r}" + (
            f"; they say: {in_rows[0]['message']}" if in_rows else "; those rows have no failure"
        )
    return FaultVerdict(
        fault.id,
        list(fault.rows),
        fault.level,
        fault.gap,
        bool(catching),
        not strays,
        by,
        message,
        strays,
        sorted(check["id"] for check in failing),
    )


def _judge_benign(fault: Fault, failing: list[dict[str, Any]], clean_failing: set[str]) -> FaultVerdict:
    """A difference the SDKs tolerate: caught when no MUST check fails for it, precise when none at all."""
    new = [check for check in failing if check["id"] not in clean_failing]
    must = [check for check in new if check["level"] == "MUST"]
    message = (
        "no check fails for it, as it should not" if not new else f"{new[0]['id']} fails for it: {new[0]['message']}"
    )
    return FaultVerdict(
        fault.id,
        list(fault.rows),
        fault.level,
        fault.gap,
        not must,
        not new,
        [],
        message,
        sorted(check["id"] for check in new),
        sorted(check["id"] for check in failing),
    )


# what every run imports: preloaded once into the fork server, so each run starts warm
_PRELOAD = ["conformance.cli", "conformance.plugin", "conformance.checks", "conformance.suite", "openai", "hypothesis"]


def _suite_in_child(arguments: list[str], environment: dict[str, str], log: str) -> int:
    """Run in a child forked from the warm fork server: the CLI, its output to ``log``."""
    os.environ.clear()
    os.environ.update(environment)
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    from conformance.cli import main

    return main(arguments)


def run_suite(pool: Any, base_url: str, key: str, report_dir: Path) -> dict[str, Any]:
    """The whole suite against ``base_url``, live, in a fresh child process; its report."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    environment["REFERENCE_API_KEY"] = key
    report_dir.mkdir(parents=True, exist_ok=True)
    log = report_dir / "output.txt"
    arguments = ["run", "--target", TARGET, "--base-url", base_url, "--mode", "live"]
    arguments += ["--report-dir", str(report_dir), "--", "-p", "no:terminal"]
    pool.apply_async(_suite_in_child, (arguments, environment, str(log))).get(timeout=RUN_TIMEOUT)
    path = report_dir / "report.json"
    if not path.exists():
        tail = log.read_text(errors="replace").strip()[-400:] if log.exists() else ""
        raise RuntimeError(f"the run against {base_url} wrote no report: {tail}")
    return json.loads(path.read_text())


def detect(
    fault_ids: list[str] | None = None,
    jobs: int = 3,
    on_verdict: Callable[[FaultVerdict], None] | None = None,
    model_noise: float = 0.0,
) -> Detection:
    """Run the suite clean and with each fault (all of them by default), ``jobs`` runs at a time; with
    ``model_noise``, against the server behaving like a hosted model (conformance.reference.answers)."""
    chosen = [FAULTS[fault_id] for fault_id in (fault_ids or list(FAULTS))]
    inputs = inputs_digest() if fault_ids is None else ""
    key = "sk-detection-" + secrets.token_hex(12)
    started = time.monotonic()
    with (
        ReferenceServer(
            ReferenceConfig(api_keys=frozenset({key}), flavour="openai", base_path="/v1", model_noise=model_noise)
        ) as server,
        tempfile.TemporaryDirectory() as scratch,
    ):
        root = server.base_url.removesuffix("/v1")

        def run(fault: Fault | None) -> tuple[Fault | None, dict[str, Any], float]:
            begun = time.monotonic()
            name = fault.id if fault else "clean"
            url = f"{root}/faults/{fault.id}/v1" if fault else f"{root}/v1"
            return fault, run_suite(children, url, key, Path(scratch) / name), time.monotonic() - begun

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        # one fresh child per run (maxtasksperchild=1): no state leaks from one run into the next
        with context.Pool(jobs, maxtasksperchild=1) as children, ThreadPoolExecutor(max_workers=jobs) as pool:
            clean_future = pool.submit(run, None)
            futures = [pool.submit(run, fault) for fault in chosen]
            _, clean, _ = clean_future.result()
            verdicts = []
            for future in futures:
                fault, report, seconds = future.result()
                assert fault is not None
                verdict = judge(fault, report, clean)
                verdict.seconds = round(seconds, 1)
                verdicts.append(verdict)
                if on_verdict is not None:
                    on_verdict(verdict)
    return Detection(
        suite_version=__version__,
        date=now_iso(),
        faults=len(verdicts),
        caught=sum(v.caught for v in verdicts),
        precise=sum(v.caught and v.precise for v in verdicts),
        false_alarms=sorted(check["id"] for check in _failures(clean)),
        seconds=round(time.monotonic() - started, 1),
        verdicts=verdicts,
        checks=len(clean["checks"]),
        never_failed=sorted({check["id"] for check in clean["checks"]} - {i for v in verdicts for i in v.failing}),
        not_applicable=sorted(check["id"] for check in clean["checks"] if check["status"] == "skipped"),
        model_noise=model_noise,
        inputs=inputs,
    )


def table(detection: Detection) -> str:
    lines = [
        "# Fault detection",
        "",
        f"_suite {detection.suite_version} · {detection.date} · {detection.seconds:g} s_",
        "",
        f"**{detection.score()}.**",
        "",
        "| fault | rows that must fail | caught | precise | caught by | message |",
        "|---|---|---|---|---|---|",
    ]
    for verdict in detection.verdicts:
        fault = FAULTS[verdict.fault]
        caught = "✅" if verdict.caught else ("❌ (known gap)" if verdict.gap else "❌")
        precise = "✅" if verdict.precise else "❌ " + ", ".join(verdict.strays[:3])
        message = verdict.message.replace("|", "\\|")
        message = message if len(message) <= 140 else message[:139] + "…"
        by = f"`{verdict.by[0]}`" + (f" (+{len(verdict.by) - 1})" if len(verdict.by) > 1 else "") if verdict.by else ""
        lines.append(
            f"| `{fault.id}`: {fault.what} | {', '.join(fault.rows)} ({fault.level}) | {caught} | {precise} | "
            f"{by} | {message} |"
        )
    proven = detection.checks - len(detection.never_failed)
    lines += ["", f"{proven} of {detection.checks} checks fail under at least one fault."]
    skipped = [check_id for check_id in detection.never_failed if check_id in detection.not_applicable]
    unproven = [check_id for check_id in detection.never_failed if check_id not in detection.not_applicable]
    if skipped:
        lines += [
            "These do not apply to the clean server (the OpenAI flavour), so their failing side is shown by the "
            "unit tests on hand-made exchanges (`tests/test_checks_*.py`) only:",
            "",
            *(f"- `{check_id}`" for check_id in skipped),
        ]
    if unproven:
        lines += [
            "",
            "No fault makes these fail yet:",
            "",
            *(f"- `{check_id}`" for check_id in unproven),
        ]
    return "\n".join(lines) + "\n"


def write(detection: Detection, directory: Path) -> tuple[Path, Path]:
    data = asdict(detection)
    json_path, md_path = directory / "detection.json", directory / "detection.md"
    files.write_text(json_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", root=directory.parent)
    files.write_text(md_path, table(detection), root=directory.parent)
    return json_path, md_path
