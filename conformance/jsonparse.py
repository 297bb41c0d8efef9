"""JSON from a target, parsed with a bound on how deeply it nests.

Python's parser, validators, the SDK's pydantic models and the renderers all recurse: 10,000 nested
arrays end in RecursionError wherever they are read. Every answer is therefore measured before it
is parsed, and one nested deeper than ``MAX_DEPTH`` is not parsed at all: that is a verdict about
the answer ("nested deeper than 64 levels"), not a crash of the suite. No answer of an
OpenAI-compatible API comes near the bound (a chat completion with tool calls nests 6 deep).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

MAX_DEPTH = 64

# a string, or an unterminated one to the end: matching never backtracks, so the scan is linear
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class TooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")
        self.limit = limit


def depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit`` (strings ignored)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    level = 0
    for ch in brackets:
        if ch in "[{":
            level += 1
            if level > limit:
                return True
        else:
            level -= 1
    return False


def loads(text: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises ``TooDeep`` (a ValueError) instead of recursing past ``limit``."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    if depth_exceeds(text, limit):
        raise TooDeep(limit)
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the depth was measured first
        raise TooDeep(limit) from None


def pretty(value: Any) -> str:
    """JSON indented by two spaces, as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it
    (a tenth of the time: the report and its HTML indent every body they show). Numbers may be
    spelled differently (``1e-6`` for ``1e-06``), and a float that is not finite is written null, as
    JSON has no NaN; what orjson does not take (integers wider than 64 bits, keys that are not
    strings) is written by the standard library."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, indent=2, ensure_ascii=False)
