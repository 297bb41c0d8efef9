"""What a run prints: while a live run goes, one line per feature row as it reaches it; at the end,
the summary of every row, the problems and the exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.cassettes import describe_set
from conformance.finish import EXIT_MEANING
from conformance.redaction import scrub
from conformance.rows import ROWS, ROWS_BY_ID
from conformance.verdicts import Level, Status, row_status

if TYPE_CHECKING:
    from conformance.runstate import RunState


class Progress:
    """One line per feature row as a live run reaches it: requests made of those planned, failures so far."""

    def __init__(self, state: RunState, config: pytest.Config) -> None:
        self.state = state
        self.planned = 0
        self.failures = 0
        self.row: str | None = None
        from rich.console import Console  # only live runs print progress

        self.console = Console(stderr=True, highlight=False)
        self.capture = config.pluginmanager.getplugin("capturemanager")

    def enter(self, row: str) -> None:
        if row == self.row:
            return
        self.row = row
        sent = self.state.requests_sent
        planned = max(self.planned, sent)
        colour = "red" if self.failures else "green"
        line = (
            f"[bold]{ROWS_BY_ID[row].title}[/bold] · {sent}/{planned}+ requests · "
            f"[{colour}]{self.failures} failure{'' if self.failures == 1 else 's'} so far[/{colour}]"
        )
        if self.capture is None:
            self.console.print(line)
            return
        with self.capture.global_and_fixture_disabled():
            self.console.print(line)


def write_summary(terminalreporter: Any, state: RunState) -> None:
    """The end of a run on the console: one line per feature row, the counts, the problems, the exit."""
    run = state.config
    source = describe_set(state.cassettes.info) if state.cassettes is not None else "live"
    terminalreporter.section("conformance", sep="=", bold=True)
    terminalreporter.write_line(f"target {run.target.name} ({run.dialect.name} dialect), mode {run.mode} ({source})")
    results = list(state.results.values())
    colours = {"supported": {"green": True}, "partial": {"yellow": True}, "unsupported": {"red": True}}
    for row in ROWS:
        mine = [r for r in results if r.row == row.id]
        status = str(row_status(mine, declared_unsupported=row.id in run.target.capabilities.unsupported))
        counts = ", ".join(
            f"{sum(1 for r in mine if r.status == s)} {s}" for s in Status if any(r.status == s for r in mine)
        )
        terminalreporter.write(f"  {row.id:<22}")
        terminalreporter.write(f"{status:<12}", **colours.get(status, {}))
        terminalreporter.write_line(counts)
    must = sum(1 for r in results if r.status == Status.FAIL and r.level == Level.MUST)
    should = sum(1 for r in results if r.status == Status.FAIL and r.level == Level.SHOULD)
    terminalreporter.write_line(
        f"{len(results)} checks: {must} MUST failures, {should} SHOULD failures; {state.requests_sent} requests sent"
    )
    for problem in state.problems:
        terminalreporter.write_line(f"problem: {scrub(problem)}", red=True)
    terminalreporter.write_line(f"report: {state.report_path}")
    meaning = EXIT_MEANING.get(state.exit_code, "")
    terminalreporter.write_line(f"exit {state.exit_code}: {meaning}", bold=True)
