"""What each fault of ``conformance.reference.faults`` does, at the few points where the reference
server lets them act: the request body before validation, the parsed request, the answer, the
stream's events and framing, error responses, and the model list and moderation answers.

Every function takes the set of active fault ids and leaves everything alone when none applies.
What the faults do to a streamed answer (its events and their framing) is in ``stream_hooks``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
import uuid
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from conformance.reference import message_faults, parameters
from conformance.reference.catalog import CHAT_MODELS, EMBEDDING_MODEL, FORBIDDEN_MODEL, MODELS, Flavour
from conformance.reference.chat import ChatRequest
from conformance.reference.chat_messages import check_image
from conformance.reference.effects import Effects
from conformance.reference.errors import ApiError, bad_request

Active = frozenset[str]
DEFAULT_MODEL = MODELS[0].id
# the first model that reads images: the one a gateway's incomplete list leaves out
VISION_MODEL = next(model.id for model in MODELS if model.vision)


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def _parts(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image_url"


def _valid_image(part: dict[str, Any]) -> bool:
    image = part.get("image_url") if isinstance(part.get("image_url"), dict) else {}
    try:
        check_image(image.get("url"), "image")
    except ApiError:
        return False
    return True


def before_parse(body: Any, active: Active, flavour: Flavour) -> Any:
    """Faults that act on the request as it arrives: refuse what should be accepted, or let through
    (by rewriting it) what should be refused."""
    if not active or not isinstance(body, dict):
        return body
    body = copy.deepcopy(body)
    messages = _messages(body)
    model = body.get("model")
    _refuse_or_break(body, messages, active)
    message_faults.apply(body, messages, active)
    if "embedding-model-chats" in active and model == EMBEDDING_MODEL:
        body["model"] = MODELS[0].id
    if "images-dropped" in active:
        for message in messages:
            if isinstance(message.get("content"), list):
                message["content"] = [p for p in message["content"] if not _is_image(p)]
    if "developer-role-refused" in active and any(m.get("role") == "developer" for m in messages):
        raise bad_request("Invalid value for 'messages[0].role': 'developer'.", "messages[0].role", "invalid_value")
    if "name-refused" in active and any("name" in m for m in messages):
        raise bad_request("'messages[].name' is not supported.", "messages", "unsupported_parameter")
    if "content-parts-refused" in active and any(isinstance(m.get("content"), list) for m in messages):
        raise bad_request("Invalid type for 'content': expected a string.", "messages", "invalid_type")
    if "tool-parameters-required" in active:
        for number, tool in enumerate(body.get("tools") or []):
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and "parameters" not in function:
                param = f"tools[{number}].function.parameters"
                raise ApiError(422, f"Field required: {param}", param=param)
    if "non-user-parts-refused" in active:
        for number, message in enumerate(messages):
            if message.get("role") != "user" and isinstance(message.get("content"), list):
                param = f"messages[{number}].content"
                raise bad_request(f"Invalid type for '{param}': expected a string.", param, "invalid_type")
    if "system-parts-stringified" in active:
        for message in messages:
            if message.get("role") in ("system", "developer") and isinstance(message.get("content"), list):
                message["content"] = ",".join("[object Object]" for _ in message["content"])
    if "developer-dropped" in active and isinstance(body.get("messages"), list):
        body["messages"] = [m for m in body["messages"] if not isinstance(m, dict) or m.get("role") != "developer"]
    if "images-refused" in active and any(_is_image(p) for m in messages for p in _parts(m)):
        raise bad_request("Image input is not supported.", "messages", "image_input_not_supported")
    if "tool-round-trip-refused" in active and any(m.get("role") == "tool" for m in messages):
        raise bad_request("Messages with role 'tool' are not supported.", "messages", "invalid_value")
    if "corrupt-image-accepted" in active:
        for message in messages:
            if isinstance(message.get("content"), list):
                message["content"] = [p for p in message["content"] if not _is_image(p) or _valid_image(p)]
    text_only = isinstance(model, str) and model in CHAT_MODELS and not CHAT_MODELS[model].vision
    if "text-only-accepts-images" in active and text_only:
        for message in messages:
            if isinstance(message.get("content"), list):
                message["content"] = [p for p in message["content"] if not _is_image(p)] or "(image)"
    if "invalid-role-accepted" in active:
        for message in messages:
            if "role" in message and message["role"] not in ("system", "developer", "user", "assistant", "tool"):
                message["role"] = "user"
    if "temperature-range-unchecked" in active:
        for name, high in (("temperature", 2), ("top_p", 1)):
            value = body.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                body[name] = min(max(value, 0), high)
    if "invalid-schema-accepted" in active and _broken_schema(body.get("response_format")):
        body.pop("response_format", None)
    if isinstance(model, str) and model not in CHAT_MODELS and model != flavour.moderation_model:
        if "unknown-model-400" in active and model != FORBIDDEN_MODEL:
            raise bad_request(f"Invalid model name passed in model={model}.", "model", "invalid_model")
        forbidden = model == FORBIDDEN_MODEL
        fault = "forbidden-model-answered" if forbidden else "unknown-model-answered"
        if fault in active:
            body["model"] = DEFAULT_MODEL
    if "unknown-parameters-accepted" in active:
        body = {key: value for key, value in body.items() if key in parameters.known("POST /chat/completions")}
    return body


def _refuse_or_break(body: dict[str, Any], messages: list[dict[str, Any]], active: Active) -> None:
    """Faults that refuse, or fail on, requests a conforming server answers."""
    upstream = "The upstream refused the request: unexpected parameter"
    if "top-p-breaks" in active and body.get("top_p", 1) != 1:
        raise ApiError(500, f"{upstream} 'top_p'.", type="server_error", code="upstream_error")
    if "seed-breaks" in active and "seed" in body:
        raise ApiError(500, f"{upstream} 'seed'.", type="server_error", code="upstream_error")
    if "system-role-refused" in active and any(m.get("role") == "system" for m in messages):
        raise bad_request("System role not supported.", "messages", "invalid_value")
    if "history-refused" in active and any(m.get("role") == "assistant" for m in messages):
        raise bad_request("Conversation roles must alternate user/assistant/user/assistant/...", "messages")
    if "long-history-refused" in active and len(messages) > 16:
        raise bad_request("Too many messages: at most 16 are allowed.", "messages", "too_many_messages")


def _broken_schema(response_format: Any) -> bool:
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return False
    schema = (response_format.get("json_schema") or {}).get("schema")
    try:
        Draft202012Validator.check_schema(schema if isinstance(schema, dict) else {})
    except SchemaError:
        return True
    return False


# faults that accept a parameter whose effect is the model's choice, and answer as if it had not been sent
_IGNORED_EFFECTS = {
    "frequency-penalty-ignored": "frequency_penalty",
    "presence-penalty-ignored": "presence_penalty",
    "logit-bias-ignored": "logit_bias",
    "verbosity-ignored": "verbosity",
}


def after_parse(request: ChatRequest, active: Active) -> ChatRequest:
    """Faults that ignore parameters the request did send (or fail a valid request)."""
    if not active:
        return request
    if "chat-500" in active:
        raise ApiError(500, "The upstream model server returned an error.", type="server_error", code="upstream_error")
    changes: dict[str, Any] = {}
    if "n-ignored" in active:
        changes["n"] = 1
    if "max-tokens-ignored" in active:
        changes["max_tokens"] = None
    if "stop-ignored" in active:
        changes["stop"] = []
    if "json-schema-ignored" in active and request.response_format == "json_schema":
        changes["response_format"] = "text"
    if "json-object-ignored" in active and request.response_format == "json_object":
        changes["response_format"] = "text"
    if "tool-choice-none-ignored" in active and request.tool_choice == "none" and request.tools:
        changes["tool_choice"] = "auto"
    if "tool-named-ignored" in active and request.tool_choice.startswith("function:"):
        changes["tool_choice"] = "required"
    if "stream-usage-ignored" in active:
        changes["include_usage"] = False
    if "history-dropped" in active:
        changes["messages"] = request.messages[-1:]
    if "logprobs-ignored" in active:
        changes["logprobs"] = False
    if "required-as-auto" in active and request.tool_choice == "required":
        changes["tool_choice"] = "auto"
    if "auto-never-calls" in active and request.tool_choice == "auto":
        changes["tool_choice"] = "none"
    if "auto-rarely-calls" in active:
        changes["auto_call_rate"] = 0.2
    if "temperature-ignored" in active:
        changes["temperature"] = None
    if "top-p-ignored" in active:
        changes["top_p"] = None
    if "single-call-only" in active:
        changes["parallel_tool_calls"] = False
    ignored = {name: None for fault, name in _IGNORED_EFFECTS.items() if fault in active}
    if ignored:
        kept = {k: v for k, v in dataclasses.asdict(request.effects).items() if k not in ignored}
        changes["effects"] = Effects(**kept)
    return dataclasses.replace(request, **changes) if changes else request


def answer(body: dict[str, Any], request: ChatRequest, active: Active) -> dict[str, Any]:
    """Faults that spoil a non-streamed answer."""
    if not active:
        return body
    if "usage-wrong-total" in active and "usage" in body:
        body["usage"]["total_tokens"] += 1
    if "no-usage" in active:
        body.pop("usage", None)
    if "created-in-ms" in active:
        body["created"] *= 1000
    if "created-as-string" in active:
        body["created"] = str(body["created"])
    if "model-echo-wrong" in active:
        others = [m.id for m in MODELS if m.id != body["model"]]
        body["model"] = others[0]
    if "answer-without-id" in active:
        body.pop("id", None)
    for choice in body["choices"]:
        message = choice["message"]
        calls = message.get("tool_calls") or []
        if "nullable-fields" in active:
            for name in ("tool_calls", "function_call", "refusal", "audio"):
                message.setdefault(name, None)
        if "finish-reason-invalid-on-stop" in active and choice["finish_reason"] == "stop":
            choice["finish_reason"] = "eos_token"
        if "seed-not-repeatable" in active and (request.temperature or 0) >= 1 and message.get("content"):
            message["content"] += f" ({uuid.uuid4().hex[:6]})"
        if "finish-reason-invalid" in active:
            choice["finish_reason"] = "eos"
        if "role-not-assistant" in active:
            message["role"] = "model"
        if "content-null" in active and not calls:
            message["content"] = None
        if "tool-finish-stop" in active and calls:
            choice["finish_reason"] = "stop"
        if "tool-parallel-same-id" in active:
            for call in calls:
                call["id"] = "call_same"
        for call in calls:
            if "tool-call-no-id" in active:
                call.pop("id", None)
            if "tool-empty-arguments" in active and call["function"]["arguments"] == "{}":
                call["function"]["arguments"] = ""
            if "tool-arguments-off-schema" in active:
                call["function"]["arguments"] = off_schema(call["function"]["arguments"])
            if "tool-arguments-object" in active:
                call["function"]["arguments"] = json.loads(call["function"]["arguments"] or "{}")
        if "json-booleans-as-strings" in active and request.response_format == "json_schema":
            message["content"] = json.dumps(_booleans_as_strings(json.loads(message["content"])))
        if "json-schema-violated" in active and request.response_format == "json_schema":
            value = json.loads(message["content"])
            if isinstance(value, dict) and value:
                value.pop(next(iter(value)))
                message["content"] = json.dumps(value)
    return body


def _booleans_as_strings(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {key: _booleans_as_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_booleans_as_strings(item) for item in value]
    return value


# what a target past the limit it announced sends instead of a 429, each from a public report (see faults/errors.py)
PAST_THE_LIMIT = frozenset({"rate-limit-as-500", "rate-limit-as-400", "rate-limit-as-200-error", "rate-limit-as-html"})


def _instead_of_429(error: ApiError, active: Active) -> Response:
    """The answer a target gives over its limit, other than a 429: a gateway's bare 500, a 400 naming a usage
    limit, a 200 with an error inside, a reverse proxy's HTML page; the x-ratelimit-* headers stay."""
    headers = {name: value for name, value in error.headers.items() if name.startswith("x-ratelimit-")}
    if "rate-limit-as-500" in active:
        body = ApiError(500, "Internal server error.", type="server_error").body()
        return JSONResponse(body, status_code=500, headers=headers)
    if "rate-limit-as-400" in active:
        message = "You have reached your specified API usage limits. You will regain access in 1 s."
        return JSONResponse(bad_request(message).body(), status_code=400, headers=headers)
    if "rate-limit-as-200-error" in active:
        answer = {
            "id": "chatcmpl-limited",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "unknown",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "error": {"message": "Provider returned error", "code": 429},
        }
        return JSONResponse(answer, headers=headers)
    page = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503</h1></body></html>"
    return HTMLResponse(page, status_code=503, headers=headers)


def error_response(error: ApiError, active: Active) -> Response:
    """Faults that spoil the error envelope (or the status) of an error answer."""
    if "server-error-for-bad-requests" in active and error.status == 400:
        error = ApiError(500, error.message, type="server_error", param=error.param, code=error.code)
    headers = dict(error.headers)
    if error.status == 429 and active & PAST_THE_LIMIT:
        return _instead_of_429(error, active)
    if error.status == 429 and "rate-limit-as-503" in active:
        # a proxy's own limit: no Retry-After, the wait only in the message
        message = "Rate limit reached for requests. Please try again in 1s."
        body = ApiError(503, message, type="server_error", code="service_unavailable").body()
        return JSONResponse(body, status_code=503)
    if error.status == 429:
        if "rate-limit-no-retry-after" in active:
            headers.pop("retry-after", None)
        if "rate-limit-not-json" in active:
            return PlainTextResponse(f"Too Many Requests: {error.message}", status_code=429, headers=headers)
    if error.status == 401 and "unauthorized-as-text" in active:
        return PlainTextResponse("Unauthorized", status_code=401, headers=headers)
    if "error-not-json" in active:
        return PlainTextResponse(f"Error: {error.message}", status_code=error.status, headers=headers)
    if "error-as-string" in active:
        return JSONResponse({"error": error.message}, status_code=error.status, headers=headers)
    body = error.body()
    if "error-code-int" in active:
        body["error"]["code"] = error.status
    if "param-not-named" in active:
        body["error"]["param"] = None
    return JSONResponse(body, status_code=error.status, headers=headers)


def model_list(body: dict[str, Any], active: Active) -> dict[str, Any]:
    if "models-created-ms" in active:
        for model in body["data"]:
            model["created"] *= 1000
    if "models-list-no-object" in active:
        body.pop("object", None)
    if "models-list-duplicates" in active:
        body["data"] = [model for model in body["data"] for _ in range(2)]
    if "models-list-incomplete" in active:
        body["data"] = [model for model in body["data"] if model["id"] != VISION_MODEL]
    return body


def moderation(body: dict[str, Any], active: Active) -> dict[str, Any]:
    if not active:
        return body
    if "moderation-count-wrong" in active and len(body["results"]) > 1:
        body["results"] = body["results"][:1]
    for result in body["results"]:
        if "moderation-flagged-inconsistent" in active:
            result["flagged"] = False
        if "moderation-no-scores" in active:
            result.pop("category_scores", None)
        if "moderation-no-applied-types" in active:
            result.pop("category_applied_input_types", None)
    return body


def off_schema(arguments: str) -> str:
    """The arguments with their first string value replaced by one no enum of the suite's tools holds."""
    value = json.loads(arguments or "{}")
    for key, item in value.items() if isinstance(value, dict) else ():
        if isinstance(item, str):
            value[key] = "Lyon"
            break
    return json.dumps(value)
