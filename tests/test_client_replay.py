"""Every bundled recording replayed through both official clients, the way an app calls them, independently of the
checks (``app_replay``): every place the two clients hand an app different things is named in the target's
bundled report, nothing the report says about a client is contradicted by the replay, and the README's table of
differences holds the counts the replay finds, for each client release."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from app_replay import calls_for, disagreements, python_outcome, reads, typescript_outcomes

from conformance import ts_oracle
from conformance.cassettes import CassetteSet

ROOT = Path(__file__).resolve().parents[1]
TARGETS = sorted(
    p.name for p in (ROOT / "cassettes").iterdir() if (ROOT / "reports" / p.name / "report.json").is_file()
)
# the npm releases replayed: the one the suite's oracle bundles, and the newest (an alias in js/package.json)
RELEASES = {"openai": ts_oracle.BUNDLED_SDK, "openai-7": "7.60.0"}
INSTALLED = (ROOT / "js" / "node_modules" / "openai").is_dir() and (ROOT / "js" / "node_modules" / "openai-7").is_dir()
needs_node = pytest.mark.skipif(
    (shutil.which("node") is None or not INSTALLED) and not os.environ.get("CONFORMANCE_REQUIRE_NODE"),
    reason="no node, or js/node_modules not installed (npm ci --prefix js)",
)

Finding = tuple[str, str, str, str]  # target, exchange, the report's call, kind


@cache
def replayed() -> dict[str, Any]:
    """For each release: every (target, exchange, call) with both outcomes, and the answer's status."""
    jobs, python, statuses = [], {}, {}
    for target in TARGETS:
        recordings = CassetteSet.load(ROOT / "cassettes" / target)
        for exchange_id in sorted(recordings.ids()):
            exchange = recordings.get(exchange_id)
            assert exchange is not None
            for call in calls_for(exchange):
                key = f"{target}\t{exchange_id}\t{call}"
                jobs.append((key, exchange, call))
                python[key] = python_outcome(exchange, call)
                assert exchange.response is not None
                statuses[key] = exchange.response.status
    releases = {}
    for package, expected in RELEASES.items():
        version, typescript = typescript_outcomes(jobs, package)
        assert version == expected, f"js/node_modules holds {package} {version}, not {expected}: run npm ci --prefix js"
        releases[version] = typescript
    return {"python": python, "statuses": statuses, "typescript": releases}


def findings(version: str) -> dict[Finding, dict[str, Any]]:
    """Every disagreement the replay finds with this npm release, with Python's and TypeScript's outcomes."""
    data = replayed()
    found: dict[Finding, dict[str, Any]] = {}
    for key, python in data["python"].items():
        target, exchange_id, call = key.split("\t")
        typescript = data["typescript"][version][key]
        for named, kind in disagreements(data["statuses"][key], call, python, typescript):
            found.setdefault((target, exchange_id, named, kind), {"python": python, "typescript": typescript})
    return found


def _report(target: str) -> dict[str, Any]:
    return json.loads((ROOT / "reports" / target / "report.json").read_text())


def named_in(report: dict[str, Any], target: str) -> dict[Finding, dict[str, Any]]:
    """Every difference the report names, by exchange."""
    named = {}
    for row in report["rows"]:
        for group in row.get("clients", {}).get("differences", []):
            for exchange_id in group["exchanges"]:
                named[(target, exchange_id, group["call"], group["kind"])] = {**group, "row": row["id"]}
    return named


def contradictions(report: dict[str, Any], target: str, version: str) -> list[str]:
    """What the report says about a client that the replay contradicts: a difference the replay does not find (or
    finds the other way round), a client column that says "fails" where the replay shows that client reading every
    answer the row's failing checks name, or "works" where it shows that client failing on one of those answers
    that the other client reads."""
    found = findings(version)
    wrong = []
    for finding, group in named_in(report, target).items():
        if finding not in found:
            wrong.append(f"{finding}: the report names a difference the replay does not find")
            continue
        python = found[finding]["python"]
        if finding[3] == "one-raises" and (group["python_raises"] is None) != ("raises" not in python):
            wrong.append(f"{finding}: the report says Python {group['python_raises'] or 'returns'}; replay {python}")
    data = replayed()
    outcomes = {
        (key.split("\t")[1], key.split("\t")[2]): (data["statuses"][key], outcome, data["typescript"][version][key])
        for key, outcome in data["python"].items()
        if key.split("\t")[0] == target
    }
    for row in report["rows"]:
        failing: set[str] = set()
        for result in report["checks"]:
            if result["row"] == row["id"] and result["status"] in ("fail", "deviation"):
                failing.update(result["details"].get("failing") or result["evidence"])
        cited = {call: value for call, value in outcomes.items() if call[0] in failing}
        for client, side in (("python", 1), ("typescript", 2)):
            column = row["clients"][client]
            unread = [call for call, value in cited.items() if not reads(value[0], value[side])]
            alone = [call for call in unread if reads(cited[call][0], cited[call][3 - side])]
            if column == "fails" and not unread:
                wrong.append(f"{row['id']}: {client} 'fails', yet it reads every answer the failing checks name")
            if column == "works" and alone:
                wrong.append(f"{row['id']}: {client} 'works', yet it fails on {alone[0]}, which the other client reads")
    return wrong


@needs_node
@pytest.mark.parametrize("target", TARGETS)
def test_every_disagreement_is_named_in_the_report(target: str) -> None:
    report = _report(target)
    version = report["suite"]["typescript_sdk"]
    named = named_in(report, target)
    missing = [
        (finding, outcomes)
        for finding, outcomes in findings(version).items()
        if finding[0] == target and finding not in named
    ]
    assert not missing, f"{len(missing)} disagreements the report does not name; the first: {missing[0]}"


@needs_node
@pytest.mark.parametrize("target", TARGETS)
def test_nothing_the_report_says_about_a_client_is_contradicted(target: str) -> None:
    report = _report(target)
    wrong = contradictions(report, target, report["suite"]["typescript_sdk"])
    assert not wrong, "; ".join(wrong[:5])


@needs_node
def test_a_falsified_client_column_is_caught() -> None:
    """Flip one client column of a bundled report, or name a difference that is not there: the replay says so."""
    caught = 0
    for target in TARGETS:
        report = _report(target)
        version = report["suite"]["typescript_sdk"]
        for index, row in enumerate(report["rows"]):
            for client in ("python", "typescript"):
                if row["clients"][client] not in ("works", "fails"):
                    continue
                forged = copy.deepcopy(report)
                flipped = {"works": "fails", "fails": "works"}[row["clients"][client]]
                forged["rows"][index]["clients"][client] = flipped
                if contradictions(forged, target, version):
                    caught += 1
    assert caught >= 20, f"only {caught} flipped columns were caught"
    report = _report("llamaserver")
    forged = copy.deepcopy(report)
    row = next(row for row in forged["rows"] if row["clients"].get("differences"))
    row["clients"]["differences"][0]["exchanges"].append("models/list")
    assert any("does not find" in said for said in contradictions(forged, "llamaserver", ts_oracle.BUNDLED_SDK))


def counts() -> dict[tuple[str, str, str], set[str]]:
    """(release, target, kind) -> the exchanges showing that kind of disagreement (both-raise is none: there the two
    clients agree, and fail alike)."""
    table: dict[tuple[str, str, str], set[str]] = {}
    for version in RELEASES.values():
        for target, exchange_id, _, kind in findings(version):
            if kind != "both-raise":
                table.setdefault((version, target, kind), set()).add(exchange_id)
    return table


@needs_node
def test_the_readme_table_holds_the_replayed_counts() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- client differences -->")[1]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| ([0-9.]+) \| (.+?) \| (\d+) \|$", section, re.MULTILINE)
    written = {(version, target, kind): int(count) for target, version, kind, count in rows}
    kinds = {"one-raises", "error-code", "error-message", "error-class", "assembled-value", "values"}
    replay = {}
    for (version, target, kind), exchanges in counts().items():
        assert kind in kinds
        replay[(version, target, f"`{kind}`")] = len(exchanges)
    assert written == replay
