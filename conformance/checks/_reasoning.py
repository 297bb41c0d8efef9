"""What the ``reasoning`` row's checks share: its requests, the field a target is held to, and how the
thinking of an answer or of a stream is read (``conformance.thinking`` knows the spellings).

Every request of the row is sized for thinking whether or not the run noticed any: its cap is the answer's
plus ``limits.max_reasoning_tokens``. A check that judges every answer of the run reads the reasoning model's
answers and the chat model's alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from conformance import thinking
from conformance.checks._every import STARVED, THINKING_IN_CONTENT
from conformance.checks._expect import error_message, expect_chat_completion, expect_status, expect_written
from conformance.checks._requests import ANSWER_TOKENS, chat_request, user
from conformance.checks.stream_form import Chunk, choices_of, delta_of, first_index, joined_content, read_chunks
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import REASONING_FIELDS, Target
from conformance.verdicts import CheckFailed, Measured, NotApplicable

BASIC = "reasoning/basic"
CHAT_MODEL = "reasoning/chat-model"
STREAM = "reasoning/stream"
CAPPED = "reasoning/capped"
MAX_TOKENS = "reasoning/max-tokens"
TOOLS = "reasoning/tools"
EFFORT = "reasoning/effort-"
INVALID_EFFORT = "reasoning/effort-invalid"
# the values of reasoning_effort OpenAI documents
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
QUESTION = "What is 17 + 25? Think it through, then answer with the number only."
FOLLOW_UP = "Now double it. Answer with the number only."
# a cap below any thinking: the claim that the cap covers it
CAP = 8
# the check that owns the claim that the row's basic request is answered, and which field thinking is in
FIELD = "reasoning.thinking_comes_in_one_field"
# the checks that own answers still starved by thinking (the run's allowance was too small), and thinking
# in the content
ROOM = STARVED
NOT_IN_CONTENT = THINKING_IN_CONTENT


def reasoning_request(
    target: Target, exchange_id: str, purpose: str, messages: list[dict[str, Any]], **params: Any
) -> Request | None:
    """A chat request to the reasoning model (the chat model unless the profile names one), its cap the
    answer's plus the most the model may think."""
    return chat_request(
        target,
        exchange_id,
        purpose,
        messages,
        role="reasoning",
        answer_tokens=ANSWER_TOKENS + target.limits.max_reasoning_tokens,
        thinking=False,
        **params,
    )


def ask(target: Target, exchange_id: str, purpose: str, **params: Any) -> Request | None:
    return reasoning_request(target, exchange_id, purpose, user(QUESTION), **params)


def judge_efforts(ctx: CheckContext, prefix: str, refused: Callable[[Exchange], bool], parameter: str) -> str:
    """Each documented effort's probe (``prefix`` + value) is answered, or refused with 400 naming ``parameter``
    (``refused`` says which): anything else fails, a server error above all."""
    accepted, declined, problems = [], [], []
    for value in EFFORTS:
        exchange = ctx.exchange(f"{prefix}{value}")
        if refused(exchange):
            declined.append(value)
            continue
        try:
            expect_status(exchange, 200)
        except CheckFailed as failure:
            problems.append(f"{value}: {failure.message}")
            continue
        accepted.append(value)
    if problems:
        raise CheckFailed(f"{len(problems)} of {len(EFFORTS)} efforts: " + "; ".join(problems[:2]))
    said = f"accepted: {', '.join(accepted)}" if accepted else "accepted: not one"
    return said + (f"; refused with 400 naming {parameter}: {', '.join(declined)}" if declined else "")


def allowance_said(measured: Measured, allowance: int) -> Measured:
    """A rate of answers written after their thinking, saying the allowance the run gave it."""
    note = f"limits.max_reasoning_tokens is {allowance}" + (f"; {measured.note}" if measured.note else "")
    return replace(measured, note=note)


def made_first(ctx: CheckContext, *probe_ids: str) -> None:
    """Read these probes before judging every answer, where the context has probes (a run: the recording
    counts them as read); a migration judges an app's own traffic, which has none."""
    if not ctx.probes:
        return
    for probe_id in probe_ids:
        with contextlib.suppress(NotApplicable):
            ctx.exchange(probe_id)


def declared(ctx: CheckContext) -> tuple[str, str] | None:
    """The field the target is held to, and who declares it (the profile wins over the dialect)."""
    if ctx.target.reasoning.field is not None:
        return ctx.target.reasoning.field, "the profile"
    if ctx.dialect.reasoning_field is not None:
        return ctx.dialect.reasoning_field, f"the {ctx.dialect.name} dialect"
    return None


@dataclass
class Read:
    """What one answer (or one stream, joined) shows of thinking."""

    exchange: Exchange
    thoughts: list[thinking.Thought]
    content: Any
    finish_reason: Any
    usage: Any
    streamed: bool = False
    # the answer calls a tool
    called: bool = False
    # in a stream: the chunk numbers of thinking deltas and of content deltas
    thought_chunks: list[int] = field(default_factory=list)
    content_chunks: list[int] = field(default_factory=list)

    @property
    def thought(self) -> thinking.Thought | None:
        return self.thoughts[0] if self.thoughts else None

    @property
    def reasoning_tokens(self) -> int | None:
        return thinking.reasoning_tokens(self.usage)

    @property
    def thought_at_all(self) -> bool:
        """Some sign that the model thought: text in a field, or reasoning tokens counted."""
        return self.thought is not None or (self.reasoning_tokens or 0) > 0

    @property
    def written(self) -> bool:
        """Something of the answer came: text, or a tool call."""
        return self.called or (isinstance(self.content, str) and bool(self.content.strip()))

    @property
    def starved(self) -> bool:
        """The thinking spent the whole cap: cut at it with nothing of the answer written."""
        return self.finish_reason == "length" and not self.written and self.thought_at_all


def read_answer(ctx: CheckContext, exchange: Exchange, *, answered_by: str | None = None) -> Read:
    """The thinking of a non-streamed answer (the check fails, or is blocked, where it cannot be read)."""
    body = expect_chat_completion(ctx, exchange, text=False, answered_by=answered_by)
    choice = body["choices"][0]
    message = choice["message"]
    thoughts = thinking.thoughts_in(message)
    read = Read(exchange, thoughts, message.get("content"), choice.get("finish_reason"), body.get("usage"))
    read.called = bool(message.get("tool_calls"))
    return read


def stream_written(exchange: Exchange, found: list[Chunk], index: int = 0) -> None:
    """A stream's answer was written apart from any thinking (see ``_expect.expect_written``): the deltas
    of choice ``index`` joined, with its finish_reason and the usage chunk, read as one message."""
    message: dict[str, Any] = {"content": joined_content(found, index)}
    finish = usage = None
    for chunk in found:
        if isinstance(chunk.value.get("usage"), dict):
            usage = chunk.value["usage"]
        for choice in choices_of(chunk):
            if choice.get("index") != index:
                continue
            delta = delta_of(choice)
            finish = choice.get("finish_reason") or finish
            if delta.get("tool_calls"):
                message["tool_calls"] = delta["tool_calls"]
            for name, value in delta.items():
                if name in REASONING_FIELDS and isinstance(value, str | list) and value:
                    message[name] = value
    expect_written(exchange, message, finish, usage)


def read_stream(exchange: Exchange, *, answered_by: str | None = None) -> Read:
    """The thinking of a stream's first choice, joined per field, and where its deltas came."""
    found: list[Chunk] = read_chunks(exchange, answered_by=answered_by)
    texts: dict[str, list[str]] = {}
    content: list[str] = []
    thought_chunks: list[int] = []
    content_chunks: list[int] = []
    finish: Any = None
    usage: Any = None
    called = False
    first = first_index(found)  # what chunk.choices[0] reads (a choice numbered 1 is the TypeScript check's)
    for chunk in found:
        if isinstance(chunk.value.get("usage"), dict):
            usage = chunk.value["usage"]
        for choice in choices_of(chunk):
            if choice.get("index", 0) != first:
                continue
            delta = delta_of(choice)
            for thought in thinking.thoughts_in(delta):
                texts.setdefault(thought.field, []).append(thought.text)
                thought_chunks.append(chunk.number)
            called = called or bool(delta.get("tool_calls"))
            piece = delta.get("content")
            if isinstance(piece, str) and piece:
                content.append(piece)
                content_chunks.append(chunk.number)
            finish = choice.get("finish_reason") or finish
    thoughts = [thinking.Thought(name, "".join(parts)) for name, parts in texts.items()]
    return Read(exchange, thoughts, "".join(content), finish, usage, True, called, thought_chunks, content_chunks)


def read_any(ctx: CheckContext, exchange: Exchange) -> Read | None:
    """The thinking of any chat answer or stream of the run; None where it cannot be read (its form is
    the form checks' to judge)."""
    from conformance.verdicts import Blocked, CheckFailed

    try:
        if isinstance(exchange.request.json, dict) and exchange.request.json.get("stream") is True:
            return read_stream(exchange)
        return read_answer(ctx, exchange)
    except (Blocked, CheckFailed):
        return None


def error_text(exchange: Exchange) -> str | None:
    """The error's message and param, as one text (what names a parameter)."""
    body = exchange.json_body
    error = body.value.get("error") if body.ok and isinstance(body.value, dict) else None
    param = error.get("param") if isinstance(error, dict) and isinstance(error.get("param"), str) else ""
    return f"{error_message(exchange) or ''} {param}".strip() or None


__all__ = [
    "BASIC",
    "CAP",
    "CAPPED",
    "CHAT_MODEL",
    "EFFORT",
    "EFFORTS",
    "FIELD",
    "FOLLOW_UP",
    "INVALID_EFFORT",
    "MAX_TOKENS",
    "NOT_IN_CONTENT",
    "QUESTION",
    "ROOM",
    "STREAM",
    "TOOLS",
    "Read",
    "allowance_said",
    "ask",
    "declared",
    "error_text",
    "judge_efforts",
    "made_first",
    "read_answer",
    "read_any",
    "read_stream",
    "reasoning_request",
    "stream_written",
]
