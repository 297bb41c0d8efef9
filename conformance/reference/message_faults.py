"""Faults of the messages a chat request carries, and of its response_format, applied as the request arrives
(called by ``fault_hooks.before_parse``): malformed histories mishandled, and forms the document allows refused or
mangled."""

from __future__ import annotations

from typing import Any

from conformance.reference.errors import ApiError, bad_request

Active = frozenset[str]


def _malformed(messages: list[dict[str, Any]]) -> str | None:
    """The first field a malformed message lacks, as a parameter path; None when every message is whole."""
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if "role" not in message:
            return f"{where}.role"
        if message["role"] == "user" and message.get("content") is None:
            return f"{where}.content"
        if message["role"] == "tool" and "tool_call_id" not in message:
            return f"{where}.tool_call_id"
        for number, call in enumerate(message.get("tool_calls") or []):
            if isinstance(call, dict) and not isinstance(call.get("function"), dict):
                return f"{where}.tool_calls[{number}].function"
    return None


def _lenient_turns(messages: list[dict[str, Any]]) -> None:
    """What a chat template that renders any history does: a tool result that answers no call is read as the user's
    words, and tool calls no result follows are dropped."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    called: set[Any] = set()
    for message in messages:
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if isinstance(calls, list):
            ids = {call.get("id") for call in calls if isinstance(call, dict)}
            if not ids <= answered:
                message.pop("tool_calls")
                message["content"] = message.get("content") or ""
            else:
                called |= ids
        if message.get("role") == "tool" and message.get("tool_call_id") not in called:
            message["role"] = "user"
            message.pop("tool_call_id", None)


def _has_definitions(value: Any) -> bool:
    if isinstance(value, dict):
        return "$ref" in value or "$defs" in value or any(_has_definitions(v) for v in value.values())
    return isinstance(value, list) and any(_has_definitions(v) for v in value)


def _without_references(value: Any) -> Any:
    """The schema with every reference replaced by an open object: what a server that drops $defs follows."""
    if isinstance(value, dict):
        if "$ref" in value:
            return {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
        return {k: _without_references(v) for k, v in value.items() if k != "$defs"}
    if isinstance(value, list):
        return [_without_references(v) for v in value]
    return value


def apply(body: dict[str, Any], messages: list[dict[str, Any]], active: Active) -> None:
    if "malformed-message-500" in active and (missing := _malformed(messages)):
        raise ApiError(500, f"KeyError: '{missing.rsplit('.', 1)[-1]}'", type="server_error")
    if "malformed-message-422" in active and (missing := _malformed(messages)):
        raise ApiError(422, f"Field required: {missing}", param=missing)
    if "tool-turns-unchecked" in active:
        _lenient_turns(messages)
    if "assistant-name-refused" in active:
        for index, message in enumerate(messages):
            if message.get("role") == "assistant" and "name" in message:
                param = f"messages[{index}].name"
                raise bad_request(f"'{param}': property 'name' is unsupported", param, "invalid_request_error")
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if "response-format-text-refused" in active and kind == "text":
        raise bad_request("'response_format.type' must be 'json_schema' or 'json_object'", "response_format")
    if kind == "json_schema" and _has_definitions(response_format):
        if "schema-definitions-refused" in active:
            raise bad_request("Unsupported JSON schema: '$ref' and '$defs' are not supported.", "response_format")
        if "schema-definitions-ignored" in active:
            body["response_format"] = _without_references(response_format)
