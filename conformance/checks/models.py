"""Row ``models``: GET /models and GET /models/{model}."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from conformance.checks._every import MODEL_FORM, MODEL_LIST_FORM
from conformance.checks._expect import expect_json, expect_valid, succeeded
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

# 2000-01-01T00:00:00Z: anything earlier is not a model creation time in Unix seconds
EARLIEST_CREATED = 946_684_800
# the clock of a server may run ahead of ours, but not by a day
CLOCK_SLACK = 86_400


@probe("models/list")
def list_models(target: Target) -> Request:
    return Request("models/list", "GET", "/models", purpose="list the models")


def retrieve_model(model_id: str) -> Request:
    # the path segment is percent-encoded as the openai SDK does it ("/" becomes %2F)
    path = "/models/" + quote(model_id.encode("utf-8", "backslashreplace"), safe="-._~:@!$&'()*+,;=")
    return Request(f"models/retrieve/{model_id}", "GET", path, purpose=f"retrieve the model {model_id}")


def _listed(ctx: CheckContext) -> list[dict[str, Any]]:
    body = succeeded(ctx.exchange("models/list"), "models.list_succeeds")
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise Blocked(MODEL_LIST_FORM, "the model list has no data array")
    return [item for item in data if isinstance(item, dict)]


def listed_ids(ctx: CheckContext) -> list[str]:
    return [item["id"] for item in _listed(ctx) if isinstance(item.get("id"), str)]


@check("models", Level.MUST, source="openai-models", needs=("models/list",))
def list_succeeds(ctx: CheckContext) -> str | None:
    """GET /models answers 200 with a JSON body."""
    expect_json(ctx.exchange("models/list"), 200)
    return None


@check("models", Level.MUST, source="openai-models", needs=("models/list",))
def list_is_schema_valid(ctx: CheckContext) -> str | None:
    """The model list is {object: "list", data: [model, ...]} and every model has id, object, created, owned_by."""
    exchange = ctx.exchange("models/list")
    body = succeeded(exchange, "models.list_succeeds")
    expect_valid(ctx, exchange, body, "model-list", "model-list")
    count = len(body.get("data", [])) if isinstance(body, dict) else 0
    return f"{count} models listed"


@check("models", Level.SHOULD, source="openai-models", needs=("models/list",))
def ids_are_unique(ctx: CheckContext) -> str | None:
    """No model id appears twice in the list."""
    ids = listed_ids(ctx)
    repeated = sorted({model_id for model_id in ids if ids.count(model_id) > 1})
    if repeated:
        raise CheckFailed(f"GET /models lists these ids more than once: {', '.join(repeated)}")
    return None


@check("models", Level.MUST, source="openai-models", needs=("models/list",))
def configured_models_are_listed(ctx: CheckContext) -> str | None:
    """The models configured for chat, vision, tools and structured output are in the list."""
    configured = {role: model for role, model in ctx.target.models.configured().items() if role != "moderation"}
    if not configured:
        raise NotApplicable("the target configures no chat or vision model")
    listed = set(listed_ids(ctx))
    missing = [f"{model} ({role})" for role, model in configured.items() if model not in listed]
    if missing:
        sample = ", ".join(sorted(listed)[:8]) or "nothing"
        raise CheckFailed(f"GET /models does not list the configured {', '.join(missing)}; it lists {sample}")
    return f"listed: {', '.join(sorted(set(configured.values())))}"


@check("models", Level.SHOULD, source="openai-models", needs=("models/list",))
def moderation_model_is_listed(ctx: CheckContext) -> str | None:
    """The model configured for moderation is in the list."""
    model = ctx.target.models.moderation
    if model is None:
        raise NotApplicable("the target configures no moderation model")
    if model not in listed_ids(ctx):
        raise CheckFailed(f"GET /models does not list the moderation model {model}")
    return None


def _retrieve_plan(target: Target, dialect: Dialect) -> list[Request]:
    """The configured models, then stand-ins for the other listed ones up to the dialect's cap."""
    configured = list(dict.fromkeys(target.models.configured().values()))
    cap = dialect.limits.get("models_retrieved", 25)
    others = [f"listed-model-{n}" for n in range(1, max(cap - len(configured), 0) + 1)]
    return [retrieve_model(model_id) for model_id in configured + others]


def _retrieved(ctx: CheckContext) -> list[tuple[str, Any]]:
    """Retrieve the configured models and the listed ones, up to the dialect's cap."""
    listed = listed_ids(ctx)
    cap = ctx.dialect.limits.get("models_retrieved", 25)
    wanted = list(dict.fromkeys(m for m in ctx.target.models.configured().values() if m in listed))
    wanted += [m for m in dict.fromkeys(listed) if m not in wanted][: max(cap - len(wanted), 0)]
    if not wanted:
        raise NotApplicable("GET /models lists no model to retrieve")
    exchanges = ctx.fetch_many(retrieve_model(model_id) for model_id in wanted)
    return list(zip(wanted, exchanges, strict=True))


def _out_of_range(created: int, where: str, latest: int) -> str | None:
    if EARLIEST_CREATED <= created <= latest:
        return None
    hint = " (milliseconds?)" if created > latest * 100 else ""
    return f"{where} is {created}{hint}, outside {EARLIEST_CREATED}..{latest}"


@check("models", Level.MUST, source="openai-models", needs=("models/list",), extra=_retrieve_plan)
def created_is_unix_seconds(ctx: CheckContext) -> str | None:
    """Every listed model's created is an integer Unix time in seconds, between 2000 and now, and so is every
    retrieved model's (whose type is retrieve_is_schema_valid's)."""
    latest = int(time.time()) + CLOCK_SLACK
    wrong = []
    for index, item in enumerate(_listed(ctx)):
        created = item.get("created")
        if isinstance(created, bool) or not isinstance(created, int):
            wrong.append(f"GET /models: $.data[{index}].created is {created!r}, not an integer")
        elif problem := _out_of_range(created, f"GET /models: $.data[{index}].created", latest):
            wrong.append(problem)
    for model_id, exchange in _retrieved(ctx):
        body = exchange.json_body
        created = (
            body.value.get("created") if exchange.status == 200 and body.ok and isinstance(body.value, dict) else None
        )
        numeric = isinstance(created, int) and not isinstance(created, bool)
        if numeric and (problem := _out_of_range(created, f"GET /models/{model_id}: $.created", latest)):
            wrong.append(problem)
    if wrong:
        raise CheckFailed(wrong[0] + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""))
    return None


@check("models", Level.MUST, source="openai-models", needs=("models/list",), extra=_retrieve_plan)
def retrieve_is_schema_valid(ctx: CheckContext) -> str | None:
    """GET /models/{model} answers 200 with a model object for every listed model."""
    retrieved = _retrieved(ctx)
    failures: list[CheckFailed] = []
    for _, exchange in retrieved:
        try:
            expect_valid(ctx, exchange, expect_json(exchange, 200), "model", "model")
        except CheckFailed as failure:
            failures.append(failure)
    if failures:
        more = f" (and {len(failures) - 1} more of {len(retrieved)} models)" if len(failures) > 1 else ""
        raise CheckFailed(failures[0].message + more, details=failures[0].details)
    return f"retrieved {len(retrieved)} of {len(listed_ids(ctx))} listed models"


@check("models", Level.MUST, source="openai-models", needs=("models/list",), extra=_retrieve_plan)
def retrieve_returns_the_requested_id(ctx: CheckContext) -> str | None:
    """GET /models/{model} returns the model whose id was asked for."""
    wrong = []
    compared = 0
    for model_id, exchange in _retrieved(ctx):
        response = exchange.response
        body = exchange.json_body
        if response is None or response.status != 200 or not body.ok:
            continue  # retrieve_is_schema_valid reports it
        compared += 1
        got = body.value.get("id") if isinstance(body.value, dict) else None
        if got != model_id:
            wrong.append(f"{exchange.describe()} returned id {got!r}, not {model_id!r}")
    if not compared:
        raise Blocked(MODEL_FORM, "no retrieve succeeded")
    if wrong:
        raise CheckFailed(f"{wrong[0]}" + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""))
    return f"{compared} models retrieved under their own id"
