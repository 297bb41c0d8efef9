"""The reference server's deterministic JSON: the first instance of a JSON Schema it can think of.

Used for ``response_format`` json_schema answers and for tool-call arguments. It covers what
strict-mode schemas use: objects, arrays, enums, consts, local ``$ref``s, ``anyOf``/``oneOf`` and
the basic types with their bounds.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 8


def instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    if "$ref" in schema:
        return instance(_resolve(root, schema["$ref"]), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return instance(schema[key][0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return instance(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _BY_TYPE.get(kind, lambda s, r, d: None)(schema, root, depth)


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref.lstrip("#/").split("/"):
        if not part:
            continue
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node


def _object(schema: dict[str, Any], root: Any, depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    return {name: instance(child, root, depth + 1) for name, child in properties.items()}


def _array(schema: dict[str, Any], root: Any, depth: int) -> list[Any]:
    count = max(int(schema.get("minItems", 1)), 0)
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    return [instance(schema.get("items", {}), root, depth + 1) for _ in range(count)]


def _string(schema: dict[str, Any], root: Any, depth: int) -> str:
    text = {
        "date": "2025-01-01",
        "date-time": "2025-01-01T00:00:00Z",
        "email": "someone@example.com",
        "uri": "https://example.com/",
    }.get(schema.get("format", ""), "text")
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = text.ljust(low, "x")
    return text[: int(high)] if high is not None else text


def _number(schema: dict[str, Any], root: Any, depth: int) -> int | float:
    value: float = 0
    if "minimum" in schema:
        value = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + 1
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    return int(value) if schema.get("type") == "integer" else float(value)


_BY_TYPE = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _number,
    "number": _number,
    "boolean": lambda schema, root, depth: True,
    "null": lambda schema, root, depth: None,
}
