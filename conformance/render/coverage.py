"""The coverage of the API surface as Markdown and HTML: a table of endpoints, and what was not judged.

A report written before reports carried their coverage (1.5 and older) is measured when it is rendered:
coverage is read from the report's own evidence, so it comes out the same either way."""

from __future__ import annotations

from html import escape
from typing import Any

from conformance.render.common import md_code
from conformance.surface.coverage import coverage, share

_NOT_JUDGED_SHOWN = 12


def covered(report: dict[str, Any]) -> dict[str, Any]:
    return report.get("coverage") or coverage(report)


def _title(covering: dict[str, Any]) -> str:
    spec = covering["spec"]
    return (
        f"Coverage of OpenAI's API surface ({spec['repository']} {spec['commit'][:7]}, version {spec['version']}): "
        "parameters the run sent and judged, fields of answers it saw and judged"
    )


def coverage_markdown(report: dict[str, Any]) -> list[str]:
    covering = covered(report)
    lines = ["", f"## {_title(covering)}", "", "| Endpoint | Parameters sent | judged | Fields seen | judged |"]
    lines.append("|---|---:|---:|---:|---:|")
    for endpoint, counts in covering["endpoints"].items():
        params, fields = counts["parameters"], counts["fields"]
        lines.append(
            f"| `{endpoint}` | {share(params, 'sent')} | {share(params, 'judged')} | {share(fields, 'seen')} | "
            f"{share(fields, 'judged')} |"
        )
    for endpoint, counts in covering["endpoints"].items():
        missing = counts["parameters"]["not_judged"]
        undocumented = counts["undocumented_fields"]
        if not missing and not undocumented:
            continue
        lines += ["", f"<details><summary><code>{endpoint}</code>: {len(missing)} parameters not judged, "
                  f"{counts['undocumented_count']} fields the document does not describe</summary>", ""]  # fmt: skip
        for item in missing[:_NOT_JUDGED_SHOWN]:
            lines.append(f"- `{item['parameter']}`: {md_code(item['why'])}")
        if len(missing) > _NOT_JUDGED_SHOWN:
            lines.append(f"- and {len(missing) - _NOT_JUDGED_SHOWN} more (in report.json)")
        if undocumented:
            lines.append("- not in the document: " + ", ".join(md_code(path) for path in undocumented))
        lines += ["", "</details>"]
    return lines


def coverage_html(report: dict[str, Any]) -> str:
    covering = covered(report)
    rows = []
    for endpoint, counts in covering["endpoints"].items():
        params, fields = counts["parameters"], counts["fields"]
        missing = "".join(
            f"<li><code>{escape(item['parameter'])}</code>: {escape(item['why'])}</li>" for item in params["not_judged"]
        )
        undocumented = ", ".join(f"<code>{escape(path)}</code>" for path in counts["undocumented_fields"])
        detail = f"<details><summary>{len(params['not_judged'])} not judged</summary><ul>{missing}</ul></details>"
        rows.append(
            f"<tr><td><code>{escape(endpoint)}</code></td><td class='num'>{share(params, 'sent')}</td>"
            f"<td class='num'>{share(params, 'judged')}</td><td class='num'>{share(fields, 'seen')}</td>"
            f"<td class='num'>{share(fields, 'judged')}</td><td>{detail if missing else ''}"
            f"{f'<div>not in the document: {undocumented}</div>' if undocumented else ''}</td></tr>"
        )
    head = "<tr><th>Endpoint</th><th>Parameters sent</th><th>judged</th><th>Fields seen</th><th>judged</th><th></th>"
    head += "</tr>"
    return f"<h2>{escape(_title(covering))}</h2><table id='coverage'>{head}{''.join(rows)}</table>"


def coverage_grid(reports: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Per endpoint, per report: parameters and fields judged (``—`` where a report has no such endpoint)."""
    coverings = [covered(report)["endpoints"] for report in reports]
    endpoints = list(dict.fromkeys(e for covering in coverings for e in covering))
    grid = []
    for endpoint in endpoints:
        line = []
        for covering in coverings:
            counts = covering.get(endpoint)
            line.append(
                "—"
                if counts is None
                else f"params {share(counts['parameters'], 'judged')}, fields {share(counts['fields'], 'judged')}"
            )
        grid.append(line)
    return endpoints, grid
