"""Row ``chat-completions``: POST /chat/completions without streaming."""

from __future__ import annotations

from typing import Any

from conformance.checks._expect import expect_json, expect_valid, succeeded
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable

# short answers keep live runs cheap and let a weak model pass: nothing here depends on content
ANSWER_TOKENS = 16


def chat_request(
    target: Target, exchange_id: str, purpose: str, messages: list[dict[str, Any]], **params: Any
) -> Request | None:
    model = target.models.chat
    if model is None:
        return None
    body: dict[str, Any] = {"model": model, "messages": messages, target.max_tokens_param: ANSWER_TOKENS}
    body.update(params)
    return Request(exchange_id, "POST", "/chat/completions", purpose=purpose, json=body)


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


def expect_chat_completion(ctx: CheckContext, exchange: Exchange) -> dict[str, Any]:
    """A successful, schema-valid chat completion whose first choice is assistant text."""
    body = expect_json(exchange, 200)
    expect_valid(ctx, exchange, body, "chat-completion", "chat-completion")
    message = body["choices"][0]["message"]
    if not isinstance(message.get("content"), str):
        raise CheckFailed(
            f"{exchange.describe()}: $.choices[0].message.content is {message.get('content')!r}, "
            "expected the answer as a string (no tools were offered)"
        )
    return body


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/basic",))
def basic_request_succeeds(ctx: CheckContext) -> str | None:
    """A chat request with one user message answers 200 with a JSON body."""
    expect_json(ctx.exchange("chat-completions/basic"), 200)
    return None


@check("chat-completions", Level.MUST, source="openai-chat-object", needs=("chat-completions/basic",))
def response_is_schema_valid(ctx: CheckContext) -> str | None:
    """The answer is a chat.completion object: id, object, integer created, model, choices, usage."""
    exchange = ctx.exchange("chat-completions/basic")
    expect_valid(
        ctx,
        exchange,
        succeeded(exchange, "chat-completions.basic_request_succeeds"),
        "chat-completion",
        "chat-completion",
    )
    return None


@check("chat-completions", Level.MUST, source="openai-chat-object", needs=("chat-completions/basic",))
def message_is_assistant_text(ctx: CheckContext) -> str | None:
    """Every choice's message has role "assistant" and its content is a string."""
    exchange = ctx.exchange("chat-completions/basic")
    body = succeeded(exchange, "chat-completions.basic_request_succeeds")
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices:
        raise CheckFailed(f"{exchange.describe()}: $.choices is {choices!r}, expected at least one choice")
    for index, choice in enumerate(choices):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            raise CheckFailed(f"{exchange.describe()}: $.choices[{index}].message is {message!r}, expected an object")
        if message.get("role") != "assistant":
            raise CheckFailed(
                f"{exchange.describe()}: $.choices[{index}].message.role is {message.get('role')!r}, "
                "expected 'assistant'"
            )
        if not isinstance(message.get("content"), str):
            raise CheckFailed(
                f"{exchange.describe()}: $.choices[{index}].message.content is {message.get('content')!r}, "
                "expected a string"
            )
    return None


def _usage(ctx: CheckContext) -> tuple[Exchange, Any]:
    exchange = ctx.exchange("chat-completions/basic")
    body = succeeded(exchange, "chat-completions.basic_request_succeeds")
    return exchange, body.get("usage") if isinstance(body, dict) else None


@check("chat-completions", Level.SHOULD, source="openai-chat-object", needs=("chat-completions/basic",))
def usage_is_reported(ctx: CheckContext) -> str | None:
    """The answer reports token usage (OpenAI always does; the SDK types make it optional)."""
    exchange, usage = _usage(ctx)
    if usage is None:
        raise CheckFailed(f"{exchange.describe()}: the answer has no usage object")
    return None


@check("chat-completions", Level.MUST, source="openai-chat-object", needs=("chat-completions/basic",))
def usage_adds_up(ctx: CheckContext) -> str | None:
    """usage.total_tokens equals prompt_tokens plus completion_tokens, all non-negative integers."""
    exchange, usage = _usage(ctx)
    if usage is None:
        raise NotApplicable("the answer has no usage; chat-completions.usage_is_reported reports it")
    if not isinstance(usage, dict):
        raise CheckFailed(f"{exchange.describe()}: $.usage is {usage!r}, expected an object")
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
    return f"{counts['prompt_tokens']} + {counts['completion_tokens']} = {counts['total_tokens']}"


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/system-role",))
def accepts_system_role(ctx: CheckContext) -> str | None:
    """A system message before the user message is accepted and answered."""
    expect_chat_completion(ctx, ctx.exchange("chat-completions/system-role"))
    return None


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/developer-role",))
def accepts_developer_role(ctx: CheckContext) -> str | None:
    """A developer message (the role that replaces system in OpenAI's API) is accepted and answered."""
    exchange = ctx.exchange("chat-completions/developer-role")
    try:
        expect_chat_completion(ctx, exchange)
    except CheckFailed as failure:
        if exchange.status == 400:
            raise CheckFailed(f"the developer role is refused: {failure.message}", details=failure.details) from None
        raise
    return None


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=("chat-completions/multi-turn",))
def accepts_multi_turn_history(ctx: CheckContext) -> str | None:
    """A conversation of system, user and earlier assistant turns is accepted and answered."""
    expect_chat_completion(ctx, ctx.exchange("chat-completions/multi-turn"))
    return None
