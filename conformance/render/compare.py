"""Several reports side by side: feature rows (or checks) by targets, like a "can I use" table.

Reports made by different suite versions are compared but flagged, since their checks differ.
"""

from __future__ import annotations

from html import escape
from typing import Any

from conformance.render.common import ROW_LABELS, ROW_SYMBOLS, md_code
from conformance.render.coverage import coverage_grid

STATUS_SYMBOLS = {
    "pass": "✅",
    "fail": "❌",
    "deviation": "🟣",
    "unsupported": "➖",
    "skipped": "⚪",
    "blocked": "⛔",
    "inconclusive": "❔",
    "error": "⚠️",
}


def _columns(reports: list[dict[str, Any]]) -> list[str]:
    return [f"{r['target']['name']} ({r['target']['dialect']}, {r['run']['mode']})" for r in reports]


def _notes(reports: list[dict[str, Any]]) -> list[str]:
    versions = sorted({r["suite"]["version"] for r in reports})
    notes = []
    if len(versions) > 1:
        notes.append(f"the reports come from different suite versions ({', '.join(versions)}): their checks differ")
    return notes


def _grid(reports: list[dict[str, Any]], checks: bool) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Row labels and, per row, one (status, tooltip) per report."""
    if not checks:
        titles = {row["id"]: row["title"] for r in reports for row in r["rows"]}
        labels, grid = [], []
        for row_id, title in titles.items():
            labels.append(title)
            line = []
            for report in reports:
                row = next((row for row in report["rows"] if row["id"] == row_id), None)
                status = row["status"] if row else "untested"
                counts = ", ".join(f"{v} {k}" for k, v in (row["counts"] if row else {}).items() if v)
                line.append((status, counts))
            grid.append(line)
        return labels, grid
    ids = sorted({check["id"] for r in reports for check in r["checks"]})
    grid = []
    for check_id in ids:
        line = []
        for report in reports:
            check = next((c for c in report["checks"] if c["id"] == check_id), None)
            line.append(("absent", "not in this report") if check is None else (check["status"], check["message"]))
        grid.append(line)
    return ids, grid


def _symbol(status: str) -> str:
    return ROW_SYMBOLS.get(status) or STATUS_SYMBOLS.get(status, "·")


def _label(status: str) -> str:
    return ROW_LABELS.get(status, status)


def compare_markdown(reports: list[dict[str, Any]], *, checks: bool = False) -> str:
    labels, grid = _grid(reports, checks)
    head = "Check" if checks else "Feature"
    columns = [md_code(column, table=True) for column in _columns(reports)]
    lines = [f"| {head} | " + " | ".join(columns) + " |", "|---|" + "---|" * len(reports)]
    for label, line in zip(labels, grid, strict=True):
        cells = " | ".join(f"{_symbol(status)} {_label(status)}" for status, _ in line)
        lines.append(f"| {md_code(label, table=True) if checks else label} | {cells} |")
    endpoints, coverage = coverage_grid(reports)
    if endpoints:
        lines += ["", "Coverage of the API surface (parameters judged, fields judged):", ""]
        lines += ["| Endpoint | " + " | ".join(columns) + " |", "|---|" + "---|" * len(reports)]
        lines += [f"| `{e}` | " + " | ".join(line) + " |" for e, line in zip(endpoints, coverage, strict=True)]
    for note in _notes(reports):
        lines += ["", f"> Note: {md_code(note)}"]
    return "\n".join(lines) + "\n"


def compare_html(reports: list[dict[str, Any]], *, checks: bool = False) -> str:
    labels, grid = _grid(reports, checks)
    head = "Check" if checks else "Feature"
    rows = []
    for label, line in zip(labels, grid, strict=True):
        cells = "".join(
            f"<td class='c-{escape(status)}' title='{escape(tip)}'>{_symbol(status)} {escape(_label(status))}</td>"
            for status, tip in line
        )
        rows.append(f"<tr><th>{escape(label)}</th>{cells}</tr>")
    columns = "".join(f"<th>{escape(column)}</th>" for column in _columns(reports))
    endpoints, coverage = coverage_grid(reports)
    surface_rows = "".join(
        f"<tr><th><code>{escape(e)}</code></th>" + "".join(f"<td>{escape(cell)}</td>" for cell in line) + "</tr>"
        for e, line in zip(endpoints, coverage, strict=True)
    )
    surface = (
        f"<h2>Coverage of the API surface</h2><table><thead><tr><th>Endpoint</th>{columns}</tr></thead>"
        f"<tbody>{surface_rows}</tbody></table>"
        if surface_rows
        else ""
    )
    notes = "".join(f"<p class='note'>Note: {escape(note)}</p>" for note in _notes(reports))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conformance comparison</title><style>
body {{ font: 14px system-ui, sans-serif; margin: 16px; }} table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }} thead th {{ background: #f6f8fa; }}
.c-supported, .c-pass {{ background: #dafbe1; }} .c-partial, .c-deviation {{ background: #fff8c5; }}
.c-unsupported, .c-fail, .c-error {{ background: #ffebe9; }} .c-untested, .c-skipped, .c-absent {{ color: #6e7781; }}
.note {{ background: #fff8c5; padding: 6px; }}
</style></head><body><h1>Conformance comparison</h1>{notes}
<table><thead><tr><th>{head}</th>{columns}</tr></thead><tbody>{"".join(rows)}</tbody></table>{surface}</body></html>
"""
