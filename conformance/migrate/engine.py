"""From captured requests to verdicts: each request is sent to the candidate (models mapped, once per
trial), and its answers are judged by the oracles a run uses and by the claims of the request.

The oracles are the run's form checks (``runs_last``: the schema, the Python and TypeScript SDKs,
strict SSE framing, chunk invariants, the error envelope), each judging this request's answers
alone, so its verdict lands on the request that shows it. The claims are
``conformance.migrate.claims`` (what the request itself asks for) and
``conformance.migrate.compare`` (what the original answer was). Every claim is a ``Check`` run by
``conformance.runner.run_check``, so statuses, blocking and documented deviations mean what they
mean in a run.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from conformance import app_features
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.migrate import (  # noqa: F401 - registers
    claims_completions,
    claims_embeddings,
    claims_format,
    claims_reasoning,
    claims_tools,
    compare,
)
from conformance.migrate.claims import CLAIMS, Claim, TrafficContext
from conformance.profiles import Target
from conformance.registry import Check, load_all
from conformance.runner import run_check
from conformance.schemas import SchemaSet
from conformance.traffic import Captured, raw_bytes
from conformance.trials import trial_requests
from conformance.verdicts import CheckResult, Status

PREFIX = "migrate/"
# run-wide checks that are no oracle of one request's answers: the rate-limit bursts send their own
_NOT_ORACLES = frozenset(
    {"errors-rate-limit.burst_is_limited_then_recovers", "responses-errors.over_the_limit_is_refused_with_429"}
)


def form_checks() -> list[Check]:
    return [c for c in load_all().values() if c.runs_last and c.id not in _NOT_ORACLES]


@dataclass(frozen=True)
class Planned:
    captured: Captured
    request: Request
    features: list[str]
    # parameters the candidate's dialect documents as unsupported, sent as the app sent them
    unsupported: list[str]
    # models the request names, as (captured, sent)
    models: list[tuple[str, str]]


def _map_body(body: Any, model_map: dict[str, str]) -> tuple[Any, list[tuple[str, str]]]:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return body, []
    mapped = copy.deepcopy(body)
    mapped["model"] = model_map.get(body["model"], body["model"])
    return mapped, [(body["model"], mapped["model"])]


def _map_path(path: str, model_map: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    if path.startswith("/models/"):
        model = path[len("/models/") :]
        if model in model_map:
            return f"/models/{model_map[model]}", [(model, model_map[model])]
        return path, [(model, model)]
    return path, []


def plan(captured: Iterable[Captured], model_map: dict[str, str], dialect: Dialect) -> list[Planned]:
    planned = []
    for item in captured:
        body, models = _map_body(item.body, model_map)
        path, path_models = _map_path(item.path, model_map)
        raw = raw_bytes(body)
        request = Request(
            id=f"{PREFIX}{item.id}",
            method=item.method,
            path=path,
            purpose=f"the app's {item.method} {item.path} ({item.id})",
            json=None if raw is not None else body,
            body=raw,
            auth=item.auth,
        )
        unsupported = unsupported_in(body, dialect)
        planned.append(
            Planned(
                item,
                request,
                app_features.features_of(item.method, item.path, item.body),
                unsupported,
                models + path_models,
            )
        )
    return planned


def unsupported_in(body: Any, dialect: Dialect) -> list[str]:
    """The parameters of a body the dialect documents as unsupported. Where the dialect names a kind of
    a parameter (response_format json_object), only that kind counts."""
    if not isinstance(body, dict):
        return []
    found = []
    for name, sample in dialect.unsupported_parameters.items():
        if name not in body:
            continue
        if isinstance(sample, dict) and "type" in sample:
            value = body[name]
            if not (isinstance(value, dict) and value.get("type") == sample["type"]):
                continue
            name = f"{name} {sample['type']}"
        found.append(name)
    return sorted(found)


def requests_of(planned: list[Planned], trials: int) -> list[Request]:
    return [trial for item in planned for trial in trial_requests(item.request, trials)]


class _Answers:
    """The exchange source of one request's judgement: its trials, nothing else."""

    def __init__(self, mode: str, exchanges: list[Exchange]) -> None:
        self.mode = mode
        self._exchanges = {exchange.id: exchange for exchange in exchanges}

    def get(self, request: Request) -> Exchange:
        raise RuntimeError(f"a migration claim reads the captured request's answers only, not {request.id}")

    def get_many(self, requests: Iterable[Request]) -> list[Exchange]:
        return [self.get(request) for request in requests]

    def made(self) -> dict[str, Exchange]:
        return dict(self._exchanges)

    def every_exchange(self) -> dict[str, Exchange]:
        return dict(self._exchanges)


@dataclass
class Judged:
    planned: Planned
    trials: list[Exchange]
    results: list[CheckResult] = field(default_factory=list)
    # the ids of the results that compare with the original
    comparisons: set[str] = field(default_factory=set)


def judge(
    planned: Planned,
    trials: list[Exchange],
    *,
    target: Target,
    dialect: Dialect,
    schemas: SchemaSet,
    mode: str,
    agreement: float,
) -> Judged:
    """Every verdict about one captured request."""
    judged = Judged(planned, trials)
    # the rate-limit checks judge the 429s this request met; they never provoke one of their own here
    target = target.model_copy(update={"rate_limit": target.rate_limit.model_copy(update={"probe": False})})
    body = planned.request.json if isinstance(planned.request.json, dict) else {}
    method, path = planned.request.method, planned.request.path

    def context() -> TrafficContext:
        return TrafficContext(
            target,
            dialect,
            schemas,
            _Answers(mode, trials),
            body=body,
            original=planned.captured.original,
            agreement=agreement,
        )

    for check in form_checks():
        if check.row in target.capabilities.unsupported:
            # a form of answer the candidate does not serve at all (declared, or its dialect's): a request that
            # needs it is refused, which the status claim reports; every other request has nothing of it to judge
            continue
        result = run_check(check, context())
        # a form check that found no answer of its kind here says nothing about this request
        if result.status != Status.SKIPPED:
            judged.results.append(result)
    claims: list[Claim] = [c for c in CLAIMS if c.applies(method, path, body)]
    for found in claims:
        check = found.check
        if found.comparison and check.threshold is not None:
            check = replace(check, threshold=agreement)
        result = run_check(check, context())
        judged.results.append(result)
        if found.comparison:
            judged.comparisons.add(check.id)
    return judged
