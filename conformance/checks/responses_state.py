"""Row ``responses-state``: conversations on POST /responses. Earlier turns sent as input items reach the
model (the compliance tester's multi-turn, judged by what usage counts); a stored response is continued by
``previous_response_id`` and retrieved by ``GET /responses/{id}``; one sent with ``store: false`` is not kept.

A target that keeps no responses declares ``capabilities.stores_responses = false`` in its profile: the
checks of stored state are then unsupported, not failed."""

from __future__ import annotations

from conformance.checks._expect import brief, expect_refusal, unsupported_if_refused
from conformance.checks._responses import BASIC, offered, output_text, response_body, responses_request, usage_of
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable, Unsupported

MULTI = "responses-state/multi-turn"
QUESTION = "responses-state/question"
FIRST = "responses-state/first"
ALONE = "responses-state/follow-up-alone"
UNSTORED = "responses-state/unstored"
HISTORY = [
    {"type": "message", "role": "user", "content": "My name is Alice."},
    {"type": "message", "role": "assistant", "content": "Hello Alice! Nice to meet you. How can I help you today?"},
    {"type": "message", "role": "user", "content": "What is my name?"},
]
REMEMBER = "Remember the number 7 and the word lighthouse."
FOLLOW_UP = "Which number and which word did I ask you to remember?"
CONTINUES = "responses-state.previous_response_id_continues_the_conversation"


@probe(MULTI)
def multi_turn(target: Target) -> Request | None:
    return responses_request(target, MULTI, "user, assistant, user items (the tester's multi-turn)", HISTORY)


@probe(QUESTION)
def question(target: Target) -> Request | None:
    return responses_request(target, QUESTION, "the last turn alone", [HISTORY[-1]])


# the requests of stored state are not sent to a target whose profile says it keeps nothing


@probe(FIRST)
def first(target: Target) -> Request | None:
    if not target.capabilities.stores_responses:
        return None
    return responses_request(target, FIRST, "a first turn, stored", REMEMBER, store=True)


@probe(ALONE)
def alone(target: Target) -> Request | None:
    if not target.capabilities.stores_responses:
        return None
    return responses_request(target, ALONE, "the follow-up question without its first turn", FOLLOW_UP)


@probe(UNSTORED)
def unstored(target: Target) -> Request | None:
    if not target.capabilities.stores_responses:
        return None
    return responses_request(target, UNSTORED, "a turn sent with store false", "Forget this at once.", store=False)


@check("responses-state", Level.MUST, source="open-responses-compliance", needs=(MULTI, QUESTION, BASIC))
def input_items_carry_the_history(ctx: CheckContext) -> str | None:
    """Earlier user and assistant turns sent as input items are answered and reach the model: usage.input_tokens
    exceeds that of the last turn alone by at least half a token per word of the earlier turns."""
    offered(ctx)
    history, last = ctx.exchange(MULTI), ctx.exchange(QUESTION)
    many = usage_of(response_body(history), "input_tokens")
    one = usage_of(response_body(last), "input_tokens")
    if many is None or one is None:
        raise Blocked("responses.usage_is_reported", "the responses report no usage.input_tokens to compare")
    words = sum(len(str(item["content"]).split()) for item in HISTORY[:-1])
    if many < one + words // 2:
        raise CheckFailed(
            f"{history.describe()}: {many} input tokens with the history and {one} for the last turn alone, but the "
            f"history adds {words} words: the history does not reach the model"
        )
    return f"{many} input tokens with the history, {one} without"


def _stored(ctx: CheckContext, *also: str) -> tuple[Exchange, dict[str, object]]:
    """The stored first turn, when the target keeps responses (the probes ``also`` needed are read first,
    so that whatever ends the check, each of its recordings is read)."""
    offered(ctx)
    if not ctx.target.capabilities.stores_responses:
        raise Unsupported("the target profile declares that the target stores no responses (stores_responses)")
    for probe_id in also:
        ctx.exchange(probe_id)
    exchange = ctx.exchange(FIRST)
    unsupported_if_refused(exchange, "store")
    body = response_body(exchange)
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise Blocked("responses.response_is_schema_valid", f"{exchange.describe()}: the response has no id")
    return exchange, body


def _follow_up(target: Target, previous: str) -> Request | None:
    request = responses_request(
        target, "responses-state/follow-up", "the follow-up, by previous_response_id", FOLLOW_UP
    )
    if request is None:
        return None
    return Request(
        request.id, "POST", "/responses", request.purpose, json={**request.json, "previous_response_id": previous}
    )


def _retrieve(exchange_id: str, response_id: str, purpose: str) -> Request:
    return Request(exchange_id, "GET", f"/responses/{response_id}", purpose)


STAND_IN = "resp_" + "0" * 48


def _continue_plan(target: Target, dialect: Dialect) -> list[Request]:
    request = _follow_up(target, STAND_IN)
    return [request] if request is not None else []


@check(
    "responses-state",
    Level.MUST,
    source="openai-responses-state",
    needs=(FIRST, ALONE, BASIC),
    extra=_continue_plan,
)
def previous_response_id_continues_the_conversation(ctx: CheckContext) -> str | None:
    """A follow-up with previous_response_id naming a stored response is answered, echoes that id, and the earlier
    turn reaches the model: usage.input_tokens exceeds that of the follow-up alone."""
    _, body = _stored(ctx, ALONE)
    alone = ctx.exchange(ALONE)
    request = _follow_up(ctx.target, str(body["id"]))
    assert request is not None
    exchange = ctx.fetch(request)
    unsupported_if_refused(exchange, "previous_response_id")
    answered = response_body(exchange)
    if answered.get("previous_response_id") != body["id"]:
        raise CheckFailed(
            f"{exchange.describe()}: previous_response_id is echoed as {brief(answered.get('previous_response_id'))}, "
            f"expected {body['id']!r}"
        )
    continued = usage_of(answered, "input_tokens")
    single = usage_of(response_body(alone), "input_tokens")
    if continued is None or single is None:
        raise Blocked("responses.usage_is_reported", "the responses report no usage.input_tokens to compare")
    if continued < single + len(REMEMBER.split()) // 2:
        raise CheckFailed(
            f"{exchange.describe()}: {continued} input tokens after previous_response_id and {single} for the "
            "follow-up "
            "alone: the earlier turn does not reach the model"
        )
    return f"{continued} input tokens with the earlier turn, {single} without"


def _retrieve_plan(target: Target, dialect: Dialect) -> list[Request]:
    return [_retrieve("responses-state/retrieve", STAND_IN, "the stored response, retrieved")]


@check(
    "responses-state",
    Level.MUST,
    source="openai-responses-state",
    needs=(FIRST, BASIC),
    extra=_retrieve_plan,
)
def stored_response_is_retrievable(ctx: CheckContext) -> str | None:
    """GET /responses/{id} of a stored response gives that response: the same id, status and output text."""
    stored, body = _stored(ctx)
    exchange = ctx.fetch(_retrieve("responses-state/retrieve", str(body["id"]), "the stored response, retrieved"))
    if exchange.response is not None and exchange.response.status == 404:
        raise CheckFailed(f"{exchange.describe()}: GET of the stored response {body['id']!r} gives 404")
    got = response_body(exchange)
    same = (got.get("id"), got.get("status"), output_text(exchange, got))
    kept = (body["id"], body.get("status"), output_text(stored, body))
    if same != kept:
        raise CheckFailed(
            f"{exchange.describe()}: GET gives (id, status, text) {brief(same, 120)}, not {brief(kept, 120)}"
        )
    return None


def _unstored_plan(target: Target, dialect: Dialect) -> list[Request]:
    return [_retrieve("responses-state/retrieve-unstored", STAND_IN, "a response sent with store false")]


@check(
    "responses-state",
    Level.SHOULD,
    source="openai-responses-state",
    needs=(UNSTORED, FIRST, BASIC),
    extra=_unstored_plan,
)
def unstored_response_is_not_kept(ctx: CheckContext) -> str | None:
    """GET /responses/{id} of a response sent with store false is refused with 404: it was not kept."""
    _stored(ctx, UNSTORED)
    exchange = ctx.exchange(UNSTORED)
    body = response_body(exchange)
    if not isinstance(body.get("id"), str):
        raise NotApplicable(f"{exchange.describe()}: the response has no id to retrieve")
    fetched = ctx.fetch(_retrieve("responses-state/retrieve-unstored", body["id"], "a response sent with store false"))
    expect_refusal(fetched, (404,), "GET of a response sent with store false", answered="the store flag is ignored")
    return None
