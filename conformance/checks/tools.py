"""Row ``tools``: function calling, judged where the protocol guarantees the shape.

``tool_choice: "required"`` or a named tool must produce calls, and (with ``strict`` functions)
arguments valid against the tool's schema, whatever the model; whether ``"auto"`` calls a tool, or
how many calls a parallel request gets, is model behaviour, measured over trials in
``conformance.checks.tools_auto``.
``finish_reason`` follows what api.openai.com was observed to send: ``tool_calls`` for required and
auto, ``stop`` for a named tool.
"""

from __future__ import annotations

import json
from typing import Any

from conformance import sdk_oracle, ts_oracle
from conformance.checks._every import CHAT_TEXT, CHUNK_FORM
from conformance.checks._expect import brief, expect_chat_completion, expect_written, shown, unsupported_if_refused
from conformance.checks._python_helper import first_message, python_says
from conformance.checks._reasoning import stream_written
from conformance.checks._requests import chat_request
from conformance.checks._tool_calls import (
    ASK,
    CLOCK,
    NAMED_OWNER,
    REQUIRED_OWNER,
    TOOLS,
    calls_of,
    check_call,
    ignored,
    name_of,
    names,
    tools_request,
)
from conformance.checks.stream_form import broke_off, choices_of, delta_of, first_index, read_chunks
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.json_prefix import check_prefix
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable


@probe("tools/required")
def required(target: Target) -> Request | None:
    return tools_request(
        target, "tools/required", 'two tools, tool_choice "required"', ASK, tools=TOOLS, tool_choice="required"
    )


@probe("tools/named")
def named(target: Target) -> Request | None:
    return tools_request(
        target,
        "tools/named",
        "two tools, tool_choice naming get_time",
        ASK,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )


@probe("tools/none")
def none(target: Target) -> Request | None:
    return tools_request(target, "tools/none", 'two tools, tool_choice "none"', ASK, tools=TOOLS, tool_choice="none")


@probe("tools/stream")
def stream(target: Target) -> Request | None:
    return tools_request(
        target,
        "tools/stream",
        'a streamed answer with tool_choice "required"',
        ASK,
        tools=TOOLS,
        tool_choice="required",
        stream=True,
    )


@probe("tools/no-arguments")
def no_arguments(target: Target) -> Request | None:
    return tools_request(
        target,
        "tools/no-arguments",
        "a tool without parameters, named in tool_choice",
        "What time does the server have?",
        tools=[CLOCK],
        tool_choice={"type": "function", "function": {"name": "get_server_time"}},
    )


CALL_ID = "call_conformance_1"


@probe("tools/round-trip")
def round_trip(target: Target) -> Request | None:
    messages = [
        {"role": "user", "content": ASK},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": CALL_ID,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": CALL_ID, "content": '{"temperature": 21, "sky": "clear"}'},
    ]
    return chat_request(
        target,
        "tools/round-trip",
        "the tool's result sent back after an assistant tool call",
        messages,
        role="tools",
        tools=TOOLS,
    )


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/required",))
def required_choice_gives_valid_calls(ctx: CheckContext) -> str | None:
    """tool_choice "required" gives calls with id, type "function", an offered name and schema-valid arguments."""
    exchange = ctx.exchange("tools/required")
    calls, _ = calls_of(ctx, exchange)
    if not calls:
        raise CheckFailed(f'{exchange.describe()}: tool_choice "required" but the answer has no tool_calls')
    for index, call in enumerate(calls):
        check_call(exchange, call, names(TOOLS), f"$.choices[0].message.tool_calls[{index}]")
    return f"{len(calls)} call(s): {', '.join(call['function']['name'] for call in calls)}"


@probe("tools/required-unneeded")
def required_unneeded(target: Target) -> Request | None:
    return chat_request(
        target,
        "tools/required-unneeded",
        'tool_choice "required" on a question no tool is needed for',
        [{"role": "user", "content": "Say hello."}],
        role="tools",
        tools=TOOLS,
        tool_choice="required",
    )


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/required-unneeded", "tools/required"))
def required_choice_calls_a_tool_without_reason(ctx: CheckContext) -> str | None:
    """tool_choice "required" gives a tool call even on a question that needs no tool ("required" is not "auto")."""
    exchange = ctx.exchange("tools/required-unneeded")
    calls, finish = calls_of(ctx, exchange)
    if not calls:
        if ignored(ctx, "required"):
            raise Blocked(REQUIRED_OWNER, 'tool_choice "required" gave no call even on a question that needs a tool')
        raise CheckFailed(
            f'{exchange.describe()}: tool_choice "required" but the answer to "Say hello." calls no tool '
            f"(finish_reason {finish!r}): required is treated as auto"
        )
    return f"{len(calls)} call(s)"


@check("tools", Level.MUST, source="observed-openai-tool-choice", needs=("tools/required",))
def required_choice_finishes_with_tool_calls(ctx: CheckContext) -> str | None:
    """After tool_choice "required", finish_reason is "tool_calls"."""
    exchange = ctx.exchange("tools/required")
    calls, finish = calls_of(ctx, exchange, answered_by="tools.required_choice_gives_valid_calls")
    if calls and finish != "tool_calls":
        raise CheckFailed(
            f'{exchange.describe()}: the answer calls tools but finish_reason is {finish!r}, expected "tool_calls"'
        )
    if not calls:
        raise Blocked("tools.required_choice_gives_valid_calls", "no tool was called")
    return None


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/named",))
def named_choice_calls_that_tool(ctx: CheckContext) -> str | None:
    """A named tool_choice gives exactly one call, of that tool, with schema-valid arguments."""
    exchange = ctx.exchange("tools/named")
    calls, _ = calls_of(ctx, exchange)
    if len(calls) != 1:
        raise CheckFailed(
            f"{exchange.describe()}: tool_choice names get_time but the answer has {len(calls)} tool calls"
        )
    check_call(exchange, calls[0], {"get_time"}, "$.choices[0].message.tool_calls[0]")
    return None


@check("tools", Level.SHOULD, source="observed-openai-tool-choice", needs=("tools/named",))
def named_choice_finishes_with_stop(ctx: CheckContext) -> str | None:
    """After a named tool_choice, finish_reason is "stop", as api.openai.com answers."""
    exchange = ctx.exchange("tools/named")
    calls, finish = calls_of(ctx, exchange, answered_by="tools.named_choice_calls_that_tool")
    if not calls:
        raise Blocked("tools.named_choice_calls_that_tool", "no tool was called")
    if finish != "stop":
        raise CheckFailed(
            f'{exchange.describe()}: finish_reason is {finish!r}; api.openai.com answers a named tool with "stop"'
        )
    return None


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/none",))
def none_choice_calls_no_tool(ctx: CheckContext) -> str | None:
    """tool_choice "none" gives a text answer and no tool calls."""
    exchange = ctx.exchange("tools/none")
    calls, finish = calls_of(ctx, exchange, cut_ok=True)
    if calls or finish == "tool_calls":
        raise CheckFailed(
            f'{exchange.describe()}: tool_choice "none" but the answer has {len(calls)} tool calls '
            f"(finish_reason {finish!r})"
        )
    return None


def _helper_says(exchange: Exchange) -> str:
    """What the clients' stream helpers make of the stream, where they fail too."""
    said = []
    helper = ts_oracle.judge(exchange, "chat-completion-stream").helper
    if helper is not None and not helper.accepted:
        said.append(
            f"TypeScript openai {ts_oracle.version()} ChatCompletionStream throws {helper.raised}: "
            f"{shown(helper.detail, 100)}"
        )
    python = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    if not python.accepted:
        said.append(python_says(exchange))
    return "".join(f"; {part}" for part in said)


def _python_keeps_the_calls(exchange: Exchange, calls: dict[int, dict[str, Any]]) -> None:
    """Python's stream helper joins every string of the deltas (id and name too; TypeScript's keeps the last):
    what it hands the app must be the calls the stream carries."""
    verdict = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    if not verdict.accepted:
        return  # it raises: the reassembly above names the part it cannot read (or it is the streaming row's)
    message = first_message(verdict.value)
    held = dict(enumerate(getattr(message, "tool_calls", None) or []))
    for index, call in sorted(calls.items()):
        got = held.get(index)
        got_id, got_name = getattr(got, "id", None), getattr(getattr(got, "function", None), "name", None)
        if (got_id, got_name) != (call["id"], call["function"]["name"]):
            raise CheckFailed(
                f"{exchange.describe()}: Python openai {sdk_oracle.SDK_VERSION}'s get_final_completion() hands the "
                f"app call {index} with id {brief(got_id, 60)} and name {brief(got_name, 60)}, the stream's call is "
                f"{call['id']!r} {call['function']['name']!r}: later deltas repeat them, and the helper joins every "
                f"string (TypeScript's ChatCompletionStream keeps the last); OpenAI sends them in the first delta only",
                details={"python_id": got_id, "python_name": got_name},
            )


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/stream", "tools/required"))
def streamed_calls_reassemble(ctx: CheckContext) -> str | None:
    """Streamed tool calls: each delta has an index, the first per index carries id, type and name, and the
    arguments concatenate to schema-valid JSON; the stream finishes with "tool_calls"."""
    exchange = ctx.exchange("tools/stream")
    unsupported_if_refused(exchange, "streamed tool calls")
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    found = read_chunks(exchange)
    stream_written(exchange, found, first_index(found))
    for chunk in found:
        for choice in choices_of(chunk):
            finish = choice.get("finish_reason") or finish
            parts = delta_of(choice).get("tool_calls") or []
            if not isinstance(parts, list) or not all(isinstance(part, dict) for part in parts):
                raise Blocked(CHUNK_FORM, f"{exchange.describe()}: chunk {chunk.number} has no list of tool calls")
            for position, part in enumerate(parts):
                where = f"chunk {chunk.number}, delta.tool_calls[{position}]"
                index = part.get("index")
                if not isinstance(index, int) or isinstance(index, bool):
                    raise Blocked(CHUNK_FORM, f"{exchange.describe()}: {where} has no index")
                function = part.get("function") or {}
                if not isinstance(function, dict):
                    raise Blocked(CHUNK_FORM, f"{exchange.describe()}: {where} has a function that is not an object")
                if index not in calls:
                    if not part.get("id") or part.get("type") != "function" or not function.get("name"):
                        raise CheckFailed(
                            f"{exchange.describe()}: {where} starts call {index} without id, type 'function' and "
                            f"function.name: {shown(json.dumps(part), 120)}{_helper_says(exchange)}"
                        )
                    calls[index] = {
                        "id": part["id"],
                        "type": "function",
                        "function": {"name": function["name"], "arguments": ""},
                    }
                elif part.get("id") not in (None, calls[index]["id"]) or function.get("name") not in (
                    None,
                    "",
                    calls[index]["function"]["name"],
                ):
                    raise CheckFailed(f"{exchange.describe()}: {where} changes the id or name of call {index}")
                if isinstance(function.get("arguments"), str):
                    calls[index]["function"]["arguments"] += function["arguments"]
    if finish is None:
        if broken := broke_off(exchange):
            raise CheckFailed(f"{broken}; a valid request's stream must end with its finish_reason and [DONE]")
        raise Blocked("streaming.one_finish_reason_per_choice", f"{exchange.describe()}: no chunk has a finish_reason")
    if finish == "length":
        complete = {
            index: call for index, call in calls.items() if check_prefix(call["function"]["arguments"]).complete
        }
        if not complete:
            raise NotApplicable(
                f"{exchange.describe()}: the stream was cut at the token cap before a tool call was complete"
            )
        calls = complete
    if not calls:
        if ignored(ctx, "required"):
            raise Blocked(REQUIRED_OWNER, 'tool_choice "required" gives no call without streaming either')
        raise CheckFailed(f'{exchange.describe()}: tool_choice "required" but the stream carries no tool_calls delta')
    for index, call in sorted(calls.items()):
        check_call(exchange, call, names(TOOLS), f"the reassembled call {index}", form=CHUNK_FORM)
    _python_keeps_the_calls(exchange, calls)
    if finish == "length":
        return f"{len(calls)} complete call(s) before the token cap cut the stream"
    if finish != "tool_calls":
        raise CheckFailed(f'{exchange.describe()}: the stream finishes with {finish!r}, expected "tool_calls"')
    return f"{len(calls)} call(s) reassembled"


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/no-arguments", "tools/named"))
def no_argument_tool_gets_an_empty_object(ctx: CheckContext) -> str | None:
    """A tool without parameters is called with arguments that parse as a JSON object ("{}"; "" is not JSON)."""
    exchange = ctx.exchange("tools/no-arguments")
    calls, _ = calls_of(ctx, exchange)
    if [name_of(call) for call in calls] != ["get_server_time"] and ignored(ctx, "named"):
        raise Blocked(NAMED_OWNER, "a named tool_choice is not honoured on tools/named either")
    if len(calls) != 1:
        raise CheckFailed(
            f"{exchange.describe()}: tool_choice names get_server_time but the answer has {len(calls)} calls"
        )
    arguments = check_call(exchange, calls[0], {"get_server_time"}, "$.choices[0].message.tool_calls[0]")
    if arguments != {}:
        raise CheckFailed(f"{exchange.describe()}: get_server_time takes no arguments but got {arguments!r}")
    return None


@check("tools", Level.MUST, source="openai-function-calling", needs=("tools/round-trip",))
def tool_results_round_trip(ctx: CheckContext) -> str | None:
    """An assistant message with tool_calls followed by a tool message with the matching tool_call_id is answered."""
    exchange = ctx.exchange("tools/round-trip")
    body = expect_chat_completion(ctx, exchange, text=False)
    message = body["choices"][0]["message"]
    expect_written(exchange, message, body["choices"][0].get("finish_reason"), body.get("usage"))
    content, calls = message.get("content"), message.get("tool_calls")
    if not calls and not isinstance(content, str):
        raise Blocked(CHAT_TEXT, f"{exchange.describe()}: the answer holds neither text nor tool calls")
    if not calls and not content:
        raise CheckFailed(f"{exchange.describe()}: the answer after the tool result is empty")
    return None
