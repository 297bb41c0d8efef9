"""Row ``completions``: the legacy POST /completions, as OpenAI's reference and both official clients read it.

An answer is a ``text_completion`` object whose ``choices`` each carry ``text``, ``index``, ``logprobs`` and
``finish_reason``, beside ``usage``. Every prompt form is sent (a string, strings with ``n``, token ids), with the
default and an explicit ``max_tokens``, a ``stop`` sequence and a ``seed``. ``echo``, ``logprobs`` and the two
together (how evaluation harnesses score a text), the streams and the refusals are in ``completions_logprobs``,
``completions_stream`` and ``completions_refusals``. The row asks the chat model unless the profile names a
``[models] completion``; its first request says whether the target serves the endpoint at all.
"""

from __future__ import annotations

from typing import Any

from conformance.checks._completions import (
    ADDED_TOKENS,
    DEFAULT_MAX_TOKENS,
    PROMPT,
    PROMPTS,
    choices_of,
    completion_request,
    names,
    needs_usage,
    usage_of,
)
from conformance.checks._every import COMPLETION_FORM, every, judge_each
from conformance.checks._expect import brief, error_message, expect_answered, expect_json, expect_status, expect_valid
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

BASIC = "completions/basic"
CAP = 8
N = 2
TOKENS = [1000, 1001, 1002, 1003, 1004, 1005]
STOP = [".", ","]
USAGE_OWNER = "completions.usage_counts_prompt_and_completion"


@probe(BASIC)
def basic(target: Target) -> Request | None:
    purpose = f"a prompt continued at temperature 0, max_tokens {CAP}"
    return completion_request(target, BASIC, purpose, {"prompt": PROMPT, "max_tokens": CAP, "temperature": 0})


@probe("completions/default-length")
def default_length(target: Target) -> Request | None:
    purpose = "a prompt without max_tokens (OpenAI's default: 16)"
    return completion_request(target, "completions/default-length", purpose, {"prompt": PROMPT, "temperature": 0})


@probe("completions/prompts")
def prompts(target: Target) -> Request | None:
    purpose = f"two prompts, n {N}"
    body = {"prompt": PROMPTS, "n": N, "max_tokens": 4, "temperature": 1}
    return completion_request(target, "completions/prompts", purpose, body)


@probe("completions/tokens")
def tokens(target: Target) -> Request | None:
    purpose = f"a prompt of {len(TOKENS)} token ids"
    body = {"prompt": TOKENS, "max_tokens": 4, "temperature": 0}
    return completion_request(target, "completions/tokens", purpose, body)


@probe("completions/stop")
def stop(target: Target) -> Request | None:
    purpose = f"stop {STOP}"
    body = {"prompt": PROMPT, "max_tokens": 24, "temperature": 0, "stop": STOP}
    return completion_request(target, "completions/stop", purpose, body)


@probe("completions/seeded")
def seeded(target: Target) -> Request | None:
    purpose = "temperature 1 with seed 7"
    body = {"prompt": PROMPT, "max_tokens": CAP, "temperature": 1, "seed": 7}
    return completion_request(target, "completions/seeded", purpose, body)


@probe("completions/suffix")
def suffix(target: Target) -> Request | None:
    purpose = "suffix ' and they lived happily ever after.'"
    body = {"prompt": PROMPT, "max_tokens": CAP, "temperature": 0, "suffix": " and they lived happily ever after."}
    return completion_request(target, "completions/suffix", purpose, body)


@probe("completions/best-of")
def best_of(target: Target) -> Request | None:
    purpose = "best_of 2 for n 1"
    body = {"prompt": PROMPT, "max_tokens": 4, "temperature": 1, "best_of": 2, "n": 1}
    return completion_request(target, "completions/best-of", purpose, body)


ANSWERED = (BASIC, "completions/default-length", "completions/prompts", "completions/tokens", "completions/stop")


@check("completions", Level.MUST, source="openai-completions", needs=ANSWERED, runs_last=True)
def response_is_schema_valid(ctx: CheckContext) -> str | None:
    """Every /completions answer of the run is a text_completion object: id, created, model, and choices each with
    text, index, logprobs and finish_reason (stop, length or content_filter), usage where given; both official
    clients read it (completions.create())."""
    notes = set()

    def judge(exchange: Exchange) -> None:
        note = expect_valid(ctx, exchange, expect_json(exchange, 200), "text-completion", "completion")
        if note:
            notes.add(note)

    verdict = judge_each(every(ctx, "completion"), judge, noun="completions", empty="no completion answer")
    return "; ".join([verdict, *sorted(notes)])


def _indexes(exchange: Exchange, expected: int) -> list[str]:
    choices = choices_of(exchange, "completions.every_prompt_gets_n_choices")
    indexes = [choice.get("index") for choice in choices]
    if len(choices) != expected:
        return [f"{exchange.describe()}: {exchange.purpose} gave {len(choices)} choices, expected {expected}"]
    if indexes != list(range(expected)):
        return [f"{exchange.describe()}: the choices' indexes are {indexes}, expected {list(range(expected))} in order"]
    return []


@check("completions", Level.MUST, source="openai-completions", needs=(BASIC, "completions/prompts"))
def every_prompt_gets_n_choices(ctx: CheckContext) -> str | None:
    """A prompt gets one choice; two prompts with n 2 get four, indexed 0 to 3 in order (prompt × n + k: the first
    prompt's two, then the second's)."""
    alone, listed = ctx.exchange(BASIC), ctx.exchange("completions/prompts")
    for exchange in (alone, listed):
        expect_answered(exchange)
    problems = _indexes(alone, 1) + _indexes(listed, len(PROMPTS) * N)
    if problems:
        raise CheckFailed("; ".join(problems))
    return None


def _counted(exchange: Exchange) -> tuple[int, list[dict[str, Any]]]:
    """The completion tokens of an answer (usage's) and its choices."""
    choices = choices_of(exchange)
    return needs_usage(exchange)[1], choices


@check("completions", Level.MUST, source="openai-completions", needs=(BASIC,))
def max_tokens_caps_the_text(ctx: CheckContext) -> str | None:
    """max_tokens 8 caps the completion at 8 tokens (usage.completion_tokens); finish_reason is length where the
    cap was reached and stop where the text ended before it."""
    exchange = ctx.exchange(BASIC)
    expect_answered(exchange)
    spent, choices = _counted(exchange)
    reason = choices[0].get("finish_reason")
    if reason not in ("stop", "length", "content_filter"):
        raise Blocked(COMPLETION_FORM, f"{exchange.describe()}: finish_reason is {reason!r}")
    if spent > CAP:
        raise CheckFailed(f"{exchange.describe()}: max_tokens {CAP} was not honoured: {spent} completion tokens")
    if spent == CAP and reason != "length":
        raise CheckFailed(f"{exchange.describe()}: the cap of {CAP} tokens was reached, finish_reason is {reason!r}")
    if spent < CAP and reason == "length":
        raise CheckFailed(f"{exchange.describe()}: finish_reason is 'length' after {spent} of {CAP} tokens")
    return f"{spent} tokens, finish_reason {reason!r}"


@check("completions", Level.MUST, source="openai-completions", needs=("completions/default-length",))
def max_tokens_defaults_to_16(ctx: CheckContext) -> str | None:
    """Without max_tokens, a completion is at most 16 tokens (OpenAI's default), not as long as the context
    allows."""
    exchange = ctx.exchange("completions/default-length")
    expect_answered(exchange)
    spent, choices = _counted(exchange)
    if spent > DEFAULT_MAX_TOKENS:
        text = choices[0].get("text")
        raise CheckFailed(
            f"{exchange.describe()}: without max_tokens the completion is {spent} tokens, not at most "
            f"{DEFAULT_MAX_TOKENS}: an app that relies on the default gets {len(text)} characters"
        )
    return f"{spent} tokens"


@check("completions", Level.MUST, source="openai-completions", needs=(BASIC, "completions/prompts"))
def usage_counts_prompt_and_completion(ctx: CheckContext) -> str | None:
    """usage gives prompt_tokens (more than 0), completion_tokens and their sum total_tokens; two prompts count
    more prompt tokens than the first alone."""
    counted = []
    for probe_id in (BASIC, "completions/prompts"):
        exchange = ctx.exchange(probe_id)
        choices_of(exchange, "completions.every_prompt_gets_n_choices")
        usage = usage_of(exchange)
        if usage is None:
            raise CheckFailed(f"{exchange.describe()}: no usage with prompt, completion and total token counts")
        prompt, completion, total = usage
        if prompt <= 0 or total != prompt + completion:
            raise CheckFailed(
                f"{exchange.describe()}: usage is prompt_tokens {prompt}, completion_tokens {completion}, "
                f"total_tokens {total}: expected the prompt's tokens and the sum"
            )
        counted.append(prompt)
    if counted[1] <= counted[0]:
        raise CheckFailed(
            f"two prompts count {counted[1]} prompt tokens, the first alone {counted[0]}: not every prompt is counted"
        )
    return None


@check("completions", Level.MUST, source="openai-completions", needs=("completions/tokens",))
def token_ids_are_a_prompt(ctx: CheckContext) -> str | None:
    """A prompt of token ids is continued, counted as the tokens it is (usage.prompt_tokens is the number of ids,
    give or take a BOS token the server adds)."""
    exchange = ctx.exchange("completions/tokens")
    expect_answered(exchange)
    choices_of(exchange)
    prompt = needs_usage(exchange)[0]
    if not len(TOKENS) <= prompt <= len(TOKENS) + ADDED_TOKENS:
        raise CheckFailed(
            f"{exchange.describe()}: usage.prompt_tokens is {prompt} for {len(TOKENS)} token ids: the ids were not "
            "read as the tokens they are (as text?)"
        )
    return None


@check("completions", Level.MUST, source="openai-completions", needs=("completions/stop",))
def stop_ends_the_text(ctx: CheckContext) -> str | None:
    """With stop sequences, the text holds none of them: generation ends before one, which is left out."""
    exchange = ctx.exchange("completions/stop")
    expect_answered(exchange)
    choice = choices_of(exchange)[0]
    text = choice["text"]
    found = [sequence for sequence in STOP if sequence in text]
    if found:
        raise CheckFailed(f"{exchange.describe()}: the text holds the stop sequence {found[0]!r}: {brief(text, 80)}")
    return f"finish_reason {choice.get('finish_reason')!r}: {brief(text, 60)}"


@check("completions", Level.SHOULD, source="openai-completions", needs=("completions/seeded",), trials=True)
def seed_repeats_the_text(ctx: CheckContext) -> str | None:
    """The same request with seed 7 at temperature 1, sent once per trial, gets the same text each time (OpenAI:
    best effort; open servers that take seed sample deterministically)."""
    sent = ctx.trials("completions/seeded")
    if len(sent) < 2:
        raise NotApplicable("one trial: the request was sent once (give --trials 2 or more)")
    first = sent[0]
    expect_answered(first)
    text = choices_of(first)[0]["text"]
    for exchange in sent[1:]:
        try:
            again = choices_of(exchange)[0]["text"]
        except Blocked:
            continue  # a trial that was not answered says nothing about the seed
        if again != text:
            raise CheckFailed(
                f"{exchange.describe()}: seed 7 gave another text than {first.describe()}: {brief(again, 60)} against "
                f"{brief(text, 60)}"
            )
    return f"{len(sent)} answers, one text"


def _honoured_or_refused(exchange: Exchange, parameter: str) -> int:
    """200, or 400 naming the parameter; anything else fails."""
    response = expect_status(exchange, 200, 400, 422)
    if response.status != 200:
        message = error_message(exchange) or ""
        if response.status != 400 or not names(exchange, parameter):
            raise CheckFailed(
                f"{exchange.describe()}: {parameter} was refused with HTTP {response.status} without naming it: "
                f"{brief(message, 100)}"
            )
    return response.status


@check("completions", Level.MUST, source="openai-completions", needs=("completions/suffix",))
def suffix_is_taken_or_refused(ctx: CheckContext) -> str | None:
    """suffix (text to insert before) is taken, or refused with 400 naming it."""
    exchange = ctx.exchange("completions/suffix")
    if _honoured_or_refused(exchange, "suffix") == 400:
        return "refused, naming suffix"
    choices_of(exchange)
    return None


@check("completions", Level.MUST, source="openai-completions", needs=("completions/best-of",))
def best_of_returns_n_choices(ctx: CheckContext) -> str | None:
    """best_of 2 with n 1 returns one choice (the best of two, made on the server), or best_of is refused with 400
    naming it."""
    exchange = ctx.exchange("completions/best-of")
    if _honoured_or_refused(exchange, "best_of") == 400:
        return "refused, naming best_of"
    choices = choices_of(exchange)
    if len(choices) != 1:
        raise CheckFailed(
            f"{exchange.describe()}: best_of 2 with n 1 returned {len(choices)} choices: the candidates are not the "
            "answer, only the best n of them"
        )
    return None


__all__ = ["BASIC", "USAGE_OWNER"]
