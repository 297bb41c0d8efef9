"""The pytest plugin: binds the suite's modules (``conformance/suite``) to one run.

It resolves the run configuration from its options, makes the exchanges (live, recording, or from
cassettes with the network blocked), gives each check test a ``conformance_check`` fixture that
judges one check, collects the results (also from xdist workers), and at the end writes the JSON
report and sets the exit code. The work itself lives in the modules it imports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_recording import network
from rich.console import Console

from conformance import report as reporting
from conformance.cassettes import (
    CassetteSet,
    CassetteWriter,
    describe_set,
    new_set_info,
    prune,
    write_set_info,
)
from conformance.context import CheckContext
from conformance.errors import ConformanceError
from conformance.http import HttpClient
from conformance.redaction import Redactor
from conformance.reference import ReferenceConfig, ReferenceServer
from conformance.registry import CHECKS, PROBES, Check, load_all
from conformance.rows import ROWS, ROWS_BY_ID
from conformance.runconfig import RunConfig, RunOptions, resolve
from conformance.runner import run_check
from conformance.schemas import SchemaSet, schema_set
from conformance.store import ExchangeStore
from conformance.verdicts import CheckResult, ErrorCause, Level, Status, row_status

RESULT = "conformance.result"
EVIDENCE = "conformance.evidence"

_OPTIONS = {
    "target": "target profile: a name under targets/ or a path to a .toml file",
    "name": "name of the target (cassette and report folders) when no profile is used",
    "base-url": "base URL of the API, e.g. https://api.llama.com/compat/v1",
    "api-key-env": "environment variable that holds the API key",
    "model": "chat model id",
    "vision-model": "vision model id",
    "moderation-model": "moderation model id",
    "dialect": "dialect the target claims: openai or llama-api",
    "mode": "live, record or replay (default: replay when cassettes exist, else live)",
    "report-dir": "where report.json goes (default: reports/<target>)",
    "cassette-dir": "root folder of cassette sets (default: ./cassettes, then the bundled ones)",
}


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
    # set when the environment stopped the run before any check
    aborted: str | None = None
    report_path: str | None = None
    exit_code: int = 0
    # requests sent by xdist workers (each makes the exchanges its own checks need)
    worker_requests: int = 0

    @property
    def requests_sent(self) -> int:
        return self.store.requests_sent + self.worker_requests


STATE = pytest.StashKey[RunState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance suite for OpenAI-compatible APIs")
    for name, text in _OPTIONS.items():
        group.addoption(f"--conformance-{name}", dest=f"conformance_{name.replace('-', '_')}", default=None, help=text)
    group.addoption(
        "--conformance-timeout",
        dest="conformance_timeout",
        type=float,
        default=None,
        help="seconds to wait for a connection and between reads of a response",
    )
    group.addoption(
        "--conformance-allow-rate-limit-probe",
        dest="conformance_allow_rate_limit_probe",
        action="store_true",
        default=None,
        help="provoke a 429 on purpose (spends up to the profile's rate_limit.budget requests)",
    )


def _options(config: pytest.Config) -> RunOptions:
    return RunOptions(
        **{field_name: config.getoption(f"conformance_{field_name}") for field_name in RunOptions.__dataclass_fields__}
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        run = resolve(_options(config))
    except ConformanceError as exc:
        raise pytest.UsageError(str(exc)) from None
    load_all()
    schemas = schema_set(run.dialect)
    server = cassettes = None
    base_url = run.target.base_url
    if run.mode == "replay":
        try:
            cassettes = CassetteSet.load(run.cassette_dir)
        except ConformanceError as exc:
            raise pytest.UsageError(str(exc)) from None
        store = ExchangeStore("replay", cassettes=cassettes)
        network.block()
    else:
        if run.start_builtin:
            assert run.api_key is not None
            flavour = "openai" if run.target.builtin_server == "reference-openai" else "llama-api"
            server = ReferenceServer(
                ReferenceConfig(
                    api_keys=frozenset({run.api_key}),
                    flavour=flavour,
                    base_path="/v1" if flavour == "openai" else "/compat/v1",
                )
            )
            base_url = server.start()
        assert base_url is not None
        writer = CassetteWriter(run.cassette_dir) if run.mode == "record" else None
        client = HttpClient(
            base_url=base_url,
            auth=run.target.auth,
            api_key=run.api_key,
            limits=run.target.limits,
            redactor=Redactor(run.api_key, base_url),
        )
        store = ExchangeStore(run.mode, client=client, writer=writer, concurrency=run.target.limits.concurrency)
    state = RunState(
        config=run,
        schemas=schemas,
        store=store,
        base_url=base_url,
        cassettes=cassettes,
        server=server,
        started_at=reporting.now_iso(),
        t0=time.monotonic(),
    )
    config.stash[STATE] = state
    config.pluginmanager.register(RunHooks(state, config), "conformance-run")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    if state.config.mode == "replay":
        network.unblock()
    state.store.close()
    if state.server is not None:
        state.server.stop()


@pytest.fixture
def conformance_check(request: pytest.FixtureRequest) -> Callable[[Check], None]:
    """Judge one check against this run's exchanges; fails the test on a MUST-level failure."""
    state = request.config.stash[STATE]

    def judge(check: Check) -> None:
        if state.aborted is not None:
            result = CheckResult(
                check.id,
                check.row,
                check.level,
                Status.ERROR,
                state.aborted,
                check.claim,
                check.source,
                error_cause=ErrorCause.ENVIRONMENT,
            )
        else:
            ctx = CheckContext(state.config.target, state.config.dialect, state.schemas, state.store)
            result = run_check(check, ctx)
        made = state.store.made()
        evidence = {
            exchange_id: reporting.exchange_evidence(made[exchange_id])
            for exchange_id in result.exchanges
            if exchange_id in made
        }
        request.node.user_properties.append((RESULT, result.as_dict()))
        request.node.user_properties.append((EVIDENCE, evidence))
        _to_pytest(result)

    return judge


def _to_pytest(result: CheckResult) -> None:
    text = f"{result.check_id}: {result.message}"
    if result.status == Status.FAIL and result.level == Level.MUST:
        pytest.fail(text, pytrace=False)
    elif result.status == Status.FAIL:
        pytest.xfail(f"SHOULD not met: {text}")
    elif result.status == Status.DEVIATION:
        pytest.xfail(f"documented deviation: {text}")
    elif result.status in (Status.UNSUPPORTED, Status.SKIPPED):
        pytest.skip(f"{result.status}: {text}")
    elif result.status == Status.ERROR:
        pytest.fail(f"error ({result.error_cause}): {text}", pytrace=False)


_EXIT_MEANING = {
    0: "no MUST-level failure",
    1: "MUST-level conformance failures",
    2: "the cassettes do not match the suite",
    3: "the environment stopped the run",
    4: "the suite itself broke (a bug in a check)",
}


class RunHooks:
    """The hooks of one run, registered with the state they update (one instance per session)."""

    def __init__(self, state: RunState, config: pytest.Config) -> None:
        self.state = state
        self.progress = Progress(state, config) if state.config.live else None

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        callspec = getattr(item, "callspec", None)
        check = callspec.params.get("check") if callspec else None
        if self.progress is not None and isinstance(check, Check):
            self.progress.enter(check.row)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Run the checks in the order of the feature table, so run-wide checks (errors-rate-limit,
        which reads every exchange) come last."""
        order = {row.id: position for position, row in enumerate(ROWS)}

        def position(item: pytest.Item) -> int:
            callspec = getattr(item, "callspec", None)
            check = callspec.params.get("check") if callspec else None
            return order.get(check.row, len(order)) if isinstance(check, Check) else len(order)

        items.sort(key=position)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        state = self.state
        if state.config.mode == "replay":
            return
        planned = _planned(state, session.items)
        if not planned:
            return
        first = state.store.get(planned[0])  # a preflight: is the target there at all?
        if first.failure is not None and first.failure.kind == "connect":
            state.aborted = f"the target is unreachable: {first.failure.message}"
            return
        if self.progress is not None:
            self.progress.planned = len(planned)
        if hasattr(session.config, "workerinput"):
            # an xdist worker collects every check but runs only some: it makes exchanges as they are needed
            return
        state.store.prefetch(planned[1:])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # on xdist's controller this is the only way results arrive from the workers
        for name, value in report.user_properties:
            if name == RESULT:
                # every phase's report (setup, call, teardown) carries the item's properties: count once
                first = value["id"] not in self.state.results
                self.state.results[value["id"]] = CheckResult.from_dict(value)
                if first and self.progress is not None and value["status"] == "fail":
                    self.progress.failures += 1
            elif name == EVIDENCE:
                self.state.exchanges.update(value)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.state.worker_requests += int(getattr(node, "workeroutput", {}).get("conformance_requests", 0))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the report
            workeroutput["conformance_requests"] = self.state.store.requests_sent
            return
        if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:  # nothing selected: a usage error, no report
            return
        state = self.state
        results = list(state.results.values())
        complete = set(state.results) == set(CHECKS) and not session.shouldfail and not session.shouldstop
        if state.aborted:
            state.problems.append(state.aborted)
        rejected = _key_rejected_everywhere(state) if state.config.live else None
        if rejected:
            state.problems.append(rejected)
            for result in results:
                if result.status in (Status.FAIL, Status.SKIPPED, Status.DEVIATION):
                    result.status, result.error_cause = Status.ERROR, ErrorCause.ENVIRONMENT
                    result.message = f"not judged: {rejected}. Observed: {result.message}"
        cited = {exchange_id for result in results for exchange_id in result.exchanges}
        cassette_problem = _unused_recordings(state, cited) if complete else False
        for result in results:
            if result.error_cause == ErrorCause.CASSETTE and result.message not in state.problems:
                state.problems.append(result.message)
        if state.config.mode == "record":
            if complete:
                prune(state.config.cassette_dir, cited)
            write_set_info(
                state.config.cassette_dir,
                new_set_info(
                    state.config.target.name, state.config.dialect.name, state.started_at, _recorded_from(state)
                ),
            )
        state.exit_code = reporting.exit_code_for(results, cassette_problem, state.aborted is not None)
        document = reporting.build_report(
            config=state.config,
            results=results,
            exchanges=state.exchanges,
            started_at=state.started_at,
            finished_at=reporting.now_iso(),
            duration=time.monotonic() - state.t0,
            requests_sent=state.requests_sent,
            base_url=state.base_url if state.config.live else None,
            cassettes=_cassettes_stamp(state),
            complete=complete,
            problems=state.problems,
            exit_code=state.exit_code,
        )
        state.report_path = str(reporting.write_report(document, state.config.report_dir))
        session.exitstatus = state.exit_code

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        state = self.state
        if state.report_path is None:
            return
        run = state.config
        source = describe_set(state.cassettes.info) if state.cassettes is not None else "live"
        terminalreporter.section("conformance", sep="=", bold=True)
        terminalreporter.write_line(
            f"target {run.target.name} ({run.dialect.name} dialect), mode {run.mode} ({source})"
        )
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
            f"{len(results)} checks: {must} MUST failures, {should} SHOULD failures; "
            f"{state.requests_sent} requests sent"
        )
        for problem in state.problems:
            terminalreporter.write_line(f"problem: {problem}", red=True)
        terminalreporter.write_line(f"report: {state.report_path}")
        terminalreporter.write_line(f"exit {state.exit_code}: {_EXIT_MEANING[state.exit_code]}", bold=True)


def _planned(state: RunState, items: list[pytest.Item]) -> list[Any]:
    """The requests the selected checks need, in order, without repeats."""
    requests: dict[str, Any] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        check = callspec.params.get("check") if callspec else None
        if not isinstance(check, Check) or check.row in state.config.target.capabilities.unsupported:
            continue
        for probe_id in check.needs:
            request = PROBES[probe_id].build(state.config.target)
            if request is not None:
                requests.setdefault(request.id, request)
    return list(requests.values())


def _unused_recordings(state: RunState, cited: set[str]) -> bool:
    """In a complete replay, recordings no check read are stale: say so and fail the run."""
    if state.config.mode != "replay" or state.cassettes is None:
        return False
    unused = sorted(state.cassettes.ids() - cited)
    if unused:
        state.problems.append(
            f"{len(unused)} recordings in {_display_path(state.config.cassette_dir)} were not used by any check "
            f"({', '.join(unused[:3])}{', ...' if len(unused) > 3 else ''}); "
            "they are stale: re-record with --mode record or delete them"
        )
    return bool(unused)


def _key_rejected_everywhere(state: RunState) -> str | None:
    """When every request that carried the key was refused, the key is the problem, not the target."""
    statuses = [
        evidence["response"]["status"] if evidence["response"] else None
        for evidence in state.exchanges.values()
        if evidence["request"]["auth"] == "key"
    ]
    refused = [status for status in statuses if status in (401, 403)]
    succeeded = [status for status in statuses if status is not None and 200 <= status < 300]
    # nothing succeeded and (nearly) everything was refused: paths that answer 404 before checking
    # keys, such as an unknown route, do not count against the verdict
    if refused and not succeeded and len(refused) >= 0.8 * len(statuses):
        variable = state.config.target.api_key_env or "the key variable"
        return (
            f"the target rejected the API key on {len(refused)} of the {len(statuses)} requests that used it "
            f"(HTTP {refused[0]}) and accepted none; check {variable}"
        )
    return None


def _recorded_from(state: RunState) -> str:
    if state.config.start_builtin:
        return "the suite's built-in reference server"
    return str(reporting.redact_base_url(state.base_url))


def _cassettes_stamp(state: RunState) -> dict[str, Any] | None:
    if state.config.mode == "live":
        return None
    info = dict(state.cassettes.info) if state.cassettes is not None else {}
    return {"path": _display_path(state.config.cassette_dir), **{k: str(v) for k, v in info.items()}}


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


class Progress:
    """One line per feature row as a live run reaches it: requests made of those planned, failures so far."""

    def __init__(self, state: RunState, config: pytest.Config) -> None:
        self.state = state
        self.planned = 0
        self.failures = 0
        self.row: str | None = None
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
