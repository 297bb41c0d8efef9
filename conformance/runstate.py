"""The state of one run, as the pytest plugin keeps it from configuration to the report."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.cassettes import CassetteSet, CassetteWriter
from conformance.redaction import Redactor
from conformance.runconfig import RunConfig
from conformance.schemas import SchemaSet
from conformance.stopping import RunStop
from conformance.store import ExchangeStore
from conformance.verdicts import CheckResult, ErrorCause

if TYPE_CHECKING:
    from conformance.reference import ReferenceServer


@dataclass
class RunState:
    config: RunConfig
    schemas: SchemaSet
    store: ExchangeStore
    base_url: str | None
    cassettes: CassetteSet | None
    server: ReferenceServer | None
    started_at: str
    t0: float
    results: dict[str, CheckResult] = field(default_factory=dict)
    exchanges: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # set when the run could not go on before any check: why, and whose fault (the environment's,
    # or the suite's own)
    aborted: str | None = None
    abort_cause: ErrorCause = ErrorCause.ENVIRONMENT
    # signals and the run's time bound end the run through this
    stop: RunStop = field(default_factory=RunStop)
    redactor: Redactor | None = None
    writer: CassetteWriter | None = None
    # ends the run at limits.run_timeout
    timer: threading.Timer | None = None
    # the run's time bound, as a time.time() when it ends (shared with xdist workers)
    ends_at: float | None = None
    report_path: str | None = None
    exit_code: int = 0
    # requests sent, 429s retried and seconds waited for limits by xdist workers
    worker_requests: int = 0
    worker_retries: int = 0
    worker_waited: float = 0.0
    # under xdist, on the controller of a live run: where the processes share their exchanges
    shared_dir: Path | None = None
    # the controller has made the planned exchanges for the workers
    shared_ready: bool = False
    # under xdist: the tests (node ids) still to finish before the checks that run last may start
    awaited: set[str] | None = None
    # exchanges xdist workers made or read
    worker_made: set[str] = field(default_factory=set)

    @property
    def requests_sent(self) -> int:
        return self.store.requests_sent + self.worker_requests

    def abort(self, message: str, cause: ErrorCause = ErrorCause.ENVIRONMENT) -> None:
        self.aborted, self.abort_cause = message, cause
