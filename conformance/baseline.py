"""Baselines and the regression gate.

A baseline records, for one target, the status of every check and every row in a report (known
failures included) and the suite version that produced it. The gate compares a new report with
it and sorts every check into regressions (a check that got worse, a row whose status dropped, a
check that disappeared), improvements, new checks, and unchanged ones. Only regressions fail a CI
job; improvements are listed so the baseline can be rewritten.

A check regresses when it fails (or errs) where it did not, or disappears. A change to or from
*blocked*, *skipped* or *inconclusive* is listed, never a regression by itself: such a status says
the run could not judge the claim this time, not that the target got worse. A model check (a rate
over trials) regresses only when its verdict goes from pass to fail, or when its new interval lies
wholly below the one in the baseline (``conformance.rates.dropped``), both at the decision level that
keeps the chance of a run failing any model check by chance to 1 % (``conformance.rates``); a rate
that moves within chance is a change. The baseline keeps each model check's counts for this, so a
migration can be gated against another target's own rates. A row whose status dropped is a
regression only where a check of the row regressed; otherwise it is listed as a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import jsonparse
from conformance.errors import ConfigError
from conformance.rates import DECISION_ALPHA, Rate, dropped
from conformance.report import now_iso

# 1.1: the counts of every model check (rates)
BASELINE_VERSION = "1.1"

# better is higher: a change to a lower rank is a regression; only a change to the top rank is an
# improvement (a failure that becomes a skip is a change, but nothing to keep)
CHECK_RANK = {
    "pass": 2,
    "deviation": 2,
    "unsupported": 1,
    "skipped": 1,
    "blocked": 1,
    "inconclusive": 1,
    "fail": 0,
    "error": 0,
}
# statuses that say a claim was not judged this time: changes to or from them are listed, never regressions
UNJUDGED = frozenset({"blocked", "skipped", "inconclusive"})
# the verdicts of a model check that measured a rate
MEASURED = frozenset({"pass", "deviation", "inconclusive", "fail"})
ROW_RANK = {"supported": 3, "partial": 2, "unsupported": 1, "untested": 0}


def write_baseline(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "baseline_version": BASELINE_VERSION,
        "suite_version": report["suite"]["version"],
        "target": report["target"]["name"],
        "dialect": report["target"]["dialect"],
        "written_at": now_iso(),
        "from_report": {"mode": report["run"]["mode"], "started_at": report["run"]["started_at"]},
        "rows": {row["id"]: row["status"] for row in report["rows"]},
        "checks": {check["id"]: check["status"] for check in report["checks"]},
        "rates": {
            check["id"]: {key: check["rate"][key] for key in ("successes", "trials", "threshold")}
            for check in report["checks"]
            if check.get("rate")
        },
    }


def read_baseline(path: Path) -> dict[str, Any]:
    """A baseline from a file, or a ConfigError saying in one line why it is not one."""
    try:
        data = jsonparse.loads(path.read_text(encoding="utf-8"), limit=2 * jsonparse.MAX_DEPTH)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConfigError(f"cannot read the baseline {path}: {reason}") from None
    problem = _baseline_problem(data)
    if problem:
        raise ConfigError(f"{path} is not a baseline written by 'conformance baseline write': {problem}")
    return data


def _baseline_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "it is not a JSON object"
    for key, ranks in (("checks", CHECK_RANK), ("rows", ROW_RANK)):
        entries = data.get(key)
        if not isinstance(entries, dict):
            return f"{key!r} is {'missing' if entries is None else 'not an object'}"
        for name, status in entries.items():
            if status not in ranks:
                return f"{key}.{name} has the unknown status {str(status)[:40]!r}"
    rates = data.get("rates", {})
    if not isinstance(rates, dict):
        return "'rates' is not an object"
    for name, counts in rates.items():
        try:
            Rate.from_dict(counts)
        except (KeyError, TypeError, ValueError):
            return f"rates.{name} is not a count of successes out of trials with a threshold"
    return None


@dataclass(frozen=True)
class Change:
    kind: str  # "check" or "row"
    id: str
    before: str | None
    after: str | None
    # a model check: its rates before and after, and why the change is (or is not) a regression
    detail: str | None = None

    def __str__(self) -> str:
        text = f"{self.kind} {self.id}: {self.before or 'absent'} -> {self.after or 'absent'}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class GateResult:
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    # statuses that moved without getting better or worse in a way that matters (fail -> skipped)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.regressions


def gate(baseline: dict[str, Any], report: dict[str, Any]) -> GateResult:
    result = GateResult()
    if baseline.get("target") != report["target"]["name"]:
        result.notes.append(
            f"the baseline is for target {baseline.get('target')!r}, the report for {report['target']['name']!r}"
        )
    if baseline.get("suite_version") != report["suite"]["version"]:
        result.notes.append(
            f"the baseline was written by suite {baseline.get('suite_version')}, the report by "
            f"{report['suite']['version']}: checks new since then are reported as new"
        )
    if not report["run"].get("complete", True):
        result.notes.append("the report is from a partial run: checks it did not run count as disappeared")
    now = {check["id"]: check["status"] for check in report["checks"]}
    rates_now = {check["id"]: Rate.from_dict(check["rate"]) for check in report["checks"] if check.get("rate")}
    rates_before = {check_id: Rate.from_dict(counts) for check_id, counts in baseline.get("rates", {}).items()}
    for check_id, before in sorted(baseline["checks"].items()):
        after = now.get(check_id)
        change = Change("check", check_id, before, after)
        if after in MEASURED and before in MEASURED and (check_id in rates_now or check_id in rates_before):
            _gate_rate(result, change, rates_before.get(check_id), rates_now.get(check_id))
        elif after is None or (CHECK_RANK[after] < CHECK_RANK[before] and not {before, after} & UNJUDGED):
            result.regressions.append(change)
        elif CHECK_RANK[after] > CHECK_RANK[before]:
            (result.improvements if CHECK_RANK[after] == max(CHECK_RANK.values()) else result.changed).append(change)
        elif after != before:
            result.changed.append(change)
        else:
            result.unchanged += 1
    for check_id in sorted(set(now) - set(baseline["checks"])):
        result.new.append(Change("check", check_id, None, now[check_id]))
    rows_now = {row["id"]: row["status"] for row in report["rows"]}
    row_of = {check["id"]: check.get("row") for check in report["checks"]}
    regressed = {row_of.get(change.id, change.id.split(".", 1)[0]) for change in result.regressions}
    for row_id, before in sorted(baseline["rows"].items()):
        after = rows_now.get(row_id)
        if after is None or (ROW_RANK[after] < ROW_RANK[before] and row_id in regressed):
            result.regressions.append(Change("row", row_id, before, after))
        elif ROW_RANK[after] < ROW_RANK[before]:
            result.changed.append(Change("row", row_id, before, after, "no check of the row regressed"))
        elif ROW_RANK[after] > ROW_RANK[before]:
            result.improvements.append(Change("row", row_id, before, after))
    return result


def _gate_rate(result: GateResult, change: Change, before: Rate | None, after: Rate | None) -> None:
    """A model check: a regression only on pass -> fail, or a drop beyond chance."""
    detail = " -> ".join(f"{r.successes}/{r.trials}" if r else "no rate" for r in (before, after))
    good = ("pass", "deviation")
    if before is not None and after is not None and dropped(before, after):
        low, high = after.decision_interval
        old_low, old_high = before.decision_interval
        detail += (
            f": the {1 - DECISION_ALPHA:.2%} interval {low:.0%}-{high:.0%} lies below the baseline's "
            f"{old_low:.0%}-{old_high:.0%}"
        )
        result.regressions.append(Change("check", change.id, change.before, change.after, detail))
    elif change.before in good and change.after == "fail":
        result.regressions.append(Change("check", change.id, change.before, change.after, detail + ": pass -> fail"))
    elif change.after == change.before:
        result.unchanged += 1
    elif change.after in good and change.before == "fail":
        result.improvements.append(Change("check", change.id, change.before, change.after, detail))
    else:
        result.changed.append(Change("check", change.id, change.before, change.after, detail + ": within chance"))


def describe(result: GateResult) -> list[str]:
    """The gate's verdict as lines for a terminal or a CI log."""
    lines = [f"note: {note}" for note in result.notes]
    for title, changes in (
        ("regression", result.regressions),
        ("improvement", result.improvements),
        ("new", result.new),
        ("changed", result.changed),
    ):
        lines += [f"{title}: {change}" for change in changes]
    verdict = "FAILED" if result.regressions else "passed"
    lines.append(
        f"gate {verdict}: {len(result.regressions)} regressions, {len(result.improvements)} improvements, "
        f"{len(result.new)} new checks, {len(result.changed)} changed, {result.unchanged} unchanged"
        + ("; rewrite the baseline to keep the improvements" if result.improvements and not result.regressions else "")
    )
    return lines


__all__ = ["BASELINE_VERSION", "Change", "GateResult", "describe", "gate", "write_baseline"]
