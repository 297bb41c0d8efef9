"""What the messages of a reference chat request may hold: roles, content parts, images (their data URLs, types and
count) and tool turns in order, each refused with OpenAI's 400 naming the offending message."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from conformance.reference.catalog import LLAMA, Flavour
from conformance.reference.errors import ApiError, bad_request

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


def check_messages(messages: Any, vision: bool, flavour: Flavour) -> None:
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
