"""POST /chat/completions of the reference server: validating the request.

Validation follows OpenAI's answers (400 with the parameter named in ``param``); parameters the
contract does not know are ignored, as the Llama API documents for its compatibility layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.reference import parameters, thinking
from conformance.reference.catalog import CHAT_MODELS, EMBEDDING_MODEL, FORBIDDEN_MODEL, LLAMA, Flavour
from conformance.reference.chat_messages import check_image, check_messages
from conformance.reference.effects import Effects, effects_of
from conformance.reference.errors import ApiError, bad_request, unknown_model
from conformance.reference.json_schemas import NAME, json_schema


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
    check_messages(body.get("messages"), CHAT_MODELS[model].vision, flavour)
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
