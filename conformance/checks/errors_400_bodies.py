"""Row ``errors-400``: bodies that are not what the endpoint expects, on every endpoint that takes a body.

A JSON array or ``null`` where an object belongs (on chat and on POST /responses), an empty body, a form-encoded
body, and on POST /moderations a
body that is not JSON and one without its required ``input``: each is refused, never answered and never a 5xx (a
server that feeds them to its JSON library unguarded answers 500: "[json.exception.type_error.302]"); the ones sent
as JSON are refused with 400, as api.openai.com refuses a body it cannot read ("We could not parse the JSON body of
your request"), so the SDKs raise BadRequestError. Their envelope is judged with every other refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from conformance.checks._every import applicable, judge_each, maybe_exchange
from conformance.checks._expect import error_message, not_rate_limited, response_of, shown
from conformance.checks._responses import responses_request
from conformance.checks.errors_400 import base_body
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level


@dataclass(frozen=True)
class Body:
    name: str
    what: str
    path: str
    # the raw body and its Content-Type, from the target's valid body for the endpoint (None: nothing to send)
    build: Callable[[Target], tuple[bytes, str] | None]
    # sent as JSON: api.openai.com's status for it is 400
    as_json: bool = True
    # not JSON at all: mishandled on chat too, it is malformed_json_is_refused's finding
    unreadable: bool = False
    # the row its probe belongs to: POST /responses' are behind that endpoint's gate (never sent where it is absent)
    row: str = "errors-400"

    @property
    def id(self) -> str:
        return f"{self.row}/body/{self.name}"


def _chat(shape: Callable[[dict], object]) -> Callable[[Target], tuple[bytes, str] | None]:
    def build(target: Target) -> tuple[bytes, str] | None:
        body = base_body(target)
        return None if body is None else (_compact(shape(body)), "application/json")

    return build


def _compact(value: object) -> bytes:
    """JSON as the suite sends every body (and as a recording of one is compared)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


def _form(target: Target) -> tuple[bytes, str] | None:
    body = base_body(target)
    if body is None:
        return None
    return f"model={body['model']}&messages=Say+hi.".encode(), "application/x-www-form-urlencoded"


def _moderation(raw: Callable[[str], bytes]) -> Callable[[Target], tuple[bytes, str] | None]:
    def build(target: Target) -> tuple[bytes, str] | None:
        model = target.models.moderation
        return None if model is None else (raw(model), "application/json")

    return build


def _responses(shape: Callable[[dict], object]) -> Callable[[Target], tuple[bytes, str] | None]:
    def build(target: Target) -> tuple[bytes, str] | None:
        request = responses_request(target, "responses-errors/body", "", "Say hi.")
        return None if request is None else (_compact(shape(dict(request.json))), "application/json")

    return build


BODIES = (
    Body("chat-array", "a JSON array instead of the request object", "/chat/completions", _chat(lambda body: [body])),
    Body("chat-null", "the JSON value null as the body", "/chat/completions", _chat(lambda body: None)),
    Body(
        "chat-empty",
        "an empty body sent as application/json",
        "/chat/completions",
        lambda t: None if t.models.chat is None else (b"", "application/json"),
        unreadable=True,
    ),
    Body("chat-form", "a form-encoded body", "/chat/completions", _form, as_json=False),
    Body(
        "array",
        "a JSON array instead of the Responses request",
        "/responses",
        _responses(lambda body: [body]),
        row="responses-errors",
    ),
    Body(
        "null",
        "the JSON value null as a Responses body",
        "/responses",
        _responses(lambda body: None),
        row="responses-errors",
    ),
    Body(
        "moderations-malformed",
        "a moderation body that is not JSON",
        "/moderations",
        _moderation(lambda model: json.dumps({"model": model, "input": "I like apples."})[:-6].encode()),
        unreadable=True,
    ),
    Body(
        "moderations-no-input",
        "a moderation body without input",
        "/moderations",
        _moderation(lambda model: _compact({"model": model})),
    ),
)


def _request(target: Target, body: Body) -> Request | None:
    built = body.build(target)
    if built is None:
        return None
    raw, content_type = built
    return Request(body.id, "POST", body.path, body.what, body=raw, content_type=content_type)


for _body in BODIES:
    probe(_body.id, refusal=True)(lambda target, b=_body: _request(target, b))

NEEDS = tuple(body.id for body in BODIES)
WHAT = {body.id: body for body in BODIES}


@check("errors-400", Level.MUST, source="openai-errors", needs=(*NEEDS, "errors-400/malformed-json"))
def bodies_that_are_not_a_request_are_refused(ctx: CheckContext) -> str | None:
    """A JSON array, null, an empty body or a form-encoded body for chat completions, and a moderation body that is
    not JSON or has no input, are refused with a 4xx: never answered, never a 5xx or a dropped connection."""

    def judge(exchange: Exchange) -> None:
        what = WHAT[exchange.id].what
        response = response_of(exchange)
        if 400 <= response.status < 500:
            return
        not_rate_limited(exchange, 400)
        verdict = "answered" if response.status < 400 else "broken"
        raise CheckFailed(
            f"{exchange.describe()}: {what} was {verdict} (HTTP {response.status}: "
            f"{shown(error_message(exchange) or '', 100)}) instead of refused"
        )

    sent = applicable(ctx, NEEDS)
    # a body that is not JSON mishandled on chat too is one defect, malformed_json_is_refused's
    chat = maybe_exchange(ctx, "errors-400/malformed-json")
    if chat is not None and not (chat.response is not None and 400 <= chat.response.status < 500):
        sent = [exchange for exchange in sent if not WHAT[exchange.id].unreadable]
    return judge_each(sent, judge, noun="bodies", empty="no body could be sent (no chat or moderation model)")


@check("errors-400", Level.SHOULD, source="openai-errors", needs=NEEDS)
def bodies_that_are_not_a_request_get_400(ctx: CheckContext) -> str | None:
    """Those of them sent as JSON are refused with 400 (the SDKs raise BadRequestError), as api.openai.com refuses a
    body it cannot read; not 415, 422 or another 4xx."""
    refused = [
        e
        for e in applicable(ctx, NEEDS)
        if WHAT[e.id].as_json and e.response is not None and 400 <= e.response.status < 500
    ]

    def judge(exchange: Exchange) -> None:
        status = response_of(exchange).status
        if status != 400:
            raise CheckFailed(f"{exchange.describe()}: {WHAT[exchange.id].what} was refused with {status}, not 400")

    return judge_each(
        refused, judge, noun="refusals", empty="none was refused with a 4xx; the check of the status says so"
    )
