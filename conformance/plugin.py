"""The pytest plugin: binds the suite's modules (``conformance/suite``) to one run.

It resolves the run configuration from its options, makes the exchanges (live, recording, or from
cassettes with the network blocked), gives each check test a ``conformance_check`` fixture that
judges one check, collects the results (also from xdist workers), and at the end writes the JSON
report and sets the exit code. The work itself lives in the modules it imports.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytest_recording import network

from conformance import generation
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
from conformance.plan import Plan, make_plan
from conformance.profiles import Limits
from conformance.redaction import Redactor
from conformance.registry import CHECKS, PROBES, Check, load_all
from conformance.rows import ROWS, ROWS_BY_ID
from conformance.runconfig import RunConfig, RunOptions, resolve
from conformance.runner import run_check
from conformance.schemas import SchemaSet, schema_set
from conformance.shared import SharedExchanges
from conformance.store import ExchangeStore
from conformance.verdicts import CheckResult, ErrorCause, Level, Status, row_status

if TYPE_CHECKING:
    from conformance.reference import ReferenceServer

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
        "--conformance-dry-run",
        dest="conformance_dry_run",
        action="store_true",
        default=None,
        help="plan a live run (requests and tokens per row) and send nothing",
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
    if run.dry_run:
        config.pluginmanager.register(DryRun(run, config), "conformance-dry-run")
        return
    # a replay judges recorded requests: nothing needs generating (see conformance.generation)
    generation.use_placeholders(run.mode == "replay")
    schemas = schema_set(run.dialect)
    server = cassettes = None
    base_url = run.target.base_url
    limits = run.target.limits
    # an xdist worker of a live run: the controller's target, key and exchanges (see pytest_configure_node)
    worker = _xdist_worker_input(config) if run.live else None
    if worker is not None:
        base_url = worker["conformance_base_url"]
        run = replace(run, api_key=worker.get("conformance_api_key", run.api_key), start_builtin=False)
        limits = _share_limits(limits, int(worker.get("workercount", 1)))
    if run.mode == "replay":
        try:
            cassettes = CassetteSet.load(run.cassette_dir)
        except ConformanceError as exc:
            raise pytest.UsageError(str(exc)) from None
        store = ExchangeStore("replay", cassettes=cassettes)
        # under xdist, a worker's run-wide checks read what the other workers replay too
        store.whole_set = hasattr(config, "workerinput")
        network.block()
    else:
        if run.start_builtin:
            from conformance.reference import ReferenceConfig, ReferenceServer  # only live runs need a server

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
            limits=limits,
            redactor=Redactor(run.api_key, base_url),
            max_tokens_param=run.target.max_tokens_param,
        )
        shared = SharedExchanges(Path(worker["conformance_shared"])) if worker is not None else None
        store = ExchangeStore(run.mode, client=client, writer=writer, concurrency=limits.concurrency, shared=shared)
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


def _xdist_worker_input(config: pytest.Config) -> dict[str, Any] | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput if workerinput is not None and "conformance_shared" in workerinput else None


def _share_limits(limits: Limits, workers: int) -> Limits:
    """A worker's part of the target's limits: the workers send at the same time, the controller
    (which sends the planned exchanges before any check runs) does not."""
    if workers <= 1:
        return limits
    return limits.model_copy(
        update={
            "requests_per_minute": max(limits.requests_per_minute // workers, 1),
            "tokens_per_minute": None
            if limits.tokens_per_minute is None
            else max(limits.tokens_per_minute // workers, 1),
            "concurrency": max(-(-limits.concurrency // workers), 1),
        }
    )


PLAN = pytest.StashKey[Plan]()


class DryRun:
    """Plans the selected checks instead of running them: the plan goes to config.stash[PLAN]."""

    def __init__(self, run: RunConfig, config: pytest.Config) -> None:
        self.run = run
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        checks = [check for item in items if isinstance(check := _check_of(item), Check)]
        self.config.stash[PLAN] = make_plan(checks, self.run.target, self.run.dialect)
        items.clear()


def _check_of(item: pytest.Item) -> Check | None:
    callspec = getattr(item, "callspec", None)
    check = callspec.params.get("check") if callspec else None
    return check if isinstance(check, Check) else None


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    if state.config.mode == "replay":
        network.unblock()
    state.store.close()
    if state.shared_dir is not None:
        shutil.rmtree(state.shared_dir, ignore_errors=True)
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
        cited = {exchange_id: state.store.lookup(exchange_id) for exchange_id in result.exchanges}
        evidence = {
            exchange_id: reporting.exchange_evidence(exchange)
            for exchange_id, exchange in cited.items()
            if exchange is not None
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
        # pytrace=False, as for failures: the message says it all, and a traceback costs a source scan
        raise pytest.xfail.Exception(f"SHOULD not met: {text}", pytrace=False)
    elif result.status == Status.DEVIATION:
        raise pytest.xfail.Exception(f"documented deviation: {text}", pytrace=False)
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
        check = _check_of(item)
        if self.progress is not None and isinstance(check, Check):
            self.progress.enter(check.row)
        shared = self.state.store.shared
        if check is not None and check.runs_last and shared is not None and hasattr(item.config, "workerinput"):
            # an xdist worker: the other workers may still be running checks this one must follow
            shared.wait_for_rest()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Run the checks in the order of the feature table, and those that run last (the
        rate-limit burst, and the checks that read every exchange) after all the others."""
        order = {row.id: position for position, row in enumerate(ROWS)}

        def position(item: pytest.Item) -> tuple[bool, int]:
            check = _check_of(item)
            return (check.runs_last, order[check.row]) if check is not None else (True, len(order))

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

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist's controller, for each worker it starts: in a live run, the worker sends to the
        same target with the same key and reads the exchanges the processes share."""
        state = self.state
        if not state.config.live or state.base_url is None:
            return
        if state.shared_dir is None:
            state.shared_dir = Path(tempfile.mkdtemp(prefix="conformance-shared-"))
            state.store.shared = SharedExchanges(state.shared_dir)
        node.workerinput["conformance_shared"] = str(state.shared_dir)
        node.workerinput["conformance_base_url"] = state.base_url
        if state.config.start_builtin and state.config.api_key is not None:
            # the built-in server's key is made up for this run, so the workers cannot know it
            node.workerinput["conformance_api_key"] = state.config.api_key

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist's controller, once the workers have collected: make every planned exchange before
        any check is handed out, so that no two workers send the same request."""
        state = self.state
        if state.shared_ready or state.store.shared is None:
            return
        state.shared_ready = True
        checks = {
            node_id: CHECKS.get(match["check"]) if (match := _NODE_CHECK.search(node_id)) else None for node_id in ids
        }
        state.awaited = {node_id for node_id, check in checks.items() if check is None or not check.runs_last}
        if not state.awaited:
            state.store.shared.mark_rest_done()
        planned = _planned_checks(state, list(checks.values()))
        if not planned:
            return
        if self.progress is not None:
            self.progress.planned = len(planned)
        first = state.store.get(planned[0])
        if first.failure is not None and first.failure.kind == "connect":
            return  # every worker reads this failure as its preflight and stops
        state.store.get_many(planned[1:])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self.state
        # a test is over after its teardown ("???": xdist's report of a test whose worker crashed)
        if state.awaited and report.when in ("teardown", "???") and report.nodeid in state.awaited:
            state.awaited.discard(report.nodeid)
            if not state.awaited and state.store.shared is not None:
                state.store.shared.mark_rest_done()
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
        output = getattr(node, "workeroutput", {})
        self.state.worker_requests += int(output.get("conformance_requests", 0))
        self.state.worker_retries += int(output.get("conformance_retries", 0))
        self.state.worker_waited += float(output.get("conformance_waited", 0.0))
        self.state.worker_made.update(output.get("conformance_made", ()))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the report
            workeroutput["conformance_requests"] = self.state.store.requests_sent
            workeroutput["conformance_retries"] = self.state.store.retries
            workeroutput["conformance_waited"] = self.state.store.waited_for_limits
            workeroutput["conformance_made"] = sorted(self.state.store.made())
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
            retries=state.store.retries + state.worker_retries,
            waited_for_limits=state.store.waited_for_limits + state.worker_waited,
            exchanges_made=len(set(state.store.made()) | state.worker_made),
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


# a check's test is named by its id: conformance/suite/test_models.py::test_models[models.list-shape]
_NODE_CHECK = re.compile(r"\[(?P<check>[^\[\]]+)\]$")


def _planned(state: RunState, items: list[pytest.Item]) -> list[Any]:
    """The requests the selected checks need, in order, without repeats."""
    return _planned_checks(state, [_check_of(item) for item in items])


def _planned_checks(state: RunState, checks: list[Check | None]) -> list[Any]:
    requests: dict[str, Any] = {}
    for check in checks:
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
