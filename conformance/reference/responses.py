"""The reference server's Responses API (OpenAI flavour): a request body read into what the model is
asked (a ``ChatRequest``, so the answers are the chat answers) and what the response echoes.

Validation follows OpenAI's: unknown parameters, values out of range, malformed items, images and
schemas are refused with 400 naming the parameter (``input[1].content[0].image_url``); an unknown
model gets the 404 of chat completions; a ``previous_response_id`` the server did not store, a 400.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from conformance.reference import parameters, thinking
from conformance.reference.catalog import CHAT_MODELS, Flavour
from conformance.reference.chat import ChatRequest, requested_model
from conformance.reference.chat_messages import check_image
from conformance.reference.errors import bad_request, unknown_model
from conformance.reference.json_schemas import NAME, json_schema

# the settings a response echoes as they were sent (beside temperature, top_p, max_output_tokens, metadata)
ECHOED = ("background", "max_tool_calls", "top_logprobs", "truncation", "prompt_cache_key", "safety_identifier")
# OpenAI refuses a smaller cap ("integer below minimum value", 16)
MIN_OUTPUT_TOKENS = 16
_ROLES = ("user", "assistant", "system", "developer")


@dataclass
class ResponsesRequest:
    """What a POST /responses asks: the model's question, and the settings its response echoes."""

    chat: ChatRequest
    instructions: str | None
    max_output_tokens: int | None
    text_format: dict[str, Any]
    tools: list[dict[str, Any]]
    tool_choice: Any
    parallel_tool_calls: bool
    store: bool
    stream: bool
    previous_response_id: str | None
    metadata: dict[str, str]
    temperature: float | None
    top_p: float | None
    # the conversation the response continues from: earlier turns, then this request's input
    history: list[dict[str, Any]] = field(default_factory=list)
    # the reasoning asked for (effort and summary, echoed) and what ``include`` asks to add
    reasoning: dict[str, Any] = field(default_factory=lambda: {"effort": None, "summary": None})
    include: list[str] = field(default_factory=list)
    # the settings of ECHOED the request gave
    settings: dict[str, Any] = field(default_factory=dict)


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"Invalid type for '{name}': expected a number.", name, "invalid_type")
    if not low <= value <= high:
        raise bad_request(f"Invalid '{name}': {value} is outside [{low:g}, {high:g}].", name, "invalid_value")
    return float(value)


def _text_parts(content: Any, role: str, param: str, vision: bool, flavour: Flavour) -> list[dict[str, Any]] | str:
    """An input message's content as chat content: a string, or text and image_url parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise bad_request(
            f"Invalid type for '{param}': expected a string or an array of content parts.", param, "invalid_type"
        )
    parts: list[dict[str, Any]] = []
    text_kind = "output_text" if role == "assistant" else "input_text"
    for index, part in enumerate(content):
        where = f"{param}[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in (text_kind, "refusal" if role == "assistant" else text_kind):
            text = part.get("text", part.get("refusal"))
            if not isinstance(text, str):
                raise bad_request(f"Invalid '{where}.text': expected a string.", f"{where}.text", "invalid_type")
            parts.append({"type": "text", "text": text})
        elif kind == "input_image" and role == "user":
            if not vision:
                raise bad_request("This model does not support image input.", where, "image_input_not_supported")
            check_image(part.get("image_url"), f"{where}.image_url", flavour)
            if part.get("detail", "auto") not in ("auto", "low", "high"):
                raise bad_request(
                    f"Invalid '{where}.detail': expected one of auto, low, high.", f"{where}.detail", "invalid_value"
                )
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        else:
            raise bad_request(
                f"Invalid content part type {kind!r} for a {role} message.", f"{where}.type", "invalid_value"
            )
    return parts


def _items(value: Any, vision: bool, flavour: Flavour, known_calls: set[str]) -> list[dict[str, Any]]:
    """The input as chat messages: a string is one user message; items are messages, function calls and
    their outputs (an output must answer a call made earlier)."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if value is None:
        raise bad_request("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if not isinstance(value, list) or not value:
        raise bad_request("Invalid 'input': expected a string or a non-empty array of items.", "input", "invalid_type")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        param = f"input[{index}]"
        if not isinstance(item, dict):
            raise bad_request(f"Invalid type for '{param}': expected an object.", param, "invalid_type")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in _ROLES:
                raise bad_request(
                    f"Invalid value for '{param}.role': {role!r}; expected one of {', '.join(_ROLES)}.",
                    f"{param}.role",
                    "invalid_value",
                )
            content = _text_parts(item.get("content"), role, f"{param}.content", vision, flavour)
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            for name in ("call_id", "name", "arguments"):
                if not isinstance(item.get(name), str):
                    raise bad_request(
                        f"Missing required parameter: '{param}.{name}'.",
                        f"{param}.{name}",
                        "missing_required_parameter",
                    )
            known_calls.add(item["call_id"])
            call = {"id": item["call_id"], "type": "function", "function": {k: item[k] for k in ("name", "arguments")}}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "reasoning":
            thought = thinking.reasoning_input(item, param)
            messages.append(
                {"role": "assistant", "content": None, "reasoning_content": thought, "reasoning_item": True}
            )
        elif kind == "function_call_output":
            call_id, output = item.get("call_id"), item.get("output")
            if not isinstance(call_id, str) or call_id not in known_calls:
                raise bad_request(
                    f"No tool call found for function call output with call_id {call_id!r}.",
                    f"{param}.call_id",
                    "invalid_value",
                )
            if not isinstance(output, str):
                raise bad_request(f"Invalid type for '{param}.output': expected a string.", f"{param}.output")
            messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
        else:
            raise bad_request(f"Invalid value for '{param}.type': {kind!r}.", f"{param}.type", "invalid_value")
    return messages


def _tools(body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str, Any]:
    """The tools as sent (echoed), as the chat answers read them, the chat tool_choice, and the echoed one."""
    tools, choice = body.get("tools") or [], body.get("tool_choice")
    if not isinstance(tools, list):
        raise bad_request("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    echoed, functions = [], []
    for index, tool in enumerate(tools):
        param = f"tools[{index}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise bad_request(f"Invalid '{param}.type': only function tools are served.", f"{param}.type")
        if not isinstance(tool.get("name"), str) or not NAME.match(tool["name"]):
            raise bad_request(f"Invalid '{param}.name'.", f"{param}.name", "invalid_value")
        parameters = tool.get("parameters") or {"type": "object", "properties": {}}
        json_schema({"schema": parameters, "strict": tool.get("strict")}, f"{param}.parameters", name_required=False)
        strict = tool.get("strict", True) is not False
        echoed.append(
            {
                "type": "function",
                "name": tool["name"],
                "description": tool.get("description"),
                "parameters": parameters,
                "strict": strict,
            }
        )
        functions.append({"name": tool["name"], "description": tool.get("description"), "parameters": parameters})
    names = [function["name"] for function in functions]
    if choice is None:
        return echoed, functions, "auto" if functions else "none", "auto"
    if isinstance(choice, dict):
        named = choice.get("name") if choice.get("type") == "function" else None
        if named not in names:
            raise bad_request(
                f"Invalid 'tool_choice': no function tool named {named!r} was offered.", "tool_choice", "invalid_value"
            )
        return echoed, functions, f"function:{named}", {"type": "function", "name": named}
    if choice not in ("none", "auto", "required"):
        raise bad_request(f"Invalid value for 'tool_choice': {choice!r}.", "tool_choice", "invalid_value")
    if choice == "required" and not functions:
        raise bad_request("'tool_choice' is 'required' but no tools were offered.", "tool_choice", "invalid_value")
    return echoed, functions, choice if functions else "none", choice


def _text_format(body: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
    text = body.get("text")
    if text is None:
        return {"type": "text"}, "text", None
    fmt = text.get("format", {"type": "text"}) if isinstance(text, dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind in ("text", "json_object"):
        return {"type": kind}, kind, None
    if kind == "json_schema":
        assert isinstance(fmt, dict)
        schema, strict = json_schema(fmt, "text.format", schema_param="text.format.schema")
        echoed = {"type": "json_schema", "name": fmt["name"], "schema": schema, "strict": strict}
        return {**echoed, "description": fmt.get("description")}, kind, schema
    raise bad_request(f"Invalid value for 'text.format.type': {kind!r}.", "text.format.type", "invalid_value")


def _metadata(body: dict[str, Any]) -> dict[str, str]:
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or len(metadata) > 16 or not all(isinstance(v, str) for v in metadata.values()):
        raise bad_request("Invalid 'metadata': at most 16 string values.", "metadata", "invalid_value")
    return metadata


def parse(body: Any, flavour: Flavour, earlier: list[dict[str, Any]] | None, *, thinks: int = 0) -> ResponsesRequest:
    """Read a POST /responses body; ``earlier`` is the stored conversation its previous_response_id
    names (None when it names none; the caller refuses an id it does not know); ``thinks``: every model thinks
    this many tokens (the server's reasoning mode), else only the catalogue's reasoning models do."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    unknown = sorted(set(body) - parameters.known("POST /responses"))
    if unknown:
        raise bad_request(f"Unknown parameter: '{unknown[0]}'.", unknown[0], "unknown_parameter")
    model = requested_model(body)
    if model not in CHAT_MODELS:
        raise unknown_model(model)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise bad_request("Invalid type for 'instructions': expected a string.", "instructions", "invalid_type")
    history = [dict(message) for message in earlier or []]
    calls = {call["id"] for message in history for call in message.get("tool_calls") or []}
    history += _items(body.get("input"), CHAT_MODELS[model].vision, flavour, calls)
    temperature, top_p = _number(body, "temperature", 0, 2), _number(body, "top_p", 0, 1)
    cap = body.get("max_output_tokens")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int)):
        raise bad_request("Invalid type for 'max_output_tokens': expected an integer.", "max_output_tokens")
    if cap is not None and cap < MIN_OUTPUT_TOKENS:
        raise bad_request(
            f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= {MIN_OUTPUT_TOKENS}, "
            f"but got {cap} instead.",
            "max_output_tokens",
            "integer_below_min_value",
        )
    for name in ("stream", "store", "parallel_tool_calls"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise bad_request(f"Invalid type for '{name}': expected a boolean.", name, "invalid_type")
    echoed_tools, functions, chat_choice, echoed_choice = _tools(body)
    text_format, response_format, schema = _text_format(body)
    metadata = _metadata(body)
    include = thinking.include_of(body)
    effort, summary = thinking.responses_effort(body.get("reasoning"))
    budget = thinks or (thinking.DEFAULT_TOKENS if CHAT_MODELS[model].thinks else 0)
    if (effort is not None or summary is not None) and not budget:
        raise bad_request(
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            "reasoning.effort",
            "unsupported_parameter",
        )
    history = _merged(history)
    messages = ([{"role": "system", "content": instructions}] if instructions else []) + history
    fault = metadata.get("reference_fault")
    chat = ChatRequest(
        model=model,
        messages=messages,
        max_tokens=cap,
        stream=body.get("stream") is True,
        response_format=response_format,
        schema=schema,
        tools=functions,
        tool_choice=chat_choice,
        parallel_tool_calls=body.get("parallel_tool_calls", True),
        temperature=temperature,
        top_p=top_p,
        fault=fault,
        thinking=budget,
        effort=effort,
    )
    return ResponsesRequest(
        chat=chat,
        instructions=instructions,
        max_output_tokens=cap,
        text_format=text_format,
        tools=echoed_tools,
        tool_choice=echoed_choice,
        parallel_tool_calls=body.get("parallel_tool_calls", True),
        store=body.get("store", True),
        stream=body.get("stream") is True,
        previous_response_id=body.get("previous_response_id"),
        metadata=metadata,
        temperature=temperature,
        top_p=top_p,
        history=history,
        reasoning={"effort": effort, "summary": summary},
        include=include,
        settings={name: body[name] for name in ECHOED if body.get(name) is not None},
    )


def _merged(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation with each reasoning item passed back folded into the assistant turn that follows it
    (as its reasoning_content); one with nothing after it is dropped."""
    merged: list[dict[str, Any]] = []
    pending: str | None = None
    for message in history:
        if message.get("reasoning_item"):
            pending = (pending or "") + message["reasoning_content"]
            continue
        if pending is not None and message.get("role") == "assistant":
            message = {**message, "reasoning_content": pending}
            pending = None
        merged.append(message)
    return merged


def with_chat(request: ResponsesRequest, **changes: Any) -> ResponsesRequest:
    return dataclasses.replace(request, chat=dataclasses.replace(request.chat, **changes))


__all__ = ["ECHOED", "MIN_OUTPUT_TOKENS", "ResponsesRequest", "parse", "with_chat"]
