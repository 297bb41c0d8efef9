"""Row ``errors-not-found``: things that do not exist are answered with 404 and the error envelope."""

from __future__ import annotations

from conformance.checks._every import ERROR_FORM
from conformance.checks._expect import expect_refusal
from conformance.context import CheckContext
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

UNKNOWN_MODEL = "conformance-no-such-model-0000"

# the SDK exception each status maps to (openai-python _client.py, _make_status_error)
SDK_CLASS_BY_STATUS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


@probe("errors-not-found/retrieve-unknown-model", refusal=True)
def retrieve_unknown_model(target: Target) -> Request:
    return Request(
        "errors-not-found/retrieve-unknown-model",
        "GET",
        f"/models/{UNKNOWN_MODEL}",
        purpose="retrieve a model id that names no model",
    )


@check("errors-not-found", Level.MUST, source="openai-errors", needs=("errors-not-found/retrieve-unknown-model",))
def unknown_model_retrieve_is_404(ctx: CheckContext) -> str | None:
    """GET /models/{model} with an unknown id is answered 404, so the SDK raises NotFoundError."""
    expect_refusal(
        ctx.exchange("errors-not-found/retrieve-unknown-model"),
        ctx.dialect.status_for("unknown_model"),
        "an unknown model id",
        answered="user code receives a model that does not exist",
    )
    return None


@probe("errors-not-found/moderation-unknown-model", refusal=True)
def moderation_unknown_model(target: Target) -> Request | None:
    if target.models.moderation is None or "moderation" in target.capabilities.unsupported:
        return None
    return Request(
        "errors-not-found/moderation-unknown-model",
        "POST",
        "/moderations",
        purpose="a moderation request for a model id that names no model",
        json={"model": UNKNOWN_MODEL, "input": "Hello."},
    )


@probe("errors-not-found/unknown-route", refusal=True)
def unknown_route(target: Target) -> Request:
    return Request(
        "errors-not-found/unknown-route", "GET", "/conformance-no-such-route", purpose="a path that is no endpoint"
    )


@check("errors-not-found", Level.MUST, source="openai-errors", needs=("errors-not-found/moderation-unknown-model",))
def unknown_model_moderation_is_404(ctx: CheckContext) -> str | None:
    """A moderation request for an unknown model is refused with 404."""
    exchange = ctx.exchange("errors-not-found/moderation-unknown-model")
    expect_refusal(
        exchange,
        ctx.dialect.status_for("unknown_model"),
        "an unknown moderation model",
        answered="the target substitutes its own moderation model",
    )
    return None


@check("errors-not-found", Level.MUST, source="openai-errors", needs=("errors-not-found/unknown-route",))
def unknown_route_is_404(ctx: CheckContext) -> str | None:
    """A path that is no endpoint is answered 404."""
    exchange = ctx.exchange("errors-not-found/unknown-route")
    expect_refusal(exchange, ctx.dialect.status_for("unknown_route"), "an unknown path")
    return None


NOT_FOUND = (
    "errors-not-found/retrieve-unknown-model",
    "errors-not-found/moderation-unknown-model",
    "errors-not-found/unknown-route",
)


NOT_FOUND_MODELS = (
    "errors-not-found/retrieve-unknown-model",
    "model-selection/unknown-model",
    "errors-not-found/moderation-unknown-model",
)


# what api.openai.com's unknown-model 404 carries, where public evidence shows it: code model_not_found
# always; param null on chat completions (quoted from real answers: sources "openai-model-not-found").
# For GET /models/{id} and /moderations the evidence on param is thin, so param is not judged there.
PARAM_SEEN = {"model-selection/unknown-model": None}


@check("errors-not-found", Level.SHOULD, source="openai-model-not-found", needs=NOT_FOUND_MODELS)
def unknown_models_are_named_model_not_found(ctx: CheckContext) -> str | None:
    """404s for unknown models carry code "model_not_found" (and, on chat completions, param null), as
    api.openai.com sends them."""
    judged, wrong = 0, []
    for probe_id in NOT_FOUND_MODELS:
        try:
            exchange = ctx.exchange(probe_id)
        except NotApplicable:
            continue
        body = exchange.json_body
        error = body.value.get("error") if body.ok and isinstance(body.value, dict) else None
        if exchange.status != 404 or not isinstance(error, dict):
            continue
        if not all(isinstance(error.get(key), str | None) for key in ("code", "param")):
            # a numeric code (often the status) is the envelope's finding: it is one defect, not two
            raise Blocked(ERROR_FORM, f"{exchange.describe()}: the error's code and param are not strings or null")
        judged += 1
        if error.get("code") != "model_not_found":
            wrong.append(f"{exchange.describe()}: code {error.get('code')!r}, api.openai.com sends 'model_not_found'")
        elif probe_id in PARAM_SEEN and error.get("param") != PARAM_SEEN[probe_id]:
            wrong.append(
                f"{exchange.describe()}: param {error.get('param')!r}; api.openai.com's chat 404 has param null"
            )
    if not judged:
        raise NotApplicable("no unknown-model request got a 404 with an error object")
    if wrong:
        raise CheckFailed("; ".join(wrong))
    return f"{judged} unknown-model refusals carry code model_not_found (param judged on chat only: thin evidence)"
