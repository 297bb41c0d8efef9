"""Running one check: the single place that turns what a check did into a ``CheckResult``."""

from __future__ import annotations

import json
import time
import traceback
from typing import TYPE_CHECKING

from conformance import client_differences
from conformance.context import CheckContext
from conformance.errors import ReplayError, RequestNotSent
from conformance.rates import DECISION_ALPHA, FAMILY, Rate
from conformance.redaction import scrub
from conformance.registry import Check
from conformance.stopping import RunStopped
from conformance.verdicts import (
    Blocked,
    CheckFailed,
    CheckResult,
    Documented,
    EnvironmentProblem,
    ErrorCause,
    Kind,
    Measured,
    NotApplicable,
    Note,
    Status,
    Unsupported,
)

if TYPE_CHECKING:
    from conformance.runstate import RunState

# how many trials that missed a model check's claim its message quotes
MISSES_SHOWN = 3


def _measured(check: Check, ctx: CheckContext, result: CheckResult, note: object) -> None:
    """A model check's verdict: its rate over the trials against its threshold."""
    if not isinstance(note, Measured) or check.threshold is None:
        result.status = Status.ERROR
        result.error_cause = ErrorCause.HARNESS
        result.message = f"check {check.id} is a model check but did not return a rate; this is a bug in the suite"
        return
    if note.trials < 1:
        result.status = Status.SKIPPED
        result.message = f"no trial could be judged for: {note.what}"
        return
    rate = Rate(note.successes, note.trials, check.threshold)
    result.rate = rate.as_dict()
    result.details = dict(note.details)
    misses = "; ".join(note.misses[:MISSES_SHOWN])
    more = f" (and {len(note.misses) - MISSES_SHOWN} more)" if len(note.misses) > MISSES_SHOWN else ""
    message = f"{note.what} in {rate.describe()}" + (f"; {note.note}" if note.note else "")
    message += f". Trials that did not: {misses}{more}" if misses else ""
    verdict = rate.verdict
    if verdict == "pass":
        result.status = Status.PASS
        result.message = message
    elif verdict == "inconclusive":
        result.status = Status.INCONCLUSIVE
        result.message = (
            f"{message}. Below the threshold, but not beyond chance: a run judges up to {FAMILY} model checks, so "
            f"a failure needs a count that would happen in under {DECISION_ALPHA:.2%} of runs at the threshold "
            "(1 % family-wise); more trials (--max-trials) decide it (model behaviour, not protocol)"
        )
    else:
        message += (
            f": below the threshold beyond chance (so few would happen in under {DECISION_ALPHA:.2%} of runs at the "
            "threshold: 1 % family-wise; model behaviour, not protocol)"
        )
        deviation = ctx.dialect.deviation_for(check.id)
        if deviation is None:
            result.status = Status.FAIL
            result.message = message
        else:
            result.status = Status.DEVIATION
            result.message = (
                f"documented deviation of the {ctx.dialect.name} dialect: {deviation.reason} "
                f"(source: {deviation.source}). Observed: {message}"
            )


def make_what_last_checks_read(state: RunState, checks: list[Check]) -> None:
    """Before the first check that runs last: make (or replay) every probe the checks that run last need, so that
    those among them that judge every answer of the run (every stream's events, every error's envelope) see the
    answers of a later row's probes too, whichever row comes first. A probe that cannot be made is left to the check
    that needs it, which says why."""
    if state.aborted is not None:
        return
    ctx = CheckContext(state.config.target, state.config.dialect, state.schemas, state.store, stop=state.stop)
    unsupported = state.config.target.capabilities.unsupported
    for check in checks:
        if not check.runs_last or check.row in unsupported:
            continue
        for probe_id in check.needs:
            try:
                ctx.exchange(probe_id)
            except RunStopped:
                return  # the next check sees the stop and ends the run with its report
            except Exception:  # the check that needs it reports it
                continue


def judge_in(state: RunState, check: Check) -> CheckResult:
    """Judge ``check`` against the exchanges of this run (see conformance.ahead for who calls it)."""
    if state.aborted is not None:
        return CheckResult(
            check.id,
            check.row,
            check.level,
            Status.ERROR,
            state.aborted,
            check.claim,
            check.source,
            error_cause=state.abort_cause,
        )
    ctx = CheckContext(state.config.target, state.config.dialect, state.schemas, state.store, stop=state.stop)
    return run_check(check, ctx)


def run_check(check: Check, ctx: CheckContext) -> CheckResult:
    started = time.perf_counter()
    result = CheckResult(
        check_id=check.id,
        row=check.row,
        level=check.level,
        status=Status.PASS,
        message="",
        claim=check.claim,
        source=check.source,
        kind=check.kind,
    )
    if check.row in ctx.target.capabilities.unsupported:
        result.status = Status.UNSUPPORTED
        if check.row in ctx.dialect.unserved_rows:
            result.message = f"the {ctx.dialect.name} dialect documents no {check.row} endpoint; nothing was sent"
        else:
            result.message = f"the target profile declares the {check.row} row unsupported; nothing was sent"
    elif check.live_only and ctx.mode == "replay":
        result.status = Status.SKIPPED
        result.message = "live only: this check judges timing that a replay cannot reproduce"
    else:
        with client_differences.collecting() as noted:
            _judge(check, ctx, result)
            first = ctx.trial_count or ctx.target.limits.trials
            if _undecided(check, ctx, result, first):
                noted.clear()
                ctx.trial_count = ctx.target.limits.trial_bound
                result.status, result.message, result.details, result.rate = Status.PASS, "", {}, None
                _judge(check, ctx, result)
                result.message += (
                    f" (its first {first} trials left the 95 % interval straddling the threshold: it drew up to "
                    f"limits.max_trials, {ctx.trial_count})"
                )
        result.client_differences = client_differences.grouped(noted)
        if result.status == Status.PASS and result.client_differences:
            count = sum(group["count"] for group in result.client_differences)
            first = result.client_differences[0]
            result.message += (
                f"; the two official clients hand an app different things on {count} of these answers, which are "
                f"valid (a note on the row): {first['call']}: {first['python']}; {first['typescript']}"
            )
    result.exchanges = list(ctx.used)
    result.duration = time.perf_counter() - started
    _bound(result)
    return result


def _undecided(check: Check, ctx: CheckContext, result: CheckResult, trials: int) -> bool:
    """A model check whose trials left its verdict open, with trials to spare: it draws more before it decides
    (a replay draws what its recording drew, which decided alike)."""
    if not (check.trial_needs and ctx.probes and result.rate is not None) or ctx.target.limits.trial_bound <= trials:
        return False
    return result.status in (Status.PASS, Status.INCONCLUSIVE) and not Rate.from_dict(result.rate).settled


# a message quotes what the target sent: it says what matters in far less than this
MAX_MESSAGE = 2000
MAX_DETAILS = 16 * 1024


def _bound(result: CheckResult) -> None:
    """Keep a result's message and details to a size a report can hold, whatever the target sent."""
    if len(result.message) > MAX_MESSAGE:
        result.message = result.message[: MAX_MESSAGE - 1] + "…"
    try:
        size = len(json.dumps(result.details, default=str))
    except (TypeError, ValueError, RecursionError):
        size = MAX_DETAILS + 1
    if size > MAX_DETAILS:
        result.details = {"truncated": f"{size} bytes of details, more than the report keeps ({MAX_DETAILS})"}


def _judge(check: Check, ctx: CheckContext, result: CheckResult) -> None:
    try:
        note = check.func(ctx)
    except CheckFailed as failure:
        result.details = failure.details
        deviation = ctx.dialect.deviation_for(check.id)
        if deviation is None:
            result.status = Status.FAIL
            result.message = failure.message
        else:
            result.status = Status.DEVIATION
            result.message = (
                f"documented deviation of the {ctx.dialect.name} dialect: {deviation.reason} "
                f"(source: {deviation.source}). Observed: {failure.message}"
            )
    except Documented as exc:
        result.status = Status.DEVIATION
        result.message = f"documented deviation ({exc.by}): {exc.message}"
    except Unsupported as exc:
        result.status = Status.UNSUPPORTED
        result.message = str(exc)
    except NotApplicable as exc:
        result.status = Status.SKIPPED
        result.message = str(exc)
    except Blocked as exc:
        result.status = Status.BLOCKED
        result.blocked_by = exc.by
        result.message = f"blocked by {exc.by}: {exc.reason}"
    except EnvironmentProblem as exc:
        result.status = Status.ERROR
        result.error_cause = ErrorCause.ENVIRONMENT
        result.message = str(exc)
    except ReplayError as exc:
        result.status = Status.ERROR
        result.error_cause = ErrorCause.CASSETTE
        result.message = str(exc)
    except RunStopped as exc:
        result.status = Status.SKIPPED
        result.message = f"not judged: {exc}"
        result.stopped = True
    except RequestNotSent as exc:
        result.status = Status.ERROR
        result.error_cause = ErrorCause.HARNESS
        result.message = f"{exc}; this is a bug in the suite or input it did not validate"
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        result.status = Status.ERROR
        result.error_cause = ErrorCause.HARNESS
        text = " ".join(str(exc).split())[:300]
        result.message = scrub(
            f"internal error in check {check.id}: {type(exc).__name__}: {text} "
            f"(at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}); this is a bug in the suite"
        )
    else:
        result.status = Status.PASS
        if check.kind == Kind.MODEL or isinstance(note, Measured):
            _measured(check, ctx, result, note)
            return
        if isinstance(note, Note):
            result.message, result.details = note.message, dict(note.details)
        else:
            result.message = note or "as claimed"
        if ctx.dialect.deviation_for(check.id) is not None:
            result.message += (
                f" (the {ctx.dialect.name} dialect documents a deviation here, but the target behaves like OpenAI)"
            )
