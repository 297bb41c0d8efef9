"""POST /chat/completions of the reference server: validating the request.

Validation follows OpenAI's answers (400 with the parameter named in ``param``); parameters the
contract does not know are ignored, as the Llama API documents for its compatibility layer.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from conformance.reference import parameters, thinking
from conformance.reference.catalog import CHAT_MODELS, EMBEDDING_MODEL, FORBIDDEN_MODEL, LLAMA, Flavour
from conformance.reference.effects import Effects, effects_of
from conformance.reference.errors import ApiError, bad_request, unknown_model
from conformance.reference.json_schemas import NAME, json_schema

ROLES = ("system", "developer", "user", "assistant", "tool")
DETAILS = ("low", "high", "auto")
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/jpg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/x-icon": (b"\x00\x00\x01\x00",),
    "image/webp": (b"RIFF",),
}


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1
    stream: bool = False
    include_usage: bool = False
    # "text", "json_object" or "json_schema"; the schema for the latter
    response_format: str = "text"
    schema: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    # "none", "auto", "required", or the name of the function asked for
    tool_choice: str = "none"
    parallel_tool_calls: bool = True
    # log probabilities of the answer's tokens, with this many alternatives each (OpenAI flavour only:
    # they are not Llama API parameters, which the compatibility layer ignores)
    logprobs: bool = False
    top_logprobs: int = 0
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    # how a hosted model behaves (ReferenceConfig.model_noise): at temperature 0 the wording varies with
    # this probability, and "auto" calls a mentioned tool with probability 1 - noise/2
    noise: float = 0.0
    # the share of "auto" answers that call a mentioned tool (below 1: a fault, or the noise)
    auto_call_rate: float = 1.0
    # a fault the test asked for in metadata.reference_fault (e.g. "mid-stream-error")
    fault: str | None = None
    # a reasoning model: the tokens it thinks at the default effort (0: it does not think), the effort
    # asked for, and the field its thinking is returned in (conformance.reference.thinking)
    thinking: int = 0
    effort: str | None = None
    reasoning_field: str = "reasoning_content"
    # penalties, logit_bias and verbosity (conformance.reference.effects; OpenAI flavour only)
    effects: Effects = field(default_factory=Effects)


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"Invalid type for '{name}': expected a number.", name, "invalid_type")
    if not low <= value <= high:
        raise bad_request(f"Invalid '{name}': {value} is outside [{low:g}, {high:g}].", name, "invalid_value")


def _integer(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"Invalid type for '{name}': expected an integer.", name, "invalid_type")
    if value < low:
        raise bad_request(f"Invalid '{name}': integer below minimum value {low}.", name, "integer_below_min_value")
    if high is not None and value > high:
        raise bad_request(f"Invalid '{name}': integer above maximum value {high}.", name, "integer_above_max_value")
    return value


def check_image(url: Any, param: str, flavour: Flavour = LLAMA) -> None:
    if not isinstance(url, str) or not url:
        raise bad_request("Invalid image: image_url.url must be a non-empty string.", param, "invalid_value")
    if url.startswith(("http://", "https://")):
        return
    match = _DATA_URL.match(url)
    if not match:
        raise bad_request(
            "Invalid image URL: expected an http(s) URL or a base64 data URL.", param, "invalid_image_url"
        )
    media_type = match["type"].lower()
    if media_type not in flavour.image_types:
        raise bad_request(
            f"Unsupported image type {media_type}; supported: {', '.join(sorted(flavour.image_types))}.",
            param,
            "invalid_image_format",
        )
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("Invalid image: the base64 data cannot be decoded.", param, "invalid_image") from None
    if not data.startswith(_MAGIC.get(media_type, (b"",))):
        raise bad_request(f"Invalid image: the data is not a valid {media_type} image.", param, "invalid_image")


def _content(content: Any, role: str, param: str, vision: bool, images: list[str], flavour: Flavour) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_request(
            f"Invalid type for '{param}': expected a string or an array of content parts.", param, "invalid_type"
        )
    for index, part in enumerate(content):
        where = f"{param}[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise bad_request(f"Invalid '{where}.text': expected a string.", f"{where}.text", "invalid_type")
        elif kind == "image_url" and role == "user":
            if not vision:
                raise bad_request("This model does not support image input.", where, "image_input_not_supported")
            image = part.get("image_url") if isinstance(part.get("image_url"), dict) else {}
            check_image(image.get("url"), f"{where}.image_url.url", flavour)
            if image.get("detail", "auto") not in DETAILS:
                raise bad_request(
                    f"Invalid '{where}.image_url.detail': expected one of {', '.join(DETAILS)}.",
                    f"{where}.image_url.detail",
                    "invalid_value",
                )
            images.append(image["url"])
        else:
            raise bad_request(
                f"Invalid content part type {kind!r} for a {role} message.", f"{where}.type", "invalid_value"
            )


def _messages(messages: Any, vision: bool, flavour: Flavour) -> None:
    if messages is None:
        raise bad_request("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list):
        raise bad_request("Invalid type for 'messages': expected an array.", "messages", "invalid_type")
    if not messages:
        raise bad_request("Invalid 'messages': empty array. Expected at least one message.", "messages", "empty_array")
    images: list[str] = []
    call_ids: set[str] = set()
    # the calls of the last assistant message that no tool result has answered yet
    pending: set[str] = set()
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if not isinstance(message, dict):
            raise bad_request(f"Invalid type for '{param}': expected an object.", param, "invalid_type")
        role = message.get("role")
        if role not in ROLES:
            raise bad_request(
                f"Invalid value for '{param}.role': {role!r}; expected one of {', '.join(ROLES)}.",
                f"{param}.role",
                "invalid_value",
            )
        if "name" in message and not isinstance(message["name"], str):
            raise bad_request(f"Invalid type for '{param}.name': expected a string.", f"{param}.name", "invalid_type")
        tool_calls = message.get("tool_calls") if role == "assistant" else None
        content = message.get("content")
        if content is None and not tool_calls:
            raise bad_request(
                f"Missing required parameter: '{param}.content'.", f"{param}.content", "missing_required_parameter"
            )
        if content is not None:
            _content(content, role, f"{param}.content", vision, images, flavour)
        if pending and role != "tool":
            raise _unanswered(pending, param)
        for number, call in enumerate(tool_calls or []):
            if not isinstance(call, dict) or not isinstance(call.get("id"), str):
                raise bad_request(
                    f"Invalid '{param}.tool_calls': each call needs an id.", f"{param}.tool_calls", "invalid_value"
                )
            function = call.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                where = f"{param}.tool_calls[{number}].function"
                raise bad_request(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
            call_ids.add(call["id"])
            pending.add(call["id"])
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise bad_request(
                    f"Missing required parameter: '{param}.tool_call_id'.",
                    f"{param}.tool_call_id",
                    "missing_required_parameter",
                )
            if call_id not in call_ids:
                raise bad_request(
                    "Messages with role 'tool' must answer an earlier assistant tool call.",
                    f"{param}.tool_call_id",
                    "invalid_value",
                )
            pending.discard(call_id)
    if pending:
        raise _unanswered(pending, f"messages[{len(messages) - 1}]")
    if flavour.max_images is not None and len(images) > flavour.max_images:
        raise bad_request(
            f"Too many images: {len(images)}; at most {flavour.max_images} per request.", "messages", "too_many_images"
        )


def _unanswered(pending: set[str], param: str) -> ApiError:
    return bad_request(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(sorted(pending))}",
        param,
        "invalid_value",
    )


def _response_format(body: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    value = body.get("response_format")
    if value is None:
        return "text", None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return kind, None
    if kind == "json_schema":
        schema, _ = json_schema(value.get("json_schema"), "response_format.json_schema", schema_param="response_format")
        return kind, schema
    raise bad_request(f"Invalid value for 'response_format.type': {kind!r}.", "response_format.type", "invalid_value")


def _tools(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, bool]:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is None:
        if choice is not None and choice != "none":
            raise bad_request(
                "'tool_choice' is only allowed when 'tools' are specified.", "tool_choice", "invalid_value"
            )
        return [], "none", True
    if not isinstance(tools, list):
        raise bad_request("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    functions = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise bad_request(
                f"Invalid 'tools[{index}]': expected a function with a name.", f"tools[{index}]", "invalid_value"
            )
        if not NAME.match(function["name"]):
            raise bad_request(
                f"Invalid 'tools[{index}].function.name'.", f"tools[{index}].function.name", "invalid_value"
            )
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        spec = {"schema": parameters, "strict": function.get("strict")}
        json_schema(spec, f"tools[{index}].function.parameters", name_required=False)
        functions.append({**function, "parameters": parameters})
    names = [function["name"] for function in functions]
    if choice is None:
        choice = "auto" if functions else "none"
    if isinstance(choice, dict):
        named = choice.get("function", {}).get("name") if isinstance(choice.get("function"), dict) else None
        if named not in names:
            raise bad_request(
                f"Invalid 'tool_choice': no tool named {named!r} was offered.", "tool_choice", "invalid_value"
            )
        choice = f"function:{named}"
    elif choice not in ("none", "auto", "required"):
        raise bad_request(f"Invalid value for 'tool_choice': {choice!r}.", "tool_choice", "invalid_value")
    parallel = body.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise bad_request(
            "Invalid type for 'parallel_tool_calls': expected a boolean.", "parallel_tool_calls", "invalid_type"
        )
    return functions, choice, parallel


def requested_model(body: dict[str, Any]) -> str:
    """The model a chat or Responses request names: present, a string, and one this key may use."""
    model = body.get("model")
    if model is None:
        raise bad_request("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if not isinstance(model, str):
        raise bad_request("Invalid type for 'model': expected a string.", "model", "invalid_type")
    if model == FORBIDDEN_MODEL:
        raise ApiError(
            403,
            "The requested model is not available for your application.",
            type="permission_error",
            param="model",
            code="model_not_available",
        )
    return model


def parse(
    body: Any, flavour: Flavour = LLAMA, *, thinks: int = 0, reasoning_field: str = "reasoning_content"
) -> ChatRequest:
    """The request a body makes; ``thinks``: every model thinks this many tokens (the server's reasoning
    mode), else only the catalogue's reasoning models do."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    if flavour.refuses_unknown_parameters:
        unknown = sorted(set(body) - parameters.known("POST /chat/completions"))
        if unknown:
            raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0], "unknown_parameter")
    model = requested_model(body)
    if model == flavour.moderation_model:
        raise bad_request(f"The model `{model}` serves /moderations only.", "model", "model_not_supported")
    if model == EMBEDDING_MODEL:
        raise ApiError(
            404,
            "This is not a chat model and thus not supported in the v1/chat/completions endpoint.",
            param="model",
            code="model_not_found",
        )
    if model not in CHAT_MODELS:
        raise unknown_model(model, param=None)
    _messages(body.get("messages"), CHAT_MODELS[model].vision, flavour)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    max_tokens = _integer(body, "max_completion_tokens", 1) or _integer(body, "max_tokens", 1)
    n = _integer(body, "n", 1, 8) or 1
    _integer(body, "seed", -(2**63))
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (not isinstance(stop, list) or len(stop) > 4 or not all(isinstance(s, str) for s in stop)):
        raise bad_request("Invalid 'stop': expected a string or an array of at most 4 strings.", "stop", "invalid_type")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_request("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    response_format, schema = _response_format(body)
    tools, tool_choice, parallel = _tools(body)
    logprobs, top_logprobs = _logprobs(body) if flavour.refuses_unknown_parameters else (False, 0)
    budget = thinks or (thinking.DEFAULT_TOKENS if CHAT_MODELS[model].thinks else 0)
    effort = thinking.effort_of(body, validate=flavour.refuses_unknown_parameters)
    if effort is not None and not budget and flavour.refuses_unknown_parameters:
        raise bad_request(
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            "reasoning_effort",
            "unsupported_parameter",
        )
    return ChatRequest(
        model=model,
        messages=body["messages"],
        max_tokens=max_tokens,
        stop=stop or [],
        n=n,
        stream=stream,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
        response_format=response_format,
        schema=schema,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        seed=body.get("seed"),
        fault=_fault(body),
        thinking=budget,
        effort=effort,
        reasoning_field=reasoning_field,
        effects=effects_of(body) if flavour.refuses_unknown_parameters else Effects(),
    )


def _logprobs(body: dict[str, Any]) -> tuple[bool, int]:
    logprobs = body.get("logprobs", False)
    if not isinstance(logprobs, bool) and logprobs is not None:
        raise bad_request("Invalid type for 'logprobs': expected a boolean.", "logprobs", "invalid_type")
    top = _integer(body, "top_logprobs", 0, 20)
    if top is not None and not logprobs:
        raise bad_request("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs", "invalid_value")
    return bool(logprobs), top or 0


def _fault(body: dict[str, Any]) -> str | None:
    metadata = body.get("metadata")
    fault = metadata.get("reference_fault") if isinstance(metadata, dict) else None
    return fault if isinstance(fault, str) else None


__all__ = ["ApiError", "ChatRequest", "check_image", "parse", "requested_model"]
