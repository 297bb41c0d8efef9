"""Row ``structured-output``: the ``response_format`` forms at the edges of what the document allows, beside the
json_object and json_schema probes of ``structured_output``.

``{"type": "text"}`` is the default spelled out, which clients and frameworks send on every request (LM Studio
refused it: "'response_format.type' must be 'json_schema'", lmstudio-ai/lmstudio-bug-tracker#307). A strict schema
with ``$defs`` and ``$ref`` and an optional member as ``anyOf`` with null is what the SDKs' ``parse()`` makes of a
pydantic model with a nested model and an Optional field; OpenAI's structured outputs guide supports definitions,
and servers refuse them (a relay's "reference to component '#/$defs/…' which was not found",
vectorize-io/hindsight#3225; llama-cpp-python#1048) or drop the constraint behind the reference
(ggml-org/llama.cpp#8073).
"""

from __future__ import annotations

from typing import Any

from conformance.checks import structured_output
from conformance.checks._expect import expect_chat_completion
from conformance.checks._requests import chat_request
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

# what pydantic writes for Trip(city: City, return_leg: Leg | None), its models nested by reference
DEFINITIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"$ref": "#/$defs/City"},
        "return_leg": {"anyOf": [{"$ref": "#/$defs/Leg"}, {"type": "null"}]},
    },
    "required": ["city", "return_leg"],
    "additionalProperties": False,
    "$defs": {
        "City": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]},
                "coastal": {"type": "boolean"},
            },
            "required": ["name", "coastal"],
            "additionalProperties": False,
        },
        "Leg": {
            "type": "object",
            "properties": {"days": {"type": "integer", "enum": [1, 2, 3]}},
            "required": ["days"],
            "additionalProperties": False,
        },
    },
}
TEXT = "structured-output/format-text"
DEFINITIONS = "structured-output/json-schema-definitions"
STRICT = "structured-output/json-schema-strict"


@probe(TEXT)
def format_text(target: Target) -> Request | None:
    return chat_request(
        target,
        TEXT,
        'response_format {"type": "text"}, the default spelled out',
        [{"role": "user", "content": "Say hi."}],
        answer_tokens=8,
        response_format={"type": "text"},
    )


@probe(DEFINITIONS)
def json_schema_definitions(target: Target) -> Request | None:
    format_ = {"type": "json_schema", "json_schema": {"name": "trip", "schema": DEFINITIONS_SCHEMA, "strict": True}}
    return structured_output.json_request(
        target, DEFINITIONS, "json_schema (strict) with $defs, $ref and an optional member, as parse() sends", format_
    )


def _definitions_judged(ctx: CheckContext) -> Exchange:
    """The probe with definitions, judged where the plain strict schema is served: refused beside a schema that is
    answered, it is this row's finding; refused like it, json_schema is unsupported (strict_json_schema_is_followed
    says so)."""
    strict = ctx.exchange(STRICT)
    if not (strict.response is not None and strict.response.status == 200):
        raise NotApplicable(f"{strict.describe()}: json_schema itself is not answered; its own check says so")
    return ctx.exchange(DEFINITIONS)


@check("structured-output", Level.MUST, source="openai-structured-outputs", needs=(TEXT, DEFINITIONS, STRICT))
def every_response_format_form_is_answered(ctx: CheckContext) -> str | None:
    """response_format {"type": "text"} is answered as a request without it, and a strict schema with $defs, $ref
    and anyOf with null is answered wherever a strict schema without them is: never refused, never a 5xx."""
    expect_chat_completion(ctx, ctx.exchange(TEXT), text=False)
    try:
        definitions = _definitions_judged(ctx)
    except NotApplicable:
        return "the text form is answered; json_schema is not served, so definitions are not judged"
    expect_chat_completion(ctx, definitions, text=False)
    return None


@check("structured-output", Level.MUST, source="openai-structured-outputs", needs=(DEFINITIONS, STRICT))
def schema_definitions_are_followed(ctx: CheckContext) -> str | None:
    """The answer to a strict schema with $defs and $ref follows the schema the references make: every referenced
    object whole, the optional member an object of its definition or null (where the plain strict schema is followed:
    if it is not, that is strict_json_schema_is_followed's finding)."""
    exchange = _definitions_judged(ctx)
    if exchange.response is None or exchange.response.status != 200:
        raise Blocked("structured-output.every_response_format_form_is_answered", f"{exchange.describe()} refused")
    strict = ctx.exchange(STRICT)
    try:
        plain, _ = structured_output.answer_text(ctx, strict, "a strict schema")
        structured_output.conforms(strict, structured_output.CITY_SCHEMA, structured_output.parsed(strict, plain))
    except CheckFailed as failure:
        # a strict schema without references is not followed either: that check's defect, not this one's
        raise Blocked("structured-output.strict_json_schema_is_followed", failure.message) from None
    except NotApplicable:
        pass  # cut at the cap: the plain schema says nothing either way
    content, _ = structured_output.answer_text(ctx, exchange, "a strict schema with definitions")
    structured_output.conforms(exchange, DEFINITIONS_SCHEMA, structured_output.parsed(exchange, content))
    return None
