"""Row ``responses-reasoning``: ``reasoning.effort`` and ``reasoning.summary``, encrypted reasoning, and
reasoning items passed back as input (with ``store`` false, OpenAI needs their ``encrypted_content`` to carry
the thinking into the next turn; its guide asks apps to pass reasoning items back in tool loops).
"""

from __future__ import annotations

from typing import Any

from conformance.checks._every import RESPONSES_STARVED
from conformance.checks._expect import Starved, expect_status, shown, unsupported_if_refused
from conformance.checks._reasoning import EFFORTS, error_text, judge_efforts
from conformance.checks._responses import offered, reasoning_items, response_body
from conformance.checks._trials import measure, pair_label
from conformance.checks.responses_reasoning import ITEMS, QUESTION, reasoning_request, thinking_text
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.thinking import reasoning_tokens
from conformance.verdicts import CheckFailed, Kind, Level, Measured, NotApplicable, Unsupported

EFFORT = "responses-reasoning/effort-"
INVALID_EFFORT = "responses-reasoning/effort-invalid"
SUMMARY = "responses-reasoning/summary"
ENCRYPTED = "responses-reasoning/encrypted"
SENT_BACK = "responses-reasoning/sent-back"
INVALID = "extreme"
FOLLOW_UP = "Now double it. Answer with the number only."
INCLUDE = "reasoning.encrypted_content"


def _effort_probe(value: str) -> None:
    exchange_id = f"{EFFORT}{value}"

    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return reasoning_request(
            target,
            exchange_id,
            f"the reasoning question with reasoning.effort {value}",
            QUESTION,
            reasoning={"effort": value},
        )


for _value in EFFORTS:
    _effort_probe(_value)


@probe(INVALID_EFFORT, refusal=True)
def invalid_effort(target: Target) -> Request | None:
    return reasoning_request(
        target,
        INVALID_EFFORT,
        f"reasoning.effort {INVALID!r}, a value OpenAI does not document",
        QUESTION,
        reasoning={"effort": INVALID},
    )


@probe(SUMMARY)
def summary(target: Target) -> Request | None:
    return reasoning_request(
        target, SUMMARY, "the reasoning question with reasoning.summary auto", QUESTION, reasoning={"summary": "auto"}
    )


@probe(ENCRYPTED)
def encrypted(target: Target) -> Request | None:
    return reasoning_request(
        target,
        ENCRYPTED,
        f"the reasoning question with include [{INCLUDE!r}] and store false",
        QUESTION,
        include=[INCLUDE],
        store=False,
    )


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _refused(exchange: Exchange, *names: str) -> bool:
    response = exchange.response
    said = error_text(exchange) or ""
    return response is not None and response.status == 400 and any(name in said for name in names)


def _effort_refused(exchange: Exchange) -> bool:
    return _refused(exchange, "reasoning.effort", "reasoning_effort", "effort")


@check(
    "responses-reasoning", Level.MUST, source="openai-reasoning-effort", needs=tuple(f"{EFFORT}{v}" for v in EFFORTS)
)
def effort_values_are_accepted_or_refused(ctx: CheckContext) -> str | None:
    """Each documented reasoning.effort (none, minimal, low, medium, high, xhigh, max) is answered, or refused with
    400 naming it: never a server error, never another refusal."""
    offered(ctx)
    return judge_efforts(ctx, EFFORT, _effort_refused, "reasoning.effort")


@check("responses-reasoning", Level.MUST, source="openai-reasoning-effort", needs=(INVALID_EFFORT,))
def invalid_effort_is_refused(ctx: CheckContext) -> str | None:
    """A reasoning.effort OpenAI does not document ("extreme") is refused with 400, not answered as another."""
    offered(ctx)
    exchange = ctx.exchange(INVALID_EFFORT)
    response = expect_status(exchange, 400, 200)
    if response.status == 200:
        raise CheckFailed(f"{exchange.describe()}: reasoning.effort {INVALID!r} was answered (HTTP 200)")
    # its envelope is judged with every refusal's by errors-400
    return "refused with 400" + (" naming reasoning.effort" if _effort_refused(exchange) else "")


def _amount(ctx: CheckContext, exchange: Exchange) -> int:
    body = response_body(exchange, answered_by="responses-reasoning.effort_values_are_accepted_or_refused")
    answered = any(item.get("type") in ("message", "function_call") for item in body["output"])
    if body.get("status") == "incomplete" and not answered:
        raise Starved(f"{exchange.describe()}: cut at max_output_tokens while thinking", RESPONSES_STARVED)
    counted = reasoning_tokens(body.get("usage"))
    if counted is not None:
        return counted
    # a target that does not count reasoning tokens: the words of the thinking it returns
    words = sum(len(thinking_text(item).split()) for item in reasoning_items(body))
    if not reasoning_items(body):
        raise NotApplicable(f"{exchange.describe()}: neither reasoning_tokens nor a reasoning item to measure")
    return words


@check(
    "responses-reasoning",
    Level.SHOULD,
    source="openai-reasoning-effort",
    needs=(f"{EFFORT}low", f"{EFFORT}high"),
    kind=Kind.MODEL,
    threshold=0.8,
)
def lower_effort_thinks_less(ctx: CheckContext) -> Measured:
    """Asked the same question, the model spends fewer reasoning tokens at reasoning.effort low than at high, in at
    least 80 % of trial pairs."""
    offered(ctx)
    low, high = ctx.trials(f"{EFFORT}low"), ctx.trials(f"{EFFORT}high")
    for trials, value in ((low, "low"), (high, "high")):
        if _effort_refused(trials[0]):
            raise Unsupported(f"{trials[0].describe()}: reasoning.effort {value!r} is refused with 400")

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        spent_low, spent_high = (_amount(ctx, exchange) for exchange in pair)
        if spent_high == 0:
            raise NotApplicable(f"{pair[1].describe()}: no reasoning tokens at effort high")
        return None if spent_low < spent_high else f"spent {spent_low} reasoning tokens at low and {spent_high} at high"

    pairs = list(zip(low, high, strict=True))
    return measure("thought less at low than at high", [(pair_label(n), p) for n, p in enumerate(pairs, 1)], judge)


@check("responses-reasoning", Level.SHOULD, source="openai-responses-reasoning", needs=(SUMMARY,))
def summary_comes_when_asked(ctx: CheckContext) -> str | None:
    """With reasoning.summary "auto", a response that thought carries a summary_text in its reasoning item."""
    offered(ctx)
    exchange = ctx.exchange(SUMMARY)
    unsupported_if_refused(exchange, "reasoning.summary")
    body = response_body(exchange)
    items = reasoning_items(body)
    if not items:
        raise NotApplicable(f"{exchange.describe()}: no reasoning item to summarise")
    summaries = [part for item in items for part in _listed(item.get("summary")) if isinstance(part, dict)]
    if not any(isinstance(part.get("text"), str) and part["text"].strip() for part in summaries):
        raise CheckFailed(
            f"{exchange.describe()}: reasoning.summary 'auto' was asked for, but the reasoning items' summary is "
            f"{shown(repr([item.get('summary') for item in items]), 80)}"
        )
    return f"{len(summaries)} summary part(s)"


@check("responses-reasoning", Level.SHOULD, source="openai-responses-reasoning", needs=(ENCRYPTED,))
def encrypted_content_comes_when_included(ctx: CheckContext) -> str | None:
    """With include ["reasoning.encrypted_content"] and store false, every reasoning item carries its thinking as
    encrypted_content, which a stateless app sends back to continue (or the include is refused with 400)."""
    offered(ctx)
    exchange = ctx.exchange(ENCRYPTED)
    if _refused(exchange, "include", "encrypted"):
        raise Unsupported(
            f"{exchange.describe()}: include {INCLUDE!r} refused with 400: {shown(error_text(exchange) or '', 120)}"
        )
    body = response_body(exchange)
    items = reasoning_items(body)
    if not items:
        raise NotApplicable(f"{exchange.describe()}: no reasoning item")
    bare = [
        index
        for index, item in enumerate(items)
        if not (isinstance(item.get("encrypted_content"), str) and item["encrypted_content"])
    ]
    if bare:
        raise CheckFailed(
            f"{exchange.describe()}: {len(bare)} of {len(items)} reasoning items have encrypted_content "
            f"{items[bare[0]].get('encrypted_content')!r} though include asked for it: with store false the thinking "
            "cannot be carried into the next turn"
        )
    return f"{len(items)} reasoning item(s) with encrypted_content"


def sent_back(target: Target, items: list[dict[str, Any]], answer: str) -> Request | None:
    """The reasoning items as returned, the answer, and a follow-up question, statelessly."""
    reply = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": answer}]}
    turns = [{"role": "user", "content": QUESTION}, *items, reply, {"role": "user", "content": FOLLOW_UP}]
    return reasoning_request(
        target,
        SENT_BACK,
        "the reasoning items sent back as input, with the answer and a follow-up",
        turns,
        include=[INCLUDE],
        store=False,
    )


def _plan(target: Target, dialect: Dialect) -> list[Request]:
    stand_in = {"type": "reasoning", "id": "rs_0", "summary": [], "encrypted_content": "x" * 256}
    request = sent_back(target, [stand_in], "42")
    return [request] if request is not None else []


@check("responses-reasoning", Level.MUST, source="openai-responses-reasoning", needs=(ENCRYPTED,), extra=_plan)
def reasoning_items_are_accepted_back(ctx: CheckContext) -> str | None:
    """The reasoning items of a response, sent back as input items as they came (with their encrypted content),
    before the answer and a follow-up question, are accepted and answered."""
    offered(ctx)
    exchange = ctx.exchange(ENCRYPTED)
    if _refused(exchange, "include", "encrypted"):
        raise Unsupported(f"{exchange.describe()}: include {INCLUDE!r} refused with 400")
    body = response_body(exchange, answered_by=ITEMS)
    items = reasoning_items(body)
    if not items:
        raise NotApplicable(f"{exchange.describe()}: no reasoning item to send back")
    answer = "".join(
        part.get("text", "")
        for item in body["output"]
        if item.get("type") == "message"
        for part in _listed(item.get("content"))
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    )
    request = sent_back(ctx.target, items, answer)
    assert request is not None
    followed = ctx.fetch(request)
    response = expect_status(followed, 200, 400, 422)
    if response.status != 200:
        raise CheckFailed(
            f"{followed.describe()}: the reasoning items sent back were refused with HTTP {response.status}: "
            f"{shown(response.body, 200)}"
        )
    return f"{len(items)} reasoning item(s) sent back and answered"
