"""Row ``sampling``, where the answer depends on the model: seed, stop and temperature, over trials.

OpenAI calls ``seed`` best effort (identical requests give *mostly* the same output), and at
temperature 0 a hosted model's wording still varies now and then. So "the same seed gives the same
answer" and "stop only cuts the answer" are rates over pairs of trials, not one comparison; and
whether ``temperature`` and ``top_p`` do anything at all is measured by comparing sets of answers:
a target that accepts them and answers greedily whatever they say is told so.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter

from conformance.checks._every import CHAT_TEXT
from conformance.checks._expect import expect_chat_completion, expect_written, shown, succeeded, unsupported_if_refused
from conformance.checks._requests import chat_request, user
from conformance.checks._trials import measure, pair_label
from conformance.checks.sampling import STOP_TWIN, answer_text, stop_plan, stop_request
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable, Unsupported

SEED_QUESTION = "Invent a name for a cat."
# an invention: sampled answers to it differ from one another and from the greedy one
OPEN_QUESTION = "Make up a word that does not exist and say what it means, in one sentence."
OPEN_TOKENS = 24
# "mostly the same": at least half of the pairs
REPEATABLE = 0.5
TEMPERATURE_OWNER = "sampling.temperature_changes_the_answers"


def _seed_probe(exchange_id: str, which: str) -> None:
    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return chat_request(
            target,
            exchange_id,
            f"temperature 1 with seed 1234 ({which} of a pair)",
            user(SEED_QUESTION),
            temperature=1,
            seed=1234,
        )


_seed_probe("sampling/seed-repeat-1", "first")
_seed_probe("sampling/seed-repeat-2", "second")


def _open_probe(exchange_id: str, purpose: str, **params: float) -> None:
    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return chat_request(target, exchange_id, purpose, user(OPEN_QUESTION), answer_tokens=OPEN_TOKENS, **params)


_open_probe("sampling/open-cold", "an open question at temperature 0", temperature=0)
_open_probe("sampling/open-hot", "an open question at temperature 1", temperature=1)
# the likeliest token alone, however flat the model's distribution (a random model's is: with 0.01, the
# nucleus of a near-uniform distribution over 8,000 tokens holds 80 of them)
NARROW_TOP_P = 1e-6
_open_probe(
    "sampling/open-narrow",
    f"an open question at temperature 1 with top_p {NARROW_TOP_P:g}",
    temperature=1,
    top_p=NARROW_TOP_P,
)


def _text(ctx: CheckContext, exchange: Exchange, parameter: str) -> str:
    """The answer's text; a trial without one is left out (the chat-completions row reports why)."""
    unsupported_if_refused(exchange, parameter)
    body = expect_chat_completion(ctx, exchange, text=False)
    choice = body["choices"][0]
    expect_written(exchange, choice["message"], choice.get("finish_reason"), body.get("usage"))
    text = answer_text(exchange)
    if text is None:
        raise Blocked(CHAT_TEXT, f"{exchange.describe()} holds no answer text")
    return text


@check(
    "sampling",
    Level.SHOULD,
    source="openai-seed-best-effort",
    needs=("sampling/seed-repeat-1", "sampling/seed-repeat-2"),
    kind=Kind.MODEL,
    threshold=REPEATABLE,
)
def seed_makes_sampling_repeatable(ctx: CheckContext) -> Measured:
    """Two requests with the same seed at temperature 1 get the same answer, in at least half of the pairs
    (OpenAI: best effort, mostly the same)."""
    pairs = list(zip(ctx.trials("sampling/seed-repeat-1"), ctx.trials("sampling/seed-repeat-2"), strict=True))

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        first, second = (_text(ctx, exchange, "seed") for exchange in pair)
        return None if first == second else f"gave {shown(first, 50)} and then {shown(second, 50)}"

    return measure("the same seed gave the same answer", [(pair_label(n), p) for n, p in enumerate(pairs, 1)], judge)


@check(
    "sampling",
    Level.SHOULD,
    source="openai-chat-create",
    needs=(STOP_TWIN,),
    extra=stop_plan,
    kind=Kind.MODEL,
    threshold=REPEATABLE,
)
def stop_keeps_the_text_before_it(ctx: CheckContext) -> Measured:
    """At temperature 0 the answer with stop is the answer without it, cut before the stop sequence, in at least
    half of the pairs of trials."""
    twins = ctx.trials(STOP_TWIN)
    # an answer starved by thinking blocks the check; one not answered offers no word either (said below)
    with contextlib.suppress(CheckFailed, Unsupported):
        _text(ctx, twins[0], "stop")
    request = stop_request(ctx.target, twins[0])
    if request is None or answer_text(twins[0]) is None:
        raise NotApplicable("no stop sequence could be taken from the answer without stop")
    stop = request.json["stop"][0]
    stopped = ctx.fetch_trials(request)

    def judge(pair: tuple[Exchange, Exchange]) -> str | None:
        twin, exchange = pair
        succeeded(exchange, "sampling.stop_is_honoured")
        full, text = answer_text(twin), answer_text(exchange)
        if full is None or text is None:
            raise Blocked(CHAT_TEXT, f"{exchange.describe()} holds no answer text")
        expected = full[: full.index(stop)] if stop in full else full
        if text in (expected, expected.rstrip()):
            return None
        return f"gave {shown(text, 60)} with stop [{stop!r}], and {shown(expected, 60)} before it without"

    pairs = [(pair_label(n), pair) for n, pair in enumerate(zip(twins, stopped, strict=True), 1)]
    return measure(f"the answer with stop [{stop!r}] was the one without it, cut there", pairs, judge)


def _answers(ctx: CheckContext, probe_id: str, parameter: str) -> list[tuple[str, str]]:
    answers = []
    for exchange in ctx.trials(probe_id):
        try:
            answers.append((exchange.id, _text(ctx, exchange, parameter)))
        except (NotApplicable, Blocked):
            continue
    if not answers:
        raise Blocked(CHAT_TEXT, f"no trial of {probe_id} holds an answer text")
    return answers


@check(
    "sampling",
    Level.SHOULD,
    source="openai-chat-create",
    needs=("sampling/open-cold", "sampling/open-hot"),
    kind=Kind.MODEL,
    threshold=0.8,
)
def temperature_changes_the_answers(ctx: CheckContext) -> Measured:
    """temperature has an effect: asked to invent a word, at least 80 % of the answers at temperature 1 differ from
    every answer at temperature 0 (a target that answers greedily whatever it is told fails)."""
    cold_answers = _answers(ctx, "sampling/open-cold", "temperature")
    cold = {text for _, text in cold_answers}
    hot = _answers(ctx, "sampling/open-hot", "temperature")

    def judge(text: str) -> str | None:
        return None if text not in cold else f"gave {shown(text, 60)}, an answer given at temperature 0 too"

    measured = measure("the answer at temperature 1 differed from those at temperature 0", hot, judge)
    if measured.successes == 0 and len(cold | {text for _, text in hot}) == 1:
        note = (
            f"all {len(cold_answers) + len(hot)} answers at temperature 0 and 1 are the same text: the target accepts "
            "temperature and ignores it"
        )
    elif measured.successes <= measured.trials // 2:
        note = (
            "most answers at temperature 1 are answers given at temperature 0 too, as if the target accepts "
            "temperature and ignores it"
        )
    else:
        return measured
    return dataclasses.replace(measured, note=note)


@check(
    "sampling",
    Level.SHOULD,
    source="openai-chat-create",
    needs=("sampling/open-cold", "sampling/open-hot", "sampling/open-narrow"),
    kind=Kind.MODEL,
    threshold=0.5,
)
def top_p_narrows_the_answers(ctx: CheckContext) -> Measured:
    """top_p has an effect: at temperature 1 with top_p 1e-6 (only the likeliest token), at least half of the answers
    are an answer given at temperature 0."""
    ctx.trials("sampling/open-narrow")  # sent with the others: cited even when the check is blocked
    cold = Counter(text for _, text in _answers(ctx, "sampling/open-cold", "temperature"))
    hot = [text for _, text in _answers(ctx, "sampling/open-hot", "temperature")]
    if all(text in cold for text in hot):
        raise Blocked(
            TEMPERATURE_OWNER,
            "the answers at temperature 1 are those at temperature 0, so narrowing them shows nothing",
        )
    greedy = cold.most_common(1)[0][0]

    def judge(text: str) -> str | None:
        return None if text in cold else f"gave {shown(text, 60)}, not the temperature-0 answer {shown(greedy, 60)}"

    return measure(
        f"the answer with top_p {NARROW_TOP_P:g} was a temperature-0 one",
        _answers(ctx, "sampling/open-narrow", "top_p"),
        judge,
    )
