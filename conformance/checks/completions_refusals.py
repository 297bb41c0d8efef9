"""Row ``completions``, its refusals: what OpenAI's reference rules out on POST /completions, refused as it does.

The reference bounds ``max_tokens`` (at least 0), ``logprobs`` (0 to 5) and ``n`` (at least 1); ``best_of`` must
not be less than ``n`` and "results cannot be streamed"; an unknown model is 404 (``model_not_found``). Each is
refused with 400 (404 for the model) in the error envelope (whose form ``errors-400.refusals_use_the_error_envelope``
judges); that the refusal names the parameter, as OpenAI's ``param`` does, is a claim of its own.
"""

from __future__ import annotations

from typing import Any

from conformance.checks._completions import PROMPT, completion_request, names
from conformance.checks._expect import brief, error_message, expect_refusal
from conformance.context import CheckContext
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable

UNKNOWN_MODEL = "no-such-completion-model-0"
# values outside the ranges OpenAI documents: probe id, parameter, value
OUT_OF_RANGE: tuple[tuple[str, str, Any], ...] = (
    ("completions/max-tokens-negative", "max_tokens", -1),
    ("completions/logprobs-negative", "logprobs", -1),
    ("completions/n-zero", "n", 0),
)
# best_of against n and against streaming: probe id, what is sent
CONFLICTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("completions/best-of-below-n", {"best_of": 1, "n": 2}),
    ("completions/best-of-streamed", {"best_of": 2, "stream": True}),
)
NAMED = {probe_id: parameter for probe_id, parameter, _ in OUT_OF_RANGE} | {
    probe_id: "best_of" for probe_id, _ in CONFLICTS
}


def _out_of_range(probe_id: str, parameter: str, value: Any) -> None:
    @probe(probe_id, refusal=True)
    def build(target: Target) -> Request | None:
        body = {"prompt": PROMPT, "max_tokens": 4, parameter: value}
        return completion_request(target, probe_id, f"{parameter} {value}, outside OpenAI's documented range", body)


def _conflict(probe_id: str, sent: dict[str, Any]) -> None:
    @probe(probe_id, refusal=True)
    def build(target: Target) -> Request | None:
        said = ", ".join(f"{name} {value}" for name, value in sent.items())
        return completion_request(target, probe_id, said, {"prompt": PROMPT, "max_tokens": 4, **sent})


for _probe_id, _parameter, _value in OUT_OF_RANGE:
    _out_of_range(_probe_id, _parameter, _value)
for _probe_id, _sent in CONFLICTS:
    _conflict(_probe_id, _sent)


@probe("completions/unknown-model", refusal=True)
def unknown_model(target: Target) -> Request | None:
    return (
        completion_request(
            target,
            "completions/unknown-model",
            "a model the target does not have",
            {"prompt": PROMPT, "max_tokens": 4},
            model=UNKNOWN_MODEL,
        )
        if target.models.for_role("completion")
        else None
    )


def _refused_each(ctx: CheckContext, probe_ids: tuple[str, ...], answered: str) -> str:
    for probe_id in probe_ids:
        ctx.exchange(probe_id)  # every one is evidence, whichever fails first
    said, problems = [], []
    for probe_id in probe_ids:
        exchange = ctx.exchange(probe_id)
        try:
            response = expect_refusal(exchange, (400,), exchange.purpose, answered=answered)
        except CheckFailed as failure:
            problems.append(failure.message)
            continue
        said.append(f"{probe_id.split('/', 1)[1]}: HTTP {response.status}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return "; ".join(said)


@check(
    "completions",
    Level.MUST,
    source="openai-completions",
    needs=tuple(probe_id for probe_id, _, _ in OUT_OF_RANGE),
)
def out_of_range_values_are_refused(ctx: CheckContext) -> str | None:
    """max_tokens -1, logprobs -1 and n 0 (outside the ranges OpenAI documents) are each refused with 400."""
    probe_ids = tuple(probe_id for probe_id, _, _ in OUT_OF_RANGE)
    return _refused_each(ctx, probe_ids, "the app's mistake is answered as if it were a request")


@check("completions", Level.MUST, source="openai-completions", needs=tuple(probe_id for probe_id, _ in CONFLICTS))
def best_of_conflicts_are_refused(ctx: CheckContext) -> str | None:
    """best_of less than n, and best_of with stream ("results cannot be streamed"), are refused with 400."""
    probe_ids = tuple(probe_id for probe_id, _ in CONFLICTS)
    return _refused_each(ctx, probe_ids, "the app gets an answer that is not what best_of promises")


@check("completions", Level.MUST, source="openai-completions-errors", needs=("completions/unknown-model",))
def unknown_model_is_refused(ctx: CheckContext) -> str | None:
    """A model the target does not have is refused with 404 (OpenAI: model_not_found)."""
    exchange = ctx.exchange("completions/unknown-model")
    response = expect_refusal(exchange, (404,), exchange.purpose, answered="the app is answered by another model")
    return f"HTTP {response.status}: {brief(error_message(exchange) or '', 80)}"


@check("completions", Level.SHOULD, source="openai-parameters", needs=tuple(NAMED))
def refusals_name_the_parameter(ctx: CheckContext) -> str | None:
    """Each refusal of an out-of-range value or a best_of conflict names the parameter (in error.param or its
    message), as OpenAI's do, so that the app can tell which of its settings to change."""
    unnamed, judged = [], 0
    for probe_id, parameter in NAMED.items():
        exchange = ctx.exchange(probe_id)
        response = exchange.response
        if response is None or response.status != 400:
            continue  # not refused: the check of that claim says so
        judged += 1
        if not names(exchange, parameter):
            unnamed.append(
                f"{exchange.describe()}: {parameter} is not named: {brief(error_message(exchange) or '', 80)}"
            )
    if not judged:
        raise NotApplicable("none of these requests was refused with 400")
    if unnamed:
        raise CheckFailed("; ".join(unnamed))
    return f"{judged} refusals name their parameter"


__all__ = ["UNKNOWN_MODEL"]
