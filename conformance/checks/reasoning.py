"""Row ``reasoning``: a model that thinks before it answers, on chat completions.

Thinking comes apart from the answer (never in ``content``), in one field the run names (and the profile or
dialect may hold the target to), streamed as deltas of that field before the answer; it is counted in
``usage.completion_tokens_details.reasoning_tokens`` within ``completion_tokens``; the token cap covers it; an
assistant message carrying its thinking is accepted back, also in a tool loop. ``reasoning_effort`` is in
``reasoning_effort.py``. OpenAI's own chat API returns no thinking text: a target that does is named in the
report, and held to a field only where the profile or dialect declares one.
"""

from __future__ import annotations

from conformance import thinking, ts_oracle
from conformance.checks._every import every, judge_each
from conformance.checks._expect import shown, unsupported_if_refused
from conformance.checks._reasoning import (
    BASIC,
    CHAT_MODEL,
    FIELD,
    NOT_IN_CONTENT,
    QUESTION,
    STREAM,
    Read,
    ask,
    declared,
    made_first,
    read_answer,
    read_any,
    read_stream,
)
from conformance.checks._requests import ANSWER_TOKENS, chat_request, user
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Documented, Level, NotApplicable, Note


@probe(BASIC)
def basic(target: Target) -> Request | None:
    return ask(target, BASIC, "a question to think about, capped at the answer plus limits.max_reasoning_tokens")


@probe(CHAT_MODEL)
def chat_model(target: Target) -> Request | None:
    """The same question to the chat model, where the reasoning row asks another: whether the chat model
    thinks sizes every other request of the run (conformance.thinking)."""
    reasoning, chat = target.models.reasoning, target.models.chat
    if reasoning is None or chat is None or reasoning == chat:
        return None
    return chat_request(
        target,
        CHAT_MODEL,
        "the question of reasoning/basic to the chat model",
        user(QUESTION),
        answer_tokens=ANSWER_TOKENS + target.limits.max_reasoning_tokens,
        thinking=False,
    )


@probe(STREAM)
def streamed(target: Target) -> Request | None:
    return ask(
        target,
        STREAM,
        "the question of reasoning/basic, streamed with usage",
        stream=True,
        stream_options={"include_usage": True},
    )


def _fields_of(reads: list[Read], held: str | None = None) -> dict[str, list[str]]:
    """The exchanges that carry thinking, by the field it came in: the declared one where an answer carries it
    among others (vLLM sent both spellings while it renamed the field), else the first spelling."""
    by_field: dict[str, list[str]] = {}
    for read in reads:
        fields = [thought.field for thought in read.thoughts]
        if fields:
            by_field.setdefault(held if held in fields else fields[0], []).append(read.exchange.id)
    return by_field


def _answers(ctx: CheckContext) -> list[Read]:
    """Every chat answer and stream of the run that can be read (the others are the form checks')."""
    reads = []
    for exchange in [*every(ctx, "chat-completion", with_swept=False), *every(ctx, "stream", with_swept=False)]:
        read = read_any(ctx, exchange)
        if read is not None:
            reads.append(read)
    return reads


@check("reasoning", Level.MUST, source="reasoning-fields", needs=(BASIC, STREAM, CHAT_MODEL), runs_last=True)
def thinking_comes_in_one_field(ctx: CheckContext) -> str | Note | None:
    """A model's thinking comes back in one field, the same in every answer and stream of the run, and in the
    field the profile or dialect declares where one does (an app reads one name: vLLM's rename of
    reasoning_content to reasoning left such apps with nothing); OpenAI's chat API returns none."""
    if ctx.probes:  # the row's question is answered: this check owns that claim (the others are blocked by it)
        read_answer(ctx, ctx.exchange(BASIC))
    made_first(ctx, STREAM, CHAT_MODEL)
    answers = _answers(ctx)
    counted = next((read for read in answers if (read.reasoning_tokens or 0) > 0), None)
    marked = next((read for read in answers if thinking.marker_in(read.content) is not None), None)
    if marked is not None and not _fields_of(answers):
        raise Blocked(NOT_IN_CONTENT, f"{marked.exchange.describe()}: the thinking comes in the content")
    held = declared(ctx)
    by_field = _fields_of(answers, held[0] if held else None)
    if len(by_field) > 1:
        spread = "; ".join(f"`{name}` in {len(ids)} ({', '.join(ids[:2])})" for name, ids in by_field.items())
        raise CheckFailed(
            f"thinking comes in more than one field across the run: {spread}", details={"fields": by_field}
        )
    if not by_field:
        if held is not None and counted is not None:
            raise CheckFailed(
                f"{counted.exchange.describe()}: {held[1]} declares thinking in `{held[0]}`, but no answer returns "
                f"it there or anywhere (reasoning_tokens {counted.reasoning_tokens})"
            )
        if counted is not None:
            return f"thinking is withheld, as OpenAI's chat API does ({counted.reasoning_tokens} reasoning tokens)"
        raise NotApplicable("no answer shows thinking (no field, no reasoning tokens)")
    ((name, ids),) = by_field.items()
    if held is not None and name != held[0]:
        raise CheckFailed(
            f"{held[1]} declares thinking in `{held[0]}`, but it comes in `{name}` ({len(ids)} answers, first "
            f"{ids[0]}): an app reading `{held[0]}` gets nothing",
            details={"field": name, "declared": held[0]},
        )
    said = f"thinking comes in `{name}` in {len(ids)} answers and streams"
    if held is not None:
        raise Documented(held[1], f"{said}, as declared (OpenAI's chat API returns no thinking)")
    return Note(
        f"{said} (not part of OpenAI's chat API, which returns none; reasoning.field in the profile holds the target "
        "to it)",
        {"field": name},
    )


@check("reasoning", Level.MUST, source="reasoning-fields", needs=(BASIC, STREAM), runs_last=True)
def thinking_is_not_in_content(ctx: CheckContext) -> str | None:
    """No answer or stream of the run carries thinking in its content: no <think>, </think> or a model's other
    thinking marks (llama.cpp's --reasoning-format none and servers without a reasoning parser leave them there)."""
    made_first(ctx, BASIC, STREAM)
    reads = {read.exchange.id: read for read in _answers(ctx)}

    def judge(exchange: Exchange) -> None:
        read = reads[exchange.id]
        mark = thinking.marker_in(read.content)
        if mark is not None:
            at = read.content.find(mark)
            raise CheckFailed(
                f"{exchange.describe()}: the content holds {mark!r} at character {at}: "
                f"{shown(read.content[max(at - 20, 0) :], 80)}; thinking belongs apart from the answer"
            )

    readable = [read.exchange for read in reads.values()]
    return judge_each(readable, judge, noun="answers and streams", empty="the run got no readable chat answer")


@check("reasoning", Level.MUST, source="reasoning-fields", needs=(BASIC, STREAM))
def streamed_thinking_comes_first(ctx: CheckContext) -> str | None:
    """Streamed, the thinking arrives as deltas of the non-streamed answer's field, every one before the first
    delta of the answer, and joins to a non-empty text."""
    plain = read_answer(ctx, ctx.exchange(BASIC), answered_by=FIELD)
    exchange = ctx.exchange(STREAM)
    unsupported_if_refused(exchange, "streaming")
    stream = read_stream(exchange, answered_by="streaming.request_succeeds")
    if plain.thought is None:
        if stream.thought is not None:
            raise CheckFailed(
                f"{exchange.describe()}: the stream carries thinking in `{stream.thought.field}`, the same request "
                f"without streaming none ({plain.exchange.id})"
            )
        raise NotApplicable(f"{plain.exchange.describe()}: the answer returns no thinking to stream")
    if stream.thought is None:
        raise CheckFailed(
            f"{exchange.describe()}: no delta carries thinking, while the answer without streaming has it in "
            f"`{plain.thought.field}` ({len(plain.thought.text)} characters): a streaming app never sees it"
        )
    if stream.thought.field != plain.thought.field:
        raise Blocked(
            FIELD, f"{exchange.describe()}: streamed in `{stream.thought.field}`, not `{plain.thought.field}`"
        )
    if not stream.thought.text.strip():
        raise CheckFailed(f"{exchange.describe()}: the thinking deltas join to {stream.thought.text!r}")
    late = [number for number in stream.thought_chunks if stream.content_chunks and number > stream.content_chunks[0]]
    if late:
        raise CheckFailed(
            f"{exchange.describe()}: thinking delta in chunk {late[0]} after the answer began in chunk "
            f"{stream.content_chunks[0]}: thinking and answer are interleaved"
        )
    said = (
        f"{len(stream.thought_chunks)} thinking deltas in `{stream.thought.field}` before {len(stream.content_chunks)} "
        "of the answer"
    )
    return said + _typescript_helper(exchange, stream.thought)


def _typescript_helper(exchange: Exchange, joined: thinking.Thought) -> str:
    """What TypeScript's stream helper hands an app of the thinking (its finalChatCompletion() merges a field it
    does not know by keeping the last delta): a client's limit, said beside the verdict, never a failure."""
    helper = ts_oracle.judge(exchange, "chat-completion-stream").helper
    final = helper.data.get("final") if helper is not None and helper.accepted else None
    held = final.get("thinking", {}).get(joined.field) if isinstance(final, dict) else None
    if not isinstance(held, str) or held == joined.text:
        return ""
    return (
        f"; TypeScript's finalChatCompletion() hands the app {len(held)} of its {len(joined.text)} characters (the "
        "helper keeps the last delta of a field it does not know), Python's stream helper joins them"
    )


@check("reasoning", Level.SHOULD, source="openai-reasoning", needs=(BASIC,))
def reasoning_tokens_are_reported(ctx: CheckContext) -> str | None:
    """An answer that thought counts its thinking in usage.completion_tokens_details.reasoning_tokens, more than 0."""
    read = read_answer(ctx, ctx.exchange(BASIC), answered_by=FIELD)
    if read.thought is None and thinking.marker_in(read.content) is None:
        if read.reasoning_tokens is not None:
            return f"{read.reasoning_tokens} reasoning tokens"
        raise NotApplicable(f"{read.exchange.describe()}: no sign that the model thought (no thinking returned)")
    if not isinstance(read.usage, dict):
        raise Blocked("chat-completions.usage_is_reported", f"{read.exchange.describe()}: the answer has no usage")
    if read.reasoning_tokens is None:
        details = read.usage.get("completion_tokens_details")
        shown_thought = (read.thought.text if read.thought else read.content) or ""
        raise CheckFailed(
            f"{read.exchange.describe()}: the model thought ({len(shown_thought)} characters) but "
            f"usage.completion_tokens_details is {shown(repr(details), 80)}: its reasoning tokens are not counted"
        )
    if read.reasoning_tokens <= 0:
        raise CheckFailed(
            f"{read.exchange.describe()}: the model thought but usage.completion_tokens_details.reasoning_tokens is "
            f"{read.reasoning_tokens}"
        )
    return f"{read.reasoning_tokens} reasoning tokens"


@check("reasoning", Level.MUST, source="openai-reasoning", needs=(BASIC, STREAM), runs_last=True)
def reasoning_tokens_fit_in_completion_tokens(ctx: CheckContext) -> str | None:
    """Wherever reasoning_tokens is counted, it is part of completion_tokens: 0 <= reasoning_tokens <=
    completion_tokens, in every answer and usage chunk of the run."""
    made_first(ctx, BASIC, STREAM)
    counted = {read.exchange.id: read for read in _answers(ctx) if read.reasoning_tokens is not None}

    def judge(exchange: Exchange) -> None:
        read = counted[exchange.id]
        completion = read.usage.get("completion_tokens")
        if not isinstance(completion, int) or isinstance(completion, bool):
            return  # the usage's own form is chat-completions' to judge
        if not 0 <= (read.reasoning_tokens or 0) <= completion:
            raise CheckFailed(
                f"{exchange.describe()}: reasoning_tokens {read.reasoning_tokens} is not within completion_tokens "
                f"{completion}: the thinking is counted apart from the completion (clients add them up wrongly)"
            )

    return judge_each(
        [read.exchange for read in counted.values()],
        judge,
        noun="answers counting reasoning tokens",
        empty="no answer of the run counts reasoning tokens",
    )
