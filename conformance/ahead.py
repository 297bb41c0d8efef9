"""A replay judged on both cores, while pytest starts up and reports.

A replay's checks are pure functions of the recordings, so a verdict does not depend on which
process reaches it. Once the cassettes are loaded, ``conformance run`` forks a copy of itself. The
checks are split in two, in the order pytest will run them:

- the copy judges the first half of the checks that do not run last, then every check that runs
  last (those read every exchange the run made, so they need all the others' exchanges first);
- the original judges the second half of the checks that do not run last at once, sends the copy
  the exchanges each of them made, and then lets pytest start, collect and report; each check test
  takes its result from the original's own or from the copy's pipe instead of judging.

The exchanges are counted as made in the order a run in one process makes them (each check's, in
check order), in both processes, so the checks that read every exchange see what they would have
seen, and the report cites the same: the verdicts are the same by construction (a test replays
every bundled target both ways and compares).

The original judges a check itself whenever there is no result to take: the copy failed, died or
was killed, or the run's configuration or the order of its checks is not the one assumed (pytest
arguments, say). Nothing is split when pytest is given arguments, off a replay, with other threads
running, on one core, or with ``CONFORMANCE_JUDGE_AHEAD=0``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import threading
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from conformance.registry import CHECKS, Check, load_all
from conformance.rows import ROW_IDS
from conformance.verdicts import CheckResult

if TYPE_CHECKING:
    from conformance.cassettes import CassetteSet
    from conformance.runconfig import RunConfig
    from conformance.schemas import SchemaSet

_HEADER = struct.Struct("!I")
_PICKLING = (pickle.PicklingError, TypeError, AttributeError, RecursionError)
_UNPICKLING = (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError)

# a result, and the exchanges its check made (in the order it made them)
Judged = tuple[CheckResult, list[str]]


def run_order() -> list[Check]:
    """The checks in the order the plugin runs a whole suite: row by row, as pytest collects them,
    with those that run last after all the others (see RunHooks.pytest_collection_modifyitems)."""
    load_all()
    position = {row: number for number, row in enumerate(ROW_IDS)}
    return sorted(CHECKS.values(), key=lambda check: (check.runs_last, position[check.row]))


def own_share(order: list[Check]) -> range:
    """The positions the original judges: the second half of the checks that do not run last."""
    first = sum(1 for check in order if not check.runs_last)
    return range(first - first // 2, first)


def wanted(config: RunConfig, pytest_args: list[str]) -> bool:
    return (
        config.mode == "replay"
        and not config.dry_run
        and not pytest_args
        and hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and os.environ.get("CONFORMANCE_JUDGE_AHEAD", "1") != "0"
    )


def _send(pipe: IO[bytes], message: Any) -> bool:
    try:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except _PICKLING:
        return False
    pipe.write(_HEADER.pack(len(data)) + data)
    pipe.flush()
    return True


def _receive(pipe: IO[bytes]) -> Any:
    """The next message, or None at the end of the pipe or when it cannot be read."""
    try:
        header = pipe.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack(header)
        data = pipe.read(size)
        return pickle.loads(data) if len(data) == size else None
    except _UNPICKLING:
        return None


@dataclass
class Ahead:
    """The original's end: its own results, the copy's process and the pipe its results come down."""

    config: RunConfig
    order: list[str]
    pid: int
    pipe: IO[bytes] | None
    own: dict[int, Judged]
    position: int = 0
    taken: int = 0
    _closed: bool = field(default=False, repr=False)

    def matches(self, config: RunConfig, check_ids: list[str]) -> bool:
        """Is this the run that was split? Otherwise the copy is stopped and nothing is taken."""
        if config == self.config and check_ids == self.order:
            return True
        self.own.clear()
        self.close()
        return False

    def take(self, check: Check) -> Judged | None:
        """The result of ``check`` and the exchanges it made, if they were judged ahead."""
        position = self.position
        self.position += 1
        if position >= len(self.order) or self.order[position] != check.id:
            self.own.clear()  # not the run that was split, after all
            self.close()
            return None
        if position in self.own:
            self.taken += 1
            return self.own.pop(position)
        message = _receive(self.pipe) if self.pipe is not None else None
        if not (isinstance(message, tuple) and len(message) == 3 and message[0] == position):
            self.close()  # the copy is gone: what it has not sent is judged here
            return None
        _, result, made = message
        if not isinstance(result, CheckResult) or result.check_id != check.id:
            self.close()
            return None
        self.taken += 1
        return result, made

    def close(self) -> None:
        """Stop the copy (if it still runs) and reap it; nothing more is taken from it."""
        if self._closed:
            return
        self._closed = True
        if self.pipe is not None:
            self.pipe.close()
            self.pipe = None
        with contextlib.suppress(OSError):  # it may have ended already
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


_CURRENT: Ahead | None = None


def current() -> Ahead | None:
    return _CURRENT


def start(config: RunConfig) -> Ahead | None:
    """Fork the copy, judge this process's share (see the module's text); None when it cannot."""
    global _CURRENT
    from conformance import generation
    from conformance.cassettes import CassetteSet
    from conformance.schemas import schema_set

    order = run_order()
    share = own_share(order)
    schemas = schema_set(config.dialect)  # compiled once, for both processes
    cassettes = CassetteSet.load(config.cassette_dir)
    from conformance.startup import noticed_in_recordings

    config = noticed_in_recordings(config, cassettes)  # as the plugin's start of a replay does
    generation.use_placeholders(True)  # as the plugin's start of a replay does (conformance.startup)
    try:
        results_read, results_write = os.pipe()
        made_read, made_write = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the copy: it never returns to the caller
        os.close(results_read)
        os.close(made_write)
        _copy(config, order, share, results_write, made_read)
    os.close(results_write)
    os.close(made_read)
    own = {position: _judge_alone(config, schemas, cassettes, order[position]) for position in share}
    made_pipe = os.fdopen(made_write, "wb")
    made = [own[position][1] for position in share]
    # a thread writes, so that a long list never waits here for the copy to read it
    threading.Thread(target=_send_and_close, args=(made_pipe, made), name="judged-ahead", daemon=True).start()
    _CURRENT = Ahead(config, [check.id for check in order], pid, os.fdopen(results_read, "rb"), own)
    return _CURRENT


def _send_and_close(pipe: IO[bytes], message: Any) -> None:
    with contextlib.suppress(OSError), pipe:
        _send(pipe, message)


def _judge_alone(config: RunConfig, schemas: SchemaSet, cassettes: CassetteSet, check: Check) -> Judged:
    """Judge one check that reads no other check's exchanges, in a store of its own: what the store
    made is what the check made, in order."""
    from conformance.context import CheckContext
    from conformance.runner import run_check
    from conformance.store import ExchangeStore

    store = ExchangeStore("replay", cassettes=cassettes)
    result = run_check(check, CheckContext(config.target, config.dialect, schemas, store))
    return result, list(store.made())


def finish() -> None:
    global _CURRENT
    if _CURRENT is not None:
        _CURRENT.close()
        _CURRENT = None


def _copy(config: RunConfig, order: list[Check], share: range, results_write: int, made_read: int) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # whatever a check or a library might print is the original's to show, not the copy's
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        from conformance.runner import judge_in, make_what_last_checks_read
        from conformance.startup import start_run

        last_needs_made = False

        state = start_run(config, None, in_worker=False)
        with os.fdopen(results_write, "wb") as pipe, os.fdopen(made_read, "rb") as made_pipe:
            for position, check in enumerate(order):
                if position in share:
                    if position == share[-1]:  # the original's share is judged: count its exchanges
                        made = _receive(made_pipe)
                        if not isinstance(made, list) or len(made) != len(share):
                            break
                        for exchange_ids in made:
                            state.store.adopt(exchange_ids)
                    continue
                known = len(state.store.made())
                if check.runs_last and not last_needs_made:
                    last_needs_made = True
                    make_what_last_checks_read(state, order)
                result = judge_in(state, check)
                if not _send(pipe, (position, result, list(state.store.made())[known:])):
                    break  # the original judges this check and the rest itself
    except BaseException:
        code = 1
    os._exit(code)
