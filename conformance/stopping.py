"""Ending a run early, on purpose: a signal (SIGINT, SIGTERM) or the run's time bound.

One ``RunStop`` per run. Once it is set, the HTTP layer cuts every request in flight within a
fraction of a second and sends no new one, queued exchanges end at once, pytest runs no further
check, and the report is written with what was judged, ``complete: false`` and the stop's exit
code. A check whose exchange was cut by the stop is left out rather than judged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from conformance.errors import ExitCode


class RunStopped(Exception):
    """Raised where a check meets an exchange the stop cut short: the check is not judged."""


class RunStop:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason: str | None = None
        self.code: int | None = None
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[str], None]] = []

    @property
    def stopped(self) -> bool:
        return self.event.is_set()

    def request(self, reason: str, code: int) -> bool:
        """Stop the run; True the first time (later requests keep the first reason)."""
        with self._lock:
            if self.event.is_set():
                return False
            self.reason, self.code = reason, code
            self.event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(reason)
        return True

    def on_stop(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` when the run stops (at once if it has)."""
        with self._lock:
            if not self.event.is_set():
                self._callbacks.append(callback)
                return
        callback(self.reason or "stopped")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, or less if the run stops meanwhile; True if it stopped."""
        return self.event.wait(max(seconds, 0.0))


_CURRENT: RunStop | None = None


def begin() -> RunStop:
    """A fresh stop for the run this process is starting."""
    global _CURRENT
    _CURRENT = RunStop()
    return _CURRENT


def current() -> RunStop | None:
    return _CURRENT


SIGNAL_CODES = {"SIGINT": ExitCode.INTERRUPTED, "SIGTERM": ExitCode.TERMINATED}
