"""What a live run will send, before it sends anything: requests per row and an upper bound on tokens.

A run sends each distinct request once: the probes the selected checks read (shared between checks)
and the requests some checks send themselves (declared with ``extra=`` on the check, stand-ins where
they depend on answers). Each request's tokens are bounded by ``conformance.budget.token_bound``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from conformance import gates
from conformance.budget import token_bound
from conformance.dialects import Dialect
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import PROBES, Check
from conformance.rows import ROWS
from conformance.trials import MARK, planned_requests, trial_number


@dataclass(frozen=True)
class PlannedRequest:
    id: str
    row: str
    method: str
    path: str
    prompt_tokens: int
    completion_tokens: int | None  # None: the request sets no cap
    images: int
    # sent by a check itself (beyond the shared probes); a stand-in where it depends on an answer
    extra: bool
    # a trial beyond limits.trials: sent only when a model check's first trials leave it undecided
    more: bool = False


@dataclass
class RowPlan:
    row: str
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    uncapped: int = 0
    images: int = 0


@dataclass
class Plan:
    target: str
    checks: int
    requests: list[PlannedRequest] = field(default_factory=list)
    # each model check's probes are sent this many times
    trials: int = 1
    # and up to this many when the first leave the check undecided
    max_trials: int = 1
    # the bound on tokens if the chat model turns out to think (every answer cap raised by the allowance), when
    # the profile leaves it to the run to notice; None when the profile declares it
    tokens_if_thinking: int | None = None
    max_reasoning_tokens: int = 0

    @property
    def trial_requests(self) -> int:
        """Requests that repeat a probe for a model check's trials (beyond its first)."""
        return sum(MARK in r.id for r in self.requests)

    @property
    def more_trial_requests(self) -> int:
        """Trials a model check draws only when its first ones leave it undecided."""
        return sum(r.more for r in self.requests)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.requests)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens or 0 for r in self.requests)

    @property
    def uncapped(self) -> int:
        return sum(r.completion_tokens is None for r in self.requests)

    @property
    def images(self) -> int:
        return sum(r.images for r in self.requests)

    def rows(self) -> list[RowPlan]:
        by_row = {row.id: RowPlan(row.id) for row in ROWS}
        for request in self.requests:
            row = by_row[request.row]
            row.requests += 1
            row.prompt_tokens += request.prompt_tokens
            row.completion_tokens += request.completion_tokens or 0
            row.uncapped += request.completion_tokens is None
            row.images += request.images
        return [row for row in by_row.values() if row.requests]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "checks": self.checks,
            "trials": self.trials,
            "requests": len(self.requests),
            "trial_requests": self.trial_requests,
            "max_trials": self.max_trials,
            "more_trial_requests": self.more_trial_requests,
            "prompt_tokens_max": self.prompt_tokens,
            "completion_tokens_max": self.completion_tokens,
            "tokens_max": self.prompt_tokens + self.completion_tokens,
            "uncapped_requests": self.uncapped,
            "tokens_max_if_thinking": self.tokens_if_thinking,
            "max_reasoning_tokens": self.max_reasoning_tokens,
            "images": self.images,
            "rows": [row.__dict__ for row in self.rows()],
        }


# the longest a run goes by default: a full live run of a slow target takes minutes, and a target
# that makes every request take its whole deadline is told at this bound (--run-timeout sets more)
MAX_DEFAULT_RUN = 45 * 60.0


def retry_budget(requests: int) -> int:
    """The retries a run of ``requests`` may make in all (of connections dropped before an answer, and
    of 429s the suite caused), one a request on average: a server that drops every kept-alive
    connection once (llama-stack did) is retried as the SDKs retry it, and one that drops or refuses
    more is judged on what it answered. The dry run's "at most" counts them; the run never exceeds it.
    Neither kind costs tokens: nothing was answered."""
    return max(8, requests)


def time_bound(requests: int, target: Target) -> float:
    """The default bound on a live run's time (``limits.run_timeout``): long enough that every planned
    request may take its whole deadline, at the declared rate and concurrency, with the waits the
    429 policy and the rate-limit burst allow; a bound that ends a run, not an estimate."""
    limits, burst = target.limits, target.rate_limit
    waves = -(-requests // limits.concurrency)
    seconds = 60 + waves * limits.deadline
    if limits.requests_per_minute is not None:
        seconds += requests * 60 / limits.requests_per_minute
    seconds += limits.retries * limits.max_retry_wait
    if burst.probe:  # two bursts (chat completions, then /responses) and one wait between them
        seconds += burst.max_wait + -(-2 * burst.budget // limits.concurrency) * limits.deadline
    return min(seconds, MAX_DEFAULT_RUN)


def make_plan(checks: Iterable[Check], target: Target, dialect: Dialect) -> Plan:
    """The distinct requests the checks will send against ``target``, in run order."""
    chosen = [c for c in checks if c.row not in target.capabilities.unsupported]
    plan = Plan(target.name, len(chosen), _planned(chosen, target, dialect), target.limits.trials)
    plan.max_trials = target.limits.trial_bound
    plan.max_reasoning_tokens = target.limits.max_reasoning_tokens
    if target.reasoning.thinks is None:  # the run notices it from the first answer: bound both cases
        thinker = target.model_copy(update={"reasoning": target.reasoning.model_copy(update={"thinks": True})})
        planned = _planned(chosen, thinker, dialect)
        plan.tokens_if_thinking = sum(r.prompt_tokens + (r.completion_tokens or 0) for r in planned)
    return plan


def _planned(chosen: list[Check], target: Target, dialect: Dialect) -> list[PlannedRequest]:
    planned: dict[str, PlannedRequest] = {}
    for check in chosen:
        for request, row, extra in planned_requests(check, target, dialect, bound=True):
            if request.id not in planned:
                planned[request.id] = planned_request(request, row, target, extra=extra)
                if trial_number(request.id) > target.limits.trials:
                    planned[request.id] = replace(planned[request.id], more=True)
    return list(planned.values())


def prefetched(checks: Iterable[Check], target: Target, dialect: Dialect) -> list[Request]:
    """The requests a live run makes before its checks ask: every probe the checks read (each trial
    counted), in run order, once each; what a check sends itself depends on answers, so it asks then.
    The requests behind a gate (``conformance.gates``) wait for it: see ``split_by_gate``."""
    ungated, _ = split_by_gate(checks, target, dialect)
    return ungated


def split_by_gate(
    checks: Iterable[Check], target: Target, dialect: Dialect
) -> tuple[list[Request], dict[str, list[Request]]]:
    """The probes to prefetch at once (the gates among them), and those to prefetch once their gate
    says the endpoint is served, by gate id."""
    requests: dict[str, Request] = {}
    behind: dict[str, dict[str, Request]] = {}
    for check in checks:
        if check.row in target.capabilities.unsupported:
            continue
        for request, _, extra in planned_requests(check, target, dialect):
            if extra:
                continue
            probe = PROBES.get(request.id.split(MARK, 1)[0])
            gate = gates.gate_of(probe.row) if probe is not None else None
            if gate is None or request.id == gate:
                requests.setdefault(request.id, request)
            else:
                behind.setdefault(gate, {}).setdefault(request.id, request)
    return list(requests.values()), {gate: list(queued.values()) for gate, queued in behind.items()}


def planned_request(request: Request, row: str, target: Target, *, extra: bool) -> PlannedRequest:
    prompt, completion, images = token_bound(request, target.max_tokens_param)
    return PlannedRequest(request.id, row, request.method, request.path, prompt, completion, images, extra)


def render(plan: Plan, base_url: str | None) -> str:
    """The plan as the table ``conformance run --dry-run`` prints."""
    where = f" at {base_url}" if base_url else " (the built-in server, started by a live run)"
    lines = [
        f"plan for target {plan.target}{where}: {plan.checks} checks, {plan.trials} trials per model check "
        f"(up to {plan.max_trials} when they leave it undecided), nothing sent",
        f"  {'row':<20} {'requests':>8} {'prompt ≤':>10} {'completion ≤':>13} {'images':>7}",
    ]
    for row in plan.rows():
        uncapped = f" (+{row.uncapped} uncapped)" if row.uncapped else ""
        lines.append(
            f"  {row.row:<20} {row.requests:>8} {row.prompt_tokens:>10,} {row.completion_tokens:>13,} "
            f"{row.images:>7}{uncapped}"
        )
    total = plan.prompt_tokens + plan.completion_tokens
    lines.append(
        f"  {'total':<20} {len(plan.requests):>8} {plan.prompt_tokens:>10,} {plan.completion_tokens:>13,} "
        f"{plan.images:>7}"
    )
    extra = sum(r.extra for r in plan.requests)
    retries = retry_budget(len(plan.requests))
    lines.append(
        f"at most {len(plan.requests) + retries} requests: {len(plan.requests)} ({plan.trial_requests} repeating "
        f"probes for the trials of model checks, {plan.more_trial_requests} of them only if a check's first "
        f"{plan.trials} leave it undecided; {extra} sent by checks themselves, some standing in for models or "
        f"words known only from answers) and at most {retries} retries of dropped connections and 429s, "
        f"which cost no tokens; at most {total:,} tokens"
        + (f", plus {plan.uncapped} requests with no completion cap" if plan.uncapped else "")
        + (f", plus {plan.images} images" if plan.images else "")
    )
    if plan.tokens_if_thinking is not None and plan.tokens_if_thinking > total:
        lines.append(
            f"if the chat model thinks (the run notices it from its first answer), every answer cap grows by "
            f"limits.max_reasoning_tokens ({plan.max_reasoning_tokens:,}): at most {plan.tokens_if_thinking:,} tokens"
        )
    return "\n".join(lines)
