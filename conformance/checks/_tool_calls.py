"""The tools the ``tools`` rows offer, and how a tool call is read: the calls of an answer, whether
each names an offered tool with schema-valid arguments, and whether a tool_choice was ignored
everywhere (one defect, reported by the check of the request that shows it first)."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema

from conformance import jsonparse
from conformance.checks._every import CHAT_FORM
from conformance.checks._expect import (
    brief,
    expect_chat_completion,
    expect_written,
    finish_reason_of,
    shown,
    unsupported_if_refused,
)
from conformance.checks._requests import JSON_TOKENS, chat_request
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.json_prefix import check_prefix
from conformance.profiles import Target
from conformance.verdicts import Blocked, CheckFailed, NotApplicable, Unsupported


def _function(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
            "strict": True,
        },
    }


WEATHER = _function(
    "get_weather",
    "Current weather in a city.",
    {
        "city": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
)
TIME = _function(
    "get_time",
    "Current time in a time zone.",
    {"timezone": {"type": "string", "enum": ["Europe/Paris", "Europe/Rome", "Europe/Oslo"]}},
)
CLOCK = _function("get_server_time", "The server's clock. Takes no arguments.", {})
TOOLS = [WEATHER, TIME]
SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in (WEATHER, TIME, CLOCK)}
ASK = "What is the weather in Paris?"
ASK_BOTH = "What is the weather in Paris, and what time is it in Europe/Paris? Use both tools."


def tools_request(target: Target, exchange_id: str, purpose: str, text: str, **params: Any) -> Request | None:
    return chat_request(
        target,
        exchange_id,
        purpose,
        [{"role": "user", "content": text}],
        role="tools",
        answer_tokens=JSON_TOKENS,
        **params,
    )


def calls_of(
    ctx: CheckContext, exchange: Exchange, *, cut_ok: bool = False, answered_by: str | None = None
) -> tuple[list[dict[str, Any]], Any]:
    """The tool calls of the first choice and its finish_reason. An answer cut at the token cap is not
    judged (its calls may be unfinished) unless ``cut_ok``; ``answered_by`` owns the claim that the
    request is answered at all, where another check of the same request does."""
    unsupported_if_refused(exchange, "tools")
    body = expect_chat_completion(ctx, exchange, text=False, answered_by=answered_by)
    choice = body["choices"][0]
    listed = choice["message"].get("tool_calls") or []
    if not isinstance(listed, list) or not all(isinstance(call, dict) for call in listed):
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: $.choices[0].message.tool_calls is not a list of calls")
    calls = list(listed)
    expect_written(exchange, choice["message"], choice.get("finish_reason"), body.get("usage"))
    if choice.get("finish_reason") == "length" and not cut_ok:
        content = choice["message"].get("content") or ""
        if calls or unfinished_call(content):
            raise NotApplicable(
                f"{exchange.describe()}: the answer was cut at the token cap (finish_reason length) before its tool "
                "calls were complete; a weak model under constrained decoding can pad them with whitespace"
            )
    return calls, finish_reason_of(exchange, choice)


def unfinished_call(content: str) -> bool:
    """Whether text cut at the token cap can be the start of a tool call (a server's tool-call markup
    or JSON), rather than free text that shows the tool choice was not enforced."""
    text = content.lstrip()
    return (
        not text
        or text.startswith(("<tool_call>", "<|python_tag|>", "[TOOL_CALLS]"))
        or (text.startswith(("{", "[")) and check_prefix(text).ok)
    )


def check_call(
    exchange: Exchange, call: dict[str, Any], offered: set[str], where: str, *, form: str = CHAT_FORM
) -> dict[str, Any]:
    """One call names an offered tool and has arguments that are JSON valid against the tool's
    parameters; returns the parsed arguments. A call whose id, type, name or arguments are not of
    the form every call has (strings; type "function") blocks the check: ``form`` reports it."""
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    name = function.get("name")
    arguments = function.get("arguments")
    if not isinstance(call.get("id"), str) or not call["id"]:
        raise Blocked(form, f"{exchange.describe()}: {where} has no id")
    if call.get("type") != "function":
        raise Blocked(form, f"{exchange.describe()}: {where} has type {brief(call.get('type'), 40)}")
    if not isinstance(name, str) or not isinstance(arguments, str):
        raise Blocked(form, f"{exchange.describe()}: {where}.function has no name and arguments as strings")
    if name not in offered:
        raise CheckFailed(f"{exchange.describe()}: {where} calls {name!r}, which was not offered ({sorted(offered)})")
    try:
        parsed = jsonparse.loads(arguments)
    except ValueError:
        raise CheckFailed(
            f"{exchange.describe()}: {where}.function.arguments is not JSON: {shown(arguments, 80)}"
        ) from None
    errors = list(jsonschema.Draft202012Validator(SCHEMAS[name]).iter_errors(parsed))
    if errors:
        raise CheckFailed(
            f"{exchange.describe()}: {where} arguments {shown(arguments, 80)} do not match {name}'s parameters: "
            f"{errors[0].json_path}: {errors[0].message}"
        )
    return parsed


def names(tools: list[dict[str, Any]]) -> set[str]:
    return {tool["function"]["name"] for tool in tools}


REQUIRED_OWNER, NAMED_OWNER = "tools.required_choice_gives_valid_calls", "tools.named_choice_calls_that_tool"


def name_of(call: dict[str, Any]) -> Any:
    function = call.get("function")
    return function.get("name") if isinstance(function, dict) else None


def ignored(ctx: CheckContext, choice: Literal["required", "named"]) -> bool:
    """The tool_choice was not honoured on its own request either (tools/required: no call; tools/named:
    not one call of get_time): another request meeting it shows the same defect, which that request's
    check reports."""
    try:
        calls, _ = calls_of(ctx, ctx.exchange("tools/required" if choice == "required" else "tools/named"))
    except (Blocked, NotApplicable, CheckFailed, Unsupported):
        return False
    return not calls if choice == "required" else [name_of(call) for call in calls] != ["get_time"]
