"""The reference server's reading of the parameters it has no code of its own for: every one the catalogue of
the API surface knows is accepted, and a value outside its documented type, allowed values or bounds is
refused with 400 naming it, in OpenAI's words ("Invalid value: 'x'. Supported values are: ...").

Only the OpenAI flavour validates them; the Llama flavour ignores parameters it does not support, as the
compatibility layer documents.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from conformance.reference.errors import ApiError, bad_request
from conformance.surface import judged
from conformance.surface.catalogue import load

_JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_MAX_DEPTH = 12


@cache
def known(endpoint: str) -> frozenset[str]:
    """Every parameter the catalogue has for ``endpoint`` (the document's and the clients')."""
    return frozenset(load().parameters(endpoint))


@cache
def unowned(endpoint: str) -> tuple[str, ...]:
    """The parameters no code of the server reads: those no check but the parameter sweep judges."""
    return judged.swept(endpoint)


# faults of the parameter sweep: the parameter a server has not implemented, and the one it refuses
_NOT_IMPLEMENTED = {"POST /chat/completions": "logit_bias", "POST /responses": "top_logprobs"}
_REFUSED = {"POST /chat/completions": "service_tier", "POST /responses": "service_tier"}


def validate(
    endpoint: str, body: Any, active: frozenset[str] = frozenset(), names: tuple[str, ...] | None = None
) -> None:
    """Refuse with 400 the first parameter no code of the server reads whose value breaks the catalogue
    (and show the sweep's faults: a parameter that breaks the server or is refused, values not checked,
    refusals with 422 or naming nothing); ``names``: only these."""
    if not isinstance(body, dict):
        return
    if "parameter-not-implemented" in active and _NOT_IMPLEMENTED.get(endpoint) in body:
        raise ApiError(501, "Not implemented", type="server_error", code="not_implemented")
    name = _REFUSED.get(endpoint)
    if "parameter-valid-refused" in active and name in body:
        raise bad_request(f"Unsupported parameter: '{name}' is not supported.", name, "unsupported_parameter")
    members = load().members[endpoint, "request"]
    try:
        for name in unowned(endpoint) if names is None else names:
            if body.get(name) is not None:
                try:
                    _check(members, name, body[name], name, 0)
                except ApiError:
                    if "parameter-values-unchecked" not in active:
                        raise
                    del body[name]  # answered as if it had not been sent
    except ApiError as error:
        if "parameter-refusal-422" in active:
            raise ApiError(422, error.message, type="invalid_request_error", param=error.param) from None
        if "parameter-refusal-unnamed" in active:
            raise ApiError(400, "Invalid request body.", type="invalid_request_error") from None
        raise


def _check(members: dict[str, dict[str, Any]], path: str, value: Any, shown: str, depth: int) -> None:
    member = members.get(path)
    if member is None or depth > _MAX_DEPTH or "any" in member["types"]:
        return
    if value is None and member.get("nullable"):
        return
    types = member["types"]
    if not any(_JSON_TYPES[kind](value) for kind in types if kind in _JSON_TYPES):
        raise _invalid_type(shown, types, value)
    enum = member.get("enum")
    if enum and isinstance(value, str) and "string" in types and value not in enum:
        supported = ", ".join(f"'{v}'" for v in enum)
        message = f"Invalid value for '{shown}': '{value}'. Supported values are: {supported}."
        raise bad_request(message, shown, "invalid_value")
    _bounds(member.get("bounds", {}), value, shown)
    if isinstance(value, dict):
        variant = _variant(members, path, value)
        for key, item in value.items():
            child = f"{variant}.{key}" if f"{variant}.{key}" in members else f"{variant}{{}}"
            _check(members, child, item, f"{shown}.{key}", depth + 1)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check(members, f"{path}[]", item, f"{shown}[{n}]", depth + 1)


def _variant(members: dict[str, dict[str, Any]], path: str, value: dict[str, Any]) -> str:
    for key in ("type", "role"):
        tagged = f"{path}<{key}={value.get(key)}>"
        if tagged in members:
            return tagged
    return path


def _bounds(bounds: dict[str, Any], value: Any, shown: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and "maximum" in bounds and value > bounds["maximum"]:
        raise bad_request(
            f"Invalid '{shown}': decimal above maximum value. Expected a value <= {bounds['maximum']}, but got "
            f"{value} instead.",
            shown,
            "decimal_above_max_value",
        )
    if number and "minimum" in bounds and value < bounds["minimum"]:
        raise bad_request(
            f"Invalid '{shown}': decimal below minimum value. Expected a value >= {bounds['minimum']}, but got "
            f"{value} instead.",
            shown,
            "decimal_below_min_value",
        )
    if isinstance(value, str) and "maxLength" in bounds and len(value) > bounds["maxLength"]:
        raise bad_request(
            f"Invalid '{shown}': string too long. Expected a string with maximum length {bounds['maxLength']}, "
            f"but got a string with length {len(value)} instead.",
            shown,
            "string_above_max_length",
        )
    if isinstance(value, list) and "minItems" in bounds and len(value) < bounds["minItems"]:
        raise bad_request(f"Invalid '{shown}': empty array. Expected at least {bounds['minItems']}.", shown)


def _invalid_type(shown: str, types: list[str], value: Any) -> ApiError:
    names = {"string": "a string", "boolean": "a boolean", "integer": "an integer", "number": "a number"}
    names |= {"object": "an object", "array": "an array"}
    expected = " or ".join(names.get(kind, kind) for kind in types)
    order = ("boolean", "integer", "number", "string", "object", "array")
    got = next((names[kind] for kind in order if _JSON_TYPES[kind](value)), "null")
    message = f"Invalid type for '{shown}': expected {expected}, but got {got} instead."
    return bad_request(message, shown, "invalid_type")
