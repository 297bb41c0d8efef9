"""The pytest plugin: binds the suite's modules (``conformance/suite``) to one run.

It resolves the run configuration from its options, makes the exchanges (live, recording, or from
cassettes with the network blocked), gives each check test a ``conformance_check`` fixture that
judges one check, collects the results (also from xdist workers), and at the end writes the JSON
report and sets the exit code. The work itself lives in the modules it imports.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_recording import network

from conformance import ahead, environment, files, gates, redaction
from conformance import report as reporting
from conformance.errors import ConformanceError, ExitCode
from conformance.finish import finish
from conformance.plan import Plan, make_plan, prefetched, retry_budget, split_by_gate, time_bound
from conformance.plugin_options import add_options, run_options
from conformance.plugin_xdist import XdistControllerHooks, check_of_node
from conformance.progress import Progress
from conformance.registry import Check, load_all
from conformance.rows import ROWS
from conformance.runconfig import RunConfig, resolve
from conformance.runner import judge_in, make_what_last_checks_read
from conformance.runstate import RunState
from conformance.startup import end_at, notice_live, start_run
from conformance.summary import write_summary
from conformance.verdicts import CheckResult, ErrorCause, Level, Status

RESULT = "conformance.result"
EVIDENCE = "conformance.evidence"

STATE = pytest.StashKey[RunState]()
# the copy of this process that judges a replay ahead (conformance.ahead), when it is this run's
AHEAD = pytest.StashKey[ahead.Ahead]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    try:
        run = resolve(run_options(config))
    except ConformanceError as exc:
        raise pytest.UsageError(str(exc)) from None
    load_all()
    if run.dry_run:
        config.pluginmanager.register(DryRun(run, config), "conformance-dry-run")
        return
    worker = _xdist_worker_input(config) if run.live else None
    try:
        state = start_run(run, worker, in_worker=hasattr(config, "workerinput"))
    except ConformanceError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE] = state
    config.pluginmanager.register(RunHooks(state, config), "conformance-run")


def _xdist_worker_input(config: pytest.Config) -> dict[str, Any] | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput if workerinput is not None and "conformance_shared" in workerinput else None


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
    if state.timer is not None:
        state.timer.cancel()
    state.store.close()
    if state.shared_dir is not None:
        shutil.rmtree(state.shared_dir, ignore_errors=True)
    if state.server is not None:
        state.server.stop()
    redaction.activate(None)


@pytest.fixture
def conformance_check(request: pytest.FixtureRequest) -> Callable[[Check], None]:
    """Judge one check against this run's exchanges; fails the test on a MUST-level failure."""
    state = request.config.stash[STATE]
    judged_ahead = request.config.stash.get(AHEAD, None)

    def judge(check: Check) -> None:
        judged = judged_ahead.take(check) if judged_ahead is not None else None
        if judged is None:
            result = judge_in(state, check)
        else:
            result, made = judged
            state.store.adopt(made)
        # an exchange cited before is in the report already (its evidence never changes)
        cited = {
            exchange_id: state.store.lookup(exchange_id)
            for exchange_id in result.exchanges
            if exchange_id not in state.exchanges
        }
        evidence = {
            exchange_id: reporting.exchange_evidence(exchange)
            for exchange_id, exchange in cited.items()
            if exchange is not None
        }
        if state.stop.stopped:
            request.session.shouldstop = state.stop.reason or "the run was stopped"
        if result.stopped:  # cut short by the stop: no verdict, and no place in the report
            pytest.skip(f"{result.check_id}: {result.message}")
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
    elif result.status in (Status.UNSUPPORTED, Status.SKIPPED, Status.BLOCKED, Status.INCONCLUSIVE):
        pytest.skip(f"{result.status}: {text}")
    elif result.status == Status.ERROR:
        pytest.fail(f"error ({result.error_cause}): {text}", pytrace=False)


class RunHooks(XdistControllerHooks):
    """The hooks of one run, registered with the state they update (one instance per session)."""

    def __init__(self, state: RunState, config: pytest.Config) -> None:
        self.state = state
        self.quiet = bool(config.getoption("conformance_quiet"))
        worker = hasattr(config, "workerinput")
        # the processes that send requests: one, or under xdist the controller and each worker
        workers = config.workerinput["workercount"] if worker else getattr(config.option, "numprocesses", 0)
        self.senders = int(workers) + 1 if str(workers or "").isdigit() and int(workers) else 1
        self.progress = Progress(state, config, live_display=self.quiet) if state.config.live and not worker else None
        self.last_needs_made = False  # runner.make_what_last_checks_read, before the first check that runs last

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        reporter = session.config.pluginmanager.getplugin("terminalreporter")
        if self.quiet and reporter is not None:
            reporter.showfspath = False

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        outcome = yield
        if self.quiet and outcome:
            category, _, word = outcome
            return category, "", word
        return outcome

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        check = check_of_node(nodeid)
        if self.progress is not None and check is not None:
            self.progress.enter(check.row)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        check = _check_of(item)
        shared = self.state.store.shared
        if check is not None and check.runs_last and shared is not None and hasattr(item.config, "workerinput"):
            # an xdist worker: the other workers may still be running checks this one must follow
            shared.wait_for_rest(stop=self.state.stop)
        if check is not None and check.runs_last and not self.last_needs_made:
            self.last_needs_made = True
            checks = [c for c in map(_check_of, item.session.items) if isinstance(c, Check)]
            make_what_last_checks_read(self.state, checks)

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
        state.stop.on_stop(lambda reason: setattr(session, "shouldstop", reason))
        if state.config.mode == "replay":
            self._replayed_preflight(session.items)
            judged_ahead = ahead.current() if state.aborted is None else None
            order = [check.id if (check := _check_of(item)) else item.nodeid for item in session.items]
            if judged_ahead is not None and judged_ahead.matches(state.config, order):
                session.config.stash[AHEAD] = judged_ahead
            return
        self._notice_thinking([_check_of(item) for item in session.items])
        planned = _planned(state, session.items)
        if not planned:
            return
        worker = hasattr(session.config, "workerinput")
        self._bound_run([_check_of(item) for item in session.items])
        try:
            self._preflight(planned)
        except Exception as exc:  # the harness broke before the first check: never a green run
            state.abort(
                redaction.scrub(f"the suite broke making the first request: {type(exc).__name__}: {exc}"),
                ErrorCause.HARNESS,
            )
            return
        if state.aborted is None and not worker:
            # an xdist worker collects every check but runs only some: it makes exchanges as they are needed
            state.store.prefetch(planned[1:])
            _, behind = split_by_gate(
                [c for c in map(_check_of, session.items) if isinstance(c, Check)],
                state.config.target,
                state.config.dialect,
            )
            for gate, queued in behind.items():
                gate_request = next((request for request in planned if request.id == gate), None)
                if gate_request is not None:
                    state.store.prefetch_after(gate_request, queued, lambda made: gates.missing(made) is None)

    def _bound_run(self, checks: list[Check | None]) -> None:
        """Start the clock of the run's time bound (the profile's, or one from the plan)."""
        state = self.state
        if state.ends_at is not None:
            return
        chosen = [check for check in checks if check is not None]
        target = state.config.target
        requests = len(make_plan(chosen, target, state.config.dialect).requests)
        # the run's retries are shared by the processes that send (each keeps to its part)
        state.store.limit_retries(max(1, retry_budget(requests) // self.senders))
        if self.progress is not None:
            self.progress.planned = requests + retry_budget(requests)  # at most: retries and answer-led requests
        bound = target.limits.run_timeout or time_bound(requests, target)
        end_at(state, time.time() + bound, bound)

    def _planned_checks(self, checks: list[Check | None]) -> list[Any]:
        return _planned_checks(self.state, checks)

    def _notice_thinking(self, checks: list[Check | None]) -> None:
        """Whether the chat model thinks, from its first answer, before any request sized for it is built."""
        notice_live(self.state, self._planned_checks(checks))

    def _preflight(self, planned: list[Any]) -> None:
        """Is the target there at all? Its first answer (and a second, if the first got none) says."""
        state = self.state
        first = state.store.get(planned[0])
        second = state.store.get(planned[1]) if environment.unanswered(first) and len(planned) > 1 else None
        if first.failure is not None and first.failure.kind == "stopped":
            return
        problem = environment.preflight(first, second)
        if problem is not None:
            state.abort(problem)

    def _replayed_preflight(self, items: list[pytest.Item]) -> None:
        """A recording of a target that answered neither of its first two requests replays as the run
        that made it went: stopped there, with the environment's verdict."""
        state = self.state
        planned = _planned(state, items)
        cassettes = state.cassettes
        first = cassettes.get(planned[0].id) if planned and cassettes is not None else None
        if first is None or cassettes is None or not environment.unanswered(first):
            return
        second = cassettes.get(planned[1].id) if len(planned) > 1 else None
        problem = environment.preflight(first, second)
        if problem is not None:
            state.abort(problem)

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
                    self.progress.failed()
            elif name == EVIDENCE:
                self.state.exchanges.update(value)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the report
            workeroutput["conformance_requests"] = self.state.store.requests_sent
            workeroutput["conformance_retries"] = self.state.store.retries
            workeroutput["conformance_waited"] = self.state.store.waited_for_limits
            workeroutput["conformance_made"] = sorted(self.state.store.made())
            return
        if self.progress is not None:
            self.progress.close()
        if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:  # nothing selected: a usage error, no report
            return
        state = self.state
        if exitstatus == pytest.ExitCode.INTERRUPTED and not state.stop.stopped:
            # a KeyboardInterrupt that did not come through the CLI's handler (a second Ctrl-C)
            state.stop.request("interrupted", ExitCode.INTERRUPTED)
        try:
            finish(state, stopped_early=bool(session.shouldfail or session.shouldstop))
        except OSError as exc:
            # the report folder was checked before the run; it went away or filled up since
            state.report_path = None
            full = files.environment_failure(exc, state.config.report_dir)
            state.exit_code = ExitCode.ENVIRONMENT if full else ExitCode.USAGE
            cause = (
                f"{full}" if full else f"cannot write the report to {state.config.report_dir}: {exc.strerror or exc}"
            )
            sys.stderr.write(f"conformance: error: {cause}\n")
        session.exitstatus = state.exit_code

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.state.report_path is not None:
            write_summary(terminalreporter, self.state)


def _planned(state: RunState, items: list[pytest.Item]) -> list[Any]:
    """The requests the selected checks need, in order, without repeats."""
    return _planned_checks(state, [_check_of(item) for item in items])


def _planned_checks(state: RunState, checks: list[Check | None]) -> list[Any]:
    chosen = [check for check in checks if isinstance(check, Check)]
    return prefetched(chosen, state.config.target, state.config.dialect)
