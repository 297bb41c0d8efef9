"""What the renderings share: labels, symbols and one-line summaries of a report's parts."""

from __future__ import annotations

import re
from typing import Any

ROW_LABELS = {"supported": "Supported", "partial": "Partial", "unsupported": "Unsupported", "untested": "Untested"}
ROW_SYMBOLS = {"supported": "✅", "partial": "🟡", "unsupported": "❌", "untested": "⚪"}
STATUS_ORDER = ("fail", "error", "blocked", "inconclusive", "deviation", "unsupported", "skipped", "pass")


def rate_text(check: dict[str, Any]) -> str:
    """A model check's rate in a few characters: 4/5 (80 %, 95 % 38–96 %) against ≥ 80 %."""
    rate = check.get("rate")
    if not rate:
        return "no rate"
    low, high = rate["interval"]
    return (
        f"{rate['successes']}/{rate['trials']} ({rate['rate']:.0%}, 95 % {low:.0%}–{high:.0%}) "
        f"against ≥ {rate['threshold']:.0%}"
    )


def model_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [check for check in report["checks"] if check.get("kind") == "model"]


def stamp(report: dict[str, Any]) -> str:
    """One line that says what a report is: suite, SDK, schemas, target, mode, date."""
    suite, target, run = report["suite"], report["target"], report["run"]
    mode = run["mode"]
    cassettes = run.get("cassettes")
    if mode == "replay" and cassettes:
        mode += f" of {cassettes.get('path', '?')} (recorded {cassettes.get('recorded_at', '?')})"
    sdks = f"openai SDK {suite['openai_sdk']}"
    if "typescript_sdk" in suite:
        typescript = suite["typescript_sdk"] or f"not run ({run.get('typescript_client', '?')})"
        sdks = f"Python openai {suite['openai_sdk']} · TypeScript openai {typescript}"
    return (
        f"suite {suite['version']} · {sdks} · schemas {suite['schemas_digest']} · "
        f"target {target['name']} ({target['dialect']}) · mode {mode} · {run['started_at']}"
    )


CLIENT_LABELS = {"works": "✅ reads it", "fails": "❌ fails", "not judged": "—", "not run": "not run"}


def with_clients(report: dict[str, Any]) -> bool:
    """Reports since the TypeScript client became an oracle say, per row, whether each client works."""
    return all("clients" in row for row in report["rows"])


def evidence_line(report: dict[str, Any], exchange_id: str) -> str:
    """`POST <BASE_URL>/chat/completions` -> 200 application/json, for one exchange."""
    exchange = report["exchanges"].get(exchange_id)
    if exchange is None:
        return exchange_id
    request = exchange["request"]
    response = exchange["response"]
    if response is None:
        failure = exchange.get("failure") or {}
        outcome = f"no response ({failure.get('message', 'unknown')})"
    else:
        media = next((v for k, v in response["headers"] if k.lower() == "content-type"), "")
        outcome = f"{response['status']} {media.split(';')[0]}".strip()
    return f"{request['method']} {request['url']} → {outcome}"


def noteworthy(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The checks a reader needs to see, by section: MUST failures, errors, SHOULD failures,
    documented deviations, unsupported."""
    sections: dict[str, list[dict[str, Any]]] = {
        "MUST failures": [],
        "Errors (not the target's fault)": [],
        "SHOULD failures": [],
        "Blocked (another check reports the cause)": [],
        "Inconclusive (model checks: too few trials to tell)": [],
        "Documented deviations": [],
        "Unsupported": [],
    }
    for check in report["checks"]:
        status, level = check["status"], check["level"]
        if status == "fail":
            sections["MUST failures" if level == "MUST" else "SHOULD failures"].append(check)
        elif status == "error":
            sections["Errors (not the target's fault)"].append(check)
        elif status == "blocked":
            sections["Blocked (another check reports the cause)"].append(check)
        elif status == "inconclusive":
            sections["Inconclusive (model checks: too few trials to tell)"].append(check)
        elif status == "deviation":
            sections["Documented deviations"].append(check)
        elif status == "unsupported":
            sections["Unsupported"].append(check)
    return sections


_BACKTICKS = re.compile(r"`+")


def md_code(text: str, limit: int = 2000, *, table: bool = False) -> str:
    """Text from a target as a Markdown code span: nothing in it is read as HTML, a link, an image
    or emphasis (GitHub renders a code span literally). Line breaks become spaces, other control
    characters are shown escaped, a pipe is escaped in a table cell, and the fence is longer than any
    run of backticks inside."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
    if table:
        text = text.replace("|", "\\|")
    if not text:
        return "` `"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def client_differences(report: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the two official clients hand an app different things, one (headline, both sides) per group: the row,
    the kind, how many answers, whether a failing check found them at fault (else the clients' own difference)."""
    found = []
    for row in report["rows"]:
        for group in row.get("clients", {}).get("differences", []):
            plural = "answer" if group["count"] == 1 else "answers"
            whose = "answers a check found at fault" if group["at_fault"] else "valid answers: a client difference"
            headline = f"{row['title']}: {group['kind']} on {group['count']} {plural} ({whose}; {group['check']})"
            found.append((headline, f"{group['call']}: {group['python']}; {group['typescript']}"))
    return found


def cross_references(report: dict[str, Any]) -> list[tuple[str, str]]:
    """Each row's pointers to failing checks of other rows about its answers: (row title, what and where)."""
    titles = {row["id"]: row["title"] for row in report["rows"]}
    found = []
    for row in report["rows"]:
        for entry in row.get("see_also", []):
            verdict = "faults" if entry["status"] == "fail" else "finds a documented deviation in"
            found.append(
                (
                    row["title"],
                    f"{entry['check']} ({titles.get(entry['row'], entry['row'])}) {verdict} {entry['count']} of its "
                    f"answers: {', '.join(entry['exchanges'][:5])}",
                )
            )
    return found
