"""Row ``parameters``: what the chat parameters whose effect is the model's choice of words change, measured over
trials (the sweep, ``parameters.py``, says whether each is accepted; these say whether it is *honoured*).

The document says what each does: ``frequency_penalty`` and ``presence_penalty`` make the model less likely to
repeat itself, a ``logit_bias`` of 100 is the "exclusive selection" of its token, ``verbosity`` "low" is more
concise than "high". Each request is sent at temperature 0 beside the request that differs from it by that one
parameter, trial by trial, and a pair counts when the difference shows. A target that accepts the parameter and
answers as if it were not there fails the claim (*accepted and ignored*), unless its dialect lets it ignore the
parameter; one that refuses it is the sweep's finding; a parameter the dialect lists as unsupported is left to
``errors-400.unsupported_parameters_are_ignored_or_refused``. Which token an id is depends on the tokenizer, so the
bias is judged by its form (the answer one piece said over and over) and by two ids giving two answers.

The deprecated ``functions`` and ``function_call`` are honoured when a call asked for by name comes back in their
own form, ``message.function_call``: a protocol check, since a named call is not the model's choice.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from conformance import jsonparse
from conformance.checks._every import CHAT_FORM, CHAT_TEXT
from conformance.checks._expect import brief, expect_chat_completion, expect_written, shown, unsupported_if_refused
from conformance.checks._requests import JSON_TOKENS, chat_request, user
from conformance.checks._tool_calls import WEATHER
from conformance.checks._trials import measure, pair_label
from conformance.checks.sampling import answer_text
from conformance.context import CheckContext
from conformance.dialects import load_dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.rates import Rate
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Documented, Kind, Level, Measured, NotApplicable

# the sweep sends each of these parameters at valid values: a refusal is its finding; a plain request not
# answered is the basic request's
ACCEPTED = "parameters.valid_values_are_accepted"
BASIC_CHECK = "chat-completions.basic_request_succeeds"
REPEATING = "Repeat after me: hello hello hello hello hello hello hello hello hello hello hello hello"
REPEAT_TOKENS = 24
PENALTY = 2.0
# two token ids that are ordinary pieces in every tokenizer the suite meets (below the 2,000 of the smallest
# vocabulary, above the special and byte tokens at the start of the large ones)
BIASED = ("1000", "1500")
BIAS_TOKENS = 8
EXPLAIN = "Explain why the sky is blue."
VERBOSE_TOKENS = 200
# "more concise": at most this share of the words at "high"
CONCISE = 0.8
# the share of pairs that must show the effect; at temperature 0 a target that honours the parameter shows it in
# every pair, one that ignores it in none
SHOWN = 0.5
_WORD = re.compile(r"\w+")


def _unsupported(target: Target, parameter: str) -> bool:
    return parameter in load_dialect(target.dialect).unsupported_parameters


def _effect_probe(exchange_id: str, purpose: str, question: str, tokens: int, parameter: str, **params: Any):
    """A probe at temperature 0; none where the dialect lists ``parameter`` (every one of ``a|b``) as unsupported."""

    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        if all(_unsupported(target, name) for name in parameter.split("|")):
            return None
        return chat_request(target, exchange_id, purpose, user(question), answer_tokens=tokens, temperature=0, **params)

    return build


REPEAT_PLAIN = "parameters/repeat-plain"
FREQUENCY = "parameters/repeat-frequency-penalty"
PRESENCE = "parameters/repeat-presence-penalty"
_effect_probe(
    REPEAT_PLAIN,
    "a repetitive answer at temperature 0, without a penalty",
    REPEATING,
    REPEAT_TOKENS,
    "frequency_penalty|presence_penalty",
)
_effect_probe(
    FREQUENCY,
    f"the same request with frequency_penalty {PENALTY:g}",
    REPEATING,
    REPEAT_TOKENS,
    "frequency_penalty",
    frequency_penalty=PENALTY,
)
_effect_probe(
    PRESENCE,
    f"the same request with presence_penalty {PENALTY:g}",
    REPEATING,
    REPEAT_TOKENS,
    "presence_penalty",
    presence_penalty=PENALTY,
)
BIAS_PROBES = tuple(f"parameters/logit-bias-{token}" for token in BIASED)
for _token, _probe_id in zip(BIASED, BIAS_PROBES, strict=True):
    _effect_probe(
        _probe_id,
        f"logit_bias +100 on token {_token} at temperature 0",
        "Say hello.",
        BIAS_TOKENS,
        "logit_bias",
        logit_bias={_token: 100},
    )
VERBOSITY_LOW, VERBOSITY_HIGH = "parameters/verbosity-low", "parameters/verbosity-high"
_effect_probe(VERBOSITY_LOW, 'verbosity "low" at temperature 0', EXPLAIN, VERBOSE_TOKENS, "verbosity", verbosity="low")
_effect_probe(
    VERBOSITY_HIGH, 'verbosity "high" at temperature 0', EXPLAIN, VERBOSE_TOKENS, "verbosity", verbosity="high"
)


def _answer(ctx: CheckContext, exchange: Exchange, parameter: str | None) -> tuple[str, bool]:
    """The answer's text and whether it was cut at the cap; a trial that holds none is left out of the count."""
    if parameter is not None and exchange.status in (400, 422) and _declared(ctx, parameter):
        raise NotApplicable(f"{exchange.describe()}: {parameter} refused, as the {ctx.dialect.name} dialect allows")
    if parameter is not None:
        unsupported_if_refused(exchange, parameter)
    body = expect_chat_completion(ctx, exchange, text=False, answered_by=ACCEPTED if parameter else BASIC_CHECK)
    choice = body["choices"][0]
    expect_written(exchange, choice["message"], choice.get("finish_reason"), body.get("usage"))
    text = answer_text(exchange)
    if text is None:
        raise Blocked(CHAT_TEXT, f"{exchange.describe()} holds no answer text")
    return text, choice.get("finish_reason") == "length"


def _declared(ctx: CheckContext, parameter: str) -> bool:
    return parameter in ctx.dialect.ignored_or_refused_parameters


def _pairs(ctx: CheckContext, first: str, second: str) -> list[tuple[str, tuple[Exchange, Exchange]]]:
    pairs = zip(ctx.trials(first), ctx.trials(second), strict=True)
    return [(pair_label(n), pair) for n, pair in enumerate(pairs, 1)]


def _honoured(ctx: CheckContext, parameter: str, threshold: float, measured: Measured) -> Measured:
    """The count, or a documented deviation where the dialect lets the target ignore the parameter."""
    if not measured.trials or Rate(measured.successes, measured.trials, threshold).verdict != "fail":
        return measured
    if _declared(ctx, parameter):
        raise Documented(
            f"the {ctx.dialect.name} dialect",
            f"{parameter} accepted and ignored, as the dialect allows: {measured.successes} of {measured.trials} "
            f"pairs showed its effect",
        )
    return dataclasses.replace(measured, note=f"the target accepts {parameter} and ignores it")


def _skipped_if_unsupported(ctx: CheckContext, parameter: str) -> None:
    if _unsupported(ctx.target, parameter):
        raise NotApplicable(
            f"the {ctx.dialect.name} dialect lists {parameter} as unsupported: "
            "errors-400.unsupported_parameters_are_ignored_or_refused judges it"
        )


def repeats(text: str) -> int:
    """How many of the text's words were said before in it (case and punctuation aside)."""
    words = _WORD.findall(text.lower())
    return len(words) - len(set(words))


def _repeats_less(ctx: CheckContext, parameter: str, probe_id: str) -> Measured:
    _skipped_if_unsupported(ctx, parameter)

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        plain, penalised = _answer(ctx, pair[0], None)[0], _answer(ctx, pair[1], parameter)[0]
        if repeats(plain) == 0:
            raise NotApplicable(f"the answer without {parameter} repeats no word: {shown(plain, 60)}")
        if repeats(penalised) < repeats(plain):
            return None
        same = " (the same answer)" if penalised == plain else ""
        return (
            f"repeated {repeats(penalised)} words with {parameter} {PENALTY:g}{same}: {shown(penalised, 60)}, and "
            f"{repeats(plain)} without it"
        )

    what = f"the answer with {parameter} {PENALTY:g} repeated fewer words than the one without"
    return _honoured(ctx, parameter, SHOWN, measure(what, _pairs(ctx, REPEAT_PLAIN, probe_id), judge))


@check(
    "parameters",
    Level.SHOULD,
    source="openai-parameter-effects",
    needs=(REPEAT_PLAIN, FREQUENCY),
    kind=Kind.MODEL,
    threshold=SHOWN,
)
def frequency_penalty_repeats_less(ctx: CheckContext) -> Measured:
    """frequency_penalty is honoured: asked to repeat a word, at temperature 0, the answer with frequency_penalty 2
    repeats fewer words than the answer without it, in at least half of the pairs of trials."""
    return _repeats_less(ctx, "frequency_penalty", FREQUENCY)


@check(
    "parameters",
    Level.SHOULD,
    source="openai-parameter-effects",
    needs=(REPEAT_PLAIN, PRESENCE),
    kind=Kind.MODEL,
    threshold=SHOWN,
)
def presence_penalty_repeats_less(ctx: CheckContext) -> Measured:
    """presence_penalty is honoured: asked to repeat a word, at temperature 0, the answer with presence_penalty 2
    repeats fewer words than the answer without it, in at least half of the pairs of trials."""
    return _repeats_less(ctx, "presence_penalty", PRESENCE)


def period(text: str) -> int | None:
    """The length of the piece the text says over and over (at least twice), or None: "ab ab ab" is 3."""
    text = text.strip()
    for size in range(1, len(text) // 2 + 1):
        if all(text[n] == text[n + size] for n in range(len(text) - size)):
            return size
    return None


@check(
    "parameters",
    Level.SHOULD,
    source="openai-parameter-effects",
    needs=BIAS_PROBES,
    kind=Kind.MODEL,
    threshold=SHOWN,
)
def logit_bias_selects_the_token(ctx: CheckContext) -> Measured:
    """logit_bias is honoured: at temperature 0, a bias of +100 on token 1000 makes the answer that token said over
    and over, a bias of +100 on token 1500 another, in at least half of the pairs of trials ("exclusive
    selection of the relevant token")."""
    _skipped_if_unsupported(ctx, "logit_bias")

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        texts = [_answer(ctx, exchange, "logit_bias")[0] for exchange in pair]
        for token, text in zip(BIASED, texts, strict=True):
            if not text.strip():
                raise NotApplicable(f"token {token} says nothing in this tokenizer (an empty answer)")
        loose = [f"+100 on {token} gave {shown(text, 50)}" for token, text in zip(BIASED, texts, strict=True)]
        if texts[0] == texts[1]:
            return f"gave the same answer whichever token was biased: {shown(texts[0], 50)}"
        unrepeated = [why for why, text in zip(loose, texts, strict=True) if period(text) is None]
        return f"{'; '.join(unrepeated)}, no token said over and over" if unrepeated else None

    what = f"+100 on tokens {' and '.join(BIASED)} gave two answers, each one token said over and over"
    return _honoured(ctx, "logit_bias", SHOWN, measure(what, _pairs(ctx, *BIAS_PROBES), judge))


def _length(text: str) -> int:
    return len(_WORD.findall(text))


@check(
    "parameters",
    Level.SHOULD,
    source="openai-parameter-effects",
    needs=(VERBOSITY_LOW, VERBOSITY_HIGH),
    kind=Kind.MODEL,
    threshold=SHOWN,
)
def verbosity_changes_the_length(ctx: CheckContext) -> Measured:
    """verbosity is honoured: at temperature 0, the answer at verbosity "low" has at least a fifth fewer words than
    the answer at "high", in at least half of the pairs of trials (lower values "result in more concise responses";
    a word or two more, as a hosted model's wording varies, is not conciseness)."""
    _skipped_if_unsupported(ctx, "verbosity")

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        (low, low_cut), (high, _) = (_answer(ctx, exchange, "verbosity") for exchange in pair)
        if low == high:
            return f'gave the same answer at "low" and "high": {shown(low, 50)}'
        if _length(low) <= CONCISE * _length(high):
            return None
        if low_cut:
            raise NotApplicable(f'the answer at "low" reached the cap of {VERBOSE_TOKENS} tokens, as long as it could')
        return f'gave {_length(low)} words at "low" and {_length(high)} at "high", not a fifth fewer'

    what = 'the answer at verbosity "low" had a fifth fewer words than the one at "high", or more'
    return _honoured(ctx, "verbosity", SHOWN, measure(what, _pairs(ctx, VERBOSITY_LOW, VERBOSITY_HIGH), judge))


LEGACY = "parameters/functions-named"
# the deprecated form of a function: no strict flag
LEGACY_FUNCTION = {key: value for key, value in WEATHER["function"].items() if key != "strict"}


@probe(LEGACY)
def functions_named(target: Target) -> Request | None:
    return chat_request(
        target,
        LEGACY,
        "the deprecated functions, with function_call naming get_weather",
        user("What is the weather in Paris?"),
        answer_tokens=JSON_TOKENS,
        functions=[LEGACY_FUNCTION],
        function_call={"name": LEGACY_FUNCTION["name"]},
    )


@check("parameters", Level.SHOULD, source="openai-legacy-functions", needs=(LEGACY,))
def deprecated_functions_are_honoured(ctx: CheckContext) -> str | None:
    """The deprecated functions with function_call naming one are answered in their own form, as api.openai.com
    still answers them: message.function_call with that name and arguments that are a JSON object, or refused as
    not supported; not answered as if they had not been sent (an app written for them finds no call)."""
    exchange = ctx.exchange(LEGACY)
    if exchange.status in (400, 422) and _declared(ctx, "functions"):
        raise NotApplicable(f"{exchange.describe()}: functions refused, as the {ctx.dialect.name} dialect allows")
    unsupported_if_refused(exchange, "functions")
    body = expect_chat_completion(ctx, exchange, text=False, answered_by=ACCEPTED)
    message = body["choices"][0]["message"]
    expect_written(exchange, message, body["choices"][0].get("finish_reason"), body.get("usage"))
    call = message.get("function_call")
    if call is None:
        if message.get("tool_calls"):
            got = "tool_calls, the form of tools, which code written for functions does not read"
        else:
            content = message.get("content")
            said = shown(content, 60) if isinstance(content, str) else brief(content, 60)
            got = f"text as if functions had not been sent: {said}"
            if _declared(ctx, "functions"):
                raise Documented(f"the {ctx.dialect.name} dialect", f"functions accepted and ignored: answered {got}")
        raise CheckFailed(f"{exchange.describe()}: no message.function_call; answered with {got}")
    if not isinstance(call, dict) or call.get("name") != LEGACY_FUNCTION["name"]:
        raise CheckFailed(f"{exchange.describe()}: message.function_call is {brief(call, 80)}, expected get_weather")
    arguments = call.get("arguments")
    if not isinstance(arguments, str):  # the form of every chat completion is judged once, by the form check
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: message.function_call.arguments is {brief(arguments, 60)}")
    try:
        parsed = jsonparse.loads(arguments)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise CheckFailed(
            f"{exchange.describe()}: message.function_call.arguments is {brief(arguments, 80)}, not a JSON object "
            "in a string"
        )
    return f"function_call get_weather({shown(arguments, 60)})"
