"""What the reference server accepts as a JSON Schema, in response_format json_schema and in tool
parameters: valid JSON Schema (2020-12) and, in strict mode, OpenAI's strict subset (every object
closed with additionalProperties false, every property required)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance.reference.errors import bad_request

# a function or schema name, as OpenAI allows it
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _strict_problem(schema: Any, path: str = "") -> str | None:
    """What strict mode refuses: an object without additionalProperties false or with optional keys."""
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            return f"{path or 'the root'}: 'additionalProperties' must be false"
        if set(schema.get("required") or []) != set(properties):
            return f"{path or 'the root'}: every property must be required"
        for name, child in properties.items():
            if problem := _strict_problem(child, f"{path}.{name}"):
                return problem
    for key in ("items", "anyOf", "$defs"):
        children = schema.get(key)
        for child in (
            children.values()
            if isinstance(children, dict) and key == "$defs"
            else children
            if isinstance(children, list)
            else [children]
        ):
            if problem := _strict_problem(child, path):
                return problem
    return None


def json_schema(
    value: Any, param: str, *, name_required: bool = True, schema_param: str | None = None
) -> tuple[dict[str, Any], bool]:
    """A response_format json_schema (or tool parameters): its name, and a schema that is valid JSON
    Schema and, in strict mode, strict. Problems with the schema name ``schema_param``."""
    schema_param = schema_param or f"{param}.schema"
    if not isinstance(value, dict):
        raise bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    schema = value.get("schema", {"type": "object"}) if not name_required else value.get("schema")
    if name_required and not (isinstance(value.get("name"), str) and NAME.match(value["name"])):
        raise bad_request(
            f"Invalid '{param}.name': 1 to 64 letters, digits, '_' or '-'.", f"{param}.name", "invalid_value"
        )
    if not isinstance(schema, dict):
        raise bad_request(
            f"Missing required parameter: '{param}.schema'.", f"{param}.schema", "missing_required_parameter"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise bad_request(
            f"Invalid schema for '{param}': {exc.message}.", schema_param, "invalid_json_schema"
        ) from None
    strict = value.get("strict") is True
    if strict and (problem := _strict_problem(schema)):
        raise bad_request(
            f"Invalid schema for '{param}' in strict mode: {problem}.", schema_param, "invalid_json_schema"
        )
    return schema, strict
