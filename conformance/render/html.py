"""The report as one self-contained HTML page: no network assets, readable without JavaScript.

The feature table is a matrix with colours and counts; every check is a collapsible entry with its
claim, the message, the source it rests on, and its evidence: each exchange's request and response
(headers, body pretty-printed, or the stream's events one by one), already redacted. A small inline
script adds filters by status, by row and by text; it marks <body data-ready="yes"> when it has run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any

from conformance import jsonparse
from conformance.exchange import Chunk
from conformance.render.common import (
    CLIENT_LABELS,
    ROW_LABELS,
    client_differences,
    cross_references,
    noteworthy,
    rate_text,
    stamp,
    with_clients,
)
from conformance.render.coverage import coverage_html
from conformance.sse import parse

STATUSES = ("pass", "fail", "blocked", "inconclusive", "deviation", "unsupported", "skipped", "error")
MAX_SHOWN = 20_000
# exchanges shown whole under one check (the form checks cite every answer of the run; the rest are named)
MAX_EXCHANGES_SHOWN = 3

CSS = """
:root { --pass:#1a7f37; --fail:#cf222e; --deviation:#8250df; --unsupported:#6e7781; --skipped:#afb8c1;
        --blocked:#953800; --inconclusive:#9a6700; --error:#bc4c00; --supported:#1a7f37; --partial:#bf8700;
        --untested:#afb8c1; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px; color:#1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } .stamp { color:#57606a; font-size: 12px; margin-bottom: 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display:inline-block; min-width: 74px; text-align:center; border-radius: 10px; padding: 0 8px;
         color: #fff; font-size: 12px; font-weight: 600; }
.s-pass{background:var(--pass)} .s-fail{background:var(--fail)} .s-deviation{background:var(--deviation)}
.s-unsupported{background:var(--unsupported)} .s-skipped{background:var(--skipped);color:#1f2328}
.s-blocked{background:var(--blocked)} .s-inconclusive{background:var(--inconclusive)}
.blocks { margin: 6px 0; padding: 4px 8px; background: #fff1e5; border-radius: 6px; }
.s-error{background:var(--error)} .r-supported{background:var(--supported)} .r-partial{background:var(--partial)}
.r-unsupported{background:var(--fail)} .r-untested{background:var(--untested);color:#1f2328}
tr.row-line { cursor: pointer; } tr.row-line:hover { background: #f6f8fa; }
.filters { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid #d0d7de;
           display:flex; gap: 12px; flex-wrap: wrap; align-items: center; }
details.check { border: 1px solid #d0d7de; border-radius: 6px; margin: 6px 0; padding: 4px 8px; }
details.check > summary { cursor: pointer; } .level { font-size: 11px; color:#57606a; margin: 0 6px; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f6f8fa; padding: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; }
.message { margin: 6px 0; } .problem { background:#fff8c5; padding: 6px 8px; border-radius: 6px; }
.exchange { border-left: 3px solid #d0d7de; padding-left: 8px; margin: 8px 0; }
[hidden] { display: none !important; }
"""

SCRIPT = """
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name=status]'));
  var rowSelect = document.getElementById('row-filter');
  var text = document.getElementById('text-filter');
  var checks = Array.prototype.slice.call(document.querySelectorAll('details.check'));
  var counter = document.getElementById('shown');
  function apply() {
    var statuses = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var row = rowSelect.value, needle = text.value.toLowerCase(), shown = 0;
    checks.forEach(function (c) {
      var ok = statuses.indexOf(c.dataset.status) >= 0 && (!row || c.dataset.row === row) &&
               (!needle || c.textContent.toLowerCase().indexOf(needle) >= 0);
      c.hidden = !ok; if (ok) { shown += 1; }
    });
    counter.textContent = shown + ' of ' + checks.length + ' checks shown';
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  rowSelect.addEventListener('change', apply);
  text.addEventListener('input', apply);
  Array.prototype.slice.call(document.querySelectorAll('tr.row-line')).forEach(function (tr) {
    tr.addEventListener('click', function () { rowSelect.value = tr.dataset.row; apply(); });
  });
  apply();
  document.body.dataset.ready = 'yes';
})();
"""


# deeper JSON is shown as sent: indenting it would cost the square of its depth in spaces
MAX_INDENTED_DEPTH = 16


def _pretty(text: str) -> str:
    if jsonparse.depth_exceeds(text, MAX_INDENTED_DEPTH):
        return text
    try:
        value = jsonparse.loads(text)
    except ValueError:
        return text
    if "NaN" in text or "Infinity" in text:  # what the target sent, not JSON's null for it
        return json.dumps(value, indent=2, ensure_ascii=False)
    return jsonparse.pretty(value)


def _headers(headers: list[list[str]] | dict[str, str]) -> str:
    pairs = headers.items() if isinstance(headers, dict) else headers
    return "\n".join(f"{name}: {value}" for name, value in pairs)


def _body(part: dict[str, Any], media_type: str = "") -> str:
    body = part.get("body")
    if body is None:
        return "(no body)"
    if part.get("body_encoding") == "base64":
        return f"(binary body, {part.get('body_bytes', '?')} bytes, base64)\n{body[:2000]}"
    if media_type.startswith("text/event-stream"):
        stream = parse([Chunk(0.0, body.encode("utf-8", "backslashreplace"))])
        events = []
        for event in stream.events:
            fields = "\n".join(f"{name}: {_pretty(value) if name == 'data' else value}" for name, value in event.fields)
            events.append(f"── event {event.index + 1}\n{fields}")
        if stream.trailing:
            events.append(f"── unterminated\n{stream.trailing.decode('utf-8', 'replace')}")
        text = "\n".join(events)
    elif part.get("body_encoding") == "json":
        text = _pretty(json.dumps(body, ensure_ascii=False))
    else:
        text = _pretty(body)
    note = " (truncated in the report)" if part.get("body_truncated") else ""
    if len(text) > MAX_SHOWN:
        text, note = text[:MAX_SHOWN], " (cut for display)"
    return text + (f"\n…{note}" if note else "")


def _exchange(report: dict[str, Any], exchange_id: str) -> str:
    exchange = report["exchanges"].get(exchange_id)
    if exchange is None:
        return f"<div class='exchange'><code>{escape(exchange_id)}</code> (not in the report)</div>"
    request, response, failure = exchange["request"], exchange["response"], exchange["failure"]
    parts = [
        f"<div class='exchange'><b>{escape(exchange_id)}</b> — {escape(exchange['purpose'])}",
        f"<div><code>{escape(request['method'])} {escape(request['url'])}</code> (auth: {escape(request['auth'])}"
        f"{', replayed' if exchange['replayed'] else ''}; {exchange['elapsed'] * 1000:.0f} ms)</div>",
        f"<pre>{escape(_headers(request['headers']))}\n\n{escape(_body(request))}</pre>",
    ]
    if response is not None:
        media = next((value for name, value in response["headers"] if name.lower() == "content-type"), "")
        decoded = f", decoded from {escape(response['decoded_from'])}" if response["decoded_from"] else ""
        parts.append(
            f"<div>→ <b>{response['status']}</b> {escape(response['reason'])} ({response['chunks']} chunks, "
            f"{response['body_bytes']} bytes{decoded})</div>"
            f"<pre>{escape(_headers(response['headers']))}\n\n{escape(_body(response, media.lower()))}</pre>"
        )
    if failure is not None:
        parts.append(f"<div class='problem'>transport: {escape(failure['kind'])}: {escape(failure['message'])}</div>")
    parts.append("</div>")
    return "\n".join(parts)


def _check(check: dict[str, Any], blocks: list[dict[str, Any]], exchange_html: Callable[[str], str]) -> str:
    source = check["source"]
    cited = check["evidence"]
    evidence = "\n".join(exchange_html(exchange_id) for exchange_id in cited[:MAX_EXCHANGES_SHOWN])
    if len(cited) > MAX_EXCHANGES_SHOWN:
        rest = ", ".join(f"<code>{escape(exchange_id)}</code>" for exchange_id in cited[MAX_EXCHANGES_SHOWN:])
        evidence += (
            f"<div class='more'>and {len(cited) - MAX_EXCHANGES_SHOWN} more exchanges (in report.json): {rest}</div>"
        )
    if blocks:
        items = "".join(f"<li><code>{escape(b['id'])}</code>: {escape(b['message'])}</li>" for b in blocks)
        evidence = (
            f"<div class='blocks'>What this finding blocks ({len(blocks)} checks):<ul>{items}</ul></div>" + evidence
        )
    opened = " open" if check["status"] in ("fail", "error") and check["level"] == "MUST" else ""
    return (
        f"<details class='check' data-status='{check['status']}' data-row='{escape(check['row'])}'{opened}>"
        f"<summary><span class='badge s-{check['status']}'>{check['status']}</span>"
        f"<span class='level'>{check['level']}{' · model' if check.get('kind') == 'model' else ''}</span>"
        f"<code>{escape(check['id'])}</code> — {escape(check['claim'])}</summary>"
        + (f"<div class='rate'>Rate: {escape(rate_text(check))}</div>" if check.get("rate") else "")
        + f"<div class='message'>{escape(check['message'])}</div>"
        f"<div>Source: <a href='{escape(source['url'])}'>{escape(source['title'])}</a></div>{evidence}</details>"
    )


def render_html(report: dict[str, Any]) -> str:
    target, summary = report["target"], report["summary"]
    clients = with_clients(report)
    matrix = [
        "<table id='matrix'><tr><th>Feature</th><th>Support</th>"
        + "".join(f"<th>{status}</th>" for status in STATUSES)
        + ("<th>Python client</th><th>TypeScript client</th>" if clients else "")
        + "</tr>"
    ]
    for row in report["rows"]:
        counts = "".join(f"<td class='num'>{row['counts'].get(status, 0) or ''}</td>" for status in STATUSES)
        if clients:
            counts += "".join(
                f"<td class='client c-{row['clients'][name].replace(' ', '-')}'>"
                f"{escape(CLIENT_LABELS[row['clients'][name]])}</td>"
                for name in ("python", "typescript")
            )
        matrix.append(
            f"<tr class='row-line' data-row='{escape(row['id'])}'><td>{escape(row['title'])}</td>"
            f"<td><span class='badge r-{row['status']}'>{ROW_LABELS[row['status']]}</span></td>{counts}</tr>"
        )
    matrix.append("</table>")
    problems = "".join(f"<p class='problem'>Problem: {escape(p)}</p>" for p in report["run"]["problems"])
    differ = client_differences(report)
    differences = (
        f"<section id='client-differences'><h2>Where the two official clients differ ({len(differ)})</h2><ul>"
        + "".join(f"<li><b>{escape(headline)}</b>: {escape(both)}</li>" for headline, both in differ)
        + "</ul></section>"
        if differ
        else ""
    )
    pointers = cross_references(report)
    if pointers:
        differences = (
            "<section id='see-also'><h2>Findings of other rows about a row's answers</h2><ul>"
            + "".join(f"<li><b>{escape(title)}</b>: {escape(text)}</li>" for title, text in pointers)
            + "</ul></section>"
            + differences
        )
    sections = noteworthy(report)
    headline = ", ".join(
        f"{len(checks)} {title.lower()}" for title, checks in sections.items() if checks and "failures" not in title
    )
    options = "".join(f"<option value='{escape(r['id'])}'>{escape(r['title'])}</option>" for r in report["rows"])
    boxes = "".join(
        f"<label><input type='checkbox' name='status' value='{s}' {'checked' if s != 'pass' else ''}> "
        f"<span class='badge s-{s}'>{s}</span> {summary.get(s, 0)}</label>"
        for s in STATUSES
    )
    blocked: dict[str, list[dict[str, Any]]] = {}
    for check in report["checks"]:
        if check["status"] == "blocked" and check.get("blocked_by"):
            blocked.setdefault(check["blocked_by"], []).append(check)
    rendered: dict[str, str] = {}

    def exchange_html(exchange_id: str) -> str:
        # an exchange is cited by many checks (every chat completion by the form checks): render it once
        if exchange_id not in rendered:
            rendered[exchange_id] = _exchange(report, exchange_id)
        return rendered[exchange_id]

    checks = "\n".join(_check(check, blocked.get(check["id"], []), exchange_html) for check in report["checks"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conformance of {escape(target["name"])}</title><style>{CSS}</style></head>
<body data-ready="no">
<h1>Conformance of {escape(target["name"])} <small>({escape(target["dialect_title"])})</small></h1>
<div class="stamp">{escape(stamp(report))}</div>
<p><b>{summary["checks"]} checks</b>: {summary["must_failures"]} MUST failures, {summary["should_failures"]} SHOULD
failures; {escape(headline or "nothing to report")}. Exit code {report["run"]["exit_code"]}.</p>
{problems}
{"".join(matrix)}
{coverage_html(report)}
{differences}
<div class="filters">{boxes}
<select id="row-filter"><option value="">all features</option>{options}</select>
<input id="text-filter" type="search" placeholder="filter by text"> <span id="shown"></span></div>
<div id="checks">
{checks}
</div>
<script>{SCRIPT}</script>
</body></html>
"""
