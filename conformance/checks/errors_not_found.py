"""Row ``errors-not-found``: things that do not exist are answered with 404 and the error envelope."""

from __future__ import annotations

from conformance.checks._expect import expect_envelopes, expect_refusal
from conformance.context import CheckContext
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable

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


@probe("errors-not-found/retrieve-unknown-model")
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


@probe("errors-not-found/moderation-unknown-model")
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


@probe("errors-not-found/unknown-route")
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


@check("errors-not-found", Level.MUST, source="openai-errors", needs=NOT_FOUND)
def not_found_refusals_use_the_error_envelope(ctx: CheckContext) -> str | None:
    """Every 404 (unknown model on retrieve and moderations, unknown path) is application/json in the envelope
    {"error": {message, type, param, code}}."""
    return expect_envelopes(ctx, NOT_FOUND)


NOT_FOUND_MODELS = (
    "errors-not-found/retrieve-unknown-model",
    "model-selection/unknown-model",
    "errors-not-found/moderation-unknown-model",
)


@check("errors-not-found", Level.SHOULD, source="openai-errors", needs=NOT_FOUND_MODELS)
def unknown_models_are_named_model_not_found(ctx: CheckContext) -> str | None:
    """404s for unknown models carry code "model_not_found" and param "model", as api.openai.com sends."""
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
        judged += 1
        if (error.get("code"), error.get("param")) != ("model_not_found", "model"):
            wrong.append(f"{exchange.describe()}: code {error.get('code')!r}, param {error.get('param')!r}")
    if not judged:
        raise NotApplicable("no unknown-model request got a 404 with an error object")
    if wrong:
        raise CheckFailed("; ".join(wrong) + ' (api.openai.com sends code "model_not_found" and param "model")')
    return f"{judged} unknown-model refusals name the model"
