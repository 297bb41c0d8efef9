"""What the embeddings row reads from an answer: its vectors as numbers, whichever encoding carried them.

A vector comes as a list of numbers (``encoding_format`` float) or as a base64 string of little-endian float32s
(base64, what both official clients ask for by default). The form of the answer is
``embeddings.response_is_schema_valid``'s; a vector whose encoding is not the one asked for is
``embeddings.base64_is_the_float_vector``'s; the other checks of the row read vectors only through ``vectors_of``,
blocked by those two where they cannot.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

from conformance.checks._every import EMBEDDING_FORM
from conformance.checks._expect import error_message, succeeded
from conformance.exchange import Exchange
from conformance.verdicts import Blocked

ENCODING = "embeddings.base64_is_the_float_vector"
# two vectors of the same input are the same within this cosine (batching and float order move the last bits)
SAME = 0.999
# a vector has unit length within this much
UNIT = 1e-3

Vector = list[float]


def data_of(exchange: Exchange, owner: str = EMBEDDING_FORM) -> list[dict[str, Any]]:
    """The answer's ``data`` items; blocked where the request was not answered (``owner`` says why) or the items
    cannot be read (the form check's)."""
    body = succeeded(exchange, owner)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        raise Blocked(EMBEDDING_FORM, f"{exchange.describe()} has no list of embedding objects in data")
    return data


def decode_base64(text: str, layout: str = "<f") -> Vector | None:
    """The numbers a base64 string packs in ``layout`` (struct: "<f" little-endian float32), or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    size = struct.calcsize(layout)
    if not raw or len(raw) % size:
        return None
    return [value for (value,) in struct.iter_unpack(layout, raw)]


def vector(exchange: Exchange, item: dict[str, Any], index: int) -> Vector:
    """One item's vector as numbers, as the request asked for it; blocked where it is neither."""
    value = item.get("embedding")
    asked = asked_encoding(exchange)
    if asked == "base64":
        decoded = decode_base64(value) if isinstance(value, str) else None
        if decoded is None:
            raise Blocked(ENCODING, f"{exchange.describe()}: $.data[{index}].embedding is not base64 float32")
        return decoded
    if not isinstance(value, list) or not all(_number(number) for number in value):
        raise Blocked(EMBEDDING_FORM, f"{exchange.describe()}: $.data[{index}].embedding is not a list of numbers")
    return [float(number) for number in value]


def vectors_of(exchange: Exchange, owner: str = EMBEDDING_FORM) -> list[Vector]:
    """Every vector of the answer, in the order of ``data``."""
    return [vector(exchange, item, index) for index, item in enumerate(data_of(exchange, owner))]


def asked_encoding(exchange: Exchange) -> str:
    body = exchange.request.json
    encoding = body.get("encoding_format") if isinstance(body, dict) else None
    return encoding if isinstance(encoding, str) else "float"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def norm(values: Vector) -> float:
    return math.sqrt(math.fsum(value * value for value in values))


def cosine(first: Vector, second: Vector) -> float:
    """The cosine of two vectors of one length (0 where either is all zeros or not finite)."""
    if len(first) != len(second):
        return 0.0
    below = norm(first) * norm(second)
    if not below or not math.isfinite(below):
        return 0.0
    return math.fsum(a * b for a, b in zip(first, second, strict=True)) / below


def usage_of(exchange: Exchange) -> tuple[int, int] | None:
    """(prompt_tokens, total_tokens) of an answer, or None where they are not integers (the form check's)."""
    body = exchange.json_body.value if exchange.json_body.ok else None
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt, total = usage.get("prompt_tokens"), usage.get("total_tokens")
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (prompt, total)):
        return None
    return prompt, total


def names(exchange: Exchange, parameter: str) -> bool:
    """The refusal names the parameter: in error.param, or in its message."""
    body = exchange.json_body.value if exchange.json_body.ok else None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("param") == parameter:
        return True
    return parameter in (error_message(exchange) or "")


def described(values: Vector, limit: int = 4) -> str:
    shown = ", ".join(f"{value:.4g}" for value in values[:limit])
    return f"[{shown}{', …' if len(values) > limit else ''}] ({len(values)} numbers)"


__all__ = [
    "ENCODING",
    "SAME",
    "UNIT",
    "Vector",
    "asked_encoding",
    "cosine",
    "data_of",
    "decode_base64",
    "described",
    "names",
    "norm",
    "usage_of",
    "vector",
    "vectors_of",
]
