"""Row ``errors-auth``: requests without a valid key are refused with 401 (the SDK raises
AuthenticationError); a key without access to a model gets 403. (Their envelope is errors-400's, judged
over every error answer of the run.)

A run whose own key is refused everywhere is not judged here: the plugin reports it as an
environment error (exit code 3), because then nothing about the target can be said.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from conformance.checks._every import applicable, judge_each, maybe_exchange
from conformance.checks._expect import expect_refusal
from conformance.checks._requests import chat_request
from conformance.context import CheckContext
from conformance.exchange import AuthMode, Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, Level

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


def _elsewhere_models(target: Target) -> Request | None:
    return Request("errors-auth/elsewhere/models", "GET", "/models", "the model list with a wrong key")


def _elsewhere_model(target: Target) -> Request | None:
    model = target.models.chat or target.models.embedding
    if model is None:
        return None
    path = "/models/" + quote(model.encode("utf-8", "backslashreplace"), safe="-._~:@!$&'()*+,;=")
    return Request("errors-auth/elsewhere/model", "GET", path, f"the model {model} with a wrong key")


def _elsewhere_moderations(target: Target) -> Request | None:
    model = target.models.moderation
    if model is None:
        return None
    body = {"model": model, "input": "I like apples."}
    return Request(
        "errors-auth/elsewhere/moderations", "POST", "/moderations", "a moderation with a wrong key", json=body
    )


def _elsewhere_embeddings(target: Target) -> Request | None:
    model = target.models.embedding
    if model is None:
        return None
    body = {"model": model, "input": "I like apples.", "encoding_format": "float"}
    return Request("errors-auth/elsewhere/embeddings", "POST", "/embeddings", "embeddings with a wrong key", json=body)


def _elsewhere_stream(target: Target) -> Request | None:
    request = chat_request(target, "errors-auth/elsewhere/stream", "a streamed chat request with a wrong key", HELLO)
    if request is None:
        return None
    return Request(request.id, request.method, request.path, request.purpose, json={**request.json, "stream": True})


CHAT_WRONG_KEY = "errors-auth.wrong_key_is_refused_with_401"
# every other route a key guards, asked with a key the target never issued: (probe, what a success would be)
ELSEWHERE: dict[str, tuple[Callable[[Target], Request | None], str]] = {
    "errors-auth/elsewhere/models": (_elsewhere_models, "anyone can list the models"),
    "errors-auth/elsewhere/model": (_elsewhere_model, "anyone can read a model's details"),
    "errors-auth/elsewhere/moderations": (_elsewhere_moderations, "anyone can spend the key's moderation quota"),
    "errors-auth/elsewhere/embeddings": (_elsewhere_embeddings, "anyone can spend the key's embeddings quota"),
    "errors-auth/elsewhere/stream": (_elsewhere_stream, "the stream opened before the key was checked"),
}


def _with_wrong_key(build: Callable[[Target], Request | None]) -> Callable[[Target], Request | None]:
    def request(target: Target) -> Request | None:
        built = build(target) if target.auth.kind != "none" else None
        if built is None:
            return None
        return Request(built.id, built.method, built.path, built.purpose, json=built.json, auth="wrong-key")

    return request


for _probe_id, (_build, _) in ELSEWHERE.items():
    probe(_probe_id, refusal=True)(_with_wrong_key(_build))


@check("errors-auth", Level.MUST, source="openai-errors", needs=("errors-auth/wrong-key", *ELSEWHERE))
def every_route_refuses_a_wrong_key(ctx: CheckContext) -> str | None:
    """Not only chat: GET /models, GET /models/{model}, POST /moderations, POST /embeddings and a streamed chat request
    refuse a wrong key with 401 (the SDK raises AuthenticationError), the stream before it begins."""
    # a target that does not chat (an embeddings server) has its other routes judged alone
    chat = maybe_exchange(ctx, "errors-auth/wrong-key")
    if chat is not None and chat.response is not None and chat.response.status < 400:
        raise Blocked(CHAT_WRONG_KEY, "the target enforces no key on chat either")
    expected = ctx.dialect.status_for("unauthenticated")
    # refused as chat refuses it with a status other than 401: one defect, the chat check's
    as_chat = (
        chat.response.status
        if chat is not None and chat.response is not None and chat.response.status not in expected
        else None
    )
    asked = {exchange.id: (exchange, ELSEWHERE[exchange.id][1]) for exchange in applicable(ctx, ELSEWHERE)}
    if as_chat is not None and all(e.response is not None and e.response.status == as_chat for e, _ in asked.values()):
        raise Blocked(CHAT_WRONG_KEY, f"every route refuses a wrong key as chat does, with {as_chat}")

    def judge(exchange: Exchange) -> None:
        if as_chat is not None and exchange.response is not None and exchange.response.status == as_chat:
            return
        expect_refusal(exchange, expected, exchange.purpose, answered=asked[exchange.id][1])

    return judge_each([exchange for exchange, _ in asked.values()], judge, noun="routes", empty="no other route to ask")
