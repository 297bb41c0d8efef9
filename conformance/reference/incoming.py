"""What the reference server reads from an incoming request before any endpoint answers it: the key it presents
(and the refusal a missing or wrong key gets), its JSON body (and the refusal a body that is none gets), whether it
asks for a stream. The faults of authentication and of malformed bodies change the refusals here."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from conformance.reference import answers, stream_hooks
from conformance.reference.errors import ApiError, bad_request


def authenticate(api_keys: frozenset[str], request: Request, active: frozenset[str]) -> str:
    """The key a request presents, or the 401 (403) it gets."""
    if "auth-not-enforced" in active:
        # what is kept for a key is still found with it; with a wrong key or none, nothing is
        _, _, presented = request.headers.get("authorization", "").partition(" ")
        return presented.strip() or "any"
    header = request.headers.get("authorization")
    if header is None:
        raise ApiError(
            401,
            "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'.",
            code="missing_api_key",
        )
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "Malformed Authorization header: expected 'Bearer YOUR_KEY'.", code="invalid_api_key")
    if key.strip() not in api_keys:
        if "wrong-key-403" in active:
            raise ApiError(403, "This key may not use this API.", type="permission_error", code="forbidden")
        raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")
    return key.strip()


async def json_body(request: Request, active: frozenset[str]) -> Any:
    """The request's JSON body, or the 400 (or the fault's 422 or 500) a body that is none gets."""
    raw = await request.body()
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise bad_request(f"Unsupported Content-Type {media_type or '(none)'!r}: send application/json.")
    try:
        value = json.loads(raw)
    except ValueError:
        if "malformed-json-500" in active:
            raise ApiError(500, "[json.exception.parse_error] syntax error", type="server_error") from None
        raise bad_request("We could not parse the JSON body of your request.") from None
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else "null" if value is None else type(value).__name__
        if "non-object-body-500" in active:
            message = f"[json.exception.type_error.302] type must be object, but is {kind}"
            raise ApiError(500, message, type="server_error")
        if "body-refused-with-422" in active:
            raise ApiError(422, "Input should be a valid dictionary or object to extract fields from", param="body")
    return value


async def streams(request: Request) -> bool:
    """Whether the request asks for a stream."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("stream") is True


def refusal_as_event(error: ApiError) -> Response:
    """A refusal sent as the first event of a 200 stream (a proxy that opens the stream before it checks)."""
    events = [
        stream_hooks.encode((answers.ERROR, error.body()["error"]), stream_hooks.Framing()),
        b"data: [DONE]\n\n",
    ]
    return StreamingResponse(iter(events), media_type="text/event-stream")


__all__ = ["authenticate", "json_body", "refusal_as_event", "streams"]
