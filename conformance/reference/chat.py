"""POST /chat/completions of the reference server: validation and deterministic answers.

The answer is ``You said: <the last user text>``, cut to ``max_tokens`` tokens (a token is a run of
non-space characters with the spaces before it), so length limits and usage are exact and
predictable. Parameters the contract does not know are ignored, as the Llama API documents.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conformance.reference.catalog import CHAT_MODELS, IMAGE_TYPES, MAX_IMAGES, MODERATION_MODEL
from conformance.reference.errors import bad_request, unknown_model

ROLES = ("system", "developer", "user", "assistant", "tool")
_TOKEN = re.compile(r"\s*\S+")
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/jpg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/x-icon": (b"\x00\x00\x01\x00",),
}


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None
    stop: list[str]
    n: int
    stream: bool
    include_usage: bool


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(
            f"Invalid type for '{name}': expected a number, but got {type(value).__name__}.", name, "invalid_type"
        )
    if not low <= value <= high:
        raise bad_request(f"Invalid '{name}': {value} is outside [{low:g}, {high:g}].", name, "invalid_value")


def _integer(body: dict[str, Any], name: str, low: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"Invalid type for '{name}': expected an integer.", name, "invalid_type")
    if value < low:
        raise bad_request(f"Invalid '{name}': integer below minimum value {low}.", name, "integer_below_min_value")
    return value


def _check_image(url: Any, param: str) -> None:
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
    if media_type not in IMAGE_TYPES:
        raise bad_request(
            f"Unsupported image type {media_type}; supported: {', '.join(sorted(IMAGE_TYPES))}.",
            param,
            "invalid_image_format",
        )
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("Invalid image: the base64 data cannot be decoded.", param, "invalid_image") from None
    if not data.startswith(_MAGIC[media_type]):
        raise bad_request(f"Invalid image: the data is not a valid {media_type} image.", param, "invalid_image")


def _check_content(content: Any, role: str, param: str, vision: bool, images: list[int]) -> None:
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
            image = part.get("image_url")
            _check_image(image.get("url") if isinstance(image, dict) else None, f"{where}.image_url.url")
            images.append(1)
        else:
            raise bad_request(
                f"Invalid content part type {kind!r} for a {role} message.", f"{where}.type", "invalid_value"
            )


def parse(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    model = body.get("model")
    if model is None:
        raise bad_request("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if not isinstance(model, str):
        raise bad_request("Invalid type for 'model': expected a string.", "model", "invalid_type")
    if model == MODERATION_MODEL:
        raise bad_request(f"The model `{model}` serves /moderations only.", "model", "model_not_supported")
    if model not in CHAT_MODELS:
        raise unknown_model(model)
    messages = body.get("messages")
    if messages is None:
        raise bad_request("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list):
        raise bad_request("Invalid type for 'messages': expected an array.", "messages", "invalid_type")
    if not messages:
        raise bad_request("Invalid 'messages': empty array. Expected at least one message.", "messages", "empty_array")
    images: list[int] = []
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
        content = message.get("content")
        if content is None and not (role == "assistant" and message.get("tool_calls")):
            raise bad_request(
                f"Missing required parameter: '{param}.content'.", f"{param}.content", "missing_required_parameter"
            )
        if content is not None:
            _check_content(content, role, f"{param}.content", CHAT_MODELS[model].vision, images)
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise bad_request(
                f"Missing required parameter: '{param}.tool_call_id'.",
                f"{param}.tool_call_id",
                "missing_required_parameter",
            )
    if len(images) > MAX_IMAGES:
        raise bad_request(
            f"Too many images: {len(images)}; at most {MAX_IMAGES} per request.", "messages", "too_many_images"
        )
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    max_tokens = _integer(body, "max_completion_tokens", 1) or _integer(body, "max_tokens", 1)
    n = _integer(body, "n", 1) or 1
    if n > 8:
        raise bad_request("Invalid 'n': at most 8 choices.", "n", "integer_above_max_value")
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
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return ChatRequest(model, messages, max_tokens, stop or [], n, stream, include_usage)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") if p.get("type") == "text" else "[image]" for p in content if isinstance(p, dict)]
        return " ".join(parts)
    return ""


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(4 + len(tokens(_text_of(m.get("content")))) for m in messages) + 2


def answer(request: ChatRequest, choice: int) -> tuple[str, str]:
    """The answer text of one choice and its finish reason."""
    user_texts = [_text_of(m.get("content")) for m in request.messages if m.get("role") == "user"]
    text = f"You said: {user_texts[-1] if user_texts else ''}".rstrip()
    if choice:
        text += f" (choice {choice + 1})"
    finish = "stop"
    for stop in request.stop:
        if stop and stop in text:
            text = text[: text.index(stop)]
    pieces = tokens(text)
    if request.max_tokens is not None and len(pieces) > request.max_tokens:
        pieces = pieces[: request.max_tokens]
        finish = "length"
    return "".join(pieces), finish


def completion(request: ChatRequest) -> dict[str, Any]:
    choices = []
    completion_tokens = 0
    for index in range(request.n):
        text, finish = answer(request, index)
        completion_tokens += len(tokens(text))
        choices.append(
            {
                "index": index,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": finish,
                "logprobs": None,
            }
        )
    prompt = prompt_tokens(request.messages)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


def stream_events(request: ChatRequest) -> Iterator[bytes]:
    """The answer as server-sent events: a role chunk, one chunk per token, a finish chunk per
    choice, the usage chunk when asked for, and ``data: [DONE]``."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
    }
    usage_field = {"usage": None} if request.include_usage else {}

    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        payload = {**base, "choices": choices, **usage_field, **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

    completion_tokens = 0
    for index in range(request.n):
        text, finish = answer(request, index)
        pieces = tokens(text)
        completion_tokens += len(pieces)
        yield event([{"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in pieces:
            yield event([{"index": index, "delta": {"content": piece}, "finish_reason": None}])
        yield event([{"index": index, "delta": {}, "finish_reason": finish}])
    if request.include_usage:
        prompt = prompt_tokens(request.messages)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        }
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode()
    yield b"data: [DONE]\n\n"
