"""Renderings of a migration report: Markdown, a self-contained HTML page with both exchanges side by
side, and JUnit XML (one test case per captured request, its failing findings as the failure). Each
takes the report data and returns text."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from conformance.render.common import md_code
from conformance.render.html import CSS
from conformance.render.junit import _xml

SYMBOLS = {"pass": "✅", "different": "🔀", "should": "🟡", "unsupported": "⛔", "fail": "❌", "error": "⚠️"}
NOTEWORTHY = ("fail", "error", "deviation", "inconclusive", "unsupported", "blocked")


def _headline(report: dict[str, Any]) -> str:
    summary, candidate, run = report["summary"], report["candidate"], report["run"]
    verdicts = ", ".join(f"{count} {name}" for name, count in summary["verdicts"].items() if count)
    return (
        f"{summary['requests']} captured requests against {candidate['target']} ({candidate['dialect']} dialect), "
        f"mode {run['mode']}, {run['trials']} trials each: {verdicts}; {summary['must_failures']} MUST failures, "
        f"{summary['should_failures']} SHOULD failures, {summary['differences']} differences from the original"
    )


def _shown(found: dict[str, Any]) -> bool:
    return found["status"] in NOTEWORTHY


def _feature_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for feature in report["features"]:
        conformance = feature.get("conformance")
        cells = [feature["title"], str(len(feature["requests"])), feature["row"] or "—"]
        if "conformance" in report:
            cells.append(f"{conformance['supported']} (row {conformance['row_status']})" if conformance else "—")
        rows.append(cells)
    return rows


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Migration report: {report['traffic']['path']} → {report['candidate']['target']}",
        "",
        _headline(report),
        "",
    ]
    if report["summary"]["unsupported_parameters"]:
        lines += [
            "Parameters the app sends that the candidate's dialect documents as unsupported (sent as the app sent "
            "them): " + ", ".join(f"`{p}`" for p in report["summary"]["unsupported_parameters"]),
            "",
        ]
    lines += ["## Features the app uses", ""]
    header = ["feature", "requests", "row"] + (
        [f"supported by {report['conformance']['target']}"] if "conformance" in report else []
    )
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in _feature_rows(report)]
    lines += ["", "## Requests", "", "| request | verdict | findings |", "|---|---|---|"]
    for entry in report["requests"]:
        noted = [f for f in entry["findings"] if _shown(f)]
        text = "; ".join(f"{f['status']} {f['level']} `{f['id']}`" for f in noted) or "all as the original"
        lines.append(
            f"| `{entry['id']}` {entry['method']} {md_code(entry['path'], 200, table=True)} | "
            f"{SYMBOLS[entry['verdict']]} {entry['verdict']} | {text} |"
        )
    for entry in report["requests"]:
        noted = [f for f in entry["findings"] if _shown(f)]
        if not noted:
            continue
        lines += ["", f"### `{entry['id']}`: {entry['verdict']}", ""]
        if entry["unsupported_parameters"]:
            lines.append(
                f"- sends parameters the dialect documents as unsupported: {', '.join(entry['unsupported_parameters'])}"
            )
        for found in noted:
            lines.append(
                f"- **{found['status']}** ({found['level']}, {found['kind']}) `{found['id']}`: "
                f"{md_code(found['message'], 600)}"
            )
        original = entry["original"]
        if original is not None:
            lines.append(f"- original: HTTP {original['status']} {md_code(original['excerpt'], 200)}")
        for trial in entry["candidate"][:1]:
            lines.append(f"- candidate: HTTP {trial['status']} {md_code(trial['excerpt'], 200)}")
    return "\n".join(lines) + "\n"


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _side(part: dict[str, Any] | None, title: str) -> str:
    if part is None:
        return f"<div><h4>{title}</h4><p>none captured</p></div>"
    status = part["status"] if part["status"] is not None else part["failure"]
    return f"<div><h4>{title}: {html.escape(str(status))}</h4>{_pre(part['excerpt'])}</div>"


def render_html(report: dict[str, Any]) -> str:
    title = f"Migration report: {report['traffic']['path']} → {report['candidate']['target']}"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{html.escape(title)}</title><style>{CSS}"
        ".pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}.v-pass{background:var(--pass)}"
        ".v-fail{background:var(--fail)}.v-should{background:var(--inconclusive)}.v-different{background:var(--deviation)}"
        ".v-error{background:var(--error)}.v-unsupported{background:var(--unsupported)}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p class=stamp>{html.escape(_headline(report))}</p>",
        "<h2>Features the app uses</h2><table><tr><th>feature</th><th>requests</th><th>row</th>",
    ]
    if "conformance" in report:
        parts.append(f"<th>supported by {html.escape(str(report['conformance']['target']))}</th>")
    parts.append("</tr>")
    for cells in _feature_rows(report):
        parts.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    parts.append("</table><h2>Requests</h2>")
    for entry in report["requests"]:
        verdict = entry["verdict"]
        parts.append(
            f"<details class=check{' open' if verdict != 'pass' else ''}><summary><span class='badge v-{verdict}'>"
            f"{verdict}</span> <code>{html.escape(entry['id'])}</code> {entry['method']} {html.escape(entry['path'])}"
            f" <span class=level>{html.escape(', '.join(entry['features']))}</span></summary>"
        )
        if entry["unsupported_parameters"]:
            parts.append(
                "<p class=problem>sends parameters the dialect documents as unsupported: "
                f"{html.escape(', '.join(entry['unsupported_parameters']))}</p>"
            )
        parts.append("<table><tr><th>status</th><th>level</th><th>check</th><th>message</th></tr>")
        for found in entry["findings"]:
            parts.append(
                f"<tr><td><span class='badge s-{found['status']}'>{found['status']}</span></td>"
                f"<td>{found['level']}</td>"
                f"<td><code>{html.escape(found['id'])}</code></td><td>{html.escape(found['message'])}</td></tr>"
            )
        parts.append("</table><details><summary>request as sent</summary>")
        body = entry["body"]
        parts.append(_pre(body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)[:20000]))
        parts.append("</details><div class=pair>")
        parts.append(_side(entry["original"], "original"))
        trials = entry["candidate"]
        parts.append(_side(trials[0] if trials else None, f"candidate (trial 1 of {len(trials)})"))
        parts.append("</div></details>")
    parts.append("</body></html>")
    return "".join(parts) + "\n"


def render_junit(report: dict[str, Any]) -> str:
    requests = report["requests"]
    suite = ET.Element(
        "testsuite",
        name=f"migration.{report['candidate']['target']}",
        tests=str(len(requests)),
        failures=str(sum(1 for e in requests if e["verdict"] in ("fail", "unsupported", "should", "different"))),
        errors=str(sum(1 for e in requests if e["verdict"] == "error")),
        skipped="0",
        timestamp=report["run"]["started_at"],
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("suite_version", report["suite"]["version"]),
        ("dialect", report["candidate"]["dialect"]),
        ("mode", report["run"]["mode"]),
        ("fail_on", report["run"]["fail_on"]),
    ):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for entry in requests:
        case = ET.SubElement(
            suite, "testcase", classname="migration", name=_xml(f"{entry['id']} {entry['method']} {entry['path']}")
        )
        failing = [f for f in entry["findings"] if f["status"] in ("fail", "error", "unsupported")]
        text = "\n".join(f"{f['status']} {f['level']} {f['id']}: {f['message']}" for f in failing)
        if entry["verdict"] == "error":
            ET.SubElement(case, "error", message=_xml(failing[0]["message"][:300]), type="error").text = _xml(text)
        elif entry["verdict"] != "pass":
            ET.SubElement(
                case, "failure", message=_xml(failing[0]["message"][:300]), type=entry["verdict"]
            ).text = _xml(text)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


FILES: dict[str, Callable[[dict[str, Any]], str]] = {
    "migration.md": render_markdown,
    "migration.html": render_html,
    "migration-junit.xml": render_junit,
}
FORMATS = {"md": render_markdown, "html": render_html, "junit": render_junit}
