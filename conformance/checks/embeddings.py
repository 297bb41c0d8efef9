"""Row ``embeddings``: POST /embeddings, as OpenAI's reference and both official clients read it.

An answer is a list object whose ``data`` holds one embedding per input, each with its ``index`` in input order,
beside ``model`` and ``usage``. Every input form of the reference is sent (a string, strings, token ids, lists of
token ids), the vector is asked for as numbers and as base64 (what both SDKs ask for by default, then decode as
little-endian float32), shortened by ``dimensions``, and sent again to see that the same input gives the same
vector. The refusals are in ``embeddings_refusals``. The row needs an embedding model (``[models] embedding``,
``--embedding-model``); its first request says whether the target serves the endpoint at all.
"""

from __future__ import annotations

import math
from typing import Any

from conformance import sdk_oracle, ts_oracle
from conformance.checks._embeddings import (
    ENCODING,
    SAME,
    UNIT,
    Vector,
    cosine,
    data_of,
    decode_base64,
    described,
    names,
    norm,
    usage_of,
    vectors_of,
)
from conformance.checks._every import EMBEDDING_FORM, every, judge_each
from conformance.checks._expect import brief, error_message, expect_answered, expect_json, expect_status, expect_valid
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

TEXT = "The food was delicious and the waiter was friendly."
TEXTS = [TEXT, "A cat sleeps on the warm windowsill.", "Interest rates rose again this quarter."]
# token ids every tokenizer in use has (vocabularies hold thousands); OpenAI takes them as they are
TOKENS = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]
TOKEN_LISTS = [[1000, 1001, 1002, 1003], [1500, 1501, 1502]]
SHORT = 16
# a BOS or EOS token a server adds around token ids it is given
ADDED_TOKENS = 2

BASIC = "embeddings/basic"
DEFAULT = "embeddings/default"
ANSWERED = (BASIC, DEFAULT, "embeddings/list", "embeddings/tokens", "embeddings/token-lists", "embeddings/dimensions")


def embedding_request(target: Target, exchange_id: str, purpose: str, body: dict[str, Any]) -> Request | None:
    model = target.models.embedding
    if model is None:
        return None
    return Request(exchange_id, "POST", "/embeddings", purpose=purpose, json={"model": model, **body})


@probe(BASIC)
def basic(target: Target) -> Request | None:
    return embedding_request(target, BASIC, "one string, as floats", {"input": TEXT, "encoding_format": "float"})


@probe(DEFAULT)
def default(target: Target) -> Request | None:
    # what client.embeddings.create(model=..., input=...) sends in Python and in TypeScript
    purpose = "the same string as the official clients ask by default (base64)"
    return embedding_request(target, DEFAULT, purpose, {"input": TEXT, "encoding_format": "base64"})


@probe("embeddings/list")
def as_list(target: Target) -> Request | None:
    purpose = "three strings, the first the one sent alone"
    return embedding_request(target, "embeddings/list", purpose, {"input": TEXTS, "encoding_format": "float"})


@probe("embeddings/tokens")
def tokens(target: Target) -> Request | None:
    purpose = f"{len(TOKENS)} token ids"
    return embedding_request(target, "embeddings/tokens", purpose, {"input": TOKENS, "encoding_format": "float"})


@probe("embeddings/token-lists")
def token_lists(target: Target) -> Request | None:
    purpose = "two lists of token ids"
    body = {"input": TOKEN_LISTS, "encoding_format": "float"}
    return embedding_request(target, "embeddings/token-lists", purpose, body)


@probe("embeddings/dimensions")
def dimensions(target: Target) -> Request | None:
    purpose = f"the string shortened to {SHORT} dimensions"
    body = {"input": TEXT, "dimensions": SHORT, "encoding_format": "float"}
    return embedding_request(target, "embeddings/dimensions", purpose, body)


@probe("embeddings/dimensions-zero", refusal=True)
def dimensions_zero(target: Target) -> Request | None:
    purpose = "dimensions 0 (the reference's minimum is 1)"
    body = {"input": TEXT, "dimensions": 0, "encoding_format": "float"}
    return embedding_request(target, "embeddings/dimensions-zero", purpose, body)


@check("embeddings", Level.MUST, source="openai-embeddings", needs=ANSWERED, runs_last=True)
def response_is_schema_valid(ctx: CheckContext) -> str | None:
    """Every embeddings answer of the run is a list object with data (embedding objects with index and vector),
    model and usage (prompt and total tokens), and both official clients read it."""
    notes = set()

    def judge(exchange: Exchange) -> None:
        note = expect_valid(ctx, exchange, expect_json(exchange, 200), "embedding-list", "embedding")
        if note:
            notes.add(note)

    verdict = judge_each(every(ctx, "embedding"), judge, noun="embeddings answers", empty="no embeddings answer")
    return "; ".join([verdict, *sorted(notes)])


def _in_order(exchange: Exchange, expected: int) -> list[str]:
    """What is wrong with the count and the order of an answer's embeddings."""
    data = data_of(exchange, "embeddings.strings_are_embedded_one_per_input")
    indexes = [item.get("index") for item in data]
    if len(data) != expected:
        return [f"{exchange.describe()}: {exchange.purpose} gave {len(data)} embeddings, expected {expected}"]
    if indexes != list(range(expected)):
        return [f"{exchange.describe()}: the indexes of data are {indexes}, expected {list(range(expected))} in order"]
    return []


@check("embeddings", Level.MUST, source="openai-embeddings", needs=(BASIC, "embeddings/list"))
def strings_are_embedded_one_per_input(ctx: CheckContext) -> str | None:
    """A string gets one embedding and a list of three strings three, with indexes 0, 1, 2 in the order of the
    inputs, each the vector of its own input (the first is the one the string gets alone)."""
    alone, listed = ctx.exchange(BASIC), ctx.exchange("embeddings/list")
    for exchange in (alone, listed):
        expect_answered(exchange)
    problems = _in_order(alone, 1) + _in_order(listed, len(TEXTS))
    if problems:
        raise CheckFailed("; ".join(problems))
    single, vectors = vectors_of(alone)[0], vectors_of(listed)
    similar = cosine(single, vectors[0])
    if similar < SAME:
        others = [cosine(single, other) for other in vectors[1:]]
        where = f" (it is closer to index {others.index(max(others)) + 1})" if max(others) > similar else ""
        raise CheckFailed(
            f"{listed.describe()}: the vector at index 0 is not the one {brief(TEXT, 30)} gets alone (cosine "
            f"{similar:.3f}){where}: the list's vectors are not each their own input's"
        )
    if len({tuple(round(value, 6) for value in item) for item in vectors}) < len(vectors):
        raise CheckFailed(f"{listed.describe()}: three different strings got the same vector")
    return None


@check("embeddings", Level.MUST, source="openai-embeddings", needs=("embeddings/tokens", "embeddings/token-lists"))
def token_ids_are_embedded(ctx: CheckContext) -> str | None:
    """A list of token ids gets one embedding and a list of two lists of ids two, in order, each counted as the
    tokens it is (usage.prompt_tokens is the number of ids, give or take a BOS or EOS token the server adds)."""
    flat, nested = ctx.exchange("embeddings/tokens"), ctx.exchange("embeddings/token-lists")
    for exchange in (flat, nested):
        expect_answered(exchange)
    problems = _in_order(flat, 1) + _in_order(nested, len(TOKEN_LISTS))
    for exchange, count in ((flat, len(TOKENS)), (nested, sum(map(len, TOKEN_LISTS)))):
        usage = usage_of(exchange)
        if usage is None:
            raise Blocked(EMBEDDING_FORM, f"{exchange.describe()} has no usage to count the ids by")
        if not count <= usage[0] <= count + ADDED_TOKENS * (1 + (exchange is nested)):
            problems.append(
                f"{exchange.describe()}: usage.prompt_tokens is {usage[0]} for {count} token ids: the ids were not "
                "embedded as the tokens they are (as text?)"
            )
    if problems:
        raise CheckFailed("; ".join(problems))
    return None


def clients_say(exchange: Exchange, reference: Vector) -> str:
    """What each official client hands the app for this answer, against the vector the float answer holds."""
    said = []
    python = sdk_oracle.judge(exchange, "embedding")
    if not python.accepted:
        said.append(f"Python's embeddings.create() raises {python.raised}: {python.detail}")
    else:
        value = python.value.data[0].embedding if python.value.data else []
        got = [float(v) for v in value if isinstance(v, int | float)] if isinstance(value, list) else None
        shown = _compared(got, len(got or []), reference) if got is not None else f"a {type(value).__name__}"
        said.append(f"Python's embeddings.create() hands the app {shown}")
    typescript = ts_oracle.judge(exchange, "embedding")
    if typescript.ran and not typescript.accepted:
        said.append(f"TypeScript's throws {typescript.raised}: {typescript.detail}")
    elif typescript.ran:
        first = (typescript.data.get("vectors") or [{}])[0]
        values = [v for v in first.get("values") or [] if isinstance(v, int | float)]
        length = first.get("length") if isinstance(first.get("length"), int) else len(values)
        said.append(f"TypeScript's hands the app {_compared(values, length, reference)}")
    return "; ".join(said)


def _compared(shown: Vector, length: int, reference: Vector) -> str:
    """The vector a client hands the app (``shown``: its first numbers, of ``length``) against the float answer's."""
    if length == len(reference) and shown and cosine(shown, reference[: len(shown)]) >= SAME:
        return "the vector"
    return f"{length} numbers, {described(shown)}" if length != len(shown) else described(shown)


@check("embeddings", Level.MUST, source="openai-embeddings-sdks", needs=(DEFAULT, BASIC))
def base64_is_the_float_vector(ctx: CheckContext) -> str | None:
    """Asked for encoding_format base64 (what both official clients ask for by default), each vector is a base64
    string of little-endian float32s that decodes to the vector the float answer holds."""
    encoded, plain = ctx.exchange(DEFAULT), ctx.exchange(BASIC)
    expect_answered(encoded)
    reference = vectors_of(plain, "embeddings.strings_are_embedded_one_per_input")[0]
    data = data_of(encoded)
    value = data[0].get("embedding")
    if isinstance(value, list):
        raise CheckFailed(
            f"{encoded.describe()}: encoding_format base64 was ignored: $.data[0].embedding is a list of "
            f"{len(value)} numbers, not a base64 string; {clients_say(encoded, reference)}"
        )
    if not isinstance(value, str):
        raise Blocked(EMBEDDING_FORM, f"{encoded.describe()}: $.data[0].embedding is {brief(value, 30)}")
    decoded = decode_base64(value)
    if decoded is not None and len(decoded) == len(reference) and cosine(decoded, reference) >= SAME:
        return f"{len(decoded)} float32s, the float answer's vector; {clients_say(encoded, reference)}"
    packed = {"big-endian float32": ">f", "float64": "<d", "big-endian float64": ">d"}
    guess = next(
        (
            name
            for name, layout in packed.items()
            if (other := decode_base64(value, layout)) is not None
            and len(other) == len(reference)
            and cosine(other, reference) >= SAME
        ),
        None,
    )
    what = f"it packs {guess}" if guess else f"it decodes to {described(decoded)}" if decoded else "it is not base64"
    raise CheckFailed(
        f"{encoded.describe()}: the base64 vector is not the float answer's ({len(reference)} numbers): {what}; "
        f"{clients_say(encoded, reference)}"
    )


@check(
    "embeddings",
    Level.MUST,
    source="openai-embeddings",
    needs=("embeddings/dimensions", BASIC, "embeddings/dimensions-zero"),
)
def dimensions_are_honoured_or_refused(ctx: CheckContext) -> str | None:
    """dimensions 16 gives vectors of 16 numbers, of unit length where the full vectors are (shortened and
    renormalised), and dimensions 0 is refused with 400; or the model refuses dimensions with 400 naming it."""
    short, zero = ctx.exchange("embeddings/dimensions"), ctx.exchange("embeddings/dimensions-zero")
    response = expect_status(short, 200, 400)
    if response.status == 400:
        message = error_message(short) or ""
        if "dimension" not in message.lower() and not names(short, "dimensions"):
            raise CheckFailed(f"{short.describe()}: dimensions was refused without naming it: {brief(message, 100)}")
        return f"the model does not take dimensions: {brief(message, 100)}"
    full = vectors_of(ctx.exchange(BASIC), "embeddings.strings_are_embedded_one_per_input")[0]
    got = vectors_of(short)[0]
    if len(got) != SHORT:
        raise CheckFailed(f"{short.describe()}: dimensions {SHORT} was ignored: the vector has {len(got)} numbers")
    if abs(norm(full) - 1) <= UNIT and abs(norm(got) - 1) > UNIT:
        raise CheckFailed(
            f"{short.describe()}: the shortened vector has length {norm(got):.4f}, not 1 as the full one: it was "
            "cut without being renormalised"
        )
    answer = expect_status(zero, 200, 400, 422)
    if answer.status != 400:
        raise CheckFailed(
            f"{zero.describe()}: dimensions 0 was answered with HTTP {answer.status}, not refused with 400"
        )
    return None


PLAIN = (BASIC, "embeddings/list", "embeddings/tokens", "embeddings/token-lists", DEFAULT)


@check("embeddings", Level.MUST, source="openai-embeddings", needs=PLAIN)
def vectors_are_finite_and_of_one_length(ctx: CheckContext) -> str | None:
    """Every vector (asked for at the model's full length) holds finite numbers, not all zero, and all have the
    same length: the model's, where the profile states it (``[models] embedding_dimensions``)."""
    lengths: dict[int, str] = {}
    judged = 0
    for probe_id in PLAIN:
        exchange = ctx.exchange(probe_id)
        try:
            vectors = vectors_of(exchange)
        except Blocked:
            if probe_id == BASIC:
                raise
            continue  # not answered, or not readable: the checks of that request say why
        judged += 1
        for index, values in enumerate(vectors):
            where = f"{exchange.describe()}: $.data[{index}].embedding"
            if not all(math.isfinite(value) for value in values):
                raise CheckFailed(f"{where} holds numbers that are not finite: {described(values)}")
            if not any(values):
                raise CheckFailed(f"{where} is all zeros ({len(values)} numbers)")
            lengths.setdefault(len(values), where)
    if len(lengths) > 1:
        shown = "; ".join(f"{length} numbers at {where}" for length, where in sorted(lengths.items()))
        raise CheckFailed(f"the vectors differ in length: {shown}")
    (length, where), stated = next(iter(lengths.items())), ctx.target.models.embedding_dimensions
    if stated is not None and length != stated:
        raise CheckFailed(f"{where} has {length} numbers; the profile states the model's vectors have {stated}")
    return f"{judged} answers, vectors of {length} numbers" + (", as the profile states" if stated else "")


@check("embeddings", Level.SHOULD, source="openai-embeddings-normalised", needs=(BASIC, "embeddings/list"))
def vectors_have_unit_length(ctx: CheckContext) -> str | None:
    """Vectors have length 1, as OpenAI's do (so that a dot product is their cosine, as apps compute it)."""
    for probe_id in (BASIC, "embeddings/list"):
        exchange = ctx.exchange(probe_id)
        for index, values in enumerate(vectors_of(exchange, "embeddings.strings_are_embedded_one_per_input")):
            if abs(norm(values) - 1) > UNIT:
                raise CheckFailed(
                    f"{exchange.describe()}: $.data[{index}].embedding has length {norm(values):.4g}, not 1: a dot "
                    "product of two of them is not their cosine"
                )
    return None


@check("embeddings", Level.MUST, source="openai-embeddings", needs=(BASIC, "embeddings/list"))
def usage_counts_the_input(ctx: CheckContext) -> str | None:
    """usage counts the input: prompt_tokens is more than 0, total_tokens equals it (nothing is generated), and
    three strings count more than the first alone."""
    counts = []
    for probe_id in (BASIC, "embeddings/list"):
        exchange = ctx.exchange(probe_id)
        data_of(exchange, "embeddings.strings_are_embedded_one_per_input")
        usage = usage_of(exchange)
        if usage is None:
            raise Blocked(EMBEDDING_FORM, f"{exchange.describe()} has no usage with integer token counts")
        prompt, total = usage
        if prompt <= 0 or total != prompt:
            raise CheckFailed(
                f"{exchange.describe()}: usage is prompt_tokens {prompt}, total_tokens {total}: expected the input's "
                "tokens in both"
            )
        counts.append((exchange, prompt))
    (_, alone), (listed, three) = counts
    if three <= alone:
        raise CheckFailed(f"{listed.describe()}: three strings count {three} tokens, the first alone {alone}")
    return None


@check("embeddings", Level.MUST, source="openai-embeddings", needs=(BASIC,), trials=True)
def same_input_gives_the_same_vector(ctx: CheckContext) -> str | None:
    """The same string sent again (once per trial) gets the same vector, within a cosine of 0.999."""
    sent = ctx.trials(BASIC)
    if len(sent) < 2:
        raise NotApplicable("one trial: the string was sent once (give --trials 2 or more)")
    first = vectors_of(sent[0], "embeddings.strings_are_embedded_one_per_input")[0]
    for exchange in sent[1:]:
        try:
            again = vectors_of(exchange)[0]
        except Blocked:
            continue
        if len(again) != len(first) or cosine(first, again) < SAME:
            raise CheckFailed(
                f"{exchange.describe()}: the same string got another vector (cosine {cosine(first, again):.4f} with "
                f"{sent[0].describe()}): {described(again)} against {described(first)}"
            )
    return f"{len(sent)} answers, one vector"


__all__ = ["ENCODING", "TEXT", "clients_say", "embedding_request"]
