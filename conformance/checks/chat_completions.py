"""Row ``chat-completions``: POST /chat/completions without streaming."""

from __future__ import annotations

import re
from typing import Any

from conformance import thinking
from conformance.checks._every import CHAT_FORM, every, judge_each
from conformance.checks._expect import (
    brief,
    error_message,
    expect_chat_completion,
    expect_json,
    expect_status,
    expect_valid,
    shown,
    succeeded,
    unsupported_if_refused,
)
from conformance.checks._requests import chat_request
from conformance.checks._trials import measure, pair_label
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable


@probe("chat-completions/basic")
def basic(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/basic",
        "one user message",
        [{"role": "user", "content": "Reply with a short greeting."}],
    )


@probe("chat-completions/system-role")
def system_role(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/system-role",
        "a system message before the user message",
        [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "Name a colour."},
        ],
    )


@probe("chat-completions/developer-role")
def developer_role(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/developer-role",
        "a developer message (OpenAI's successor of system) before the user message",
        [
            {"role": "developer", "content": "You are a terse assistant."},
            {"role": "user", "content": "Name a fruit."},
        ],
    )


@probe("chat-completions/multi-turn")
def multi_turn(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/multi-turn",
        "three user turns with the assistant's earlier answers in between",
        [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "Remember the number 7."},
            {"role": "assistant", "content": "I will remember 7."},
            {"role": "user", "content": "Now remember the word blue."},
            {"role": "assistant", "content": "Remembered: blue."},
            {"role": "user", "content": "What did I ask you to remember?"},
        ],
    )


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/basic",))
def basic_request_succeeds(ctx: CheckContext) -> str | None:
    """A chat request with one user message is answered with HTTP 200."""
    expect_status(ctx.exchange("chat-completions/basic"), 200)
    return None


def _answers(ctx: CheckContext) -> list[Exchange]:
    return every(ctx, "chat-completion")


@check(
    "chat-completions",
    Level.MUST,
    source="openai-chat-object",
    needs=("chat-completions/basic",),
    runs_last=True,
)
def response_is_schema_valid(ctx: CheckContext) -> str | None:
    """Every chat completion the run got is JSON and a chat.completion object (id, object, integer created, model,
    choices, usage), by the schema and by the openai SDK."""

    notes = set()

    def judge(exchange: Exchange) -> None:
        note = expect_valid(ctx, exchange, expect_json(exchange, 200), "chat-completion", "chat-completion")
        if note:
            notes.add(note)

    verdict = judge_each(_answers(ctx), judge, noun="chat completions", empty="the run got no chat completion")
    return "; ".join([verdict, *sorted(notes)[:3]])


@check(
    "chat-completions",
    Level.MUST,
    source="openai-chat-object",
    needs=("chat-completions/basic",),
    runs_last=True,
)
def message_is_assistant_text(ctx: CheckContext) -> str | None:
    """In every chat completion, each choice's message has role "assistant" and its content is a string (or null
    beside tool calls or a deprecated function_call, or beside thinking cut at the cap before an answer, as vLLM
    sends it)."""

    def judge(exchange: Exchange) -> None:
        body = exchange.json_body
        choices = body.value.get("choices") if body.ok and isinstance(body.value, dict) else None
        if not isinstance(choices, list) or not choices:
            raise CheckFailed(f"{exchange.describe()}: $.choices is {brief(choices, 60)}, expected choices")
        for index, choice in enumerate(choices):
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict):
                raise CheckFailed(f"{exchange.describe()}: $.choices[{index}].message is {message!r}, not an object")
            if message.get("role") != "assistant":
                raise CheckFailed(
                    f"{exchange.describe()}: $.choices[{index}].message.role is {message.get('role')!r}, "
                    "expected 'assistant'"
                )
            content, calls = message.get("content"), message.get("tool_calls")
            starved = choice.get("finish_reason") == "length" and thinking.thought_in(message) is not None
            # the deprecated function calling answers its call in function_call
            beside = (isinstance(calls, list) and calls) or isinstance(message.get("function_call"), dict) or starved
            if not isinstance(content, str) and not (content is None and beside):
                raise CheckFailed(
                    f"{exchange.describe()}: $.choices[{index}].message.content is {brief(content, 60)}, "
                    "expected a string"
                )

    return judge_each(_answers(ctx), judge, noun="chat completions", empty="the run got no chat completion")


def _usage_of(exchange: Exchange) -> Any:
    body = exchange.json_body
    return body.value.get("usage") if body.ok and isinstance(body.value, dict) else None


@check(
    "chat-completions",
    Level.SHOULD,
    source="openai-chat-object",
    needs=("chat-completions/basic",),
    runs_last=True,
)
def usage_is_reported(ctx: CheckContext) -> str | None:
    """Every chat completion reports token usage (OpenAI always does; the SDK types make it optional)."""

    def judge(exchange: Exchange) -> None:
        if _usage_of(exchange) is None:
            raise CheckFailed(f"{exchange.describe()}: the answer has no usage object")

    return judge_each(_answers(ctx), judge, noun="chat completions", empty="the run got no chat completion")


@check(
    "chat-completions",
    Level.MUST,
    source="openai-chat-object",
    needs=("chat-completions/basic",),
    runs_last=True,
)
def usage_adds_up(ctx: CheckContext) -> str | None:
    """In every chat completion that reports usage, total_tokens equals prompt_tokens plus completion_tokens, all
    non-negative integers."""

    def judge(exchange: Exchange) -> None:
        usage = _usage_of(exchange)
        if not isinstance(usage, dict):
            raise CheckFailed(f"{exchange.describe()}: $.usage is {brief(usage, 60)}, expected an object")
        counts = {}
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            value = usage.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CheckFailed(f"{exchange.describe()}: $.usage.{key} is {value!r}, expected a non-negative integer")
            counts[key] = value
        if counts["total_tokens"] != counts["prompt_tokens"] + counts["completion_tokens"]:
            raise CheckFailed(
                f"{exchange.describe()}: $.usage.total_tokens is {counts['total_tokens']}, but prompt_tokens "
                f"{counts['prompt_tokens']} + completion_tokens {counts['completion_tokens']} = "
                f"{counts['prompt_tokens'] + counts['completion_tokens']}"
            )

    reporting = [exchange for exchange in _answers(ctx) if _usage_of(exchange) is not None]
    return judge_each(reporting, judge, noun="answers with usage", empty="no chat completion reports usage")


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/system-role",))
def accepts_system_role(ctx: CheckContext) -> str | None:
    """A system message before the user message is accepted and answered."""
    expect_chat_completion(ctx, ctx.exchange("chat-completions/system-role"), text=False)
    return None


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/developer-role",))
def accepts_developer_role(ctx: CheckContext) -> str | None:
    """A developer message (the role that replaces system in OpenAI's API) is accepted and answered."""
    exchange = ctx.exchange("chat-completions/developer-role")
    try:
        expect_chat_completion(ctx, exchange, text=False)
    except CheckFailed as failure:
        if exchange.status == 400:
            raise CheckFailed(f"the developer role is refused: {failure.message}", details=failure.details) from None
        raise
    return None


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/multi-turn",))
def accepts_multi_turn_history(ctx: CheckContext) -> str | None:
    """A conversation of system, user and earlier assistant turns is accepted and answered."""
    expect_chat_completion(ctx, ctx.exchange("chat-completions/multi-turn"), text=False)
    return None


@probe("chat-completions/content-parts")
def content_parts(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/content-parts",
        "user content as a list of text parts",
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Reply with a short"}, {"type": "text", "text": " greeting."}],
            }
        ],
    )


@probe("chat-completions/named-messages")
def named_messages(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/named-messages",
        "messages that carry a participant name",
        [
            {"role": "system", "content": "You are a terse assistant.", "name": "rules"},
            {"role": "user", "content": "Hello, I am Alice.", "name": "alice"},
        ],
    )


# twenty exchanges of history before the question: long enough to show truncation or role bugs,
# short enough for any context window
HISTORY_TURNS = 20


@probe("chat-completions/long-history")
def long_history(target: Target) -> Request | None:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a terse assistant."}]
    for turn in range(1, HISTORY_TURNS + 1):
        messages.append({"role": "user", "content": f"Note number {turn}: the colour of the day is shade {turn}."})
        messages.append({"role": "assistant", "content": f"Noted: shade {turn}."})
    messages.append({"role": "user", "content": "Which shade did I mention first?"})
    return chat_request(target, "chat-completions/long-history", "a history of 20 user and assistant turns", messages)


@probe("chat-completions/n-choices")
def n_choices(target: Target) -> Request | None:
    return chat_request(
        target,
        "chat-completions/n-choices",
        "two choices in one request (n=2)",
        [{"role": "user", "content": "Name a planet."}],
        n=2,
    )


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/content-parts",))
def accepts_text_content_parts(ctx: CheckContext) -> str | None:
    """User content given as a list of text parts is accepted and answered."""
    expect_chat_completion(ctx, ctx.exchange("chat-completions/content-parts"), text=False)
    return None


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/named-messages",))
def accepts_message_names(ctx: CheckContext) -> str | None:
    """Messages with a participant name field are accepted and answered."""
    expect_chat_completion(ctx, ctx.exchange("chat-completions/named-messages"), text=False)
    return None


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/long-history",))
def accepts_long_history(ctx: CheckContext) -> str | None:
    """A history of 20 user and assistant turns is accepted and answered."""
    exchange = ctx.exchange("chat-completions/long-history")
    response = exchange.response
    message = error_message(exchange) or ""
    if response is not None and response.status in (400, 413) and _CONTEXT.search(message):
        raise NotApplicable(
            f"{exchange.describe()}: the history does not fit the target's context window ({shown(message, 120)}); "
            "refusing it with 400 is right, so this says nothing about multi-turn support"
        )
    expect_chat_completion(ctx, exchange, text=False)
    return None


_CONTEXT = re.compile(r"context (length|size|window)|maximum context|too many tokens|exceed", re.IGNORECASE)


def _prompt_tokens(exchange: Exchange) -> int | None:
    body = exchange.json_body
    usage = body.value.get("usage") if body.ok and isinstance(body.value, dict) else None
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None


@check(
    "chat-completions",
    Level.SHOULD,
    source="openai-chat-object",
    needs=("chat-completions/long-history", "chat-completions/basic"),
    kind=Kind.MODEL,
    threshold=0.8,
)
def prompt_tokens_count_the_whole_history(ctx: CheckContext) -> Measured:
    """usage.prompt_tokens for 42 messages exceeds that for one message by at least half a token per extra word, in
    at least 80 % of the pairs of trials: the whole history reaches the model and is counted."""

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        long, short = pair
        succeeded(long, "chat-completions.accepts_long_history")
        succeeded(short, "chat-completions.basic_request_succeeds")
        many, one = _prompt_tokens(long), _prompt_tokens(short)
        if many is None or one is None:
            raise Blocked("chat-completions.usage_is_reported", "the answers report no usage.prompt_tokens to compare")
        # every tokenizer in use spends at least one token per two words of English
        extra_words = _words(long.request) - _words(short.request)
        if many >= one + extra_words // 2:
            return None
        return (
            f"counted {many} prompt tokens for 42 messages and {one} for one message, but the history adds "
            f"{extra_words} words (at least {extra_words // 2} tokens): either the history is dropped before it "
            "reaches the model, or prompt_tokens does not count the prompt"
        )

    pairs = zip(ctx.trials("chat-completions/long-history"), ctx.trials("chat-completions/basic"), strict=True)
    return measure(
        "the history's words were counted in prompt_tokens",
        [(pair_label(n), pair) for n, pair in enumerate(pairs, 1)],
        judge,
    )


def _words(request: Request) -> int:
    messages = request.json.get("messages", []) if isinstance(request.json, dict) else []
    return sum(len(str(message.get("content", "")).split()) for message in messages if isinstance(message, dict))


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/n-choices",))
def n_is_honoured(ctx: CheckContext) -> str | None:
    """n=2 gives two choices with the distinct indexes 0 and 1."""
    exchange = ctx.exchange("chat-completions/n-choices")
    unsupported_if_refused(exchange, "the n parameter")
    body = expect_chat_completion(ctx, exchange, text=False)
    indexes = [choice.get("index") for choice in body["choices"]]
    if not all(isinstance(index, int) and not isinstance(index, bool) for index in indexes):
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: the choices' indexes are {brief(indexes)}, not integers")
    if sorted(indexes) != [0, 1]:
        raise CheckFailed(
            f"{exchange.describe()}: n=2 gave {len(indexes)} choices with indexes {indexes}, expected indexes [0, 1]"
        )
    return None
