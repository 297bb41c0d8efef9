"""The JSON report: the data every rendering, comparison and gate reads.

Its shape is ``schemas/report.schema.json`` (versioned by ``report_version``). It holds the suite
and target stamps, the run (mode, cassettes, timing, requests), a summary, one entry per feature
row, one entry per check result, and the exchanges the results cite as evidence (redacted).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

from conformance import __version__, files, jsonparse, ts_oracle
from conformance.errors import ConfigError
from conformance.exchange import Exchange
from conformance.redaction import HOST
from conformance.resources import schemas_dir
from conformance.rows import ROWS
from conformance.runconfig import RunConfig
from conformance.schemas import digest_of
from conformance.sdk_oracle import SDK_VERSION
from conformance.surface.coverage import coverage
from conformance.verdicts import CheckResult, ErrorCause, Level, Status, row_status

# 1.1: run.retries_after_429, waited_for_limits, exchanges_made; 1.2: exit codes 5, 130 and 143, the
# size and digest of a body too large to keep, the status "blocked" with the check's blocked_by; 1.3:
# each check's kind and a model check's rate, the status "inconclusive", run.trials; 1.4: the seven rows of the
# Responses API; 1.5: the reasoning rows, run.thinking; 1.6: coverage of the API surface's catalogue; 1.7: the
# embeddings row; 1.8: the legacy completions row; 1.9: the clients' differences (a check's client_differences, a
# row's clients.differences), the client columns judged by the client an app constructs; 1.10: run.max_trials, a
# row's see_also (failing checks of other rows about this row's answers)
REPORT_VERSION = "1.10"
REPORT_FILE = "report.json"
MAX_BODY_IN_REPORT = 64 * 1024
# a report the suite writes stays far below this (bodies are cut at MAX_BODY_IN_REPORT)
MAX_REPORT_BYTES = 256 * 1024**2


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def redact_base_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{HOST}{parts.path}"


def _body(data: bytes, limit: int) -> dict[str, Any]:
    shown = data[:limit]
    try:
        value, encoding = shown.decode("utf-8"), "text"
    except UnicodeDecodeError as exc:
        if exc.start >= len(shown) - 3 and len(data) > limit:  # a character cut by the limit
            value, encoding = shown[: exc.start].decode("utf-8"), "text"
        else:
            value, encoding = base64.b64encode(shown).decode("ascii"), "base64"
    return {"body": value, "body_encoding": encoding, "body_bytes": len(data), "body_truncated": len(data) > limit}


def exchange_evidence(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    req: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "auth": request.auth,
        "headers": dict(request.headers),
        "body": None,
        "body_encoding": None,
    }
    if request.body is not None:
        if request.json is not None:
            req.update(body=request.json, body_encoding="json")
        else:
            req.update({k: v for k, v in _body(request.body, MAX_BODY_IN_REPORT).items() if k in req})
    response = None
    if exchange.response is not None:
        resp = exchange.response
        response = {
            "status": resp.status,
            "reason": resp.reason,
            "http_version": resp.http_version,
            "headers": [[name, value] for name, value in resp.headers],
            "decoded_from": resp.decoded_from,
            "chunks": len(resp.chunks),
            **_body(resp.body, MAX_BODY_IN_REPORT),
        }
        if resp.body_size is not None:  # only the first bytes of it were kept
            response.update(body_bytes=resp.body_size, body_truncated=True, body_sha256=resp.body_sha256)
    earlier = [
        {
            "started_at": attempt.started_at,
            "status": attempt.response.status if attempt.response is not None else None,
            "body": _body(attempt.response.body, 1024)["body"] if attempt.response is not None else None,
            "failure": None
            if attempt.failure is None
            else {"kind": attempt.failure.kind, "message": attempt.failure.message},
        }
        for attempt in exchange.earlier
    ]
    return {
        "purpose": exchange.purpose,
        "replayed": exchange.replayed,
        "earlier": earlier,
        "started_at": exchange.started_at,
        "elapsed": exchange.elapsed,
        "ttfb": exchange.ttfb,
        "request": req,
        "response": response,
        "failure": None
        if exchange.failure is None
        else {"kind": exchange.failure.kind, "message": exchange.failure.message},
    }


def _counts(results: list[CheckResult]) -> dict[str, int]:
    counter = Counter(str(result.status) for result in results)
    return {str(status): counter.get(str(status), 0) for status in Status}


def build_report(
    *,
    config: RunConfig,
    results: list[CheckResult],
    exchanges: dict[str, dict[str, Any]],
    started_at: str,
    finished_at: str,
    duration: float,
    requests_sent: int,
    base_url: str | None,
    retries: int = 0,
    waited_for_limits: float = 0.0,
    exchanges_made: int | None = None,
    cassettes: dict[str, Any] | None,
    complete: bool,
    problems: list[str],
    exit_code: int,
) -> dict[str, Any]:
    target = config.target
    results = sorted(results, key=lambda r: ([row.id for row in ROWS].index(r.row), r.check_id))
    typescript_version, typescript_missing = ts_oracle.run_status(results)
    rows = []
    for row in ROWS:
        mine = [r for r in results if r.row == row.id]
        rows.append(
            {
                "id": row.id,
                "title": row.title,
                "status": str(row_status(mine, declared_unsupported=row.id in target.capabilities.unsupported)),
                "checks": len(mine),
                "counts": _counts(mine),
                "clients": _clients(mine, typescript_version is not None),
            }
        )
    _gather_differences(rows, results)
    _gather_cross_references(rows, results)
    row_counter = Counter(row["status"] for row in rows)
    cited = {exchange_id for result in results for exchange_id in result.exchanges}
    document = {
        "report_version": REPORT_VERSION,
        "suite": {
            "name": "openai-conformance",
            "version": __version__,
            "openai_sdk": SDK_VERSION,
            "typescript_sdk": typescript_version,
            "schemas_digest": _schemas_digest(),
        },
        "target": {
            "name": target.name,
            "description": target.description,
            "profile": Path(target.origin).name if target.origin != "command line" else "command line",
            "base_url": redact_base_url(base_url),
            "dialect": config.dialect.name,
            "dialect_title": config.dialect.title,
            "models": target.models.configured(),
            "declared_unsupported": list(target.capabilities.unsupported),
        },
        "run": {
            "mode": config.mode,
            "cassettes": cassettes,
            "started_at": started_at,
            "finished_at": finished_at,
            "duration": round(duration, 3),
            "requests_sent": requests_sent,
            "retries_after_429": retries,
            "waited_for_limits": round(waited_for_limits, 3),
            "exchanges": len(cited),
            "exchanges_made": len(cited) if exchanges_made is None else exchanges_made,
            "trials": target.limits.trials,
            "max_trials": target.limits.trial_bound,
            "thinking": _thinking(config),
            "typescript_client": "ran" if typescript_version else (typescript_missing or "not needed"),
            "complete": complete,
            "problems": problems,
            "exit_code": exit_code,
        },
        "summary": {
            "checks": len(results),
            **_counts(results),
            "must_failures": sum(1 for r in results if r.status == Status.FAIL and r.level == Level.MUST),
            "should_failures": sum(1 for r in results if r.status == Status.FAIL and r.level == Level.SHOULD),
            "rows": {
                status: row_counter.get(status, 0) for status in ("supported", "partial", "unsupported", "untested")
            },
        },
        "rows": rows,
        "checks": [result.as_dict() for result in results],
        "exchanges": {exchange_id: exchanges[exchange_id] for exchange_id in sorted(cited) if exchange_id in exchanges},
    }
    document["coverage"] = coverage(document)
    return document


def _thinking(config: RunConfig) -> dict[str, Any]:
    """Whether the chat model thinks, how the run knows, and the allowance every answer cap got for it."""
    reasoning = config.target.reasoning
    if config.noticed_from is not None:
        how = f"noticed from {config.noticed_from}"
    elif reasoning.thinks is not None:
        how = "declared by the profile"
    else:
        how = "not asked (no chat request in this run)"
    return {
        "thinks": reasoning.thinks,
        "how": how,
        "allowance": config.target.thinking_allowance,
        "max_reasoning_tokens": config.target.limits.max_reasoning_tokens,
    }


# the checks that judge the Python SDK alone (the TypeScript one has checks of its own: ts_oracle.TS_CHECKS)
PYTHON_CHECKS = ("structured-output.sdk_parse_returns_the_model",)


def _clients(results: list[CheckResult], typescript_ran: bool) -> dict[str, str]:
    """Whether each official client, as an app constructs it, reads what this row's answers hold: "fails" when a
    check found an answer that client cannot read (a strict client's rejection alone never makes it fail), "works"
    when the row was judged and none did; _gather_differences then fails a client where the clients' differences
    show it reading a faulted answer worse than the other, or both failing on it."""
    judged = any(result.status in (Status.PASS, Status.FAIL, Status.DEVIATION) for result in results)
    python = typescript = "works" if judged else "not judged"
    if not typescript_ran:
        typescript = "not run"
    for result in results:
        if result.status == Status.BLOCKED and result.check_id in ts_oracle.TS_CHECKS:
            # blocked by the Python client's own check: neither client reads it (ts_client.PARSE_OWNER)
            if typescript_ran and result.blocked_by in PYTHON_CHECKS:
                typescript = "fails"
            continue
        if result.status not in (Status.FAIL, Status.DEVIATION):
            continue
        oracles = (result.details or {}).get("oracles") or {}
        if oracles.get("openai_sdk") == "reject" or result.check_id in PYTHON_CHECKS:
            python = "fails"
        if typescript_ran and (oracles.get("typescript_sdk") == "reject" or result.check_id in ts_oracle.TS_CHECKS):
            typescript = "fails"
    return {"python": python, "typescript": typescript}


def _gather_differences(rows: list[dict[str, Any]], results: list[CheckResult]) -> None:
    """Each row's clients.differences: the differences its checks noted, every exchange named once in the report
    (by the first check, in the report's order, that noted it), with the check and whether a failing check found
    these answers at fault. Where a failing check found an answer at fault and one client hands the app less of it
    than the other (it raises, or loses the server's words), that client fails in the failing check's row; on an
    answer no check faults, a difference is the clients' own: a note, never a failure."""
    named: set[tuple[str, str, str]] = set()
    by_row = {row["id"]: row for row in rows}
    faulted: dict[str, set[str]] = {}
    for result in results:
        if result.status in (Status.FAIL, Status.DEVIATION):
            cited = (result.details or {}).get("failing") or result.exchanges
            faulted.setdefault(result.row, set()).update(cited)
    for result in results:
        for group in result.client_differences:
            exchanges = [e for e in group["exchanges"] if (e, group["call"], group["kind"]) not in named]
            if not exchanges:
                continue
            named.update((e, group["call"], group["kind"]) for e in exchanges)
            kept = {
                **group,
                "exchanges": exchanges,
                "count": group["count"] - (len(group["exchanges"]) - len(exchanges)),
            }
            kept["check"] = result.check_id
            kept["at_fault"] = any(e in cited for cited in faulted.values() for e in exchanges)
            by_row[result.row]["clients"].setdefault("differences", []).append(kept)
            worse = kept.get("worse")
            clients = ("python", "typescript") if worse == "both" else (worse,) if worse else ()
            for row_id, cited in faulted.items():
                row = by_row[row_id]
                for client in clients:
                    if row["clients"].get(client) == "works" and any(e in cited for e in exchanges):
                        row["clients"][client] = "fails"


def _gather_cross_references(rows: list[dict[str, Any]], results: list[CheckResult]) -> None:
    """Where a failing check faults another row's answers (a 401 outside the error envelope, faulted by errors-400),
    that row points to it, so its reader is not told only "supported"; the verdict stays in the check's row."""
    by_row = {row["id"]: row for row in rows}
    for result in results:
        if result.status not in (Status.FAIL, Status.DEVIATION):
            continue
        theirs: dict[str, list[str]] = {}
        for exchange_id in (result.details or {}).get("failing") or []:
            row_id = str(exchange_id).split("/", 1)[0]
            if row_id in by_row and row_id != result.row:
                theirs.setdefault(row_id, []).append(str(exchange_id))
        for row_id, exchanges in theirs.items():
            by_row[row_id].setdefault("see_also", []).append(
                {
                    "check": result.check_id,
                    "row": result.row,
                    "status": str(result.status),
                    "count": len(exchanges),
                    "exchanges": exchanges[:20],
                }
            )


@cache
def _schemas_digest() -> str:
    return digest_of(schemas_dir())


def exit_code_for(results: list[CheckResult], problems_cassette: bool, aborted: ErrorCause | None) -> int:
    """0 ok, 1 MUST failures, 2 cassette problems (or nothing to judge), 3 environment, 4 a bug in
    the suite (or a run that ended before any check)."""
    causes = {result.error_cause for result in results if result.status == Status.ERROR}
    if problems_cassette or ErrorCause.CASSETTE in causes or aborted == ErrorCause.CASSETTE:
        return 2
    if aborted == ErrorCause.ENVIRONMENT or ErrorCause.ENVIRONMENT in causes:
        return 3
    if aborted == ErrorCause.HARNESS or ErrorCause.HARNESS in causes or not results:
        return 4
    if not any(result.status in JUDGED for result in results):
        return 2
    if any(r.status == Status.FAIL and r.level == Level.MUST for r in results):
        return 1
    return 0


# the statuses of a check that reached a verdict about the target
JUDGED = frozenset({Status.PASS, Status.FAIL, Status.DEVIATION})


def nothing_judged(results: list[CheckResult]) -> str | None:
    """A problem line when no check reached a verdict (a run like that never exits 0)."""
    if not results:
        return "no check ran: the run ended before judging anything"
    if any(result.status in JUDGED for result in results):
        return None
    counts = Counter(str(result.status) for result in results)
    return "no check reached a verdict (" + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + ")"


def write_report(report: dict[str, Any], directory: Path) -> Path:
    """Write report.json and its renderings (report.md, report.html, junit.xml); return report.json."""
    from conformance.render import FILES, FORMATS

    texts = {REPORT_FILE: jsonparse.pretty(report) + "\n"}
    texts.update({FILES[name]: render(report) for name, render in FORMATS.items()})
    for name, text in texts.items():
        files.write_text(directory / name, text, root=directory.parent)
    return directory / REPORT_FILE


def read_report(path: Path) -> dict[str, Any]:
    """A report from a file, or a ConfigError saying in one line why it is not one."""
    try:
        if path.is_file() and path.stat().st_size > MAX_REPORT_BYTES:
            raise ValueError(f"it is larger than {MAX_REPORT_BYTES // 1024**2} MiB")
        data = jsonparse.loads(path.read_text(encoding="utf-8"), limit=2 * jsonparse.MAX_DEPTH)
        problems = report_problems(data)
    except (OSError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConfigError(f"cannot read the report {path}: {reason}") from None
    if problems:
        raise ConfigError(f"{path} is not a conformance report ({len(problems)} problems, first: {problems[0]})")
    return data


@cache
def _report_validator() -> Draft202012Validator:
    schema = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def report_problems(report: Any) -> list[str]:
    """Where a report breaks its schema (empty when it is valid)."""
    return [f"{error.json_path}: {error.message}" for error in _report_validator().iter_errors(report)]
