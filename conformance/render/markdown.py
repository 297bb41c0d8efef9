"""The report as Markdown, for a GitHub step summary or a pull-request comment."""

from __future__ import annotations

from typing import Any

from conformance.render.common import (
    CLIENT_LABELS,
    ROW_LABELS,
    ROW_SYMBOLS,
    client_differences,
    cross_references,
    evidence_line,
    md_code,
    model_checks,
    noteworthy,
    rate_text,
    stamp,
    with_clients,
)
from conformance.render.coverage import coverage_markdown

COUNTED = ("pass", "fail", "blocked", "inconclusive", "deviation", "unsupported", "skipped", "error")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    target, summary, run = report["target"], report["summary"], report["run"]
    lines = [
        f"# Conformance of {md_code(target['name'])} ({_cell(target['dialect_title'])})",
        "",
        md_code(stamp(report)),
        "",
        f"**{summary['checks']} checks: {summary['must_failures']} MUST failures, {summary['should_failures']} SHOULD "
        f"failures, {summary['deviation']} documented deviations; exit code {run['exit_code']}.**",
        "",
    ]
    clients = with_clients(report)
    columns = " Python client | TypeScript client |" if clients else ""
    lines += [
        "| Feature | Support | " + " | ".join(status.capitalize() for status in COUNTED) + " |" + columns,
        "|---|---|" + "---:|" * len(COUNTED) + ("---|---|" if clients else ""),
    ]
    for row in report["rows"]:
        label = f"{ROW_SYMBOLS[row['status']]} {ROW_LABELS[row['status']]}"
        counts = " | ".join(str(row["counts"].get(status, 0)) for status in COUNTED)
        both = ""
        if clients:
            both = f" {CLIENT_LABELS[row['clients']['python']]} | {CLIENT_LABELS[row['clients']['typescript']]} |"
        lines.append(f"| {row['title']} | {label} | {counts} |{both}")
    measured = model_checks(report)
    if measured:
        lines += [
            "",
            f"## Model behaviour ({len(measured)} checks, {run.get('trials', '?')} trials each)",
            "",
            "What the model chose to do, as a rate over trials with its 95 % interval; never MUST.",
            "",
            "| Check | Rate | Status |",
            "|---|---|---|",
        ]
        lines += [f"| `{check['id']}` | {rate_text(check)} | {check['status']} |" for check in measured]
    pointers = cross_references(report)
    if pointers:
        lines += ["", "Findings of other rows about a row's answers (the verdict stays in the check's row):", ""]
        lines += [f"- **{_cell(title)}**: {md_code(text)}" for title, text in pointers]
    lines += coverage_markdown(report)
    differ = client_differences(report)
    if differ:
        lines += ["", f"## Where the two official clients differ ({len(differ)})", ""]
        lines += [f"- **{_cell(headline)}**: {md_code(both)}" for headline, both in differ]
    for problem in run["problems"]:
        lines += ["", f"> **Problem:** {md_code(problem)}"]
    for title, checks in noteworthy(report).items():
        if not checks:
            continue
        lines += ["", f"## {title} ({len(checks)})", ""]
        for check in checks:
            if check["status"] == "blocked":
                # one line: the cause is listed with the failure that reports it
                reason = check["message"].removeprefix(f"blocked by {check.get('blocked_by')}: ")
                lines.append(
                    f"- **`{check['id']}`** ({check['level']}), blocked by `{check.get('blocked_by')}`: "
                    f"{md_code(reason)}"
                )
                continue
            source = check["source"]
            kind = ", model" if check.get("kind") == "model" else ""
            lines.append(f"- **`{check['id']}`** ({check['level']}{kind}): {_cell(check['claim'])}")
            lines.append(f"  - Observed: {md_code(check['message'])}")
            for exchange_id in check["evidence"][:3]:
                lines.append(f"  - Evidence: {md_code(evidence_line(report, exchange_id))}")
            lines.append(f"  - Source: [{_cell(source['title'])}]({source['url']})")
    return "\n".join(lines) + "\n"
