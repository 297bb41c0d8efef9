"""Row ``errors-400``, parameters: one no API knows is refused, and each OpenAI parameter the dialect
does not support is either ignored or refused with 400 and the envelope (the policy is reported per
parameter, as the Llama compatibility layer documents "ignored, or refused with 400")."""

from __future__ import annotations

from typing import Any

from conformance.checks._expect import (
    error_message,
    expect_chat_completion,
    expect_error_envelope,
    expect_refusal,
    response_of,
    shown,
)
from conformance.checks.errors_400 import base_body
from conformance.context import CheckContext
from conformance.dialects import Dialect, load_dialect
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable, Note


@probe("errors-400/unknown-parameter")
def unknown_parameter(target: Target) -> Request | None:
    body = base_body(target)
    if body is None:
        return None
    return Request(
        "errors-400/unknown-parameter",
        "POST",
        "/chat/completions",
        "a request with a parameter no API knows",
        json={**body, "conformance_unknown_parameter": True},
    )


@check("errors-400", Level.MUST, source="openai-errors", needs=("errors-400/unknown-parameter",))
def unknown_parameter_is_refused(ctx: CheckContext) -> str | None:
    """A parameter no API knows is refused with 400, as OpenAI refuses unrecognized arguments."""
    exchange = ctx.exchange("errors-400/unknown-parameter")
    expect_refusal(
        exchange,
        ctx.dialect.status_for("invalid_request"),
        "an unknown parameter",
        answered="the target ignores parameters it does not know",
    )
    return expect_error_envelope(ctx, exchange, "this check")


def unsupported_request(target: Target, name: str, value: Any) -> Request | None:
    body = base_body(target)
    if body is None:
        return None
    return Request(
        f"errors-400/unsupported/{name}",
        "POST",
        "/chat/completions",
        f"the parameter {name}, which the dialect does not support",
        json={**body, name: value},
    )


def _unsupported_plan(target: Target, dialect: Dialect) -> list[Request]:
    parameters = dialect.unsupported_parameters
    return [r for name, value in parameters.items() if (r := unsupported_request(target, name, value))]


@check("errors-400", Level.MUST, source="llama-compat", needs=("chat-completions/basic",), extra=_unsupported_plan)
def unsupported_parameters_are_ignored_or_refused(ctx: CheckContext) -> str | None:
    """Each OpenAI parameter the dialect does not support is either ignored (answered) or refused with 400 and
    the envelope; the observed policy is reported per parameter."""
    parameters = load_dialect(ctx.target.dialect).unsupported_parameters
    if not parameters:
        raise NotApplicable(f"the {ctx.dialect.name} dialect lists no unsupported parameters")
    requests = [r for name, value in parameters.items() if (r := unsupported_request(ctx.target, name, value))]
    policy: dict[str, str] = {}
    problems: list[str] = []
    for request, exchange in zip(requests, ctx.fetch_many(requests), strict=True):
        name = request.id.rsplit("/", 1)[1]
        response = response_of(exchange)
        try:
            if response.status == 200:
                expect_chat_completion(ctx, exchange)
                policy[name] = "accepted"
            elif response.status in ctx.dialect.status_for("invalid_request"):
                expect_error_envelope(ctx, exchange, "this check")
                policy[name] = f"refused ({shorten(error_message(exchange))})"
            else:
                raise CheckFailed(
                    f"{exchange.describe()}: the unsupported parameter {name} got HTTP {response.status}; the "
                    f"dialect allows it to be ignored or refused with 400; body {shown(response.body)}"
                )
        except CheckFailed as failure:
            policy[name] = "neither"
            problems.append(failure.message)
    if problems:
        raise CheckFailed(
            f"{len(problems)} of {len(requests)} parameters: " + "; ".join(problems[:3]), details={"policy": policy}
        )
    return Note("; ".join(f"{name}: {what}" for name, what in policy.items()), {"policy": policy})


def shorten(message: str | None) -> str:
    return shown(message or "", 60).strip("'")
