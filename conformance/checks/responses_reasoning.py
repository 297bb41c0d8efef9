"""Row ``responses-reasoning``: a model that thinks, on the Responses API.

Thinking comes as ``reasoning`` output items before the answer (never in its text), with its own stream events
(OpenAI's ``response.reasoning_text.*`` and ``response.reasoning_summary_*``, or the Open Responses names of the
raw ones, ``response.reasoning.*``), counted in ``usage.output_tokens_details.reasoning_tokens`` within
``output_tokens``; max_output_tokens covers it (a response whose thinking spent it is ``incomplete``). The form of
every reasoning item is the response form's (``responses.response_is_schema_valid``, which reads it as both SDKs
do); ``reasoning.effort``, encrypted content and items passed back are in ``responses_reasoning_turns``.
"""

from __future__ import annotations

from typing import Any

from conformance import thinking
from conformance.checks._every import RESPONSE_FORM, every, judge_each
from conformance.checks._expect import shown
from conformance.checks._reasoning import allowance_said, made_first
from conformance.checks._requests import ANSWER_TOKENS as CHAT_ANSWER_TOKENS
from conformance.checks._responses import (
    ANSWER_TOKENS,
    events_of,
    final_response,
    offered,
    readable,
    reasoning_items,
    response_body,
    responses_request,
)
from conformance.checks._trials import measure
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable

BASIC = "responses-reasoning/basic"
STREAM = "responses-reasoning/stream"
CAPPED = "responses-reasoning/capped"
QUESTION = "What is 17 + 25? Think it through, then answer with the number only."
ITEMS = "responses-reasoning.thinking_is_apart_from_the_answer"


def reasoning_request(target: Target, exchange_id: str, purpose: str, input: Any, **params: Any) -> Request | None:
    """A POST /responses to the reasoning model, its cap the answer's plus the most the model may think."""
    return responses_request(
        target,
        exchange_id,
        purpose,
        input,
        role="reasoning",
        answer_tokens=ANSWER_TOKENS + target.limits.max_reasoning_tokens,
        thinking=False,
        **params,
    )


@probe(BASIC)
def basic(target: Target) -> Request | None:
    return reasoning_request(
        target, BASIC, "a question to think about, capped at the answer plus the thinking", QUESTION
    )


@probe(STREAM)
def streamed(target: Target) -> Request | None:
    return reasoning_request(
        target, STREAM, "the question of responses-reasoning/basic, streamed", QUESTION, stream=True
    )


@probe(CAPPED)
def capped(target: Target) -> Request | None:
    return responses_request(
        target,
        CAPPED,
        f"the question of responses-reasoning/basic with max_output_tokens {ANSWER_TOKENS}, the least OpenAI allows",
        QUESTION,
        role="reasoning",
        thinking=False,
    )


def thinking_text(item: dict[str, Any]) -> str:
    """What a reasoning item says of the thinking: its raw content, else its summary."""
    for name in ("content", "summary"):
        parts = item.get(name)
        if isinstance(parts, list):
            texts = [part.get("text") for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)]
            if texts:
                return "".join(texts)
    return ""


def _bodies(ctx: CheckContext) -> list[tuple[Exchange, dict[str, Any]]]:
    """Every response of the run that can be read, streamed ones by their final response."""
    found = []
    for exchange in every(ctx, "response", with_swept=False):
        body = exchange.json_body
        if body.ok and isinstance(body.value, dict) and isinstance(body.value.get("output"), list):
            found.append((exchange, body.value))
    for exchange in every(ctx, "response-stream", with_swept=False):
        try:
            found.append((exchange, final_response(exchange, events_of(exchange))))
        except (Blocked, CheckFailed):
            continue
    return [(exchange, body) for exchange, body in found if all(isinstance(i, dict) for i in body["output"])]


def _reasoning_tokens(body: dict[str, Any]) -> int | None:
    return thinking.reasoning_tokens(body.get("usage"))


@check("responses-reasoning", Level.MUST, source="openai-responses-reasoning", needs=(BASIC, STREAM), runs_last=True)
def thinking_is_apart_from_the_answer(ctx: CheckContext) -> str | None:
    """A response that thought carries its thinking in reasoning items before the message it led to, and no
    response's text holds thinking marks (<think>, ...): an app's output_text is the answer alone."""
    offered(ctx, judged_over_every_answer=True)
    if ctx.probes:  # the row's question is answered: this check owns that claim (the others are blocked by it)
        response_body(ctx.exchange(BASIC))
    made_first(ctx, STREAM)
    bodies = _bodies(ctx)
    by_id = {exchange.id: body for exchange, body in bodies}

    def judge(exchange: Exchange) -> None:
        found = by_id[exchange.id]
        for index, item in enumerate(found["output"]):
            parts = item.get("content") if item.get("type") == "message" else None
            for part in parts if isinstance(parts, list) else []:
                mark = thinking.marker_in(part.get("text") if isinstance(part, dict) else None)
                if mark is not None:
                    raise CheckFailed(
                        f"{exchange.describe()}: $.output[{index}] holds the thinking mark {mark!r} in its text: "
                        f"{shown(part['text'], 80)}"
                    )
        kinds = [item.get("type") for item in found["output"]]
        if "reasoning" in kinds and "message" in kinds and kinds.index("reasoning") > kinds.index("message"):
            raise CheckFailed(f"{exchange.describe()}: a reasoning item comes after the message ({kinds})")

    said = judge_each([e for e, _ in bodies], judge, noun="responses", empty="the run got no response")
    items = sum(len(reasoning_items(body)) for _, body in bodies)
    counted = max((_reasoning_tokens(body) or 0 for _, body in bodies), default=0)
    if not items and counted:
        return f"{said}; the thinking itself is withheld (up to {counted} reasoning tokens, no reasoning item)"
    if not items:
        raise NotApplicable("no response shows thinking (no reasoning item, no reasoning tokens)")
    return f"{said}; {items} reasoning item(s), each before its answer"


@check("responses-reasoning", Level.MUST, source="openai-responses-reasoning", needs=(BASIC, STREAM), runs_last=True)
def reasoning_tokens_count_the_thinking(ctx: CheckContext) -> str | None:
    """usage.output_tokens_details.reasoning_tokens counts the thinking: more than 0 where a reasoning item carries
    some, and never more than output_tokens, in every response of the run."""
    offered(ctx, judged_over_every_answer=True)
    made_first(ctx, BASIC, STREAM)
    bodies = _bodies(ctx)
    by_id = {exchange.id: body for exchange, body in bodies}

    def judge(exchange: Exchange) -> None:
        body = by_id[exchange.id]
        counted, usage = _reasoning_tokens(body), body.get("usage")
        output = usage.get("output_tokens") if isinstance(usage, dict) else None
        if counted is None or not isinstance(output, int):
            return  # a usage without its counts is the response form's to judge
        if not 0 <= counted <= output:
            raise CheckFailed(
                f"{exchange.describe()}: reasoning_tokens {counted} is not within output_tokens {output}: the thinking "
                "is counted apart from the output"
            )
        if counted == 0 and any(thinking_text(item) for item in reasoning_items(body)):
            raise CheckFailed(f"{exchange.describe()}: a reasoning item carries thinking, but reasoning_tokens is 0")

    counted = [e for e, body in bodies if isinstance(body.get("usage"), dict)]
    return judge_each(counted, judge, noun="responses with usage", empty="no response of the run has usage")


@check("responses-reasoning", Level.MUST, source="openai-reasoning", needs=(CAPPED, "responses/capped"))
def the_cap_covers_thinking(ctx: CheckContext) -> str | None:
    """max_output_tokens bounds thinking and answer together: capped at 16 while thinking, the response spends at
    most 16 output tokens and is "incomplete" for max_output_tokens, never "completed" with nothing answered."""
    offered(ctx)
    exchange = ctx.exchange(CAPPED)
    body = response_body(exchange)
    usage = body.get("usage")
    spent = usage.get("output_tokens") if isinstance(usage, dict) else None
    if not isinstance(spent, int):
        raise Blocked("responses.usage_is_reported", f"{exchange.describe()}: no usage.output_tokens")
    if not reasoning_items(body) and not (_reasoning_tokens(body) or 0) > 0:
        raise NotApplicable(f"{exchange.describe()}: no sign that the model thought (no reasoning item or tokens)")
    _cap_broken_anyway(ctx)
    if spent > ANSWER_TOKENS:
        raise CheckFailed(f"{exchange.describe()}: {spent} output tokens, over max_output_tokens {ANSWER_TOKENS}")
    answered = any(item.get("type") in ("message", "function_call") for item in body["output"])
    status = body.get("status")
    if status == "completed" and not answered:
        raise CheckFailed(
            f"{exchange.describe()}: the thinking spent the cap and nothing was answered, but the status is "
            "'completed': an app takes the empty answer for a whole one"
        )
    details = body.get("incomplete_details")
    if status == "incomplete" and not (isinstance(details, dict) and details.get("reason") == "max_output_tokens"):
        raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: incomplete, with incomplete_details {details!r}")
    if status == "completed":
        raise NotApplicable(f"{exchange.describe()}: the model thought and answered within {spent} tokens")
    return f"{spent} output tokens, status {status}"


def _sized(target: Target, exchange: Exchange) -> bool:
    """The request was sized for an answer with the run's allowance for thinking, not capped short on purpose."""
    cap = _cap(exchange)
    body = exchange.request.json
    model = body.get("model") if isinstance(body, dict) else None
    floor = CHAT_ANSWER_TOKENS + target.allowance_for(model if isinstance(model, str) else None)
    return exchange.id != CAPPED and (cap is None or cap >= floor)


CAP_OWNER = "responses.max_output_tokens_is_honoured"


def _cap_broken_anyway(ctx: CheckContext) -> None:
    """max_output_tokens ignored, or a cut answer called completed, without thinking too (the responses row's capped
    probe) blocks the claim about thinking: one defect, reported there."""
    try:
        body = response_body(ctx.exchange("responses/capped"))
    except (Blocked, CheckFailed, NotApplicable):
        return
    usage = body.get("usage")
    spent = usage.get("output_tokens") if isinstance(usage, dict) else None
    if isinstance(spent, int) and (
        spent > ANSWER_TOKENS or (spent == ANSWER_TOKENS and body.get("status") != "incomplete")
    ):
        raise Blocked(
            CAP_OWNER, f"responses/capped: {spent} output tokens, status {body.get('status')!r}, no thinking involved"
        )


def _cap(exchange: Exchange) -> int | None:
    body = exchange.request.json
    cap = body.get("max_output_tokens") if isinstance(body, dict) else None
    return cap if isinstance(cap, int) and not isinstance(cap, bool) else None


@check(
    "responses-reasoning",
    Level.SHOULD,
    source="openai-reasoning",
    needs=(BASIC, STREAM),
    kind=Kind.MODEL,
    threshold=0.9,
    trials=(),
    runs_last=True,
)
def answers_leave_room_after_thinking(ctx: CheckContext) -> Measured:
    """Responses the run sized for thinking are answered before max_output_tokens, in at least 90 % of them: one
    still starved by thinking cannot be judged, and the checks that read it are blocked by this one."""
    offered(ctx, judged_over_every_answer=True)
    made_first(ctx, BASIC, STREAM)
    thought = [
        (exchange, body)
        for exchange, body in _bodies(ctx)
        if (not ctx.probes or _sized(ctx.target, exchange))
        and (reasoning_items(body) or (_reasoning_tokens(body) or 0) > 0)
    ]
    if not thought:
        raise NotApplicable("no response sized for thinking shows that the model thought")

    def judge(found: tuple[Exchange, dict[str, Any]]) -> str | None:
        exchange, body = found
        answered = any(item.get("type") in ("message", "function_call") for item in body["output"])
        if answered or body.get("status") != "incomplete":
            return None
        return f"was cut at max_output_tokens {_cap(exchange)} with nothing answered"

    measured = measure("the response was answered after the thinking", [(e.id, (e, b)) for e, b in thought], judge)
    return allowance_said(measured, ctx.target.limits.max_reasoning_tokens)


__all__ = ["BASIC", "ITEMS", "readable", "reasoning_request", "thinking_text"]
