"""The migration report: per captured request its verdict, the differences and failures found, and
both exchanges side by side; the features the app uses (beside a candidate's conformance report when
one is given); the exit code. Its shape is ``schemas/migration-report.schema.json``.

A request's verdict is the worst of its findings: ``error`` (the suite or the environment could not
judge), ``fail`` (a MUST-level claim failed), ``unsupported`` (the candidate refused the request as one it does not
support), ``should`` (a SHOULD-level one), ``different`` (its
answers differ from the original's), else ``pass``.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator

from conformance import __version__, app_features, files, jsonparse
from conformance.errors import ConfigError, ExitCode
from conformance.exchange import Exchange
from conformance.migrate.engine import Judged
from conformance.report import exchange_evidence, redact_base_url
from conformance.resources import schemas_dir
from conformance.sdk_oracle import SDK_VERSION
from conformance.verdicts import CheckResult, ErrorCause, Level, Status

MIGRATION_REPORT_VERSION = "1.0"
FailOn = Literal["must", "should", "difference"]
VERDICTS = ("pass", "different", "should", "unsupported", "fail", "error")
EXCERPT = 600


def level_of(result: CheckResult, comparison: bool) -> str:
    """A comparison with the original is a difference, unless it is MUST (an answer that is an error where the
    original's was a success breaks the app)."""
    return "difference" if comparison and result.level != Level.MUST else str(result.level)


def finding(result: CheckResult, comparison: bool) -> dict[str, Any]:
    return {
        "id": result.check_id,
        "row": result.row,
        "level": level_of(result, comparison),
        "kind": str(result.kind),
        "status": str(result.status),
        "claim": result.claim,
        "message": result.message,
        "rate": result.rate,
        "blocked_by": result.blocked_by,
        "error_cause": str(result.error_cause) if result.error_cause else None,
        "evidence": sorted(result.exchanges),
    }


def verdict_of(findings: list[dict[str, Any]]) -> str:
    worst = "pass"
    for found in findings:
        status, level = found["status"], found["level"]
        if status == "error":
            verdict = "error"
        elif status == "unsupported":
            verdict = "unsupported"
        elif status != "fail":
            continue
        elif level == "MUST":
            verdict = "fail"
        elif level == "SHOULD":
            verdict = "should"
        else:
            verdict = "different"
        if VERDICTS.index(verdict) > VERDICTS.index(worst):
            worst = verdict
    return worst


def side(exchange: Exchange | None) -> dict[str, Any] | None:
    """One exchange in a line or two: status, what the answer was, an excerpt of its body."""
    if exchange is None:
        return None
    response = exchange.response
    text = response.body[:EXCERPT].decode("utf-8", errors="replace") if response is not None else ""
    return {
        "id": exchange.id,
        "status": response.status if response is not None else None,
        "failure": None if exchange.failure is None else f"{exchange.failure.kind}: {exchange.failure.message}",
        "elapsed": exchange.elapsed,
        "excerpt": text + ("…" if response is not None and len(response.body) > EXCERPT else ""),
    }


def request_entry(judged: Judged) -> dict[str, Any]:
    planned = judged.planned
    captured = planned.captured
    findings = [finding(result, result.check_id in judged.comparisons) for result in judged.results]
    request = planned.request
    return {
        "id": captured.id,
        "method": request.method,
        "path": request.path,
        "captured_path": captured.path,
        "features": planned.features,
        "models": [{"captured": old, "sent": new} for old, new in planned.models],
        "unsupported_parameters": planned.unsupported,
        "verdict": verdict_of(findings),
        "findings": findings,
        "body": request.json if request.body is None else request.body.decode("utf-8", errors="replace")[:EXCERPT],
        "original": side(captured.original),
        "candidate": [side(trial) for trial in judged.trials],
    }


def build(
    judged: list[Judged],
    *,
    traffic: dict[str, Any],
    candidate: dict[str, Any],
    run: dict[str, Any],
    conformance: dict[str, Any] | None,
    fail_on: FailOn,
) -> dict[str, Any]:
    requests = [request_entry(item) for item in judged]
    findings = [found for entry in requests for found in entry["findings"]]
    verdicts = Counter(entry["verdict"] for entry in requests)
    exchanges: dict[str, Any] = {}
    for item in judged:
        if item.planned.captured.original is not None:
            exchanges[f"original/{item.planned.captured.id}"] = exchange_evidence(item.planned.captured.original)
        for trial in item.trials:
            exchanges[trial.id] = exchange_evidence(trial)
    report = {
        "report_version": MIGRATION_REPORT_VERSION,
        "kind": "migration",
        "suite": {"name": "openai-conformance", "version": __version__, "openai_sdk": SDK_VERSION},
        "traffic": traffic,
        "candidate": {**candidate, "base_url": redact_base_url(candidate.get("base_url"))},
        "run": {**run, "fail_on": fail_on},
        "summary": {
            "requests": len(requests),
            "verdicts": {verdict: verdicts.get(verdict, 0) for verdict in VERDICTS},
            "findings": len(findings),
            "must_failures": _count(findings, "MUST"),
            "should_failures": _count(findings, "SHOULD"),
            "differences": _count(findings, "difference"),
            "inconclusive": sum(1 for found in findings if found["status"] == "inconclusive"),
            "unsupported": sum(1 for found in findings if found["status"] == "unsupported"),
            "unsupported_parameters": sorted({p for entry in requests for p in entry["unsupported_parameters"]}),
        },
        "features": app_features.summary([(entry["id"], entry["features"]) for entry in requests], conformance),
        "requests": requests,
        "exchanges": exchanges,
    }
    if conformance is not None:
        report["conformance"] = {
            "target": conformance.get("target", {}).get("name"),
            "mode": conformance.get("run", {}).get("mode"),
            "finished_at": conformance.get("run", {}).get("finished_at"),
        }
    return report


def _count(findings: list[dict[str, Any]], level: str) -> int:
    return sum(1 for found in findings if found["status"] == "fail" and found["level"] == level)


def exit_code(report: dict[str, Any], results: list[CheckResult]) -> int:
    """As ``run``: 4 when the suite broke or nothing was judged, 3 when the candidate could not be
    reached at all, 1 when a finding at ``--fail-on``'s level (or above) failed or a request was refused as
    unsupported, else 0."""
    if any(r.status == Status.ERROR and r.error_cause == ErrorCause.HARNESS for r in results):
        return ExitCode.INTERNAL
    judged = [r for r in results if r.status in (Status.PASS, Status.FAIL, Status.DEVIATION, Status.INCONCLUSIVE)]
    if not judged:
        if results and all(r.status == Status.ERROR and r.error_cause == ErrorCause.ENVIRONMENT for r in results):
            return ExitCode.ENVIRONMENT
        return ExitCode.INTERNAL
    summary = report["summary"]
    fail_on = report["run"]["fail_on"]
    # a request the candidate refuses as unsupported breaks the app as a MUST failure does
    counted = summary["must_failures"] + summary["unsupported"]
    if fail_on in ("should", "difference"):
        counted += summary["should_failures"]
    if fail_on == "difference":
        counted += summary["differences"]
    return ExitCode.FAILURES if counted else ExitCode.OK


def unreachable(judged: list[Judged]) -> bool:
    """No request got any answer: the candidate is not there (or not at that URL)."""
    trials = [trial for item in judged for trial in item.trials]
    return bool(trials) and all(
        t.response is None and t.failure is not None and t.failure.kind == "connect" for t in trials
    )


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads((schemas_dir() / "migration-report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(report: Any) -> list[str]:
    """Where a migration report breaks its schema (empty when it is valid)."""
    return [f"{error.json_path}: {error.message}" for error in _validator().iter_errors(report)]


def read_migration_report(path: Path) -> dict[str, Any] | None:
    """A migration report from a file; None when the file is not one (a run's report); a ConfigError in
    one line when it claims to be one and breaks its schema."""
    try:
        data = jsonparse.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # read_report says why
    if not isinstance(data, dict) or data.get("kind") != "migration":
        return None
    found = problems(data)
    if found:
        raise ConfigError(f"{path} is not a migration report ({len(found)} problems, first: {found[0]})")
    return data


REPORT_FILE = "migration.json"


def write(report: dict[str, Any], directory: Path) -> Path:
    """Write migration.json and its renderings (migration.md, migration.html, migration-junit.xml)."""
    from conformance.migrate import render

    texts = {REPORT_FILE: jsonparse.pretty(report) + "\n"}
    texts.update({name: produce(report) for name, produce in render.FILES.items()})
    for name, text in texts.items():
        files.write_text(directory / name, text, root=directory.parent)
    return directory / REPORT_FILE


__all__ = ["Level", "build", "exit_code", "problems", "write"]
