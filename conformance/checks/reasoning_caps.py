"""Row ``reasoning``: the token cap covers thinking. ``max_completion_tokens`` 8 bounds thinking and answer
together; an answer whose thinking spent the cap ends ``length``, never ``stop`` with nothing written (judged over
every answer of the run); ``max_tokens``, which OpenAI's reasoning models refuse, is honoured the same way or
refused with 400 naming it. A cap ignored altogether, thinking or not, is the sampling row's to report."""

from __future__ import annotations

from conformance.checks._every import CHAT_FORM, CHAT_TEXT, every, judge_each
from conformance.checks._expect import FINISH_REASONS, brief, expect_status
from conformance.checks._reasoning import (
    BASIC,
    CAP,
    CAPPED,
    MAX_TOKENS,
    Read,
    ask,
    error_text,
    made_first,
    read_answer,
    read_any,
)
from conformance.checks.sampling import LIMIT as SAMPLING_LIMIT
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable


@probe(CAPPED)
def capped(target: Target) -> Request | None:
    request = ask(target, CAPPED, f"the question of reasoning/basic with max_completion_tokens {CAP}")
    if request is None:
        return None
    body = {key: value for key, value in request.json.items() if key not in ("max_tokens", "max_completion_tokens")}
    return Request(CAPPED, "POST", "/chat/completions", request.purpose, json={**body, "max_completion_tokens": CAP})


@probe(MAX_TOKENS)
def max_tokens(target: Target) -> Request | None:
    request = ask(target, MAX_TOKENS, f"the question of reasoning/basic with max_tokens {CAP}, the older cap")
    if request is None:
        return None
    body = {key: value for key, value in request.json.items() if key not in ("max_tokens", "max_completion_tokens")}
    return Request(MAX_TOKENS, "POST", "/chat/completions", request.purpose, json={**body, "max_tokens": CAP})


# the sampling row's probe and check of each cap without thinking: a cap ignored altogether is theirs to report
SAMPLED_CAPS = {
    "max_completion_tokens": ("sampling/max-completion-tokens", "sampling.max_completion_tokens_is_honoured"),
    "max_tokens": ("sampling/max-tokens", "sampling.max_tokens_is_honoured"),
}


def _cap_ignored_anyway(ctx: CheckContext, parameter: str) -> None:
    """A cap the target ignores even where no thinking is involved (the sampling row's probe) blocks the claim
    that it covers thinking: one defect, reported there."""
    probe_id, owner = SAMPLED_CAPS[parameter]
    if not ctx.probes:
        return
    try:
        sampled = read_answer(ctx, ctx.exchange(probe_id))
    except (Blocked, CheckFailed, NotApplicable):
        return
    spent = _completion_tokens(sampled)
    if spent is not None and spent > SAMPLING_LIMIT:
        raise Blocked(
            owner, f"{sampled.exchange.describe()}: {parameter}={SAMPLING_LIMIT} is ignored without thinking too"
        )


CAP_CHECK = "reasoning.the_cap_covers_thinking"
STARVED_CHECK = "reasoning.starved_answers_end_with_length"


def _completion_tokens(read: Read) -> int | None:
    value = read.usage.get("completion_tokens") if isinstance(read.usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _judge_cap(ctx: CheckContext, read: Read, parameter: str) -> str:
    """The cap of ``CAP`` tokens covers thinking and answer together."""
    exchange = read.exchange
    spent = _completion_tokens(read)
    if read.finish_reason not in FINISH_REASONS:  # the chat completion's form: its own check reports it
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: finish_reason is {brief(read.finish_reason, 40)}")
    if not read.thought_at_all:
        raise NotApplicable(f"{exchange.describe()}: no sign that the model thought (no thinking, no reasoning tokens)")
    if spent is None:
        raise Blocked("chat-completions.usage_is_reported", f"{exchange.describe()}: no usage.completion_tokens")
    if spent > CAP:
        _cap_ignored_anyway(ctx, parameter)
        thought = f" of which {read.reasoning_tokens} reasoning" if read.reasoning_tokens is not None else ""
        raise CheckFailed(
            f"{exchange.describe()}: {parameter}={CAP} but completion_tokens is {spent}{thought}: the cap does not "
            "cover the thinking"
        )
    if read.finish_reason == "stop" and not read.written and read.thought_at_all:
        raise CheckFailed(
            f"{exchange.describe()}: the thinking spent the cap of {CAP} and the answer is empty, but finish_reason is "
            "'stop': an app takes the empty answer for a complete one"
        )
    if spent == CAP and read.finish_reason != "length":
        raise CheckFailed(
            f"{exchange.describe()}: all {CAP} tokens of {parameter} were spent, but finish_reason is "
            f"{read.finish_reason!r}, expected 'length'"
        )
    if spent < CAP and read.finish_reason == "stop":
        raise NotApplicable(f"{exchange.describe()}: the model thought and answered within {CAP} tokens")
    return f"{spent} completion tokens under {parameter}={CAP}, finish_reason {read.finish_reason}"


@check("reasoning", Level.MUST, source="openai-reasoning", needs=(CAPPED, "sampling/max-completion-tokens"))
def the_cap_covers_thinking(ctx: CheckContext) -> str | None:
    """max_completion_tokens bounds thinking and answer together: capped at 8 tokens while thinking, the answer
    spends at most 8 and, cut there, ends with finish_reason "length"."""
    return _judge_cap(ctx, read_answer(ctx, ctx.exchange(CAPPED)), "max_completion_tokens")


@check("reasoning", Level.MUST, source="openai-reasoning", needs=(CAPPED, BASIC), runs_last=True)
def starved_answers_end_with_length(ctx: CheckContext) -> str | None:
    """An answer whose thinking spent the cap ends with finish_reason "length", never "stop" with nothing written
    (an app takes that empty answer for a whole one), in every answer and stream of the run."""
    made_first(ctx, CAPPED, BASIC)
    reads = [
        read
        for e in [*every(ctx, "chat-completion", with_swept=False), *every(ctx, "stream", with_swept=False)]
        if (read := read_any(ctx, e))
    ]
    thought = {read.exchange.id: read for read in reads if read.thought_at_all}

    def judge(exchange: Exchange) -> None:
        read = thought[exchange.id]
        if read.finish_reason != "stop" or read.written:
            return
        if read.content is None:  # no text where one is owed: the chat completion's text, judged there
            raise Blocked(CHAT_TEXT, f"{exchange.describe()}: content null after thinking, finish_reason 'stop'")
        raise CheckFailed(
            f"{exchange.describe()}: the model thought, then the answer ended 'stop' with nothing written "
            f"(content {brief(read.content, 20)}): an answer starved by its thinking ends 'length'"
        )

    exchanges = [read.exchange for read in thought.values()]
    return judge_each(exchanges, judge, noun="answers that thought", empty="no answer shows thinking")


@check(
    "reasoning",
    Level.MUST,
    source="openai-reasoning",
    needs=(MAX_TOKENS, CAPPED, "sampling/max-tokens", "sampling/max-completion-tokens"),
)
def max_tokens_is_honoured_or_refused(ctx: CheckContext) -> str | None:
    """max_tokens (deprecated, and refused by OpenAI's reasoning models with 400 unsupported_parameter) is either
    refused with 400 naming it, or honoured as a cap over thinking and answer together."""
    exchange = ctx.exchange(MAX_TOKENS)
    response = exchange.response
    if response is not None and response.status == 400 and "max_tokens" in (error_text(exchange) or ""):
        return "refused with 400 naming max_tokens, as OpenAI's reasoning models do"
    expect_status(exchange, 200)
    try:
        return _judge_cap(ctx, read_answer(ctx, exchange), "max_tokens")
    except CheckFailed as failure:
        try:
            _judge_cap(ctx, read_answer(ctx, ctx.exchange(CAPPED)), "max_completion_tokens")
        except CheckFailed:  # the same defect under the newer cap: one verdict, there
            raise Blocked(CAP_CHECK, f"{failure.message} (as under max_completion_tokens)") from None
        except (Blocked, NotApplicable):
            pass
        raise
