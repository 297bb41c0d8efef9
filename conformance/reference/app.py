"""The reference server's ASGI application (Starlette)."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.reference import answers, chat, moderation
from conformance.reference.catalog import CREATED, MODELS, OWNER, RATE_LIMITED_MODEL
from conformance.reference.errors import ApiError, bad_request, unknown_model

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ReferenceConfig:
    api_keys: frozenset[str]
    base_path: str = "/compat/v1"
    # advertised in the x-ratelimit-* headers of chat completions, as the Llama API does
    requests_per_minute: int = 6000
    tokens_per_minute: int = 1_000_000
    # seconds between two streamed chunks, so that streams arrive over time as real ones do
    stream_delay: float = 0.005
    # per key and model: at most this many chat requests in this many seconds
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=lambda: {RATE_LIMITED_MODEL: (3, 2.0)})


LISTED = {model.id for model in MODELS}


class RateLimiter:
    """A sliding window per (key, model) for the models that have a limit; over it, a 429 with
    Retry-After and the x-ratelimit-* headers."""

    def __init__(self, limits: dict[str, tuple[int, float]]) -> None:
        self._limits = limits
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def admit(self, key: str, model: str) -> None:
        if model not in self._limits:
            return
        count, window = self._limits[model]
        now = time.monotonic()
        seen = self._seen[(key, model)]
        while seen and now - seen[0] >= window:
            seen.popleft()
        if len(seen) >= count:
            wait = window - (now - seen[0])
            raise ApiError(
                429,
                f"Rate limit reached for {model}: {count} requests per {window:g} s. Try again in {wait:.1f} s.",
                type="requests",
                code="rate_limit_exceeded",
                headers={
                    "retry-after": str(math.ceil(wait)),
                    "x-ratelimit-limit-requests": str(count),
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{wait:.1f}s",
                },
            )
        seen.append(now)


def _model_object(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": OWNER}


def _authenticate(config: ReferenceConfig, request: Request) -> None:
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
    if key.strip() not in config.api_keys:
        raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")
    return key.strip()


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise bad_request(f"Unsupported Content-Type {media_type or '(none)'!r}: send application/json.")
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("We could not parse the JSON body of your request.") from None


def create_app(config: ReferenceConfig) -> Starlette:
    limiter = RateLimiter(config.rate_limits)

    def endpoint(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                request.state.key = _authenticate(config, request)
                response = await handler(request)
            except ApiError as error:
                response = error.response()
            response.headers["x-request-id"] = f"req_{uuid.uuid4().hex[:20]}"
            return response

        return wrapped

    async def list_models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [_model_object(model.id) for model in MODELS]})

    async def retrieve_model(request: Request) -> Response:
        model_id = request.path_params["model"]
        if model_id not in LISTED:
            raise unknown_model(model_id)
        return JSONResponse(_model_object(model_id))

    async def chat_completions(request: Request) -> Response:
        parsed = chat.parse(await _json_body(request))
        limiter.admit(request.state.key, parsed.model)
        headers = {
            "x-ratelimit-limit-requests": str(config.requests_per_minute),
            "x-ratelimit-remaining-requests": str(config.requests_per_minute - 1),
            "x-ratelimit-limit-tokens": str(config.tokens_per_minute),
            "x-ratelimit-remaining-tokens": str(config.tokens_per_minute - 1),
        }
        if parsed.stream:
            return StreamingResponse(
                answers.stream_events(parsed, config.stream_delay),
                media_type="text/event-stream",
                headers={**headers, "cache-control": "no-cache"},
            )
        return JSONResponse(answers.completion(parsed), headers=headers)

    async def moderations(request: Request) -> Response:
        return JSONResponse(moderation.moderate(await _json_body(request)))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}."
            return ApiError(405, message, code="method_not_allowed").response()
        return ApiError(404, f"Unknown route {request.method} {request.url.path}.", code="not_found").response()

    base = config.base_path.rstrip("/")
    routes = [
        Route(f"{base}/models", endpoint(list_models), methods=["GET"]),
        Route(f"{base}/models/{{model:path}}", endpoint(retrieve_model), methods=["GET"]),
        Route(f"{base}/chat/completions", endpoint(chat_completions), methods=["POST"]),
        Route(f"{base}/moderations", endpoint(moderations), methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
