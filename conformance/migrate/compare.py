"""Comparisons of the candidate's answers with the answer the original upstream gave the app.

Tolerant of wording: what is compared is the kind of answer (an error or a success, and its status
class; text or tool calls; which tools; JSON or not where the app got JSON without asking for it;
why it finished). The status class is protocol, judged on every trial; the rest is what the model
chose, measured as the share of trials that did what the original did, against the agreement
threshold (``--agreement``), as a run measures its model checks. Where the request enforces the
outcome (tool_choice required, named or none; json_object; a strict schema), the claims in
``conformance.migrate.claims`` judge it instead, so a difference is reported once.
"""

from __future__ import annotations

from typing import Any

from conformance.checks._every import STARVED
from conformance.checks._expect import error_message, shown, unsupported_if_refused
from conformance.checks._reasoning import read_any
from conformance.checks.stream_form import read_chunks
from conformance.checks.streaming import judge_usage_chunk
from conformance.exchange import Exchange
from conformance.migrate.answers import Answer, json_value, read, tool_names
from conformance.migrate.arguments import AGREEMENT
from conformance.migrate.claims import TrafficContext, claim, readable
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable

Body = dict[str, Any]


def status_class(exchange: Exchange) -> str:
    if exchange.response is None or (exchange.failure is not None and exchange.failure.kind != "app-gone"):
        kind = exchange.failure.kind if exchange.failure is not None else "none"
        return f"no complete answer ({kind})"
    return f"{exchange.response.status // 100}xx"


def _said(exchange: Exchange) -> str:
    if exchange.response is None:
        return exchange.failure.message if exchange.failure is not None else "no answer"
    text = f"HTTP {exchange.response.status}"
    if exchange.response.status >= 400:
        text += f": {shown(error_message(exchange) or '', 160)}"
    return text


@claim(
    "original.answers_with_the_same_status_class",
    Level.MUST,
    source="llama-compat",
    applies=lambda b: True,
    comparison=True,
    chat_only=False,
)
def answers_with_the_same_status_class(ctx: TrafficContext) -> str:
    """Every answer is a success where the original was (an error where it was an error, of the same status class);
    traffic without an original answer is expected to succeed. A refusal that says the candidate does not support
    what the request asks for is reported as unsupported."""
    original = ctx.original
    answered = original is not None and original.response is not None
    expected = status_class(original) if answered else "2xx"  # type: ignore[arg-type]
    trials = ctx.candidate
    if not trials:
        raise NotApplicable("no answer to judge")
    different = [e for e in trials if status_class(e) != expected]
    source = f"the original answered {_said(original)}" if answered else "the request is expected to succeed"  # type: ignore[arg-type]
    if different:
        if expected == "2xx":
            unsupported_if_refused(different[0], f"{source}, but the request")
        raise CheckFailed(
            f"{source}; {len(different)} of {len(trials)} answers did not: {different[0].id}: {_said(different[0])}",
            details={"expected": expected, "got": sorted({status_class(e) for e in different})},
        )
    return f"{source}; so did {len(trials)} of {len(trials)} answers"


def _original(ctx: TrafficContext) -> Answer:
    """The original answer, read as the candidate's are; one that cannot be read is nothing to compare with."""
    if ctx.original is None or ctx.original.response is None or ctx.original.failure is not None:
        raise NotApplicable("there is no complete original answer to compare with")
    try:
        return read(ctx, ctx.original)
    except (Blocked, CheckFailed) as exc:
        raise NotApplicable(f"the original answer cannot be read: {getattr(exc, 'reason', exc)}") from None


def written(ctx: TrafficContext) -> list[tuple[Exchange, Answer]]:
    """The readable answers whose thinking did not spend the whole cap: a starved one says nothing of the model's
    choices (reasoning.answers_leave_room_after_thinking reports it); none left blocks the comparison."""
    answers = readable(ctx)
    kept = [(exchange, answer) for exchange, answer in answers if not _starved(ctx, exchange)]
    if not kept:
        raise Blocked(STARVED, f"{answers[0][0].describe()}: every answer was starved by its thinking")
    return kept


def _starved(ctx: TrafficContext, exchange: Exchange) -> bool:
    read = read_any(ctx, exchange)
    return read is not None and read.starved


def _free_choice(body: Body) -> bool:
    return bool(body.get("tools")) and body.get("tool_choice", "auto") == "auto"


def _kind(answer: Answer) -> str:
    return "tool calls" if answer.first.tool_calls else "text"


@claim(
    "original.answers_in_the_same_kind",
    Level.SHOULD,
    source="k2-vendor-verifier",
    applies=_free_choice,
    kind=Kind.MODEL,
    threshold=AGREEMENT,
    comparison=True,
)
def answers_in_the_same_kind(ctx: TrafficContext) -> Measured:
    """Offered tools with tool_choice "auto", the answer calls tools where the original did, and answers with text
    where the original did."""
    wanted = _kind(_original(ctx))
    answers = written(ctx)
    misses = [f"{e.id}: answered with {_kind(a)}" for e, a in answers if _kind(a) != wanted]
    return Measured(len(answers) - len(misses), len(answers), f"answered with {wanted}, as the original", misses)


@claim(
    "original.calls_the_same_tools",
    Level.SHOULD,
    source="k2-vendor-verifier",
    applies=lambda b: bool(b.get("tools")) and not isinstance(b.get("tool_choice"), dict),
    kind=Kind.MODEL,
    threshold=AGREEMENT,
    comparison=True,
)
def calls_the_same_tools(ctx: TrafficContext) -> Measured:
    """An answer that calls tools where the original did calls the same functions."""
    original = _original(ctx)
    if not original.first.tool_calls:
        raise NotApplicable("the original answer called no tool")
    wanted = tool_names(original.first)
    answers = [(e, a) for e, a in readable(ctx) if a.first.tool_calls]
    misses = [f"{e.id}: called {list(tool_names(a.first))}" for e, a in answers if tool_names(a.first) != wanted]
    return Measured(len(answers) - len(misses), len(answers), f"called {list(wanted)}, as the original", misses)


def _json_unenforced(body: Body) -> bool:
    response_format = body.get("response_format") if isinstance(body.get("response_format"), dict) else {}
    if response_format.get("type") == "json_object":
        return False
    schema = response_format.get("json_schema")
    return not (
        response_format.get("type") == "json_schema" and isinstance(schema, dict) and schema.get("strict") is True
    )


@claim(
    "original.json_validity_is_the_same",
    Level.SHOULD,
    source="openai-structured-outputs",
    applies=_json_unenforced,
    kind=Kind.MODEL,
    threshold=AGREEMENT,
    comparison=True,
)
def json_validity_is_the_same(ctx: TrafficContext) -> Measured:
    """Where the original answered with JSON text the request did not enforce, the answer is JSON too."""
    original = _original(ctx)
    if original.first.tool_calls or not json_value(original.first.content)[0]:
        raise NotApplicable("the original answer is not JSON text")
    answers = [(e, a) for e, a in written(ctx) if not a.first.tool_calls and a.first.finish_reason != "length"]
    misses = [f"{e.id}: {shown(a.first.content or '', 60)}" for e, a in answers if not json_value(a.first.content)[0]]
    return Measured(len(answers) - len(misses), len(answers), "answered with JSON, as the original", misses)


@claim(
    "original.finishes_for_the_same_reason",
    Level.SHOULD,
    source="openai-chat-object",
    applies=lambda b: True,
    kind=Kind.MODEL,
    threshold=AGREEMENT,
    comparison=True,
)
def finishes_for_the_same_reason(ctx: TrafficContext) -> Measured:
    """An answer of the original's kind finishes for the original's reason (stop, length, tool_calls,
    content_filter)."""
    original = _original(ctx)
    wanted = original.first.finish_reason
    choice = ctx.body.get("tool_choice")
    if choice in ("required", "none") or isinstance(choice, dict):
        raise NotApplicable("the tool_choice decides how the answer finishes: the tools claims judge it")
    if wanted == "length" and any(isinstance(ctx.body.get(p), int) for p in ("max_tokens", "max_completion_tokens")):
        raise NotApplicable("the original was cut at the request's token limit: the limit's own claim judges it")
    answers = [(e, a) for e, a in written(ctx) if _kind(a) == _kind(original)]
    misses = [f"{e.id}: finish_reason {a.first.finish_reason!r}" for e, a in answers if a.first.finish_reason != wanted]
    return Measured(len(answers) - len(misses), len(answers), f"finished with {wanted!r}, as the original", misses)


# prompt tokens a count must lack, besides half, before it is a difference (a message's own overhead is ~4)
FEWEST_MISSING = 8


def _prompt_tokens(exchange: Exchange, answer: Answer) -> int | None:
    """The prompt tokens an answer counts; a stream's only where its usage chunk is as it must be (otherwise
    streaming.usage_chunk_when_asked reports that, and the count says nothing)."""
    if answer.streamed:
        try:
            judge_usage_chunk(exchange, read_chunks(exchange))
        except (CheckFailed, Blocked):
            return None
    value = (answer.usage or {}).get("prompt_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@claim(
    "original.prompt_tokens_are_comparable",
    Level.SHOULD,
    source="openai-chat-object",
    applies=lambda b: True,
    comparison=True,
)
def prompt_tokens_are_comparable(ctx: TrafficContext) -> str:
    """The candidate counts (usage.prompt_tokens) at least half the prompt tokens the original counted: tokenizers
    and chat templates count differently (a template may add many), but a candidate that drops part of the history
    or the tools counts far fewer."""
    original = _original(ctx)  # none complete: nothing to compare with
    assert ctx.original is not None
    wanted = _prompt_tokens(ctx.original, original)
    if wanted is None:
        raise NotApplicable("the original answer reports no prompt_tokens")
    counted = [(e, count) for e, a in readable(ctx) if (count := _prompt_tokens(e, a)) is not None]
    if not counted:
        raise NotApplicable(
            "no answer reports prompt_tokens (chat-completions.usage_is_reported says whether it should)"
        )
    far = [(e, count) for e, count in counted if count < wanted / 2 and wanted - count >= FEWEST_MISSING]
    if far:
        exchange, count = far[0]
        raise CheckFailed(
            f"the original counted {wanted} prompt tokens; {len(far)} of {len(counted)} answers count fewer than half: "
            f"{exchange.id}: {count}",
            details={"original": wanted, "counted": [count for _, count in counted]},
        )
    return f"the original counted {wanted} prompt tokens; the answers {sorted({c for _, c in counted})}"
