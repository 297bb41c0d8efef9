"""How the hostile front changes a JSON answer or each JSON event of a stream: wrongly typed
fields, Unicode line separators, Markdown and HTML, lone surrogates, bytes that are not UTF-8, and
JSON nested just under the suite's parse limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

INJECTION = "<img src=x onerror=alert(1)> [click](https://evil.invalid) **bold** | pipe `tick` <script>x</script>"
MARKER = "@@NOT-UTF8@@"


def map_json(payload: bytes, streaming: bool, change: Any, *, ascii_only: bool = False) -> bytes:
    if not streaming:
        try:
            return json.dumps(change(json.loads(payload)), ensure_ascii=ascii_only).encode()
        except ValueError:
            return payload
    return b"\n".join(_map_event(line, change, ascii_only) for line in payload.split(b"\n"))


def _map_event(line: bytes, change: Any, ascii_only: bool = False) -> bytes:
    if not line.startswith(b"data: {"):
        return line
    try:
        return b"data: " + json.dumps(change(json.loads(line[6:])), ensure_ascii=ascii_only).encode()
    except ValueError:
        return line


def nested_everywhere(value: Any, depth: int = 0) -> Any:
    """Every object gains a field nested as deep as the parse limit allows, from where it stands."""
    if isinstance(value, dict):
        changed = {k: nested_everywhere(v, depth + 1) for k, v in value.items()}
        nest: Any = "bottom"
        for _ in range(max(0, 61 - depth)):
            nest = {"n": nest}
        changed["x_nested"] = nest
        return changed
    if isinstance(value, list):
        return [nested_everywhere(item, depth + 1) for item in value]
    return value


def _strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {k: _strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(item, change) for item in value]
    return change(value) if isinstance(value, str) else value


def with_surrogate(value: Any) -> Any:
    """A lone high surrogate in every string, and one lone low surrogate in a key."""
    changed = _strings(value, lambda text: text + "\ud800")
    if isinstance(changed, dict):
        changed["x\udc80"] = "\udfff"
    return changed


def with_marker(value: Any) -> Any:
    return _strings(value, lambda text: text + MARKER)


def wrong_types(value: Any, depth: int = 0) -> Any:
    """Every value below the top level swapped for one of another type (lists stay lists, once)."""
    if isinstance(value, dict):
        if depth == 0:
            return {k: wrong_types(v, depth + 1) for k, v in value.items()}
        return "not an object"
    if isinstance(value, list):
        return [wrong_types(item, depth + 1) for item in value] if depth <= 1 else {"not": "a list"}
    if isinstance(value, str):
        return ["not", "a", "string"]
    if isinstance(value, bool) or value is None:
        return {"not": "a bool"}
    return str(value)


def with_nel(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: with_nel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_nel(item) for item in value]
    if isinstance(value, str) and " " in value:
        return value.replace(" ", "\u0085", 1) + "\u2028"
    return value


def injected(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: injected(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [injected(item, key) for item in value]
    if isinstance(value, str) and key in ("message", "content", "owned_by", "type"):
        return f"{value} {INJECTION}"
    return value


def deep_text(value: Any) -> Any:
    """Every string JSON text nested 5,000 deep (an id stays itself, so requests built from it still go)."""
    nested = "[" * 5000 + "]" * 5000
    if isinstance(value, dict):
        return {k: v if k in ("id", "object", "type", "role", "status") else deep_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_text(item) for item in value]
    return nested if isinstance(value, str) else value
