"""Statuses, levels, and the outcome of one check.

What a check can end in::

    return None, a note or a Note -> pass
    raise CheckFailed             -> fail, or deviation when the dialect documents it
    raise Documented              -> deviation: the target differs from OpenAI as declared
    raise Unsupported             -> unsupported (a clear "not supported" answer)
    return a Measured (model checks) -> pass, fail or inconclusive: k of N trials against the
                                     check's threshold (conformance.rates)
    raise NotApplicable           -> skipped (with the reason)
    raise Blocked                 -> blocked: the answer the check reads cannot be read for its claim;
                                     the check named reports why (one defect, one verdict)
    raise EnvironmentProblem      -> error, caused by the environment (unreachable target)
    raise ReplayError             -> error, caused by the cassettes (missing or stale recording)
    any other exception           -> error, caused by the suite itself (a bug)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from conformance.sources import SOURCES


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    DEVIATION = "deviation"
    UNSUPPORTED = "unsupported"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    # a model check whose trials are too few to say whether its rate reaches the threshold
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class Kind(enum.StrEnum):
    """What a check judges: the form of what came back (protocol), or what the model chose to do
    (model), which is measured as a rate over trials and is never MUST."""

    PROTOCOL = "protocol"
    MODEL = "model"


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


class ErrorCause(enum.StrEnum):
    HARNESS = "harness"
    ENVIRONMENT = "environment"
    CASSETTE = "cassette"


class RowStatus(enum.StrEnum):
    SUPPORTED = "supported"
    PARTIAL = "partial"
    UNSUPPORTED = "unsupported"
    UNTESTED = "untested"


@dataclass(frozen=True)
class Note:
    """What a passing check may return besides a plain message: a message with details."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Measured:
    """What a model check returns: ``successes`` of ``trials`` did what it claims. ``what`` says what
    was counted ("called get_weather"); ``misses`` quote a few trials that did not."""

    successes: int
    trials: int
    what: str
    misses: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    # what the count means, said after it ("the target accepts temperature and ignores it")
    note: str = ""


class CheckFailed(AssertionError):
    """The target does not do what the check claims. The message says what was expected,
    what came back, and where (JSON path, chunk number)."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class Documented(Exception):
    """The target differs from OpenAI as its dialect or profile declares (e.g. the field it returns
    thinking in): a documented deviation, whatever the dialect's list of deviations says. ``by`` names
    who declares it ("the deepseek dialect", "the profile")."""

    def __init__(self, by: str, message: str) -> None:
        super().__init__(message)
        self.by = by
        self.message = message


class Unsupported(Exception):
    """The target answered clearly that it does not support what the check needs."""


class NotApplicable(Exception):
    """The check cannot say anything here (precondition not met, nothing configured)."""


class Blocked(Exception):
    """The check cannot judge its claim: what it reads is not there or not of the right type, and
    ``by`` (the id of another check) reports that as its own failure."""

    def __init__(self, by: str, reason: str) -> None:
        super().__init__(reason)
        self.by = by
        self.reason = reason


class EnvironmentProblem(Exception):
    """The exchange could not happen for reasons outside the target's conformance."""


@dataclass
class CheckResult:
    check_id: str
    row: str
    level: Level
    status: Status
    message: str
    claim: str
    source: str
    exchanges: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error_cause: ErrorCause | None = None
    duration: float = 0.0
    # for a blocked check: the check that reports what blocks it
    blocked_by: str | None = None
    # the run was stopped (a signal, its time bound) before this check could be judged
    stopped: bool = False
    kind: Kind = Kind.PROTOCOL
    # a model check's measured rate (successes, trials, interval, threshold): conformance.rates
    rate: dict[str, Any] | None = None
    # where the two official clients hand an app different things for answers this check judged
    # (conformance.client_differences.grouped)
    client_differences: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        extra = {"client_differences": self.client_differences} if self.client_differences else {}
        return {
            "id": self.check_id,
            "row": self.row,
            "level": str(self.level),
            "status": str(self.status),
            "claim": self.claim,
            "message": self.message,
            "source": _source(self.source),
            "evidence": list(self.exchanges),
            "details": self.details,
            "error_cause": None if self.error_cause is None else str(self.error_cause),
            "blocked_by": self.blocked_by,
            "kind": str(self.kind),
            "rate": self.rate,
            "duration": round(self.duration, 4),
            **extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            check_id=data["id"],
            row=data["row"],
            level=Level(data["level"]),
            status=Status(data["status"]),
            message=data["message"],
            claim=data["claim"],
            source=data["source"]["key"],
            exchanges=list(data["evidence"]),
            details=dict(data["details"]),
            error_cause=None if data["error_cause"] is None else ErrorCause(data["error_cause"]),
            duration=float(data["duration"]),
            blocked_by=data.get("blocked_by"),
            kind=Kind(data.get("kind", "protocol")),
            rate=data.get("rate"),
            client_differences=list(data.get("client_differences") or []),
        )


def _source(key: str) -> dict[str, str]:
    source = SOURCES[key]
    return {"key": source.key, "title": source.title, "url": source.url}


def row_status(results: list[CheckResult], declared_unsupported: bool = False) -> RowStatus:
    """A feature row's status from its checks.

    supported: something passed and no MUST check failed; partial: something passed and a MUST
    check failed (or part is unsupported); unsupported: nothing passed, and the target declared
    or showed the row unsupported, or every MUST check failed; untested: nothing could be judged.
    """
    if declared_unsupported:
        return RowStatus.UNSUPPORTED
    good = [r for r in results if r.status in (Status.PASS, Status.DEVIATION)]
    must_failed = [r for r in results if r.status == Status.FAIL and r.level == Level.MUST]
    unsupported = [r for r in results if r.status == Status.UNSUPPORTED]
    if good:
        return RowStatus.PARTIAL if (must_failed or unsupported) else RowStatus.SUPPORTED
    if unsupported or must_failed:
        return RowStatus.UNSUPPORTED
    return RowStatus.UNTESTED
