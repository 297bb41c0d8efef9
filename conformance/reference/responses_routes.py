"""The reference server's Responses API endpoints (OpenAI flavour only: the Llama API has none, so its
flavour answers 404 and the rows report "unsupported"): POST /responses and GET /responses/{id}, with
the faults that act on the request (what reaches the model) and on the store."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from conformance.reference import answers, fault_hooks, parameters, responses, responses_answer, thinking_faults
from conformance.reference.catalog import MODELS, Flavour
from conformance.reference.errors import ApiError, bad_request
from conformance.reference.limits import RateLimiter

Active = frozenset[str]
_IMAGE_CODES = ("invalid_image", "invalid_image_url", "invalid_image_format")


def _without_images(body: dict[str, Any]) -> dict[str, Any]:
    """The body with every input_image part left out (a server that drops what it cannot read)."""
    items = body.get("input")
    if not isinstance(items, list):
        return body
    kept = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("content"), list):
            parts = [p for p in item["content"] if not (isinstance(p, dict) and p.get("type") == "input_image")]
            item = {**item, "content": parts or [{"type": "input_text", "text": ""}]}
        kept.append(item)
    return {**body, "input": kept}


def _parse(body: Any, flavour: Flavour, earlier: list[dict[str, Any]] | None, active: Active, thinks: int) -> Any:
    body = thinking_faults.responses_request(body, active)
    items = body.get("input") if isinstance(body, dict) else None
    listed = items if isinstance(items, list) else []
    kinds = {part.get("type") for item in listed if isinstance(item, dict) for part in _parts(item)}
    if "responses-image-refused" in active and "input_image" in kinds:
        raise bad_request("Invalid content part type 'input_image'.", "input", "invalid_value")
    if "responses-developer-refused" in active and any(
        isinstance(item, dict) and item.get("role") == "developer" for item in listed
    ):
        raise bad_request("Invalid value for 'input[0].role': 'developer'.", "input[0].role", "invalid_value")
    if "responses-top-p-refused" in active and isinstance(body, dict) and body.get("top_p") is not None:
        raise bad_request("Invalid parameter 'top_p'.", "top_p", "invalid_value")
    if "responses-call-output-refused" in active and any(
        isinstance(item, dict) and item.get("type") == "function_call_output" for item in listed
    ):
        raise bad_request("Invalid 'input': unknown item type 'function_call_output'.", "input", "invalid_value")
    known = {model.id for model in MODELS}
    if "responses-unknown-model-answered" in active and isinstance(body, dict) and body.get("model") not in known:
        body = {**body, "model": MODELS[0].id}
    if "responses-image-ignored" in active and isinstance(body, dict):
        body = _without_images(body)
    try:
        parameters.validate("POST /responses", body, active)
        return responses.parse(body, flavour, earlier, thinks=thinks)
    except ApiError as error:
        streamed = isinstance(body, dict) and body.get("stream") is True
        if "responses-stream-errors-as-events" in active and error.status == 400 and streamed:
            raise StreamedError(error) from None
        if "responses-bad-image-accepted" in active and error.code in _IMAGE_CODES:
            return responses.parse(_without_images(body), flavour, earlier, thinks=thinks)
        if "responses-errors-no-param" in active and error.status == 400:
            raise ApiError(400, error.message, code=error.code) from None
        raise


class StreamedError(Exception):
    """A refusal the responses-stream-errors-as-events fault sends as a stream (HTTP 200, an error event)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _parts(item: dict[str, Any]) -> list[dict[str, Any]]:
    content = item.get("content")
    return [part for part in content if isinstance(part, dict)] if isinstance(content, list) else []


def _asked(parsed: responses.ResponsesRequest, active: Active, noise: float) -> responses.ResponsesRequest:
    """Faults that change what reaches the model; the model noise of a hosted one."""
    chat = parsed.chat
    changes: dict[str, Any] = {}
    if noise:
        changes.update(noise=noise, auto_call_rate=1 - noise / 2)
    changes.update(thinking_faults.responses_chat(chat, active))
    if "responses-max-output-ignored" in active:
        changes["max_tokens"] = None
    if "responses-instructions-ignored" in active and parsed.instructions:
        changes["messages"] = chat.messages[1:]
    if "responses-input-history-dropped" in active:
        changes["messages"] = [message for message in chat.messages if message["role"] == "system"] + [
            chat.messages[-1]
        ]
    if "responses-json-schema-ignored" in active and chat.response_format == "json_schema":
        changes["response_format"] = "text"
    if "responses-json-object-ignored" in active and chat.response_format == "json_object":
        changes["response_format"] = "text"
    if "responses-tool-choice-none-ignored" in active and chat.tool_choice == "none" and chat.tools:
        changes["tool_choice"] = "auto"
    if "responses-auto-never-calls" in active and chat.tool_choice == "auto":
        changes["tool_choice"] = "none"
    if "responses-tool-named-ignored" in active and chat.tool_choice.startswith("function:"):
        changes["tool_choice"] = "required"
    return responses.with_chat(parsed, **changes) if changes else parsed


def _spoiled(body: dict[str, Any], active: Active) -> dict[str, Any]:
    if "responses-tool-arguments-off-schema" in active:
        for item in body["output"]:
            if item["type"] == "function_call":
                item["arguments"] = fault_hooks.off_schema(item["arguments"])
    return body


def _limited(
    parsed: responses.ResponsesRequest, limiter: RateLimiter, key: str, active: Active
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Admit the request under the model's rate limit (the same window as chat completions): no body and its
    x-ratelimit-* headers; over it, a 429, or under the responses-rate-limit-as-failed-response fault a failed
    response to send with HTTP 200."""
    try:
        return None, limiter.admit(key, parsed.chat.model, active)
    except ApiError as error:
        if error.status != 429 or "responses-rate-limit-as-failed-response" not in active:
            raise
        body, _ = responses_answer.build(parsed, active)
        body.update(
            status="failed",
            completed_at=None,
            output=[],
            usage=None,
            error={"code": "rate_limit_exceeded", "message": error.message},
        )
        return body, {}


def routes(
    flavour: Flavour,
    store: responses_answer.ResponseStore,
    limiter: RateLimiter,
    noise: float,
    stream_delay: float,
    thinks: int = 0,
) -> tuple[Callable[[Request], Awaitable[Response]], Callable[[Request], Awaitable[Response]]]:
    """The handlers of POST /responses and GET /responses/{id}."""

    async def create(request: Request) -> Response:
        active: Active = request.state.faults
        raw = await request.body()
        if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != "application/json":
            raise bad_request("Unsupported Content-Type: send application/json.")
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("We could not parse the JSON body of your request.") from None
        if not isinstance(body, dict) and "non-object-body-500" in active:
            raise ApiError(500, "[json.exception.type_error.302] type must be object", type="server_error")
        earlier = None
        previous = body.get("previous_response_id") if isinstance(body, dict) else None
        if previous is not None:
            kept = store.get(request.state.key, previous) if isinstance(previous, str) else None
            if kept is None:
                raise bad_request(
                    f"Previous response with id {previous!r} not found.",
                    "previous_response_id",
                    "previous_response_not_found",
                )
            earlier = None if "responses-previous-ignored" in active else kept[1]
        try:
            parsed = _asked(_parse(body, flavour, earlier, active, thinks), active, noise)
        except StreamedError as refused:
            event = {"type": "error", "sequence_number": 0, **refused.error.body()["error"]}
            piece = f"event: error\ndata: {json.dumps(event)}\n\n".encode()
            return StreamingResponse(iter([piece]), media_type="text/event-stream")
        failed, admitted = _limited(parsed, limiter, request.state.key, active)
        if failed is not None:
            return JSONResponse(failed)
        answer, conversation = responses_answer.build(parsed, active)
        answer = thinking_faults.response_body(_spoiled(answer, active), active, parsed.stream)
        if parsed.store or "responses-store-false-kept" in active:
            store.keep(request.state.key, answer, conversation)
        if not parsed.stream:
            return JSONResponse(answer, headers=admitted)
        fail = parsed.chat.fault == "mid-stream-error"
        events = thinking_faults.response_events(responses_answer.stream_events(answer, active, fail), active)
        pieces = responses_answer.encode(events, active)
        return StreamingResponse(
            answers.paced(pieces, stream_delay), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    async def retrieve(request: Request) -> Response:
        active: Active = request.state.faults
        response_id = request.path_params["response_id"]
        kept = store.get(request.state.key, response_id)
        if kept is None or "responses-not-retrievable" in active:
            raise ApiError(404, f"Response with id {response_id!r} not found.", param="response_id", code="not_found")
        return JSONResponse(kept[0])

    return create, retrieve


__all__ = ["routes"]
