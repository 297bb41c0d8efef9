"""Row ``tools``: tool definitions at the edges of what the document allows, beside the strict ones the row sends.

``function.parameters`` may be left out ("omitting parameters defines a function with an empty parameter list"),
``strict`` may be false, a schema may have optional, nested and array properties, a function may have no
description, and a name may hold dashes (``^[a-zA-Z0-9_-]{1,64}$``). Agents send all of these (Qwen Code's
no-argument tools omit ``parameters``), and servers refuse them: theroyallab/tabbyAPI#485 answers 422 "Field
required", Azure's SDK once demanded ``parameters`` (Azure/azure-sdk-for-js#28312). Each is sent with
tool_choice "auto" and must be answered, with a call or with text.
"""

from __future__ import annotations

from typing import Any

from conformance.checks._every import applicable, judge_each
from conformance.checks._expect import error_message, not_rate_limited, response_of, shown
from conformance.checks._tool_calls import ASK, WEATHER, tools_request
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level

LOOSE_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "A city name."},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "fields": {"type": "array", "items": {"type": "string", "enum": ["temperature", "sky", "wind"]}},
        "options": {"type": "object", "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}},
    },
    "required": ["city"],
}
FORMS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "no-parameters": (
        "a tool whose definition leaves out parameters",
        [WEATHER, {"type": "function", "function": {"name": "get_server_time", "description": "The server's clock."}}],
    ),
    "loose-schema": (
        "a tool with strict false, optional, nested and array parameters and no description",
        [{"type": "function", "function": {"name": "get_forecast", "parameters": LOOSE_SCHEMA, "strict": False}}],
    ),
    "dashed-name": (
        "a tool whose name holds dashes and digits",
        [{"type": "function", "function": {**WEATHER["function"], "name": "get-weather-v2"}}],
    ),
}


def _request(target: Target, name: str) -> Request | None:
    what, tools = FORMS[name]
    return tools_request(target, f"tools/definition/{name}", what, ASK, tools=tools, tool_choice="auto")


for _name in FORMS:
    probe(f"tools/definition/{_name}")(lambda target, n=_name: _request(target, n))

NEEDS = tuple(f"tools/definition/{name}" for name in FORMS)


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/required", *NEEDS))
def every_tool_definition_form_is_answered(ctx: CheckContext) -> str | None:
    """Tool definitions without parameters, with a loose schema (strict false, optional, nested and array
    properties, no description) and with a dashed name are answered on tool_choice "auto", as the strict ones are:
    never refused, never a 5xx."""
    strict = ctx.exchange("tools/required")
    if strict.response is None or strict.response.status != 200:
        raise Blocked(
            "tools.required_choice_gives_valid_calls", f"{strict.describe()}: even strict tools were not answered"
        )
    sent = applicable(ctx, NEEDS)

    def judge(exchange: Exchange) -> None:
        response = response_of(exchange)
        if response.status == 200:
            return
        not_rate_limited(exchange, 200)
        what = FORMS[exchange.id.rsplit("/", 1)[-1]][0]
        verdict = "broken" if response.status >= 500 else "refused"
        raise CheckFailed(
            f"{exchange.describe()}: {what} was {verdict} (HTTP {response.status}: "
            f"{shown(error_message(exchange) or '', 120)}); the document allows it"
        )

    return judge_each(sent, judge, noun="tool definitions", empty="no tool model")
