"""The claims about a captured request's response_format: json_object gives JSON, a strict json_schema is
followed by every answer, a loose one by the share of answers the model chooses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema

from conformance.checks._expect import shown
from conformance.exchange import Exchange
from conformance.migrate.answers import Answer, Choice, json_value
from conformance.migrate.claims import Body, TrafficContext, claim, fail_any, readable
from conformance.verdicts import Measured


def _format(body: Body) -> dict[str, Any]:
    value = body.get("response_format")
    return value if isinstance(value, dict) else {}


def _schema_of(body: Body) -> dict[str, Any] | None:
    schema = _format(body).get("json_schema")
    return schema if isinstance(schema, dict) and isinstance(schema.get("schema"), dict) else None


def _cut(choice: Choice) -> bool:
    return choice.finish_reason == "length"


@claim(
    "structured-output.json_object_gives_json",
    source="openai-structured-outputs",
    applies=lambda b: _format(b).get("type") == "json_object",
)
def json_object_gives_json(ctx: TrafficContext) -> str:
    """response_format json_object gives answers that are JSON objects (an answer cut at the token cap aside)."""

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        for c, choice in enumerate(answer.choices):
            if not _cut(choice) and not choice.tool_calls and not json_value(choice.content)[0]:
                return f"choices[{c}] is not JSON: {shown(choice.content or '', 100)}"
        return None

    return fail_any(ctx, judge, "the answer is JSON")


def _schema_judge(ctx: TrafficContext) -> Callable[[Exchange, Answer], str | None]:
    schema = (_schema_of(ctx.body) or {}).get("schema", {})

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        for c, choice in enumerate(answer.choices):
            if _cut(choice) or choice.tool_calls:
                continue
            ok, value = json_value(choice.content)
            if not ok:
                return f"choices[{c}] is not JSON: {shown(choice.content or '', 100)}"
            try:
                errors = list(jsonschema.Draft202012Validator(schema).iter_errors(value))
            except jsonschema.exceptions.SchemaError:
                return None
            if errors:
                return f"choices[{c}] does not match the schema at {errors[0].json_path}: {errors[0].message}"
        return None

    return judge


@claim(
    "structured-output.strict_json_schema_is_followed",
    source="openai-structured-outputs",
    applies=lambda b: _format(b).get("type") == "json_schema" and (_schema_of(b) or {}).get("strict") is True,
)
def strict_json_schema_is_followed(ctx: TrafficContext) -> str:
    """response_format json_schema with strict true gives answers that match the schema."""
    return fail_any(ctx, _schema_judge(ctx), "the answer matches the schema")


@claim(
    "structured-output.loose_json_schema_is_followed",
    source="openai-structured-outputs",
    applies=lambda b: _format(b).get("type") == "json_schema" and (_schema_of(b) or {}).get("strict") is not True,
)
def loose_json_schema_is_followed(ctx: TrafficContext) -> Measured:
    """response_format json_schema without strict gives answers that match the schema (what the model chooses)."""
    judge = _schema_judge(ctx)
    answers = readable(ctx)
    misses = [f"{e.id}: {problem}" for e, a in answers if (problem := judge(e, a))]
    return Measured(len(answers) - len(misses), len(answers), "answers matched the schema", misses)
