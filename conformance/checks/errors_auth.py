"""Row ``errors-auth``: requests without a valid key are refused with 401 (the SDK raises
AuthenticationError); a key without access to a model gets 403. (Their envelope is errors-400's, judged
over every error answer of the run.)

A run whose own key is refused everywhere is not judged here: the plugin reports it as an
environment error (exit code 3), because then nothing about the target can be said.
"""

from __future__ import annotations

from conformance.checks._expect import expect_refusal
from conformance.checks._requests import chat_request
from conformance.context import CheckContext
from conformance.exchange import AuthMode, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Level

HELLO = [{"role": "user", "content": "Say hi."}]
CASES: dict[str, tuple[AuthMode, str]] = {
    "no-key": ("none", "a chat request without an Authorization header"),
    "wrong-key": ("wrong-key", "a chat request with a key the target never issued"),
    "malformed-header": ("malformed", "a chat request whose Authorization header is 'Bearer' with no key"),
}


def _auth_request(target: Target, case: str) -> Request | None:
    if target.auth.kind == "none":
        return None
    auth, purpose = CASES[case]
    request = chat_request(target, f"errors-auth/{case}", purpose, HELLO)
    if request is None:
        return None
    return Request(request.id, request.method, request.path, purpose, json=request.json, auth=auth)


for _case in CASES:
    probe(f"errors-auth/{_case}", refusal=True)(lambda target, case=_case: _auth_request(target, case))


@probe("errors-auth/forbidden-model", refusal=True)
def forbidden_model(target: Target) -> Request | None:
    model = target.models.forbidden
    if model is None:
        return None
    return chat_request(
        target,
        "errors-auth/forbidden-model",
        f"a chat request for {model}, which this key may not use",
        HELLO,
        model=model,
    )


def _refused_401(ctx: CheckContext, case: str) -> str | None:
    exchange = ctx.exchange(f"errors-auth/{case}")
    expect_refusal(
        exchange, ctx.dialect.status_for("unauthenticated"), CASES[case][1], answered="the target does not enforce keys"
    )
    return None


@check("errors-auth", Level.MUST, source="openai-errors", needs=("errors-auth/no-key",))
def missing_key_is_refused_with_401(ctx: CheckContext) -> str | None:
    """A request without a key is refused with 401 (the SDK raises AuthenticationError)."""
    return _refused_401(ctx, "no-key")


@check("errors-auth", Level.MUST, source="openai-errors", needs=("errors-auth/wrong-key",))
def wrong_key_is_refused_with_401(ctx: CheckContext) -> str | None:
    """A request with a wrong key is refused with 401, not 403."""
    return _refused_401(ctx, "wrong-key")


@check("errors-auth", Level.MUST, source="openai-errors", needs=("errors-auth/malformed-header",))
def malformed_authorization_is_refused_with_401(ctx: CheckContext) -> str | None:
    """A malformed Authorization header ('Bearer' with no key) is refused with 401."""
    return _refused_401(ctx, "malformed-header")


@check("errors-auth", Level.MUST, source="openai-errors", needs=("errors-auth/forbidden-model",))
def forbidden_model_is_refused_with_403(ctx: CheckContext) -> str | None:
    """A valid key asking for a model it may not use is refused with 403 (the SDK raises PermissionDeniedError)."""
    exchange = ctx.exchange("errors-auth/forbidden-model")
    expect_refusal(
        exchange,
        ctx.dialect.status_for("forbidden"),
        "a model this key may not use",
        answered="the key is not limited to its models",
    )
    return None
