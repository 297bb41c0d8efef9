"""Row ``errors-not-found``: things that do not exist are answered with 404 and the error envelope."""

from __future__ import annotations

from conformance.checks._expect import expect_error_envelope, expect_refusal
from conformance.context import CheckContext
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Level

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


@check("errors-not-found", Level.MUST, source="openai-errors", needs=("errors-not-found/retrieve-unknown-model",))
def unknown_model_retrieve_has_error_envelope(ctx: CheckContext) -> str | None:
    """The 404 for an unknown model is JSON in the envelope {"error": {message, type, param, code}}."""
    return expect_error_envelope(
        ctx, ctx.exchange("errors-not-found/retrieve-unknown-model"), "errors-not-found.unknown_model_retrieve_is_404"
    )
