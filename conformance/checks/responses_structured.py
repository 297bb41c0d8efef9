"""Row ``responses-structured-output``: ``text.format`` on POST /responses. With a strict json_schema the
answer's text is JSON valid against the schema; with json_object it is a JSON object."""

from __future__ import annotations

from typing import Any

import jsonschema

from conformance import jsonparse
from conformance.checks._expect import shown, unsupported_if_refused
from conformance.checks._responses import (
    BASIC,
    STRUCTURED_TOKENS,
    cut,
    offered,
    output_text,
    response_body,
    responses_request,
)
from conformance.checks.structured_output import CITY_SCHEMA, PROMPT
from conformance.context import CheckContext
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable

SCHEMA = "responses-structured-output/json-schema"
OBJECT = "responses-structured-output/json-object"
FORMATS: dict[str, dict[str, Any]] = {
    SCHEMA: {"type": "json_schema", "name": "city", "schema": CITY_SCHEMA, "strict": True},
    OBJECT: {"type": "json_object"},
}


def _format_probe(exchange_id: str, purpose: str) -> None:
    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return responses_request(
            target,
            exchange_id,
            purpose,
            PROMPT,
            role="structured_output",
            answer_tokens=STRUCTURED_TOKENS,
            instructions="You answer in JSON.",
            text={"format": FORMATS[exchange_id]},
        )


_format_probe(SCHEMA, "text.format json_schema (strict) with a nested object, an array and enums")
_format_probe(OBJECT, "text.format json_object")


def _json_answer(ctx: CheckContext, exchange_id: str, what: str) -> Any:
    offered(ctx)
    exchange = ctx.exchange(exchange_id)
    unsupported_if_refused(exchange, f"text.format {what}")
    body = response_body(exchange)
    text = output_text(exchange, body)
    if cut(body):
        raise NotApplicable(f"{exchange.describe()}: the JSON was cut at max_output_tokens")
    try:
        return exchange, jsonparse.loads(text)
    except ValueError:
        raise CheckFailed(
            f"{exchange.describe()}: text.format {what} but the text is not JSON: {shown(text, 100)}"
        ) from None


@check("responses-structured-output", Level.MUST, source="open-responses-spec", needs=(SCHEMA, BASIC))
def json_schema_text_matches_the_schema(ctx: CheckContext) -> str | None:
    """With text.format json_schema (strict), the output text is JSON valid against the schema."""
    exchange, value = _json_answer(ctx, SCHEMA, "json_schema")
    errors = list(jsonschema.Draft202012Validator(CITY_SCHEMA).iter_errors(value))
    if errors:
        raise CheckFailed(
            f"{exchange.describe()}: the text does not match the json_schema: {errors[0].json_path}: "
            f"{errors[0].message}"
        )
    return None


@check("responses-structured-output", Level.MUST, source="open-responses-spec", needs=(OBJECT, BASIC))
def json_object_text_is_an_object(ctx: CheckContext) -> str | None:
    """With text.format json_object, the output text is a JSON object."""
    exchange, value = _json_answer(ctx, OBJECT, "json_object")
    if not isinstance(value, dict):
        raise CheckFailed(f"{exchange.describe()}: text.format json_object but the text is JSON {type(value).__name__}")
    return None
