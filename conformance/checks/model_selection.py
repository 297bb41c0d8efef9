"""Row ``model-selection``: each listed model answers as itself; unknown models, and the embedding model, are refused.

(That the configured chat, vision and moderation models answer their kind of request is each of
those rows' first claim; the envelope of a refusal is errors-400's, over every refusal of the run.)"""

from __future__ import annotations

import re

from conformance.checks._expect import brief, error_message, expect_chat_completion, expect_refusal
from conformance.checks._requests import chat_request, user
from conformance.checks.models import listed_ids
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

UNKNOWN_MODEL = "conformance-no-such-model-0000"


def ask_model(target: Target, model: str) -> Request | None:
    return chat_request(
        target, f"model-selection/chat/{model}", f"a chat request to the model {model}", user("Say hello."), model=model
    )


@probe("model-selection/unknown-model", refusal=True)
def unknown_model(target: Target) -> Request | None:
    if target.models.chat is None:
        return None  # a target that does not chat (an embeddings server): the embeddings row asks it
    return chat_request(
        target,
        "model-selection/unknown-model",
        "a chat request to a model id that names no model",
        user("Say hello."),
        model=UNKNOWN_MODEL,
    )


# a dated snapshot suffix: -2024-08-06 or -0613
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})")


def echoes(requested: str, answered: object) -> bool:
    """OpenAI answers with the model asked for, or with a dated snapshot of it (gpt-4o -> gpt-4o-2024-08-06)."""
    if not isinstance(answered, str):
        return False
    return answered == requested or (
        answered.startswith(requested) and _SNAPSHOT.fullmatch(answered[len(requested) :]) is not None
    )


def chat_models(ctx: CheckContext) -> list[str]:
    """The listed models a chat request goes to: configured ones first, then the rest of the list
    (minus the moderation and embedding models and the profile's not_chat), up to the dialect's cap."""
    listed = listed_ids(ctx)
    if ctx.target.models.selection is not None:
        return list(ctx.target.models.selection)
    skip = {ctx.target.models.moderation, ctx.target.models.embedding, *ctx.target.models.not_chat}
    configured = [m for m in dict.fromkeys(ctx.target.models.configured().values()) if m in listed and m not in skip]
    others = [m for m in dict.fromkeys(listed) if m not in skip and m not in configured]
    cap = ctx.dialect.limits.get("models_chatted", 10)
    return (configured + others)[: max(cap, len(configured))]


def _chat_plan(target: Target, dialect: Dialect) -> list[Request]:
    """The configured models, then stand-ins for the other listed ones up to the dialect's cap."""
    if target.models.selection is not None:
        models = list(target.models.selection)
    else:
        skip = {target.models.moderation, target.models.embedding, *target.models.not_chat}
        configured = [m for m in dict.fromkeys(target.models.configured().values()) if m not in skip]
        cap = max(dialect.limits.get("models_chatted", 10), len(configured))
        models = configured + [f"listed-model-{n}" for n in range(1, cap - len(configured) + 1)]
    return [request for model in models if (request := ask_model(target, model))]


@check("model-selection", Level.MUST, source="openai-chat-object", needs=("models/list",), extra=_chat_plan)
def every_listed_model_answers_as_itself(ctx: CheckContext) -> str | None:
    """A chat request to each listed model is answered, with that model's id (or a dated snapshot of it) in model (a
    listed model the profile does not configure may refuse as not a chat model, as OpenAI's embedding models do)."""
    models = chat_models(ctx)
    if not models:
        raise NotApplicable("GET /models lists no chat model")
    exchanges = ctx.fetch_many(request for model in models if (request := ask_model(ctx.target, model)))
    problems = []
    blocked: list[Blocked] = []
    configured = set(ctx.target.models.configured().values())
    not_chat = []
    for model, exchange in zip(models, exchanges, strict=True):
        if model not in configured and _not_a_chat_model(exchange):
            not_chat.append(model)  # a listed embedding (or other) model that says so: not one that must chat
            continue
        try:
            body = expect_chat_completion(ctx, exchange, text=False)
        except CheckFailed as failure:
            problems.append(failure.message)
            continue
        except Blocked as block:
            blocked.append(block)  # the answer's form is judged by the check that blocked it
            continue
        if not echoes(model, body.get("model")):
            problems.append(f"{exchange.describe()}: asked for {model!r}, answered as {brief(body.get('model'), 60)}")
    if blocked and len(blocked) == len(models):
        raise blocked[0]
    if problems:
        more = f" (and {len(problems) - 1} more of {len(models)} models)" if len(problems) > 1 else ""
        raise CheckFailed(problems[0] + more)
    listed = len(listed_ids(ctx))
    said = f"{len(models) - len(not_chat)} models answered as themselves"
    said += f" ({listed} listed)" if listed > len(models) else ""
    return said + (f"; refused as not chat models: {', '.join(not_chat)}" if not_chat else "")


_NOT_CHAT = re.compile(
    r"not a chat model|does not support chat|embedding model|not supported in the v1/chat/completions", re.IGNORECASE
)


def _not_a_chat_model(exchange: Exchange) -> bool:
    """A chat request refused with 400 or 404 because the model does not chat (OpenAI: "This is not a chat model")."""
    response = exchange.response
    if response is None or response.status not in (400, 404):
        return False
    return _NOT_CHAT.search(error_message(exchange) or "") is not None


@check("model-selection", Level.MUST, source="openai-errors", needs=("model-selection/unknown-model",))
def unknown_model_is_refused_with_404(ctx: CheckContext) -> str | None:
    """A chat request to an unknown model is refused with 404 (the SDK raises NotFoundError), not answered."""
    expect_refusal(
        ctx.exchange("model-selection/unknown-model"),
        ctx.dialect.status_for("unknown_model"),
        f"a chat request for the unknown model {UNKNOWN_MODEL!r}",
        answered="the target silently substitutes a model",
    )
    return None


@probe("model-selection/embedding-model", refusal=True)
def embedding_model(target: Target) -> Request | None:
    model = target.models.embedding
    if model is None or model == target.models.chat:
        return None
    purpose = f"a chat request to the embedding model {model}"
    return chat_request(target, "model-selection/embedding-model", purpose, user("Say hello."), model=model)


@check("model-selection", Level.SHOULD, source="openai-not-a-chat-model", needs=("model-selection/embedding-model",))
def embedding_model_does_not_chat(ctx: CheckContext) -> str | None:
    """A chat request to the embedding model is refused (OpenAI: 404 "This is not a chat model"), not answered."""
    expect_refusal(
        ctx.exchange("model-selection/embedding-model"),
        (400, 404),
        "a chat request to the embedding model",
        answered="the app gets words from a model that makes vectors",
    )
    return None
