"""Row ``completions``: ``echo`` and ``logprobs``, the two parameters evaluation harnesses score models by.

lm-evaluation-harness and HELM send a text with ``echo`` and ``logprobs`` and read the log probability of every
token of it: a server that ignores ``echo``, or gives log probabilities only for the tokens it generated, turns
their scores to chance without an error. OpenAI answers ``logprobs`` with four lists of one length (``tokens``,
``token_logprobs``, ``top_logprobs``, ``text_offset``) that describe the text: the tokens join to it, each offset
is where its token starts, counted from the start of the prompt. Where a model does not take them, OpenAI refuses
them with 400 (gpt-3.5-turbo-instruct: "Setting 'echo' and 'logprobs' at the same time is not supported").
"""

from __future__ import annotations

from typing import Any

from conformance.checks._completions import (
    ADDED_TOKENS,
    PROMPT,
    choices_of,
    completion_request,
    joined_tokens,
    names,
    usage_of,
)
from conformance.checks._expect import brief, error_message, expect_status
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

LOGPROBS = 2
ECHO = "completions/echo"
WITH_LOGPROBS = "completions/logprobs"
SCORED = "completions/echo-logprobs"
LISTS = ("tokens", "token_logprobs", "top_logprobs", "text_offset")
OWNER = "completions.logprobs_describe_the_text"
# a log probability above 0 by rounding
EPSILON = 1e-4


@probe(ECHO)
def echo(target: Target) -> Request | None:
    body = {"prompt": PROMPT, "max_tokens": 4, "temperature": 0, "echo": True}
    return completion_request(target, ECHO, "echo true", body)


@probe(WITH_LOGPROBS)
def logprobs(target: Target) -> Request | None:
    body = {"prompt": PROMPT, "max_tokens": 6, "temperature": 0, "logprobs": LOGPROBS}
    return completion_request(target, WITH_LOGPROBS, f"logprobs {LOGPROBS}", body)


@probe(SCORED)
def echo_logprobs(target: Target) -> Request | None:
    # how lm-evaluation-harness scores a text: the prompt echoed with the log probability of each of its tokens
    body = {"prompt": PROMPT, "max_tokens": 1, "temperature": 0, "echo": True, "logprobs": 1}
    return completion_request(target, SCORED, "echo true with logprobs 1 (how evaluation harnesses score)", body)


def _taken(exchange: Exchange, *parameters: str) -> bool:
    """True where the request was answered; False where it was refused with 400 naming one of the parameters;
    any other answer fails."""
    response = expect_status(exchange, 200, 400, 422)
    if response.status == 200:
        return True
    if response.status == 400 and any(names(exchange, parameter) for parameter in parameters):
        return False
    raise CheckFailed(
        f"{exchange.describe()}: {exchange.purpose} was refused with HTTP {response.status} without naming "
        f"{' or '.join(parameters)}: {brief(error_message(exchange) or '', 100)}"
    )


@check("completions", Level.MUST, source="openai-completions", needs=(ECHO,))
def echo_prepends_the_prompt(ctx: CheckContext) -> str | None:
    """With echo true the text is the prompt followed by the completion; or echo is refused with 400 naming it."""
    exchange = ctx.exchange(ECHO)
    if not _taken(exchange, "echo"):
        return f"refused: {brief(error_message(exchange) or '', 80)}"
    text = choices_of(exchange)[0]["text"]
    if not text.startswith(PROMPT):
        raise CheckFailed(
            f"{exchange.describe()}: echo true was ignored: the text does not start with the prompt: {brief(text, 80)}"
        )
    return None


def logprobs_of(exchange: Exchange, choice: dict[str, Any], owner: str | None = None) -> dict[str, list[Any]]:
    """The four lists of a choice's logprobs, of one length; a choice without them fails the check (``owner``
    None: the check that owns the claim), or blocks it by ``owner``."""
    value = choice.get("logprobs")
    where = f"{exchange.describe()}: $.choices[0].logprobs"
    lists = {name: value.get(name) for name in LISTS} if isinstance(value, dict) else {}
    if not lists or not all(isinstance(item, list) for item in lists.values()):
        what = "is null" if value is None else f"holds no {', '.join(LISTS)} lists ({brief(value, 80)})"
        problem = f"{where} {what}: the log probabilities asked for are not there"
        raise CheckFailed(problem) if owner is None else Blocked(owner, problem)
    lengths = {name: len(item) for name, item in lists.items()}
    if len(set(lengths.values())) > 1:
        problem = f"{where}: the lists differ in length: {lengths}"
        raise CheckFailed(problem) if owner is None else Blocked(owner, problem)
    return lists


def _described(exchange: Exchange, text: str, lists: dict[str, list[Any]], top: int, *, echoed: bool) -> list[str]:
    """What is wrong with logprobs against the text they describe (``echoed``: the text starts with the prompt,
    whose first token has nothing before it to be scored by). Where offsets count from is
    ``text_offsets_count_from_the_prompt``'s claim: here they must step by the tokens' lengths."""
    tokens, values, tops, offsets = (lists[name] for name in LISTS)
    where = f"{exchange.describe()}: $.choices[0].logprobs"
    if not all(isinstance(token, str) for token in tokens):
        return [f"{where}.tokens holds items that are not strings"]
    if joined_tokens(tokens) != text:
        return [f"{where}.tokens join to {brief(joined_tokens(tokens), 60)}, not to the text {brief(text, 60)}"]
    problems = []
    for number, value in enumerate(values):
        if value is None and number == 0 and echoed:
            continue  # the first echoed token has nothing before it: OpenAI gives it no log probability
        if not isinstance(value, int | float) or isinstance(value, bool) or value > EPSILON:
            problems.append(f"{where}.token_logprobs[{number}] is {brief(value, 30)}, not a log probability (≤ 0)")
            break
    for number, alternatives in enumerate(tops):
        if alternatives is None and number == 0 and echoed:
            continue
        if not isinstance(alternatives, dict) or not 1 <= len(alternatives) <= top + 1:
            problems.append(
                f"{where}.top_logprobs[{number}] is {brief(alternatives, 60)}, not the {top} most likely tokens "
                f"(at most {top + 1} with the chosen one)"
            )
            break
    if offsets and isinstance(offsets[0], int) and not any(token.startswith("bytes:") for token in tokens):
        expected = [offsets[0] + sum(len(token) for token in tokens[:number]) for number in range(len(tokens))]
        if offsets != expected:
            problems.append(f"{where}.text_offset is {offsets[:6]}, not where each token starts ({expected[:6]})")
    return problems


@check("completions", Level.MUST, source="openai-completions-logprobs", needs=(WITH_LOGPROBS,))
def logprobs_describe_the_text(ctx: CheckContext) -> str | None:
    """logprobs 2 gives, for the completion's tokens, four lists of one length: tokens that join to the text, a log
    probability (≤ 0) each, the 2 most likely alternatives each (3 with the chosen token), and where each token
    starts; or logprobs is refused with 400 naming it."""
    exchange = ctx.exchange(WITH_LOGPROBS)
    if not _taken(exchange, "logprobs"):
        return f"refused: {brief(error_message(exchange) or '', 80)}"
    choice = choices_of(exchange)[0]
    lists = logprobs_of(exchange, choice)
    problems = _described(exchange, choice["text"], lists, LOGPROBS, echoed=False)
    usage = usage_of(exchange)
    if usage is not None and len(lists["tokens"]) != usage[1]:
        problems.append(f"{len(lists['tokens'])} tokens have logprobs, usage counts {usage[1]} completion tokens")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{len(lists['tokens'])} tokens described"


@check("completions", Level.SHOULD, source="openai-completions-logprobs", needs=(WITH_LOGPROBS,))
def text_offsets_count_from_the_prompt(ctx: CheckContext) -> str | None:
    """Without echo, the first token's text_offset is the prompt's length: OpenAI counts offsets from the start of
    the prompt, so that they index prompt + text."""
    exchange = ctx.exchange(WITH_LOGPROBS)
    if expect_status(exchange, 200, 400, 422).status != 200:
        raise NotApplicable("logprobs is refused (completions.logprobs_describe_the_text)")
    _owner_judged(exchange)
    offsets = logprobs_of(exchange, choices_of(exchange, OWNER)[0], OWNER)["text_offset"]
    if not offsets:
        raise NotApplicable("the completion has no tokens")
    if offsets[0] != len(PROMPT):
        raise CheckFailed(
            f"{exchange.describe()}: text_offset starts at {offsets[0]}, not at the prompt's length {len(PROMPT)}: "
            "offsets index the completion alone, not prompt + completion as OpenAI's do"
        )
    return None


def _owner_judged(exchange: Exchange) -> None:
    """Blocked by ``logprobs_describe_the_text`` where the logprobs of its request do not describe its text: the
    same defect shows in every answer with logprobs, and is reported there once."""
    if expect_status(exchange, 200, 400, 422).status != 200:
        return
    try:
        choice = choices_of(exchange, OWNER)[0]
        lists = logprobs_of(exchange, choice, OWNER)
        problems = _described(exchange, choice["text"], lists, LOGPROBS, echoed=False)
    except CheckFailed as failure:
        problems = [failure.message]
    if problems:
        raise Blocked(OWNER, problems[0])


@check("completions", Level.MUST, source="openai-completions-logprobs", needs=(SCORED, WITH_LOGPROBS))
def echoed_logprobs_cover_the_prompt(ctx: CheckContext) -> str | None:
    """echo true with logprobs 1 (how lm-evaluation-harness scores a text) gives log probabilities for every token
    of prompt and completion: the tokens join to the echoed text and count the prompt's tokens too, the first may
    have none (null); or the combination is refused with 400 naming echo or logprobs, as OpenAI's
    gpt-3.5-turbo-instruct does."""
    exchange = ctx.exchange(SCORED)
    if not _taken(exchange, "echo", "logprobs"):
        return f"refused: {brief(error_message(exchange) or '', 80)}"
    choice = choices_of(exchange)[0]
    text = choice["text"]
    if not text.startswith(PROMPT):
        raise Blocked("completions.echo_prepends_the_prompt", f"{exchange.describe()}: the text is not echoed")
    _owner_judged(ctx.exchange(WITH_LOGPROBS))
    lists = logprobs_of(exchange, choice)
    usage = usage_of(exchange)
    if usage is not None:
        counted = len(lists["tokens"])
        if not usage[0] + usage[1] - ADDED_TOKENS <= counted <= usage[0] + usage[1]:
            raise CheckFailed(
                f"{exchange.describe()}: {counted} tokens have log probabilities, but the prompt has {usage[0]} and "
                f"the completion {usage[1]}: the prompt's tokens are not scored (an evaluation that reads them "
                "scores at chance)"
            )
    problems = _described(exchange, text, lists, 1, echoed=True)
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{len(lists['tokens'])} tokens scored"


__all__ = ["ECHO", "SCORED", "WITH_LOGPROBS", "logprobs_of"]
