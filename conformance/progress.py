"""What a live run prints while it goes: one line per feature row as the run reaches it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from conformance.rows import ROWS_BY_ID

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
