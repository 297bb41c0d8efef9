"""What a live run shows while it goes.

On a terminal, one live display (rich), redrawn a few times a second: the row being judged, requests
made of those planned, retries after a 429 and the wait for the target's limits, failures so far,
and an ETA from the plan and the throttle's schedule. Elsewhere (a CI log, a pipe): a plain line per
feature row as the run reaches it, without colours or cursor codes.

The display writes to the terminal the ``conformance`` command found before pytest started
capturing output (``use_terminal``); a run started by plain ``pytest`` prints lines.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TextIO

import pytest

from conformance.rows import ROWS, ROWS_BY_ID

if TYPE_CHECKING:
    from conformance.runstate import RunState

_TERMINAL: TextIO | None = None


def use_terminal(stream: TextIO | None) -> None:
    """Where the live display goes (a terminal), or None: lines on standard error."""
    global _TERMINAL
    _TERMINAL = stream


def duration(seconds: float) -> str:
    """42 s, 3 min 05 s, 1 h 02 min."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """The progress of one live run: ``enter`` as each check starts, ``failed`` as one fails,
    ``close`` before the summary is written."""

    def __init__(self, state: RunState, config: pytest.Config, *, live_display: bool = True) -> None:
        self.state = state
        self.planned = 0
        self.failures = 0
        self.row: str | None = None
        self._printed: set[str] = set()
        self.t0 = time.monotonic()
        from rich.console import Console  # only live runs show progress

        self._capture = config.pluginmanager.getplugin("capturemanager")
        self._live: Any = None
        if _TERMINAL is not None and live_display:
            from rich.live import Live

            console = Console(file=_TERMINAL, highlight=False, force_terminal=True)
            self._live = Live(
                self,
                console=console,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        else:
            self._console = Console(stderr=True, highlight=False)

    def enter(self, row: str) -> None:
        if row == self.row:
            return
        self.row = row
        if self._live is None and row not in self._printed:
            # the checks that read every exchange come back to their rows at the end: a line each once
            self._printed.add(row)
            self._print(self.line(plain=True))

    def note(self, line: str) -> None:
        """A line of its own, above the live display (or among the row lines)."""
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
        else:
            self._print(line)

    def failed(self) -> None:
        self.failures += 1

    def line(self, *, plain: bool = False) -> str:
        """The run so far, in one line (rich markup unless ``plain``)."""
        state = self.state
        sent = state.requests_sent
        planned = max(self.planned, sent)
        position = next((n for n, row in enumerate(ROWS, 1) if row.id == self.row), 0)
        title = ROWS_BY_ID[self.row].title if self.row in ROWS_BY_ID else "starting"
        parts = [f"{title} (row {position}/{len(ROWS)})" if position else title]
        if planned:
            parts.append(f"{sent}/≤{planned} requests")
        retries = state.store.retries
        if retries:
            parts.append(f"{retries} retried after a 429")
        holding = state.store.holding()
        if holding >= 1:
            parts.append(f"waiting {duration(holding)} for the target's limits")
        failures = f"{self.failures} failure{'' if self.failures == 1 else 's'}" + (" so far" if plain else "")
        parts.append(failures if plain else f"[{'red' if self.failures else 'green'}]{failures}[/]")
        eta = state.store.eta(planned - sent) if sent < planned else None
        if eta is not None:
            parts.append(f"ETA {duration(eta)}")
        if plain:
            return " · ".join(parts)
        parts[0] = f"[bold]{parts[0]}[/bold]"
        return " · ".join(parts) + f" · [dim]{duration(time.monotonic() - self.t0)}[/dim]"

    def __rich__(self) -> Any:
        from rich.text import Text

        try:
            text = Text.from_markup(self.line(), overflow="ellipsis")
        except Exception as exc:  # the display never breaks the run it shows
            text = Text(f"(progress unavailable: {type(exc).__name__})")
        text.no_wrap = True  # one line, cut to the terminal's width rather than wrapped
        return text

    def close(self) -> None:
        """Take the display down and leave one line of what the run sent."""
        if self._live is None:
            return
        live, self._live = self._live, None
        live.stop()
        state = self.state
        live.console.print(
            f"{state.requests_sent} requests in {duration(time.monotonic() - self.t0)}, "
            f"{state.store.retries} retried after a 429, {self.failures} failures",
            highlight=False,
        )

    def _print(self, line: str) -> None:
        if self._capture is None:
            self._console.print(line, markup=False, soft_wrap=True)
            return
        with self._capture.global_and_fixture_disabled():
            self._console.print(line, markup=False, soft_wrap=True)
