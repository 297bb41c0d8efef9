"""The claims a migration judges about an app's POST /embeddings, and the comparisons of its vectors with the
original answer: by shape across any migration (an index built on the original's vectors holds only vectors of
their length), by value where the model is the same.

The form of every answer is the run's form check's (``embeddings.response_is_schema_valid``); an answer that is
not a success is ``original.answers_with_the_same_status_class``'s.
"""

from __future__ import annotations

import math
from typing import Any

from conformance.checks._embeddings import SAME, Vector, cosine, data_of, decode_base64, described, vectors_of
from conformance.checks.embeddings import clients_say
from conformance.exchange import Exchange
from conformance.migrate.answers import STATUS_CLAIM
from conformance.migrate.claims import TrafficContext, claim
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

Body = dict[str, Any]
EMBEDDINGS = "/embeddings"


def _inputs(body: Body) -> int | None:
    """How many embeddings the request asks for: one per string or list of ids, one for a list of ids."""
    value = body.get("input")
    if isinstance(value, str):
        return 1
    if isinstance(value, list) and value:
        return 1 if all(isinstance(item, int) for item in value) else len(value)
    return None


def _answers(ctx: TrafficContext) -> list[Exchange]:
    trials = ctx.candidate
    if not trials:
        raise NotApplicable("no answer to judge")
    return trials


def _each(ctx: TrafficContext, judge: Any, what: str) -> str:
    """Every trial's answer holds what ``judge`` claims; answers that are not a success are the status claim's."""
    judged, failures, blocked = 0, [], None
    for exchange in _answers(ctx):
        try:
            problem = judge(exchange)
        except Blocked as exc:
            blocked = blocked or exc
            continue
        judged += 1
        if problem:
            failures.append((exchange, problem))
    if failures:
        shown = "; ".join(f"{exchange.id}: {problem}" for exchange, problem in failures[:2])
        raise CheckFailed(
            f"{len(failures)} of {judged} answers: {shown}", details={"failing": [e.id for e, _ in failures]}
        )
    if not judged:
        raise blocked or NotApplicable("no answer to judge")
    return f"{what} in {judged} of {judged} answers"


@claim(
    "embeddings.strings_are_embedded_one_per_input",
    source="openai-embeddings",
    applies=lambda b: _inputs(b) is not None,
    endpoint=EMBEDDINGS,
)
def one_embedding_per_input(ctx: TrafficContext) -> str:
    """An answer holds one embedding per input of the request, with indexes 0, 1, ... in the order of the inputs."""
    wanted = _inputs(ctx.body) or 0

    def judge(exchange: Exchange) -> str | None:
        indexes = [item.get("index") for item in data_of(exchange, STATUS_CLAIM)]
        if len(indexes) != wanted:
            return f"{len(indexes)} embeddings for {wanted} inputs"
        if indexes != list(range(wanted)):
            return f"the indexes of data are {indexes[:6]}, not 0 to {wanted - 1} in order"
        return None

    return _each(ctx, judge, f"{wanted} embeddings in order")


@claim(
    "embeddings.base64_is_the_float_vector",
    source="openai-embeddings-sdks",
    applies=lambda b: b.get("encoding_format") == "base64",
    endpoint=EMBEDDINGS,
)
def base64_vectors(ctx: TrafficContext) -> str:
    """Asked for base64 (what both official clients ask for by default), every vector is a base64 string of
    little-endian float32s: finite numbers, not all zero."""

    def judge(exchange: Exchange) -> str | None:
        for index, item in enumerate(data_of(exchange, STATUS_CLAIM)):
            value = item.get("embedding")
            if isinstance(value, list):
                numbers = [float(v) for v in value if isinstance(v, int | float)]
                return (
                    f"encoding_format base64 was ignored: $.data[{index}].embedding is a list of {len(value)} "
                    f"numbers; {clients_say(exchange, numbers)}"
                )
            decoded = decode_base64(value) if isinstance(value, str) else None
            if decoded is None:
                return f"$.data[{index}].embedding is not base64 float32s"
            if not all(math.isfinite(v) for v in decoded) or not any(decoded):
                return f"$.data[{index}].embedding decodes to {described(decoded)}: not a vector (float64, or garbage?)"
        return None

    return _each(ctx, judge, "base64 float32 vectors")


def _original_vectors(ctx: TrafficContext) -> list[Vector]:
    original = ctx.original
    if original is None or original.response is None or original.failure is not None:
        raise NotApplicable("there is no complete original answer to compare with")
    try:
        return vectors_of(original)
    except Blocked as exc:
        raise NotApplicable(f"the original answer holds no vectors to compare with ({exc})") from None


@claim(
    "original.embeds_in_the_same_shape",
    Level.SHOULD,
    source="openai-embeddings",
    applies=lambda b: True,
    comparison=True,
    endpoint=EMBEDDINGS,
)
def same_shape(ctx: TrafficContext) -> str:
    """The vectors have the original's count and length: an index built on the original's vectors holds only
    vectors of their length."""
    before = _original_vectors(ctx)

    def judge(exchange: Exchange) -> str | None:
        after = vectors_of(exchange, STATUS_CLAIM)
        if len(after) != len(before):
            return f"{len(after)} vectors, the original had {len(before)}"
        lengths = sorted({len(v) for v in after} - {len(before[0])})
        if lengths:
            return (
                f"vectors of {lengths[0]} numbers, the original's had {len(before[0])}: an index built on the "
                "original's cannot hold them"
            )
        return None

    return _each(ctx, judge, f"{len(before)} vectors of {len(before[0])} numbers, as the original's")


def _same_model(body: Body) -> bool:
    return isinstance(body.get("model"), str)


@claim(
    "original.embeds_the_same_vectors",
    Level.MUST,
    source="openai-embeddings",
    applies=_same_model,
    comparison=True,
    endpoint=EMBEDDINGS,
)
def same_vectors(ctx: TrafficContext) -> str:
    """Where the model is the one the app asked the original for, every vector is the original's (cosine 0.999)."""
    original = ctx.original
    asked = original.request.json if original is not None and isinstance(original.request.json, dict) else {}
    if asked.get("model") != ctx.body.get("model"):
        raise NotApplicable(f"the model changed ({asked.get('model')!r} to {ctx.body.get('model')!r}): vectors differ")
    before = _original_vectors(ctx)

    def judge(exchange: Exchange) -> str | None:
        after = vectors_of(exchange, STATUS_CLAIM)
        for index, (old, new) in enumerate(zip(before, after, strict=False)):
            if len(old) == len(new) and cosine(old, new) < SAME:
                return f"$.data[{index}].embedding is not the original's (cosine {cosine(old, new):.3f})"
        return None

    return _each(ctx, judge, "the original's vectors")
