"""Row ``responses-tools``: function tools on POST /responses. The calls are function_call items (call_id,
a name that was offered, arguments a JSON string valid against the parameters); tool_choice "required",
"none" and a named function are honoured; "auto" calls the tool a question needs (model behaviour, a
rate over trials); parallel calls have call_ids of their own; function_call_output items round trip; a
streamed call's argument deltas join to its done arguments and to the final item."""

from __future__ import annotations

from typing import Any

import jsonschema

from conformance import jsonparse
from conformance.checks._expect import Starved, brief, shown, unsupported_if_refused
from conformance.checks._responses import (
    BASIC,
    STRUCTURED_TOKENS,
    TOOLS,
    cut,
    events_of,
    expect_answered,
    final_response,
    function_calls,
    offered,
    response_body,
    responses_request,
)
from conformance.checks._tool_calls import ASK, ASK_BOTH, SCHEMAS
from conformance.checks._trials import measure
from conformance.checks.responses_streaming import hashable
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Kind, Level, Measured, NotApplicable

REQUIRED = "responses-tools/required"
REQUIRED_OWNER = "responses-tools.required_choice_gives_valid_calls"
OFFERED = {tool["name"] for tool in TOOLS}
# a call the model made earlier, and what the tool returned (the round trip sends both back)
EARLIER_CALL = {
    "type": "function_call",
    "call_id": "call_conformance_weather_1",
    "name": "get_weather",
    "arguments": '{"city":"Paris","unit":"celsius"}',
}
TOOL_OUTPUT = {"type": "function_call_output", "call_id": EARLIER_CALL["call_id"], "output": '{"temperature": 21}'}


def _tools_probe(exchange_id: str, purpose: str, question: Any, **params: Any) -> None:
    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return responses_request(
            target, exchange_id, purpose, question, role="tools", answer_tokens=STRUCTURED_TOKENS, tools=TOOLS, **params
        )


_tools_probe(REQUIRED, 'two function tools, tool_choice "required"', ASK, tool_choice="required")
_tools_probe("responses-tools/auto", 'two function tools, tool_choice "auto" (the tester\'s tool-calling)', ASK)
_tools_probe("responses-tools/none", 'two function tools, tool_choice "none"', ASK, tool_choice="none")
_tools_probe(
    "responses-tools/named",
    "tool_choice naming get_time, asked about the weather",
    ASK,
    tool_choice={"type": "function", "name": "get_time"},
)
_tools_probe(
    "responses-tools/parallel",
    "a question for both tools, parallel",
    ASK_BOTH,
    tool_choice="required",
    parallel_tool_calls=True,
)
_tools_probe(
    "responses-tools/round-trip",
    "the question, the model's earlier function_call and its function_call_output",
    [{"type": "message", "role": "user", "content": ASK}, EARLIER_CALL, TOOL_OUTPUT],
)
_tools_probe(
    "responses-tools/streamed",
    'a streamed call, tool_choice "required" (the tester\'s tool-calling-streaming)',
    ASK,
    tool_choice="required",
    stream=True,
)


def calls(exchange: Exchange, *, answered_by: str | None = None, cut_ok: bool = False) -> list[dict[str, Any]]:
    """The function calls of an answer; an answer cut at the cap is not judged (its calls may be unfinished)
    unless ``cut_ok``."""
    unsupported_if_refused(exchange, "function tools")
    body = response_body(exchange, answered_by=answered_by)
    found = function_calls(exchange, body)
    expect_answered(exchange, body)
    if cut(body) and not cut_ok:
        raise NotApplicable(
            f"{exchange.describe()}: the answer was cut at max_output_tokens before its calls were whole"
        )
    return found


def check_call(exchange: Exchange, call: dict[str, Any], where: str) -> None:
    """A call names an offered tool, has a call_id, and arguments that are JSON valid against its parameters."""
    name, arguments = call["name"], call["arguments"]
    if not call["call_id"]:
        raise CheckFailed(f"{exchange.describe()}: {where} has an empty call_id")
    if name not in OFFERED:
        raise CheckFailed(f"{exchange.describe()}: {where} calls {name!r}, which was not offered ({sorted(OFFERED)})")
    try:
        parsed = jsonparse.loads(arguments)
    except ValueError:
        raise CheckFailed(f"{exchange.describe()}: {where}.arguments is not JSON: {shown(arguments, 80)}") from None
    errors = list(jsonschema.Draft202012Validator(SCHEMAS[name]).iter_errors(parsed))
    if errors:
        raise CheckFailed(
            f"{exchange.describe()}: {where} arguments {shown(arguments, 80)} do not match {name}'s parameters: "
            f"{errors[0].json_path}: {errors[0].message}"
        )


@check("responses-tools", Level.MUST, source="open-responses-spec", needs=(REQUIRED, BASIC), trials=(REQUIRED,))
def required_choice_gives_valid_calls(ctx: CheckContext) -> str | None:
    """With tool_choice "required", every trial's output holds function_call items, each with a call_id, an offered
    name and arguments that are a JSON string valid against the tool's parameters."""
    offered(ctx)
    judged = 0
    starved: list[Starved] = []
    for exchange in ctx.trials(REQUIRED):
        try:
            found = calls(exchange)
        except Starved as left_out:
            starved.append(left_out)
            continue
        except NotApplicable:
            continue
        judged += 1
        if not found:
            raise CheckFailed(f'{exchange.describe()}: tool_choice "required" but the output has no function_call')
        for index, call in enumerate(found):
            check_call(exchange, call, f"function_call {index}")
    if not judged and starved:
        raise starved[0]
    if not judged:
        raise NotApplicable("every trial was cut at max_output_tokens before its calls were whole")
    return f"{judged} trials, each with valid calls"


@check("responses-tools", Level.MUST, source="open-responses-spec", needs=("responses-tools/none", BASIC))
def none_choice_gives_no_call(ctx: CheckContext) -> str | None:
    """With tool_choice "none", the output holds no function_call, only a message."""
    offered(ctx)
    exchange = ctx.exchange("responses-tools/none")
    found = calls(exchange, cut_ok=True)  # a call, even unfinished, is what "none" forbids
    if found:
        raise CheckFailed(
            f'{exchange.describe()}: tool_choice "none" but the model called {[c["name"] for c in found]}'
        )
    return None


@check(
    "responses-tools",
    Level.MUST,
    source="open-responses-spec",
    needs=("responses-tools/named", BASIC),
    trials=("responses-tools/named",),
)
def named_choice_calls_that_tool(ctx: CheckContext) -> str | None:
    """With tool_choice naming get_time (asked about the weather), every trial calls get_time and nothing else."""
    offered(ctx)
    judged = 0
    starved: list[Starved] = []
    for exchange in ctx.trials("responses-tools/named"):
        try:
            found = calls(exchange)
        except Starved as left_out:
            starved.append(left_out)
            continue
        except NotApplicable:
            continue
        judged += 1
        named = [call["name"] for call in found]
        if not named or set(named) != {"get_time"}:
            raise CheckFailed(f"{exchange.describe()}: tool_choice names get_time but the model called {named}")
        for index, call in enumerate(found):
            check_call(exchange, call, f"function_call {index}")
    if not judged and starved:
        raise starved[0]
    if not judged:
        raise NotApplicable("every trial was cut at max_output_tokens before its calls were whole")
    return f"{judged} trials called get_time only"


@check(
    "responses-tools",
    Level.SHOULD,
    source="open-responses-compliance",
    needs=("responses-tools/auto", BASIC),
    trials=("responses-tools/auto",),
    kind=Kind.MODEL,
    threshold=0.8,
)
def auto_choice_calls_the_tool(ctx: CheckContext) -> Measured:
    """Asked about the weather with tool_choice "auto" (the default, as the compliance tester's tool-calling asks),
    the model calls get_weather (in 80 % of trials)."""
    offered(ctx)

    def judge(exchange: Exchange) -> str | None:
        named = [call["name"] for call in calls(exchange, answered_by=REQUIRED_OWNER)]
        return None if "get_weather" in named else ("answered in text" if not named else f"called {named}")

    return measure("called get_weather", [(e.id, e) for e in ctx.trials("responses-tools/auto")], judge)


@check(
    "responses-tools",
    Level.MUST,
    source="open-responses-spec",
    needs=("responses-tools/parallel", BASIC),
    trials=("responses-tools/parallel",),
)
def parallel_calls_have_distinct_call_ids(ctx: CheckContext) -> str | None:
    """Parallel function calls (a question for both tools) are each valid and have call_ids of their own."""
    offered(ctx)
    several = 0
    starved: list[Starved] = []
    for exchange in ctx.trials("responses-tools/parallel"):
        try:
            found = calls(exchange)
        except Starved as left_out:
            starved.append(left_out)
            continue
        except NotApplicable:
            continue
        for index, call in enumerate(found):
            check_call(exchange, call, f"function_call {index}")
        ids = [call["call_id"] for call in found]
        if len(set(ids)) != len(ids):
            raise CheckFailed(f"{exchange.describe()}: the function calls share a call_id: {ids}")
        several += len(found) > 1
    if not several and starved:
        raise starved[0]
    if not several:
        raise NotApplicable("no trial made several calls")
    return f"{several} trials with several calls, each with its own call_id"


@check("responses-tools", Level.MUST, source="open-responses-spec", needs=("responses-tools/round-trip", BASIC))
def call_output_round_trip_is_answered(ctx: CheckContext) -> str | None:
    """Input items holding the model's earlier function_call and its function_call_output (by call_id) are
    answered with a response."""
    offered(ctx)
    exchange = ctx.exchange("responses-tools/round-trip")
    response = exchange.response
    if response is not None and response.status >= 400:
        raise CheckFailed(
            f"{exchange.describe()}: the function_call and function_call_output items were refused with HTTP "
            f"{response.status}: {shown(exchange.response.body if exchange.response else b'', 160)}"
        )
    response_body(exchange)
    return None


@check("responses-tools", Level.MUST, source="open-responses-compliance", needs=("responses-tools/streamed", BASIC))
def streamed_call_arguments_join(ctx: CheckContext) -> str | None:
    """A streamed function call opens its item (output_item.added of a function_call), streams its arguments
    (function_call_arguments.delta) that join to function_call_arguments.done, to the done item and to the final
    response's call."""
    offered(ctx)
    exchange = ctx.exchange("responses-tools/streamed")
    unsupported_if_refused(exchange, "function tools")
    events = events_of(exchange)
    added = [e for e in events if e.type == "response.output_item.added" and _is_call(e.data.get("item"))]
    if not added:
        raise CheckFailed(f"{exchange.describe()}: no output_item.added event with a function_call item")
    final = final_response(exchange, events)
    if cut(final):
        raise NotApplicable(f"{exchange.describe()}: cut at max_output_tokens before the call was whole")
    final_calls = {hashable(call.get("id")): call for call in final["output"] if call.get("type") == "function_call"}
    for opening in added:
        item_id = hashable(opening.data["item"].get("id"))
        deltas = "".join(
            str(e.data.get("delta", ""))
            for e in events
            if e.type == "response.function_call_arguments.delta" and e.data.get("item_id") == item_id
        )
        done = [
            e for e in events if e.type == "response.function_call_arguments.done" and e.data.get("item_id") == item_id
        ]
        closed = [
            e.data["item"]
            for e in events
            if e.type == "response.output_item.done" and isinstance(e.data.get("item"), dict)
            if e.data["item"].get("id") == item_id
        ]
        if not done or not closed:
            raise CheckFailed(
                f"{exchange.describe()}: call {item_id!r} has no function_call_arguments.done or item done"
            )
        said = {
            "function_call_arguments.done": done[0].data.get("arguments"),
            "output_item.done": closed[0].get("arguments"),
            "the final response": final_calls.get(item_id, {}).get("arguments"),
        }
        for where, arguments in said.items():
            if arguments != deltas:
                raise CheckFailed(
                    f"{exchange.describe()}: the argument deltas of {item_id!r} join to {shown(deltas, 60)} but "
                    f"{where} says {brief(arguments, 60)}"
                )
    return f"{len(added)} streamed calls whose arguments join"


def _is_call(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") == "function_call"
