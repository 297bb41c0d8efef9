"""The reference server's ASGI application (Starlette).

Faults (see ``conformance.reference.faults``) are on for the whole server when the config names
them, and per request under the path prefix ``/faults/<id>[,<id>...]``, which this app strips.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from conformance.reference import (
    answers,
    chat,
    completions,
    embeddings,
    fault_hooks,
    incoming,
    legacy_functions,
    moderation,
    parameters,
    responses_answer,
    responses_routes,
    stream_hooks,
    thinking,
    thinking_faults,
)
from conformance.reference.catalog import CREATED, FLAVOURS, MODELS, OWNER, RATE_LIMITED_MODEL
from conformance.reference.errors import ApiError, unknown_model
from conformance.reference.faults import unknown
from conformance.reference.limits import KeyWindow, RateLimiter

Handler = Callable[[Request], Awaitable[Response]]
# the parameters of the Llama API's own schema that the sweep sends (the others are OpenAI's it ignores)
LLAMA_OWN = ("user",)
_FAULT_PREFIX = re.compile(r"^/faults/(?P<ids>[a-z0-9,-]+)(?P<rest>/.*)$")
# how long the models-retrieve-hangs fault keeps GET /models/{model} waiting
HANG_SECONDS = 12.0
# how long a stream listens for another request before it goes on (fault streams-cut-when-crowded)
CROWD_SECONDS = 0.3


@dataclass(frozen=True)
class ReferenceConfig:
    api_keys: frozenset[str]
    base_path: str = "/compat/v1"
    # "llama-api" (the compat layer, the default) or "openai"
    flavour: str = "llama-api"
    # faults on for every request (see conformance.reference.faults)
    faults: frozenset[str] = frozenset()
    # advertised in the x-ratelimit-* headers of chat completions, as the Llama API does
    requests_per_minute: int = 6000
    tokens_per_minute: int = 1_000_000
    # seconds between two streamed chunks, so that streams arrive over time as real ones do
    stream_delay: float = 0.005
    # per key and model: at most this many chat requests in this many seconds
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=lambda: {RATE_LIMITED_MODEL: (3, 1.0)})
    # per key, every endpoint: at most this many requests in this many seconds (None: no such limit)
    key_limit: tuple[int, float] | None = None
    # how that limit speaks: "openai" (Retry-After, x-ratelimit-*-requests with reset), "llama" (only
    # x-ratelimit-limit/remaining-requests, as the Llama API documents), "silent" (a bare 429)
    key_limit_style: str = "openai"
    # seconds every answer is held back (benchmarks of live runs against a distant target)
    latency: float = 0.0
    # behave like a hosted model: at temperature 0 the wording varies with this probability, a mentioned
    # tool is called on "auto" with probability 1 - noise/2, parallel calls come some of the time
    model_noise: float = 0.0
    # seeds the server's draws (noise, unseeded sampling), for tests that must not depend on chance
    noise_seed: int | None = None
    # every chat model thinks this many tokens before it answers (0: only the reasoning test model does),
    # and the field its thinking comes back in (conformance.reference.thinking)
    thinking: int = 0
    reasoning_field: str = "reasoning_content"

    def __post_init__(self) -> None:
        if self.flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {self.flavour!r}")
        if unknown(self.faults):
            raise ValueError(f"unknown faults {unknown(self.faults)}")
        if self.key_limit_style not in ("openai", "llama", "silent"):
            raise ValueError(f"unknown key_limit_style {self.key_limit_style!r}")
        if not 0.0 <= self.model_noise <= 1.0:
            raise ValueError(f"model_noise is a probability, not {self.model_noise}")
        if self.thinking < 0 or self.reasoning_field not in thinking.FIELDS:
            raise ValueError(
                f"thinking {self.thinking} in {self.reasoning_field!r}: a count, in one of {thinking.FIELDS}"
            )


LISTED = {model.id for model in MODELS}


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The request body, read whole, and a receive that gives it again (then listens as before)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    replayed = False

    async def again() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, again


async def _drop(send: Send) -> None:
    """Drop the connection before any answer (a reset), as a server whose kept-alive connection died
    does; uvicorn's send is bound to its protocol cycle, which holds the transport."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
    with contextlib.suppress(Exception):  # nothing goes out on an aborted transport
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _model_object(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": OWNER}


def create_app(config: ReferenceConfig) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    flavour = FLAVOURS[config.flavour]
    limiter = RateLimiter(config.rate_limits)
    if config.noise_seed is not None:
        answers.CHANCE.seed(config.noise_seed)
        answers.NOISE.forget()

    window = KeyWindow(*config.key_limit, config.key_limit_style) if config.key_limit else None
    # requests that have arrived so far, by the faults they asked for (fault streams-cut-when-crowded ends a stream
    # when another request of its own run arrives: a detection run's others share the server)
    arrivals: dict[frozenset[str], int] = {}

    def endpoint(handler: Handler, *own_auth_faults: str) -> Handler:
        async def wrapped(request: Request) -> Response:
            active: frozenset[str] = request.state.faults
            arrivals[active] = arrivals.get(active, 0) + 1
            if active.intersection(own_auth_faults):
                active = request.state.faults = active | {"auth-not-enforced"}
            limit_headers: dict[str, str] = {}
            if config.latency:
                await asyncio.sleep(config.latency)
            try:
                request.state.key = incoming.authenticate(config.api_keys, request, active)
                if window is not None:
                    limit_headers = window.admit(request.state.key)
                response = await handler(request)
            except ApiError as error:
                response = fault_hooks.error_response(error, active)
                if error.status == 401 and "stream-auth-as-event" in active and await incoming.streams(request):
                    response = incoming.refusal_as_event(error)
            response.headers.update(limit_headers)
            response.headers["x-request-id"] = f"req_{uuid.uuid4().hex[:20]}"
            return response

        return wrapped

    async def _cut_when_crowded(pieces: list[bytes], active: frozenset[str]) -> AsyncIterator[bytes]:
        """llama-cpp-python's server as it comes (interrupt_requests): the first event, then [DONE] if another
        request arrived in the next 0.3 s."""
        seen = arrivals[active]
        yield pieces[0]
        await asyncio.sleep(CROWD_SECONDS)
        if arrivals[active] != seen:
            yield b"data: [DONE]\n\n"
            return
        for piece in pieces[1:]:
            yield piece

    def _unknown_route(request: Request) -> ApiError:
        return ApiError(404, f"Unknown route {request.method} {request.url.path}.", code="not_found")

    async def list_models(request: Request) -> Response:
        active: frozenset[str] = request.state.faults
        if "models-list-missing" in active:
            raise _unknown_route(request)
        listed = flavour.lists_moderation_model and "moderation-model-unlisted" not in active
        ids = [model.id for model in MODELS] + list(flavour.extra_models)
        ids += [flavour.moderation_model] if listed else []
        body = {"object": "list", "data": [_model_object(model_id) for model_id in ids]}
        return JSONResponse(fault_hooks.model_list(body, active))

    async def retrieve_model(request: Request) -> Response:
        active: frozenset[str] = request.state.faults
        model_id = request.path_params["model"]
        if "models-retrieve-missing" in active:
            raise _unknown_route(request)
        if "models-retrieve-wrong-id" in active:
            return JSONResponse(_model_object(MODELS[0].id))
        if "models-retrieve-hangs" in active and model_id == MODELS[0].id:
            # longer than the reference profile's read timeout (10 s): the suite gives up first, twice
            await asyncio.sleep(HANG_SECONDS)
        listed = LISTED | set(flavour.extra_models)
        if model_id not in listed and not (flavour.lists_moderation_model and model_id == flavour.moderation_model):
            if "models-retrieve-any" in active:
                return Response(status_code=200)
            raise unknown_model(model_id)
        model = _model_object(model_id)
        if "models-created-ms" in active:
            model["created"] *= 1000
        return JSONResponse(model)

    def _rate_headers(active: frozenset[str]) -> dict[str, str]:
        if "no-rate-limit-headers" in active:
            return {}
        values = {
            "limit-requests": str(config.requests_per_minute),
            "remaining-requests": str(config.requests_per_minute - 1),
            "limit-tokens": str(config.tokens_per_minute),
            "remaining-tokens": str(config.tokens_per_minute - 1),
            "reset-requests": "6ms",
            "reset-tokens": "1ms",
        }
        return {f"x-ratelimit-{name}": values[name] for name in flavour.rate_limit_headers}

    async def chat_completions(request: Request) -> Response:
        active: frozenset[str] = request.state.faults
        body = await incoming.json_body(request, active)
        try:
            # the Llama API's own parameters are validated; the OpenAI ones it lacks are ignored, as documented
            names = None if flavour.refuses_unknown_parameters else LLAMA_OWN
            parameters.validate("POST /chat/completions", body, active, names)
            legacy = False
            if flavour.refuses_unknown_parameters:
                body, legacy = legacy_functions.as_tools(body, active)
            parsed = chat.parse(
                fault_hooks.before_parse(thinking_faults.before_parse(body, active), active, flavour),
                flavour,
                thinks=config.thinking,
                reasoning_field=config.reasoning_field,
            )
        except ApiError as error:
            streamed = isinstance(body, dict) and body.get("stream") is True
            if "stream-errors-as-sse" in active and streamed and error.status == 400:
                events = [
                    stream_hooks.encode((answers.ERROR, error.body()["error"]), stream_hooks.Framing()),
                    b"data: [DONE]\n\n",
                ]
                return StreamingResponse(iter(events), media_type="text/event-stream")
            raise
        if config.model_noise:
            parsed = dataclasses.replace(parsed, noise=config.model_noise, auto_call_rate=1 - config.model_noise / 2)
        parsed = thinking_faults.after_parse(fault_hooks.after_parse(parsed, active), active)
        headers = {**_rate_headers(active), **limiter.admit(request.state.key, parsed.model, active)}
        if parsed.stream:
            events = thinking_faults.stream(answers.stream_events(parsed), parsed, active)
            events, framing = stream_hooks.stream(legacy_functions.stream(events) if legacy else events, parsed, active)
            pieces = [stream_hooks.encode(event, framing) for event in events]
            if "streams-cut-when-crowded" in active:
                cut = _cut_when_crowded(pieces, active)
                return StreamingResponse(cut, media_type=framing.media_type, headers=headers)
            if not framing.delay:
                pieces = [b"".join(pieces)]
            return StreamingResponse(
                answers.paced(pieces, config.stream_delay),
                media_type=framing.media_type,
                headers={**headers, "cache-control": "no-cache"},
            )
        answer = fault_hooks.answer(thinking_faults.answer(answers.completion(parsed), parsed, active), parsed, active)
        answer = legacy_functions.answer(answer) if legacy else answer
        if "answers-as-html" in active:
            # what a Flask view returning json.dumps(...) sends
            return HTMLResponse(json.dumps(answer), headers=headers)
        return JSONResponse(answer, headers=headers)

    async def moderations(request: Request) -> Response:
        active: frozenset[str] = request.state.faults
        body = await incoming.json_body(request, active)
        if "moderation-missing-input-answered" in active and isinstance(body, dict) and "input" not in body:
            body = {**body, "input": ""}
        answered = moderation.moderate(
            body,
            flavour,
            unknown_model_answered="moderation-unknown-model-answered" in active,
            llama_categories="moderation-llama-categories" in active,
        )
        return JSONResponse(fault_hooks.moderation(answered, active))

    async def create_completions(request: Request) -> Response:
        active: frozenset[str] = request.state.faults
        parsed = completions.parse(await incoming.json_body(request, active), active)
        if not parsed.stream:
            return JSONResponse(completions.answer(parsed, active))
        media_type = "application/json" if "completions-stream-not-event-stream" in active else "text/event-stream"
        pieces = completions.stream_events(parsed, active)
        return StreamingResponse(
            answers.paced(pieces, config.stream_delay), media_type=media_type, headers={"cache-control": "no-cache"}
        )

    async def create_embeddings(request: Request) -> Response:
        active: frozenset[str] = request.state.faults
        return JSONResponse(embeddings.embed(await incoming.json_body(request, active), active))

    async def not_found(request: Request, exc: Exception) -> Response:
        active: frozenset[str] = getattr(request.state, "faults", frozenset())
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}."
            return fault_hooks.error_response(ApiError(405, message, code="method_not_allowed"), active)
        if "unknown-route-html" in active:
            return HTMLResponse("<html><body><h1>404 Not Found</h1></body></html>", status_code=404)
        if "unknown-route-200" in active:
            return HTMLResponse("<!doctype html><html><body><div id=app></div></body></html>")
        return fault_hooks.error_response(_unknown_route(request), active)

    base = config.base_path.rstrip("/")
    routes = [
        Route(f"{base}/models", endpoint(list_models, "models-auth-not-enforced"), methods=["GET"]),
        Route(f"{base}/models/{{model:path}}", endpoint(retrieve_model, "models-auth-not-enforced"), methods=["GET"]),
        Route(f"{base}/chat/completions", endpoint(chat_completions), methods=["POST"]),
        Route(f"{base}/moderations", endpoint(moderations, "moderations-auth-not-enforced"), methods=["POST"]),
    ]
    if config.flavour == "openai":
        create, retrieve = responses_routes.routes(
            flavour, responses_answer.ResponseStore(), limiter, config.model_noise, config.stream_delay, config.thinking
        )
        auth_fault = "responses-auth-not-enforced"
        routes += [
            Route(f"{base}/embeddings", endpoint(create_embeddings, "embeddings-auth-not-enforced"), methods=["POST"]),
            Route(f"{base}/completions", endpoint(create_completions), methods=["POST"]),
            Route(f"{base}/responses", endpoint(create, auth_fault), methods=["POST"]),
            Route(
                f"{base}/responses/{{response_id}}",
                endpoint(retrieve, auth_fault, "response-retrieval-auth-not-enforced"),
                methods=["GET"],
            ),
        ]
    inner = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    # the requests whose first attempt the drop-connections fault has dropped
    dropped: set[tuple[str, str, bytes, bytes]] = set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        active = config.faults
        if scope["type"] == "http":
            match = _FAULT_PREFIX.match(scope["path"])
            if match:
                asked = frozenset(match["ids"].split(","))
                if unknown(asked):
                    error = ApiError(404, f"Unknown faults {unknown(asked)}.", code="unknown_fault")
                    await error.response()(scope, receive, send)
                    return
                active = active | asked
                scope = {**scope, "path": match["rest"], "raw_path": match["rest"].encode()}
            scope = {**scope, "state": {**scope.get("state", {}), "faults": active}}
            if "drop-connections" in active:
                body, receive = await _buffered(receive)
                auth = dict(scope.get("headers") or []).get(b"authorization", b"")
                key = (scope["method"], scope["path"], auth, body)
                if key not in dropped:
                    dropped.add(key)
                    await _drop(send)
                    return
        await inner(scope, receive, send)

    return app
