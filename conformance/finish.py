"""The end of a run: what decided it, the report, the exit code, and a last look for the key.

Once the checks are over (or the run was stopped), the results are weighed against what the
environment did (``conformance.environment``: an unreachable target, a refused key, nothing
answered, 404s everywhere), the cassette set is described and pruned, the report is written in
every format, and every file the run wrote is searched for the key in every encoding one last time:
where it is found it is removed, and the run says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from conformance import environment
from conformance import report as reporting
from conformance.cassettes import SET_FILE, cassette_path, new_set_info, prune, write_set_info
from conformance.errors import ExitCode
from conformance.plan import make_plan
from conformance.redaction import scrub
from conformance.registry import CHECKS
from conformance.runstate import RunState
from conformance.verdicts import ErrorCause, Status

EXIT_MEANING = {
    0: "no MUST-level failure",
    1: "MUST-level conformance failures",
    2: "a usage, configuration or cassette problem (or nothing to judge)",
    3: "the environment stopped the run",
    4: "the suite itself broke (a bug in a check), or nothing ran",
    5: "the run reached its time bound (limits.run_timeout)",
    130: "interrupted (SIGINT)",
    143: "terminated (SIGTERM)",
}


def finish(state: RunState, *, stopped_early: bool) -> None:
    """Judge the run as a whole, write its report and set ``state.exit_code`` and ``report_path``."""
    results = list(state.results.values())
    stop = state.stop
    complete = set(state.results) == set(CHECKS) and not stopped_early and not stop.stopped and not state.aborted
    if stop.stopped:
        state.problems.append(f"{stop.reason}: the report holds the {len(results)} checks judged before")
    elif not stopped_early and not state.aborted and set(state.results) != set(CHECKS):
        state.problems.append(
            f"a partial run: {len(results)} of the suite's {len(CHECKS)} checks were selected (a -k expression, or "
            "the checks or rows named), so the report is marked incomplete and a gate counts the others as not run"
        )
    if state.aborted:
        state.problems.append(state.aborted)
    environment_problem = _environment(state) if state.config.live and not state.aborted else None
    if environment_problem:
        state.problems.append(environment_problem)
        for result in results:
            if result.status in (Status.FAIL, Status.SKIPPED, Status.DEVIATION):
                result.status, result.error_cause = Status.ERROR, ErrorCause.ENVIRONMENT
                result.message = f"not judged: {environment_problem}. Observed: {result.message}"
    cited = {exchange_id for result in results for exchange_id in result.exchanges}
    cassette_problem = _unused_recordings(state, cited) if complete else False
    for result in results:
        if result.error_cause == ErrorCause.CASSETTE and result.message not in state.problems:
            state.problems.append(result.message)
    leaks = _record(state, cited, complete) if state.config.mode == "record" else []
    aborted = state.abort_cause if state.aborted else None
    if stop.stopped and stop.code is not None:
        state.exit_code = stop.code
    else:
        state.exit_code = reporting.exit_code_for(results, cassette_problem, aborted)
        broken = [r for r in results if r.status == Status.ERROR and r.error_cause == ErrorCause.HARNESS]
        if broken and not state.aborted:
            state.problems.append(f"{len(broken)} checks broke inside the suite; the first: {broken[0].message}")
        elif state.exit_code in (ExitCode.USAGE, ExitCode.INTERNAL) and not state.problems:
            state.problems.append(reporting.nothing_judged(results) or "the run could not judge the target")
    if leaks:
        state.problems.append(_leak_problem(leaks))
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
        problems=[scrub(problem) for problem in state.problems],
        exit_code=state.exit_code,
    )
    path = reporting.write_report(document, state.config.report_dir)
    leaked = _scan(state, _written_reports(path))
    if leaked:
        # the files no longer hold the key; the report is written again to say so
        state.problems.append(_leak_problem(leaked))
        document["run"]["problems"] = [scrub(problem) for problem in state.problems]
        reporting.write_report(document, state.config.report_dir)
        _scan(state, _written_reports(path))
    state.report_path = str(path)


def _written_reports(path: Path) -> list[Path]:
    from conformance.render import FILES

    return [path, *(path.parent / name for name in FILES.values()), path.parent / "plan.json"]


def _environment(state: RunState) -> str | None:
    evidence = list(state.exchanges.values())
    return (
        environment.nothing_answered(evidence)
        or environment.key_rejected_everywhere(evidence, state.config.target.api_key_env)
        or environment.not_found_everywhere(evidence, state.base_url)
    )


def _record(state: RunState, cited: set[str], complete: bool) -> list[Path]:
    """Describe the cassette set (prune it after a complete run); the files that held the key."""
    directory = state.config.cassette_dir
    if complete:
        prune(directory, cited)
    target = state.config.target
    info = new_set_info(
        target.name, state.config.dialect.name, state.started_at, _recorded_from(state), profile=_profile(state)
    )
    write_set_info(directory, info)
    written = state.writer.written if state.writer is not None else set()
    files = [cassette_path(directory, exchange_id) for exchange_id in sorted(written)]
    return _scan(state, [*files, directory / SET_FILE])


def _profile(state: RunState) -> dict[str, Any]:
    """The target as recorded, so that a replay of a target given on the command line needs no
    profile: everything but where it lives."""
    return state.config.target.model_dump(mode="json", exclude={"base_url", "origin", "description"})


def _scan(state: RunState, paths: list[Path]) -> list[Path]:
    redactor = state.redactor
    if redactor is None:
        return []
    return [path for path in paths if path.is_file() and redactor.scrub_file(path)]


def _leak_problem(paths: list[Path]) -> str:
    names = ", ".join(path.name for path in paths[:3]) + (", ..." if len(paths) > 3 else "")
    return (
        f"the key was found in {len(paths)} written files after redaction ({names}) and removed from them; "
        "please report this: an encoding the redaction missed"
    )


def _unused_recordings(state: RunState, cited: set[str]) -> bool:
    """In a complete replay, recordings no check read and none would ask for are stale: say so and
    fail the run. One the plan holds is not stale: a check blocked in this replay by an earlier
    failure may not ask for what the recording run had made before that failure was known."""
    if state.config.mode != "replay" or state.cassettes is None:
        return False
    planned = {request.id for request in make_plan(CHECKS.values(), state.config.target, state.config.dialect).requests}
    unused = sorted(state.cassettes.ids() - cited - planned)
    if unused:
        state.problems.append(
            f"{len(unused)} recordings in {display_path(state.config.cassette_dir)} were not used by any check "
            f"({', '.join(unused[:3])}{', ...' if len(unused) > 3 else ''}); "
            "they are stale: re-record with --mode record or delete them"
        )
    return bool(unused)


def _recorded_from(state: RunState) -> str:
    if state.config.start_builtin:
        return "the suite's built-in reference server"
    return str(reporting.redact_base_url(state.base_url))


def _cassettes_stamp(state: RunState) -> dict[str, Any] | None:
    if state.config.mode == "live":
        return None
    info = dict(state.cassettes.info) if state.cassettes is not None else {}
    info.pop("profile", None)
    return {"path": display_path(state.config.cassette_dir), **{k: str(v) for k, v in info.items()}}


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name
