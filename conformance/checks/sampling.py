"""Row ``sampling``: temperature, top_p, seed, max_tokens, max_completion_tokens and stop are
accepted, honoured where the answer shows it, and refused when out of range.

"Accepted but ignored" is detected from the answer itself: the token count against the limit, and
a stop sequence taken from the answer to the same request without ``stop`` (so the check works
whatever the model says, as long as the target is deterministic at temperature 0).
"""

from __future__ import annotations

from typing import Any

from conformance.checks._expect import (
    brief,
    expect_chat_completion,
    expect_refusal,
    expect_written,
    finish_reason_of,
    shown,
    unsupported_if_refused,
)
from conformance.checks._requests import chat_request, user
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable, Unsupported

COUNTING = "Count from one to one hundred in words, separated by spaces."
LIMIT = 5
STOP_TWIN = "sampling/stop-twin"


def _accepted_probe(exchange_id: str, purpose: str, **params: Any):
    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return chat_request(target, exchange_id, purpose, user("Name a colour."), **params)

    return build


_accepted_probe("sampling/temperature", "temperature 0.7", temperature=0.7)
_accepted_probe("sampling/top-p", "top_p 0.5", top_p=0.5)
_accepted_probe("sampling/seed", "seed 42", seed=42)


@probe("sampling/max-tokens")
def max_tokens(target: Target) -> Request | None:
    return chat_request(
        target,
        "sampling/max-tokens",
        f"a long answer cut by max_tokens {LIMIT}",
        user(COUNTING),
        answer_tokens=None,
        max_tokens=LIMIT,
    )


@probe("sampling/max-completion-tokens")
def max_completion_tokens(target: Target) -> Request | None:
    return chat_request(
        target,
        "sampling/max-completion-tokens",
        f"a long answer cut by max_completion_tokens {LIMIT}",
        user(COUNTING),
        answer_tokens=None,
        max_completion_tokens=LIMIT,
    )


@probe(STOP_TWIN)
def stop_twin(target: Target) -> Request | None:
    return chat_request(
        target,
        STOP_TWIN,
        "a long answer at temperature 0, without stop",
        user(COUNTING),
        answer_tokens=24,
        temperature=0,
    )


@probe("sampling/temperature-too-high", refusal=True)
def temperature_too_high(target: Target) -> Request | None:
    return chat_request(
        target,
        "sampling/temperature-too-high",
        "temperature 3 (OpenAI allows 0 to 2)",
        user("Name a colour."),
        temperature=3,
    )


@probe("sampling/top-p-too-high", refusal=True)
def top_p_too_high(target: Target) -> Request | None:
    return chat_request(
        target, "sampling/top-p-too-high", "top_p 1.5 (OpenAI allows 0 to 1)", user("Name a colour."), top_p=1.5
    )


def _accepted(ctx: CheckContext, exchange_id: str, parameter: str) -> str | None:
    exchange = ctx.exchange(exchange_id)
    unsupported_if_refused(exchange, parameter)
    expect_chat_completion(ctx, exchange, text=False)
    return None


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/temperature",))
def temperature_is_accepted(ctx: CheckContext) -> str | None:
    """A request with temperature 0.7 is answered."""
    return _accepted(ctx, "sampling/temperature", "temperature")


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/top-p",))
def top_p_is_accepted(ctx: CheckContext) -> str | None:
    """A request with top_p 0.5 is answered."""
    return _accepted(ctx, "sampling/top-p", "top_p")


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/seed",))
def seed_is_accepted(ctx: CheckContext) -> str | None:
    """A request with seed 42 is answered."""
    return _accepted(ctx, "sampling/seed", "seed")


def _honours_limit(ctx: CheckContext, exchange_id: str, parameter: str) -> str | None:
    exchange = ctx.exchange(exchange_id)
    unsupported_if_refused(exchange, parameter)
    body = expect_chat_completion(ctx, exchange, text=False)
    choice = body["choices"][0]
    finish = finish_reason_of(exchange, choice)
    usage = body.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        raise Blocked(
            "chat-completions.usage_is_reported",
            f"{exchange.describe()}: no usage.completion_tokens to compare with {parameter}",
        )
    if tokens > LIMIT:
        raise CheckFailed(
            f"{exchange.describe()}: {parameter}={LIMIT} but usage.completion_tokens is {tokens} "
            f"(finish_reason {finish!r}): the limit is ignored"
        )
    if tokens == LIMIT and finish != "length":
        raise CheckFailed(
            f"{exchange.describe()}: the answer used all {LIMIT} tokens of {parameter} but finish_reason is "
            f"{finish!r}, expected 'length'"
        )
    return f"{tokens} tokens, finish_reason {finish}"


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/max-tokens",))
def max_tokens_is_honoured(ctx: CheckContext) -> str | None:
    """max_tokens=5 gives at most 5 completion tokens, and finish_reason "length" when the answer is cut."""
    return _honours_limit(ctx, "sampling/max-tokens", "max_tokens")


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/max-completion-tokens",))
def max_completion_tokens_is_honoured(ctx: CheckContext) -> str | None:
    """max_completion_tokens=5 gives at most 5 completion tokens, and finish_reason "length" when cut."""
    return _honours_limit(ctx, "sampling/max-completion-tokens", "max_completion_tokens")


def stop_word(text: str) -> str | None:
    """A word of the answer, far enough in, that does not occur earlier: the stop sequence."""
    words = text.split()
    for position in range(2, len(words)):
        word = words[position]
        if len(word) >= 2 and word not in text[: text.index(word)]:
            return word
    return None


def answer_text(exchange: Exchange) -> str | None:
    body = exchange.json_body
    if exchange.status != 200 or not body.ok:
        return None
    try:
        text = body.value["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return text if isinstance(text, str) else None


def stop_request(target: Target, twin: Exchange) -> Request | None:
    text = answer_text(twin)
    word = stop_word(text) if isinstance(text, str) else None
    if word is None:
        return None
    return _stop_request(target, word)


def stop_plan(target: Target, dialect: Dialect) -> list[Request]:
    # the word comes from the twin's answer; a long word stands in for it
    request = _stop_request(target, "seventeen")
    return [request] if request is not None else []


def _stop_request(target: Target, word: str) -> Request | None:
    return chat_request(
        target,
        "sampling/stop",
        f"the stop-twin request with stop [{word!r}]",
        user(COUNTING),
        answer_tokens=24,
        temperature=0,
        stop=[word],
    )


@check("sampling", Level.MUST, source="openai-chat-create", needs=(STOP_TWIN,), extra=stop_plan)
def stop_is_honoured(ctx: CheckContext) -> str | None:
    """A stop sequence taken from the answer without stop does not appear in the answer with it."""
    twin = ctx.exchange(STOP_TWIN)
    if twin.status != 200:
        raise NotApplicable(
            f"{twin.describe()}: the same request without stop, which gives the stop word, was not answered "
            f"(HTTP {twin.status})"
        )
    expect_chat_completion(ctx, twin)
    request = stop_request(ctx.target, twin)
    if request is None:
        raise NotApplicable("the answer without stop has no word to stop at; cannot tell whether stop is honoured")
    stop = request.json["stop"][0]
    exchange = ctx.fetch(request)
    unsupported_if_refused(exchange, "stop")
    body = expect_chat_completion(ctx, exchange)
    text = body["choices"][0]["message"]["content"]
    if text.rstrip().endswith(stop):
        raise CheckFailed(
            f"{exchange.describe()}: with stop [{stop!r}] the answer ends with the stop sequence: "
            f"{shown(text[-80:], 90)}; the target stopped there but kept the stop text, which OpenAI leaves out"
        )
    if stop in text:
        raise CheckFailed(
            f"{exchange.describe()}: stop [{stop!r}] was sent but the answer goes on past it: {shown(text, 120)}; "
            "the stop sequence is ignored"
        )
    return f"stopped before {stop!r}"


def _refused(ctx: CheckContext, exchange_id: str, what: str) -> str | None:
    expect_refusal(ctx.exchange(exchange_id), (400,), what)
    return None


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/temperature-too-high",))
def out_of_range_temperature_is_refused(ctx: CheckContext) -> str | None:
    """temperature 3, outside OpenAI's range of 0 to 2, is refused with 400."""
    return _refused(ctx, "sampling/temperature-too-high", "temperature 3")


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/top-p-too-high",))
def out_of_range_top_p_is_refused(ctx: CheckContext) -> str | None:
    """top_p 1.5, outside 0 to 1, is refused with 400."""
    return _refused(ctx, "sampling/top-p-too-high", "top_p 1.5")


TOP_LOGPROBS = 2


@probe("sampling/logprobs")
def logprobs(target: Target) -> Request | None:
    return chat_request(
        target,
        "sampling/logprobs",
        f"logprobs with top_logprobs {TOP_LOGPROBS}",
        user("Name a colour."),
        logprobs=True,
        top_logprobs=TOP_LOGPROBS,
    )


@check("sampling", Level.MUST, source="openai-chat-create", needs=("sampling/logprobs",))
def logprobs_are_returned_when_asked(ctx: CheckContext) -> str | None:
    """logprobs: true with top_logprobs 2 returns choices[].logprobs.content, a token with its logprob and two
    alternatives for each token of the answer, or is refused with 400; it is not accepted and ignored."""
    exchange = ctx.exchange("sampling/logprobs")
    if exchange.status == 400:
        raise Unsupported(f"{exchange.describe()}: logprobs refused with HTTP 400, which OpenAI allows a model to do")
    body = expect_chat_completion(ctx, exchange, text=False)
    first = body["choices"][0]
    expect_written(exchange, first["message"], first.get("finish_reason"), body.get("usage"))
    problems = []
    for index, choice in enumerate(body["choices"]):
        logprobs = choice.get("logprobs")
        content = logprobs.get("content") if isinstance(logprobs, dict) else None
        where = f"$.choices[{index}].logprobs"
        if not isinstance(content, list) or not content:
            problems.append(f"{where} is {brief(logprobs, 60)}: the logprobs asked for are not there")
            continue
        for position, item in enumerate(content):
            alternatives = item.get("top_logprobs") if isinstance(item, dict) else None
            if not isinstance(item, dict) or not isinstance(item.get("token"), str) or not _number(item.get("logprob")):
                problems.append(f"{where}.content[{position}] has no token and logprob: {brief(item, 80)}")
                break
            if not isinstance(alternatives, list) or len(alternatives) != TOP_LOGPROBS:
                count = len(alternatives) if isinstance(alternatives, list) else brief(alternatives, 30)
                problems.append(f"{where}.content[{position}].top_logprobs holds {count}, expected {TOP_LOGPROBS}")
                break
    if problems:
        raise CheckFailed(f"{exchange.describe()}: " + "; ".join(problems[:3]))
    return f"{len(body['choices'][0]['logprobs']['content'])} tokens with {TOP_LOGPROBS} alternatives each"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
