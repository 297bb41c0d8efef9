"""Row ``reasoning``, across turns and over the run: an assistant message sent back with its thinking (a
follow-up question, and a tool loop, where DeepSeek and Kimi require the thinking back), and whether the
run's allowance for thinking left every answer room to be written.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.checks._every import CHAT_FORM, every
from conformance.checks._expect import expect_status, shown, unsupported_if_refused
from conformance.checks._reasoning import (
    BASIC,
    FIELD,
    FOLLOW_UP,
    QUESTION,
    STREAM,
    TOOLS,
    Read,
    allowance_said,
    made_first,
    read_answer,
    read_any,
    reasoning_request,
)
from conformance.checks._requests import ANSWER_TOKENS
from conformance.checks._tool_calls import ASK, WEATHER
from conformance.checks._trials import measure
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable

SENT_BACK = "reasoning/sent-back"
TOOL_LOOP = "reasoning/tool-loop"
RESULT = json.dumps({"city": "Paris", "temperature": 21, "unit": "celsius"})


@probe(TOOLS)
def tools(target: Target) -> Request | None:
    return reasoning_request(
        target,
        TOOLS,
        "a question a tool answers, tool_choice required, to a model that thinks",
        [{"role": "user", "content": ASK}],
        tools=[WEATHER],
        tool_choice="required",
    )


def _raw_thought(exchange: Exchange, field: str) -> Any:
    """The thinking field's value as the answer carried it (a string, or a list of parts)."""
    body = exchange.json_body.value
    return body["choices"][0]["message"].get(field)


def sent_back(target: Target, field: str, content: Any, raw: Any) -> Request | None:
    reply = {"role": "assistant", "content": content if isinstance(content, str) else "", field: raw}
    messages = [{"role": "user", "content": QUESTION}, reply, {"role": "user", "content": FOLLOW_UP}]
    return reasoning_request(target, SENT_BACK, "the answer sent back with its thinking, and a follow-up", messages)


def tool_loop(target: Target, field: str, content: Any, raw: Any, calls: list[dict[str, Any]]) -> Request | None:
    reply: dict[str, Any] = {"role": "assistant", "content": content or None, "tool_calls": calls, field: raw}
    results = [{"role": "tool", "tool_call_id": call.get("id"), "content": RESULT} for call in calls]
    messages = [{"role": "user", "content": ASK}, reply, *results]
    return reasoning_request(
        target, TOOL_LOOP, "the tool call sent back with its thinking, and the tool's result", messages, tools=[WEATHER]
    )


def _plan(target: Target, dialect: Dialect) -> list[Request]:
    """Stand-ins of the follow-ups (the real ones quote the answers they follow)."""
    thought = "x " * 64
    call = {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    made = [
        sent_back(target, "reasoning_content", "42", thought),
        tool_loop(target, "reasoning_content", None, thought, [call]),
    ]
    return [request for request in made if request is not None]


def _accepted(exchange: Exchange, what: str) -> str:
    response = expect_status(exchange, 200, 400, 422)
    if response.status != 200:
        raise CheckFailed(
            f"{exchange.describe()}: {what} was refused with HTTP {response.status}: {shown(response.body, 200)}; "
            "a client that keeps the thinking in the conversation (as DeepSeek and Kimi require in tool loops) "
            "cannot continue it"
        )
    return f"{what} accepted (HTTP 200)"


@check("reasoning", Level.MUST, source="reasoning-sent-back", needs=(BASIC, "chat-completions/multi-turn"), extra=_plan)
def thinking_sent_back_is_accepted(ctx: CheckContext) -> str | None:
    """The answer sent back as an assistant message with its thinking (in the field it came in), followed by
    another question, is answered."""
    read = read_answer(ctx, ctx.exchange(BASIC), answered_by=FIELD)
    if read.thought is None:
        raise NotApplicable(f"{read.exchange.describe()}: the answer returns no thinking to send back")
    field = read.thought.field
    request = sent_back(ctx.target, field, read.content, _raw_thought(read.exchange, field))
    assert request is not None
    answer = ctx.fetch(request)
    if answer.response is not None and answer.response.status != 200 and _refused(ctx, "chat-completions/multi-turn"):
        raise Blocked(MULTI_TURN, f"{answer.describe()}: refused, as a history with an assistant turn is anyway")
    return _accepted(answer, f"an assistant message carrying `{read.thought.field}`")


@check("reasoning", Level.MUST, source="reasoning-sent-back", needs=(TOOLS, BASIC, "tools/round-trip"), extra=_plan)
def thinking_in_a_tool_loop_is_accepted(ctx: CheckContext) -> str | None:
    """A tool call sent back with the thinking that led to it, followed by the tool's result, is answered."""
    exchange = ctx.exchange(TOOLS)
    unsupported_if_refused(exchange, "tools on the reasoning model")
    read = read_answer(ctx, exchange)
    body = exchange.json_body.value
    calls = body["choices"][0]["message"].get("tool_calls")
    if not isinstance(calls, list) or not calls or not all(isinstance(call, dict) for call in calls):
        raise NotApplicable(
            f"{exchange.describe()}: the model called no tool (tool_choice required is the tools row's)"
        )
    if read.thought is None:
        raise NotApplicable(f"{exchange.describe()}: the tool call comes without thinking to send back")
    if not all(isinstance(call.get("id"), str) and call["id"] for call in calls):
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: a tool call has no id to answer")
    field = read.thought.field
    request = tool_loop(ctx.target, field, read.content, _raw_thought(exchange, field), calls)
    assert request is not None
    looped = ctx.fetch(request)
    if looped.response is not None and looped.response.status != 200:
        if _plain_refused(ctx):
            raise Blocked(SENT_BACK_CHECK, f"{looped.describe()}: refused, as an assistant message with thinking is")
        if _refused(ctx, "tools/round-trip"):
            raise Blocked(ROUND_TRIP, f"{looped.describe()}: refused, as a tool result without thinking is")
    return _accepted(looped, f"a tool call carrying `{read.thought.field}`, and its result")


SENT_BACK_CHECK = "reasoning.thinking_sent_back_is_accepted"
ROUND_TRIP = "tools.tool_results_round_trip"
MULTI_TURN = "chat-completions.accepts_multi_turn_history"


def _refused(ctx: CheckContext, probe_id: str) -> bool:
    """The run's own request of that kind, without thinking, was refused too (its check says so)."""
    if not ctx.probes:
        return False
    try:
        exchange = ctx.exchange(probe_id)
    except NotApplicable:
        return False
    return exchange.response is not None and 400 <= exchange.response.status < 500


def _plain_refused(ctx: CheckContext) -> bool:
    """The answer sent back with its thinking, without tools, was refused too (the sent-back check says so)."""
    try:
        read = read_answer(ctx, ctx.exchange(BASIC))
    except (Blocked, CheckFailed):
        return False
    if read.thought is None:
        return False
    field = read.thought.field
    request = sent_back(ctx.target, field, read.content, _raw_thought(read.exchange, field))
    assert request is not None
    answer = ctx.fetch(request)
    return answer.response is not None and answer.response.status != 200


def _sized(target: Target, exchange: Exchange) -> bool:
    """The request was sized for an answer (with the run's allowance for thinking), not capped short on purpose
    (max_tokens 5 to see it cut): those are the answers a starved one blocks the checks of."""
    cap = _cap(exchange)
    model = exchange.request.json.get("model") if isinstance(exchange.request.json, dict) else None
    return cap is None or cap >= ANSWER_TOKENS + target.allowance_for(model if isinstance(model, str) else None)


def _cap(exchange: Exchange) -> int | None:
    body = exchange.request.json
    if not isinstance(body, dict):
        return None
    caps = [body.get(name) for name in ("max_completion_tokens", "max_tokens")]
    found = [cap for cap in caps if isinstance(cap, int) and not isinstance(cap, bool)]
    return min(found) if found else None


@check(
    "reasoning",
    Level.SHOULD,
    source="openai-reasoning",
    needs=(BASIC, STREAM),
    kind=Kind.MODEL,
    threshold=0.9,
    trials=(),
    runs_last=True,
)
def answers_leave_room_after_thinking(ctx: CheckContext) -> Measured:
    """Answers the run sized for thinking (the answer's cap plus limits.max_reasoning_tokens) are written before
    the cap, in at least 90 % of them: an answer still starved by thinking cannot be judged, and the checks that
    read it are blocked by this one (raise limits.max_reasoning_tokens, or ask for less effort)."""
    made_first(ctx, BASIC, STREAM)
    reads = []
    for exchange in [*every(ctx, "chat-completion", with_swept=False), *every(ctx, "stream", with_swept=False)]:
        # a migration judges the app's own caps: every answer of its traffic counts
        sized = not ctx.probes or _sized(ctx.target, exchange)
        read = read_any(ctx, exchange) if sized else None
        if read is not None and read.thought_at_all:
            reads.append(read)
    if not reads:
        raise NotApplicable("no answer sized for thinking shows that the model thought")
    allowance = ctx.target.limits.max_reasoning_tokens

    def judge(read: Read) -> str | None:
        if not read.starved:
            return None
        spent = read.reasoning_tokens
        after = f" after {spent} reasoning tokens" if spent is not None else ""
        return f"was cut at its cap of {_cap(read.exchange)} tokens{after} with nothing of the answer written"

    measured = measure("the answer was written after the thinking", [(r.exchange.id, r) for r in reads], judge)
    return allowance_said(measured, allowance)
