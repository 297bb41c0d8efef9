"""Exchanges shared between the processes of one run (pytest-xdist's controller and workers).

Under ``pytest -n N`` every process loads the suite, and each would otherwise send the requests of
the checks it runs: the shared run-wide exchanges once per process. Instead, each exchange is made
by whichever process asks first, under a lock file of its own, and written to a folder every
process of the run reads; the others wait for the lock and read the answer. The controller asks for
all planned exchanges before the checks are handed out, so the workers mostly only read.

What is written here has already been redacted by ``conformance.http``; the folder is temporary and
removed by the controller when the run ends.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from conformance import files
from conformance.cassette_format import exchange_from_dict, exchange_to_dict
from conformance.cassettes import cassette_path
from conformance.exchange import Exchange
from conformance.stopping import RunStop

# a hung process must not hold the others forever: longer than any response may take (the deadline)
LOCK_TIMEOUT = 900.0
# written by the controller once every check but those that run last has finished
REST_DONE = "rest-of-run.done"
# written by the controller when the run is stopped
STOPPED = "run.stopped"


class SharedExchanges:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get_or_make(self, exchange_id: str, make: Callable[[], Exchange]) -> tuple[Exchange, bool]:
        """The exchange, and whether this process made it (False: another process had)."""
        path = cassette_path(self.directory, exchange_id).with_suffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path.with_suffix(".lock")), timeout=LOCK_TIMEOUT):
            if path.exists():
                return _read(path), False
            exchange = make()
            if exchange.failure is not None and exchange.failure.kind == "stopped":
                return exchange, True  # the run was stopped: nothing to share
            files.write_text(path, json.dumps(exchange_to_dict(exchange)), root=self.directory)
            return exchange, True

    def mark_stopped(self, reason: str, code: int) -> None:
        """The run was stopped (a signal, its time bound): every process of it stops too."""
        files.write_text(self.directory / STOPPED, json.dumps({"reason": reason, "code": code}))

    def stopped(self) -> tuple[str, int] | None:
        try:
            data = json.loads((self.directory / STOPPED).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return str(data["reason"]), int(data["code"])

    def follow_stop(self, stop: RunStop, every: float = 0.2) -> None:
        """In a worker: stop this process's run when the controller's stops (checked in the background)."""

        def watch() -> None:
            while not stop.wait(every):
                marked = self.stopped()
                if marked is not None:
                    stop.request(*marked)
                    return

        threading.Thread(target=watch, name="follow-stop", daemon=True).start()

    def mark_rest_done(self) -> None:
        """Every check but those that run last has finished (the controller says so)."""
        (self.directory / REST_DONE).touch()

    def wait_for_rest(self, timeout: float = LOCK_TIMEOUT, stop: RunStop | None = None) -> bool:
        """Wait until every check but those that run last has finished; False if it took too long
        (or the run was stopped meanwhile)."""
        deadline = time.monotonic() + timeout
        while not (self.directory / REST_DONE).exists():
            if time.monotonic() > deadline:
                return False
            if stop is not None and stop.wait(0.05):
                return False
            if stop is None:
                time.sleep(0.05)
        return True

    def get(self, exchange_id: str) -> Exchange | None:
        """The exchange if a process of this run has made it (files appear whole: see get_or_make)."""
        path = cassette_path(self.directory, exchange_id).with_suffix(".json")
        try:
            return _read(path)
        except FileNotFoundError:
            return None

    def every(self) -> dict[str, Exchange]:
        """Every exchange the processes of this run have made so far."""
        exchanges = (_read(path) for path in sorted(self.directory.rglob("*.json")))
        return {exchange.id: exchange for exchange in exchanges}


def _read(path: Path) -> Exchange:
    # made live by another process of this run: measured, not replayed
    return dataclasses.replace(exchange_from_dict(json.loads(path.read_text(encoding="utf-8"))), replayed=False)
