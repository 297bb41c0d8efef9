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
import os
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from conformance.cassettes import cassette_path, exchange_from_dict, exchange_to_dict
from conformance.exchange import Exchange

# a hung process must not hold the others forever: longer than any response may take (the deadline)
LOCK_TIMEOUT = 900.0
# written by the controller once every check but those that run last has finished
REST_DONE = "rest-of-run.done"


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
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(exchange_to_dict(exchange)), encoding="utf-8")
            tmp.replace(path)
            return exchange, True

    def mark_rest_done(self) -> None:
        """Every check but those that run last has finished (the controller says so)."""
        (self.directory / REST_DONE).touch()

    def wait_for_rest(self, timeout: float = LOCK_TIMEOUT) -> bool:
        """Wait until every check but those that run last has finished; False if it took too long."""
        deadline = time.monotonic() + timeout
        while not (self.directory / REST_DONE).exists():
            if time.monotonic() > deadline:
                return False
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
