"""The end of a run on the console: the summary of every row, the counts, the problems, the exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance import ts_oracle
from conformance.cassettes import describe_set
from conformance.finish import EXIT_MEANING
from conformance.redaction import scrub
from conformance.rows import ROWS
from conformance.verdicts import Level, Status, row_status

if TYPE_CHECKING:
    from conformance.runstate import RunState


def write_summary(terminalreporter: Any, state: RunState) -> None:
    """The end of a run on the console: one line per feature row, the counts, the problems, the exit."""
    run = state.config
    source = describe_set(state.cassettes.info) if state.cassettes is not None else "live"
    terminalreporter.section("conformance", sep="=", bold=True)
    terminalreporter.write_line(f"target {run.target.name} ({run.dialect.name} dialect), mode {run.mode} ({source})")
    results = list(state.results.values())
    colours = {"supported": {"green": True}, "partial": {"yellow": True}, "unsupported": {"red": True}}
    width = max(len(row.id) for row in ROWS) + 2
    for row in ROWS:
        mine = [r for r in results if r.row == row.id]
        status = str(row_status(mine, declared_unsupported=row.id in run.target.capabilities.unsupported))
        counts = ", ".join(
            f"{sum(1 for r in mine if r.status == s)} {s}" for s in Status if any(r.status == s for r in mine)
        )
        terminalreporter.write(f"  {row.id:<{width}}")
        terminalreporter.write(f"{status:<12}", **colours.get(status, {}))
        terminalreporter.write_line(counts)
    must = sum(1 for r in results if r.status == Status.FAIL and r.level == Level.MUST)
    should = sum(1 for r in results if r.status == Status.FAIL and r.level == Level.SHOULD)
    terminalreporter.write_line(
        f"{len(results)} checks: {must} MUST failures, {should} SHOULD failures; {state.requests_sent} requests sent"
    )
    for problem in state.problems:
        terminalreporter.write_line(f"problem: {scrub(problem)}", red=True)
    _, missing = ts_oracle.run_status(results)
    if missing is not None:
        skipped = sum(1 for r in results if r.check_id in ts_oracle.TS_CHECKS)
        terminalreporter.write_line(
            f"TypeScript client: not run ({missing}); the {skipped} checks that need it are skipped, and every "
            "answer's form was judged by the Python client and the schemas alone",
            yellow=True,
        )
    terminalreporter.write_line(f"report: {state.report_path}")
    meaning = EXIT_MEANING.get(state.exit_code, "")
    terminalreporter.write_line(f"exit {state.exit_code}: {meaning}", bold=True)
