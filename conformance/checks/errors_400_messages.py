"""Row ``errors-400``: messages that are malformed, each beside the well-formed ones the forms of ``message_shapes``
send.

A message without a role, a user message without content, a content part of a type no role has, a tool result
without the ``tool_call_id`` it answers, and an assistant tool call without the function it calls are malformed:
api.openai.com refuses each with 400 ("Missing parameter 'tool_call_id': messages with role 'tool' must have a
'tool_call_id'", run-llama/multi-agent-concierge#16). Two more are well-formed one by one but out of order: a tool
result that answers no earlier call ("messages with role 'tool' must be a response to a preceeding message with
'tool_calls'", smarter-sh/smarter#264) and tool calls that no result follows ("An assistant message with
'tool_calls' must be followed by tool messages responding to each 'tool_call_id'",
langchain-ai/open_deep_research#164). OpenAI refuses them too; a server that renders any history through its chat
template answers them, which hides an agent's bug until it migrates, so that is a SHOULD. None of them may break
the server (a 5xx or a dropped connection). Their envelope is judged with every other error answer of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.checks._every import applicable, judge_each
from conformance.checks._expect import error_message, not_rate_limited, response_of, shown
from conformance.checks._requests import chat_request
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level

CALL_ID = "call_malformed_1"
ASK = {"role": "user", "content": "What is the weather in Paris right now?"}


def _call(**function: Any) -> dict[str, Any]:
    return {"id": CALL_ID, "type": "function", "function": function}


WEATHER = {"name": "get_weather", "arguments": '{"city": "Paris"}'}
RESULT = '{"temperature": 21}'


@dataclass(frozen=True)
class Malformed:
    name: str
    what: str
    messages: Callable[[], list[dict[str, Any]]]
    # well-formed message by message, out of order as a conversation: OpenAI refuses it, answering it is a SHOULD
    out_of_order: bool = False


MALFORMED = (
    Malformed("no-role", "a message without a role", lambda: [{"content": "Say hi."}]),
    Malformed("user-without-content", "a user message without content", lambda: [{"role": "user"}]),
    Malformed(
        "unknown-part-type",
        "a user content part of the type 'wizard'",
        lambda: [{"role": "user", "content": [{"type": "wizard", "text": "Say hi."}]}],
    ),
    Malformed(
        "tool-without-call-id",
        "a tool result without tool_call_id",
        lambda: [
            ASK,
            {"role": "assistant", "content": None, "tool_calls": [_call(**WEATHER)]},
            {"role": "tool", "content": RESULT},
        ],
    ),
    Malformed(
        "call-without-function",
        "an assistant tool call without the function it calls",
        lambda: [
            ASK,
            {"role": "assistant", "content": None, "tool_calls": [{"id": CALL_ID, "type": "function"}]},
            {"role": "tool", "tool_call_id": CALL_ID, "content": RESULT},
        ],
    ),
    Malformed(
        "tool-answers-no-call",
        "a tool result that answers no earlier tool call",
        lambda: [ASK, {"role": "tool", "tool_call_id": CALL_ID, "content": RESULT}],
        out_of_order=True,
    ),
    Malformed(
        "calls-without-results",
        "an assistant tool call that no tool result follows",
        lambda: [
            ASK,
            {"role": "assistant", "content": None, "tool_calls": [_call(**WEATHER)]},
            {"role": "user", "content": "Never mind. Say hi."},
        ],
        out_of_order=True,
    ),
)
WHAT = {f"errors-400/message/{item.name}": item for item in MALFORMED}
NEEDS = tuple(WHAT)


def _request(target: Target, item: Malformed) -> Request | None:
    return chat_request(target, f"errors-400/message/{item.name}", item.what, item.messages(), answer_tokens=8)


for _item in MALFORMED:
    probe(f"errors-400/message/{_item.name}", refusal=True)(lambda target, item=_item: _request(target, item))


def _refused(exchange: Exchange) -> bool:
    return exchange.response is not None and 400 <= exchange.response.status < 500


def _broken(exchange: Exchange) -> bool:
    return exchange.response is None or exchange.response.status >= 500


@check("errors-400", Level.MUST, source="openai-errors", needs=NEEDS)
def malformed_messages_are_refused(ctx: CheckContext) -> str | None:
    """A message without a role, a user message without content, a content part of an unknown type, a tool result
    without tool_call_id and a tool call without its function are refused with a 4xx, never answered; no malformed
    history (those out of order too) breaks the server with a 5xx or a dropped connection."""

    def judge(exchange: Exchange) -> None:
        item = WHAT[exchange.id]
        if _refused(exchange) or (item.out_of_order and not _broken(exchange)):
            return
        not_rate_limited(exchange, 400)
        response = response_of(exchange)
        verdict = "answered" if response.status < 400 else "broke the server"
        raise CheckFailed(
            f"{exchange.describe()}: {item.what} {verdict} (HTTP {response.status}: "
            f"{shown(error_message(exchange) or '', 100)}); api.openai.com refuses it with 400"
        )

    return judge_each(applicable(ctx, NEEDS), judge, noun="malformed messages", empty="no chat model to send them to")


@check("errors-400", Level.SHOULD, source="openai-errors", needs=NEEDS)
def tool_turns_out_of_order_are_refused(ctx: CheckContext) -> str | None:
    """A tool result that answers no earlier call, and tool calls no result follows, are refused as api.openai.com
    refuses them, not answered as if the conversation were whole (an agent's bug then surfaces only after it
    migrates)."""
    sent = [e for e in applicable(ctx, NEEDS) if WHAT[e.id].out_of_order and not _broken(e)]

    def judge(exchange: Exchange) -> None:
        if _refused(exchange):
            return
        not_rate_limited(exchange, 400)
        raise CheckFailed(
            f"{exchange.describe()}: {WHAT[exchange.id].what} was answered (HTTP {response_of(exchange).status}); "
            "api.openai.com refuses it with 400"
        )

    return judge_each(sent, judge, noun="histories out of order", empty="none was answered or refused")


@check("errors-400", Level.SHOULD, source="openai-errors", needs=NEEDS)
def malformed_messages_get_400(ctx: CheckContext) -> str | None:
    """Those refused with a 4xx are refused with 400 (the SDKs raise BadRequestError), not 422 or another 4xx."""
    refused = [e for e in applicable(ctx, NEEDS) if _refused(e)]

    def judge(exchange: Exchange) -> None:
        status = response_of(exchange).status
        if status != 400:
            raise CheckFailed(f"{exchange.describe()}: {WHAT[exchange.id].what} was refused with {status}, not 400")

    return judge_each(refused, judge, noun="refusals", empty="none was refused with a 4xx; the check of it says so")
