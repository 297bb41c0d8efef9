"""The claims about the tools a captured request offers: calls name an offered function with JSON arguments
(matching a strict function's parameters; for the others, measured), tool_choice required, named and none
honoured, and finish_reason matching the calls."""

from __future__ import annotations

from typing import Any

import jsonschema

from conformance import jsonparse
from conformance.checks._every import CHAT_FORM, CHUNK_FORM
from conformance.checks._expect import shown
from conformance.exchange import Exchange
from conformance.migrate.answers import Answer, streamed
from conformance.migrate.claims import Body, TrafficContext, claim, fail_any, readable
from conformance.verdicts import Blocked, Kind, Level, Measured


def _tools(body: Body) -> dict[str, dict[str, Any]]:
    """The functions the request offers, by name."""
    found = {}
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            found[function["name"]] = function
    return found


def _calls(answer: Answer) -> list[tuple[int, int, dict[str, Any]]]:
    return [(c, n, call) for c, choice in enumerate(answer.choices) for n, call in enumerate(choice.tool_calls)]


def _call_parts(exchange: Exchange, call: dict[str, Any], where: str) -> tuple[str, str]:
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    name, arguments = function.get("name"), function.get("arguments")
    if not isinstance(name, str) or not isinstance(arguments, str):
        owner = CHUNK_FORM if streamed(exchange) else CHAT_FORM
        raise Blocked(owner, f"{exchange.describe()}: {where} has no name and arguments as strings")
    return name, arguments


def _choice_of(body: Body) -> Any:
    return body.get("tool_choice", "auto" if body.get("tools") else None)


@claim("tools.calls_name_offered_tools", source="openai-function-calling", applies=lambda b: bool(b.get("tools")))
def calls_name_offered_tools(ctx: TrafficContext) -> str:
    """Every tool call names a function the request offered, with arguments that are JSON."""
    offered = _tools(ctx.body)

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        for c, n, call in _calls(answer):
            where = f"choices[{c}].tool_calls[{n}]"
            name, arguments = _call_parts(exchange, call, where)
            if name not in offered:
                return f"{where} calls {name!r}, which the request did not offer ({sorted(offered)})"
            try:
                jsonparse.loads(arguments)
            except ValueError:
                return f"{where}.function.arguments is not JSON: {shown(arguments, 80)}"
        return None

    return fail_any(ctx, judge, "the calls name offered tools")


def _schema_problem(function: dict[str, Any], arguments: str) -> str | None:
    try:
        value = jsonparse.loads(arguments)
    except ValueError:
        return None  # not JSON at all: tools.calls_name_offered_tools reports it
    if not isinstance(value, dict):
        return f"arguments {shown(arguments, 80)} are not a JSON object"
    schema = function.get("parameters") or {"type": "object"}
    try:
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(value))
    except jsonschema.exceptions.SchemaError:
        return None  # the app's own schema is not one a validator reads: nothing to judge against
    if errors:
        return (
            f"arguments {shown(arguments, 80)} do not match the parameters: {errors[0].json_path}: {errors[0].message}"
        )
    return None


def _strict(function: dict[str, Any]) -> bool:
    return function.get("strict") is True


@claim(
    "tools.strict_arguments_match_the_schema",
    source="openai-function-calling",
    applies=lambda b: any(_strict(f) for f in _tools(b).values()),
)
def strict_arguments_match_the_schema(ctx: TrafficContext) -> str:
    """The arguments of every call of a function offered with strict true match its parameters schema."""
    offered = _tools(ctx.body)

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        for c, n, call in _calls(answer):
            name, arguments = _call_parts(exchange, call, f"choices[{c}].tool_calls[{n}]")
            if name in offered and _strict(offered[name]):
                problem = _schema_problem(offered[name], arguments)
                if problem:
                    return f"choices[{c}].tool_calls[{n}] ({name}): {problem}"
        return None

    return fail_any(ctx, judge, "strict calls match their schemas")


@claim(
    "tools.arguments_match_the_schema",
    Level.SHOULD,
    source="k2-vendor-verifier",
    applies=lambda b: any(not _strict(f) for f in _tools(b).values()),
    kind=Kind.MODEL,
    threshold=0.8,
)
def arguments_match_the_schema(ctx: TrafficContext) -> Measured:
    """The arguments the model writes for functions offered without strict match their parameters schema."""
    offered = _tools(ctx.body)
    hits = trials = 0
    misses = []
    for exchange, answer in readable(ctx):
        judged = [
            (c, n, name, arguments)
            for c, n, call in _calls(answer)
            for name, arguments in [_call_parts(exchange, call, f"choices[{c}].tool_calls[{n}]")]
            if name in offered and not _strict(offered[name])
        ]
        if not judged:
            continue
        trials += 1
        problems = [p for c, n, name, arguments in judged if (p := _schema_problem(offered[name], arguments))]
        if problems:
            misses.append(f"{exchange.id}: {problems[0]}")
        else:
            hits += 1
    return Measured(hits, trials, "calls of non-strict functions matched their schemas", misses)


def _named(body: Body) -> str | None:
    choice = _choice_of(body)
    function = choice.get("function") if isinstance(choice, dict) else None
    return function.get("name") if isinstance(function, dict) else None


@claim(
    "tools.required_choice_gives_valid_calls",
    source="openai-function-calling",
    applies=lambda b: bool(b.get("tools")) and _choice_of(b) == "required",
)
def required_choice_calls_a_tool(ctx: TrafficContext) -> str:
    """With tool_choice "required", every answer calls at least one tool."""
    return fail_any(
        ctx,
        lambda e, a: None if a.first.tool_calls else f"no tool call; the text was {shown(a.first.content or '', 80)}",
        "a tool is called",
    )


@claim("tools.named_choice_calls_that_tool", source="openai-function-calling", applies=lambda b: _named(b) is not None)
def named_choice_calls_that_tool(ctx: TrafficContext) -> str:
    """With tool_choice naming a function, every answer calls that function (and only it)."""
    name = _named(ctx.body)

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        called = [str((call.get("function") or {}).get("name")) for call in answer.first.tool_calls]
        return None if called and set(called) == {name} else f"called {called or 'no tool'}, expected {name!r}"

    return fail_any(ctx, judge, f"{name} is called")


@claim(
    "tools.none_choice_calls_no_tool",
    source="openai-function-calling",
    applies=lambda b: bool(b.get("tools")) and _choice_of(b) == "none",
)
def none_choice_calls_no_tool(ctx: TrafficContext) -> str:
    """With tool_choice "none", no answer calls a tool."""
    return fail_any(
        ctx, lambda e, a: f"called {len(a.first.tool_calls)} tools" if a.first.tool_calls else None, "no tool is called"
    )


@claim("tools.calls_finish_with_tool_calls", source="openai-function-calling", applies=lambda b: bool(b.get("tools")))
def calls_finish_with_tool_calls(ctx: TrafficContext) -> str:
    """A choice that calls tools finishes with "tool_calls" (or "stop" when the tool was named), and a choice
    that finishes with "tool_calls" calls tools."""
    named = _named(ctx.body) is not None

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        for c, choice in enumerate(answer.choices):
            allowed = ("tool_calls", "stop") if named else ("tool_calls",)
            if choice.tool_calls and choice.finish_reason not in allowed:
                return f'choices[{c}] calls tools but finish_reason is {choice.finish_reason!r}, expected "tool_calls"'
            if choice.finish_reason == "tool_calls" and not choice.tool_calls:
                return f'choices[{c}] finishes with "tool_calls" but calls no tool'
        return None

    return fail_any(ctx, judge, "finish_reason matches the calls")
