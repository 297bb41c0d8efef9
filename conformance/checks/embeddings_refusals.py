"""Row ``embeddings``, its refusals: what OpenAI refuses on POST /embeddings, refused the way it does.

OpenAI answers 400 to an empty input ("'$.input' is invalid"), to more than 2048 inputs, to an input longer than
the model's context ("This model's maximum context length is 8192 tokens ...": never a silent truncation), to a
request without a model and to an encoding it does not know; 403 or 404 to a chat model, and 404 to a model it
does not have. The envelope of every refusal is judged by ``errors-400.refusals_use_the_error_envelope``.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.checks._embeddings import names, usage_of
from conformance.checks._every import EMBEDDING_FORM
from conformance.checks._expect import brief, error_message, expect_refusal
from conformance.checks.embeddings import TEXT, embedding_request
from conformance.context import CheckContext
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level

# OpenAI's limit on the inputs of one request, and an input far longer than its 8192 tokens per input
MAX_INPUTS = 2048
LONG_WORDS = 9000
LONG_INPUT = "hello " * LONG_WORDS
# what is kept of an answer to the 2049 inputs
TOO_MANY_KEPT = 16 * 1024
# a model id no server has
UNKNOWN_MODEL = "no-such-embedding-model-0"


@probe("embeddings/empty-string", refusal=True)
def empty_string(target: Target) -> Request | None:
    return embedding_request(target, "embeddings/empty-string", "an empty string", {"input": ""})


@probe("embeddings/empty-list", refusal=True)
def empty_list(target: Target) -> Request | None:
    return embedding_request(target, "embeddings/empty-list", "an empty list of inputs", {"input": []})


@probe("embeddings/too-many", refusal=True)
def too_many(target: Target) -> Request | None:
    purpose = f"{MAX_INPUTS + 1} inputs, one more than OpenAI takes"
    request = embedding_request(target, "embeddings/too-many", purpose, {"input": ["hi"] * (MAX_INPUTS + 1)})
    # answered, it holds 2049 vectors (megabytes): its status is the claim, its first bytes are enough to show
    return None if request is None else replace(request, body_cap=TOO_MANY_KEPT)


@probe("embeddings/over-context")
def over_context(target: Target) -> Request | None:
    purpose = f"one input of {LONG_WORDS} words, longer than OpenAI's 8192 tokens"
    return embedding_request(target, "embeddings/over-context", purpose, {"input": LONG_INPUT})


@probe("embeddings/chat-model", refusal=True)
def chat_model(target: Target) -> Request | None:
    if target.models.chat is None or target.models.chat == target.models.embedding:
        return None
    request = embedding_request(target, "embeddings/chat-model", "the chat model asked for an embedding", {})
    if request is None:
        return None
    return Request(
        request.id, request.method, request.path, request.purpose, json={"model": target.models.chat, "input": TEXT}
    )


@probe("embeddings/no-model", refusal=True)
def no_model(target: Target) -> Request | None:
    if target.models.embedding is None:
        return None
    return Request("embeddings/no-model", "POST", "/embeddings", purpose="no model", json={"input": TEXT})


@probe("embeddings/unknown-model", refusal=True)
def unknown_model(target: Target) -> Request | None:
    if target.models.embedding is None:
        return None
    purpose = "a model the target does not have"
    return Request(
        "embeddings/unknown-model", "POST", "/embeddings", purpose, json={"model": UNKNOWN_MODEL, "input": TEXT}
    )


@probe("embeddings/invalid-encoding", refusal=True)
def invalid_encoding(target: Target) -> Request | None:
    purpose = "encoding_format 'int7', neither float nor base64"
    return embedding_request(target, "embeddings/invalid-encoding", purpose, {"input": TEXT, "encoding_format": "int7"})


def _refused(ctx: CheckContext, probe_id: str, statuses: tuple[int, ...], answered: str) -> str:
    exchange = ctx.exchange(probe_id)
    response = expect_refusal(exchange, statuses, exchange.purpose, answered=answered)
    return f"HTTP {response.status}: {brief(error_message(exchange) or '', 80)}"


@check(
    "embeddings",
    Level.MUST,
    source="openai-embeddings-errors",
    needs=("embeddings/empty-string", "embeddings/empty-list"),
)
def empty_input_is_refused(ctx: CheckContext) -> str | None:
    """An empty string and an empty list of inputs are refused with 400."""
    answered = "the app gets a vector of nothing"
    probes = ("embeddings/empty-string", "embeddings/empty-list")
    for probe_id in probes:
        ctx.exchange(probe_id)  # both are evidence, whichever fails first
    said, problems = [], []
    for probe_id in probes:
        try:
            said.append(_refused(ctx, probe_id, (400,), answered))
        except CheckFailed as failure:
            problems.append(failure.message)
    if problems:
        raise CheckFailed("; ".join(problems))
    return "; ".join(said)


@check("embeddings", Level.SHOULD, source="openai-embeddings", needs=("embeddings/too-many",))
def too_many_inputs_are_refused(ctx: CheckContext) -> str | None:
    """More than 2048 inputs in one request are refused with 400, as OpenAI refuses them."""
    return _refused(ctx, "embeddings/too-many", (400,), "an app written against this target breaks on OpenAI")


@check("embeddings", Level.MUST, source="openai-embeddings-errors", needs=("embeddings/over-context",))
def overlong_input_is_refused_not_truncated(ctx: CheckContext) -> str | None:
    """An input longer than the model's context is refused with 400, or embedded whole (usage counts every word);
    never cut short in silence."""
    exchange = ctx.exchange("embeddings/over-context")
    response = expect_refusal(exchange, (200, 400), exchange.purpose)
    if response.status == 400:
        return f"refused: {brief(error_message(exchange) or '', 100)}"
    usage = usage_of(exchange)
    if usage is None:
        raise Blocked(
            EMBEDDING_FORM, f"{exchange.describe()} has no usage to tell whether the input was embedded whole"
        )
    if usage[0] < LONG_WORDS * 0.9:
        raise CheckFailed(
            f"{exchange.describe()}: an input of {LONG_WORDS} words was answered with usage.prompt_tokens {usage[0]}: "
            "it was truncated in silence, where OpenAI refuses it with 400"
        )
    return f"embedded whole ({usage[0]} tokens)"


@check("embeddings", Level.SHOULD, source="openai-embeddings-errors", needs=("embeddings/chat-model",))
def chat_model_is_refused(ctx: CheckContext) -> str | None:
    """The chat model asked for an embedding is refused (OpenAI: 403 "You are not allowed to generate embeddings
    from this model"; 400 or 404 say the same)."""
    return _refused(ctx, "embeddings/chat-model", (400, 403, 404), "the app gets vectors of a model made to chat")


@check("embeddings", Level.SHOULD, source="openai-embeddings-errors", needs=("embeddings/no-model",))
def missing_model_is_refused(ctx: CheckContext) -> str | None:
    """A request without a model is refused with 400, as OpenAI refuses it (rather than answered by a model the
    app did not name)."""
    return _refused(ctx, "embeddings/no-model", (400,), "the target picks a model the app did not name")


@check("embeddings", Level.MUST, source="openai-embeddings-errors", needs=("embeddings/unknown-model",))
def unknown_model_is_refused(ctx: CheckContext) -> str | None:
    """A model the target does not have is refused with the dialect's status for an unknown model (OpenAI: 404
    model_not_found)."""
    statuses = ctx.dialect.status_for("unknown_model")
    return _refused(ctx, "embeddings/unknown-model", statuses, "the app gets vectors of another model")


@check("embeddings", Level.MUST, source="openai-embeddings", needs=("embeddings/invalid-encoding",))
def unknown_encoding_is_refused(ctx: CheckContext) -> str | None:
    """An encoding_format other than float and base64 is refused with 400 naming encoding_format."""
    exchange = ctx.exchange("embeddings/invalid-encoding")
    said = _refused(ctx, "embeddings/invalid-encoding", (400,), "the app cannot know what the vectors are")
    if not names(exchange, "encoding_format"):
        raise CheckFailed(f"{exchange.describe()}: the refusal does not name encoding_format: {said}")
    return said
