"""The claims a migration judges about an app's legacy POST /completions: one choice per prompt and ``n``, the
prompt echoed where ``echo`` asks for it, and log probabilities that describe the text where ``logprobs`` asks for
them (how evaluation harnesses score models through the endpoint).

The form of every answer is the run's form checks' (``completions.response_is_schema_valid`` and
``completions.streams_are_framed_and_valid``); an answer that is not a success is
``original.answers_with_the_same_status_class``'s.
"""

from __future__ import annotations

from typing import Any

from conformance.checks._completions import choices_of, joined_tokens
from conformance.checks.completions_logprobs import logprobs_of
from conformance.exchange import Exchange
from conformance.migrate.answers import STATUS_CLAIM
from conformance.migrate.claims import TrafficContext, claim
from conformance.migrate.claims_embeddings import _each
from conformance.verdicts import CheckFailed

Body = dict[str, Any]
COMPLETIONS = "/completions"


def _streamed(body: Body) -> bool:
    return body.get("stream") is True


def _prompts(body: Body) -> int | None:
    """How many prompts the request holds: a string or a list of ids is one, a list of them as many."""
    value = body.get("prompt")
    if isinstance(value, str):
        return 1
    if isinstance(value, list) and value:
        return 1 if all(isinstance(item, int) for item in value) else len(value)
    return None


def _n(body: Body) -> int:
    n = body.get("n", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


@claim(
    "completions.every_prompt_gets_n_choices",
    source="openai-completions",
    applies=lambda b: not _streamed(b) and _prompts(b) is not None,
    endpoint=COMPLETIONS,
)
def choices_per_prompt(ctx: TrafficContext) -> str:
    """An answer holds one choice per prompt and n, indexed 0, 1, ... in order."""
    wanted = (_prompts(ctx.body) or 0) * _n(ctx.body)

    def judge(exchange: Exchange) -> str | None:
        indexes = [choice.get("index") for choice in choices_of(exchange, STATUS_CLAIM)]
        if len(indexes) != wanted:
            return f"{len(indexes)} choices for {wanted} (prompts × n)"
        if indexes != list(range(wanted)):
            return f"the choices' indexes are {indexes[:6]}, not 0 to {wanted - 1} in order"
        return None

    return _each(ctx, judge, f"{wanted} choices in order")


@claim(
    "completions.echo_prepends_the_prompt",
    source="openai-completions",
    applies=lambda b: not _streamed(b) and b.get("echo") is True and isinstance(b.get("prompt"), str),
    endpoint=COMPLETIONS,
)
def echoed(ctx: TrafficContext) -> str:
    """With echo true, every choice's text starts with the prompt."""
    prompt = str(ctx.body.get("prompt"))

    def judge(exchange: Exchange) -> str | None:
        for choice in choices_of(exchange, STATUS_CLAIM):
            if not choice["text"].startswith(prompt):
                return f"echo true was ignored: the text {choice['text'][:60]!r} does not start with the prompt"
        return None

    return _each(ctx, judge, "the prompt echoed")


@claim(
    "completions.logprobs_describe_the_text",
    source="openai-completions-logprobs",
    applies=lambda b: not _streamed(b) and isinstance(b.get("logprobs"), int) and not isinstance(b["logprobs"], bool),
    endpoint=COMPLETIONS,
)
def described(ctx: TrafficContext) -> str:
    """Asked for logprobs, every choice has tokens, token_logprobs, top_logprobs and text_offset of one length,
    whose tokens join to its text."""

    def judge(exchange: Exchange) -> str | None:
        for choice in choices_of(exchange, STATUS_CLAIM):
            try:
                tokens = logprobs_of(exchange, choice)["tokens"]
            except CheckFailed as failure:
                return failure.message
            if not all(isinstance(token, str) for token in tokens) or joined_tokens(tokens) != choice["text"]:
                return f"$.choices[{choice.get('index')}].logprobs.tokens do not join to the text"
        return None

    return _each(ctx, judge, "log probabilities that describe the text")
