"""What the reasoning faults of ``conformance.reference.faults.reasoning`` do: to a chat request as it arrives
and as parsed, to the answer and its stream, and to a Responses request, its response and its stream. Each
function leaves everything alone when no fault of its kind is on; they act only where a model thinks."""

from __future__ import annotations

import dataclasses
from typing import Any

from conformance.reference import thinking
from conformance.reference.catalog import CHAT_MODELS
from conformance.reference.chat import ChatRequest
from conformance.reference.errors import ApiError, bad_request

Active = frozenset[str]
ENDLESS = 5000
_UNKNOWN_TO_UPSTREAM = ("none", "minimal", "xhigh", "max")
_FIELDS = ("reasoning_content", "reasoning")


def _messages(body: Any) -> list[dict[str, Any]]:
    messages = body.get("messages") if isinstance(body, dict) else None
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def before_parse(body: Any, active: Active) -> Any:
    """Refusals and rewrites of a chat request that carries reasoning or asks for an effort."""
    if not active or not isinstance(body, dict):
        return body
    messages = _messages(body)
    for index, message in enumerate(messages):
        carried = next((name for name in _FIELDS if message.get("role") == "assistant" and name in message), None)
        if carried is None:
            continue
        if "reasoning-sent-back-refused" in active:
            where = f"messages.{index}.assistant.{carried}"
            raise bad_request(f"{where}: property '{where}' is unsupported", f"messages[{index}]", "wrong_api_format")
        if "reasoning-refused-in-tool-loops" in active and message.get("tool_calls"):
            raise bad_request(
                f"Invalid 'messages[{index}]': {carried} is not allowed with tool calls.",
                f"messages[{index}].{carried}",
                "invalid_value",
            )
    model = CHAT_MODELS.get(body.get("model")) if isinstance(body.get("model"), str) else None
    if "thinking-max-tokens-500" in active and "max_tokens" in body and model is not None and model.thinks:
        raise ApiError(500, "internal error: max_tokens is not supported for reasoning models", type="server_error")
    effort = body.get("reasoning_effort")
    if "effort-500" in active and effort in _UNKNOWN_TO_UPSTREAM:
        raise ApiError(500, f"upstream error: unknown reasoning effort {effort!r}", type="server_error")
    if "invalid-effort-accepted" in active and effort is not None and effort not in thinking.EFFORTS:
        body = {**body, "reasoning_effort": "medium"}
    return body


def after_parse(request: ChatRequest, active: Active) -> ChatRequest:
    """Faults of how much a model thinks, and of what the cap covers."""
    if not active or not request.thinking:
        return request
    changes: dict[str, Any] = {}
    if "effort-ignored" in active:
        changes["effort"] = None
    if "thinking-despite-effort-none" in active and request.effort == "none":
        changes["effort"] = "minimal"
    if "thinking-endless" in active:
        changes["thinking"] = ENDLESS
    if "thinking-outside-cap" in active and request.max_tokens is not None:
        thought = thinking.thinking_tokens(request.thinking, changes.get("effort", request.effort))
        changes["max_tokens"] = request.max_tokens + thought
    return dataclasses.replace(request, **changes) if changes else request


def answer(body: dict[str, Any], request: ChatRequest, active: Active) -> dict[str, Any]:
    """Faults of where a non-streamed answer puts its thinking, and how it counts it."""
    if not active or not request.thinking:
        return body
    field = request.reasoning_field
    for choice in body["choices"]:
        message = choice["message"]
        thought = message.get(field)
        if thought is None:
            continue
        if "thinking-in-content" in active:
            message.pop(field)
            message["content"] = f"<think>\n{thought}\n</think>\n\n{message.get('content') or ''}"
        elif "reasoning-field-renamed" in active:
            message["reasoning"] = message.pop(field)
        if "starved-finish-stop" in active and choice["finish_reason"] == "length" and not message.get("content"):
            choice["finish_reason"] = "stop"
    _usage(body.get("usage"), active)
    return body


def _usage(usage: Any, active: Active) -> None:
    if not isinstance(usage, dict) or not isinstance(usage.get("completion_tokens_details"), dict):
        return
    thought = usage["completion_tokens_details"].get("reasoning_tokens", 0)
    if "reasoning-tokens-uncounted" in active and thought:
        usage.pop("completion_tokens_details")
    elif "reasoning-tokens-outside-completion" in active and thought:
        usage["completion_tokens"] -= thought
        usage["total_tokens"] -= thought


def stream(events: list[Any], request: ChatRequest, active: Active) -> list[Any]:
    """Faults of how a stream carries the thinking (its deltas, their field, their order, their count)."""
    if not active or not request.thinking:
        return events
    field = request.reasoning_field
    chunks = [event for event in events if isinstance(event, dict)]
    thinking_chunks = [c for c in chunks if any(field in choice["delta"] for choice in c["choices"])]
    for chunk in chunks:
        _usage(chunk.get("usage"), active)
        for choice in chunk["choices"]:
            delta = choice["delta"]
            if field in delta and ("reasoning-field-renamed" in active or "reasoning-field-split" in active):
                delta["reasoning"] = delta.pop(field)
            if "starved-finish-stop" in active and choice.get("finish_reason") == "length":
                written = any(c2["delta"].get("content") for c2 in (ch["choices"][0] for ch in chunks if ch["choices"]))
                if not written and thinking_chunks:
                    choice["finish_reason"] = "stop"
    if "thinking-in-content" in active and thinking_chunks:
        for number, chunk in enumerate(thinking_chunks):
            delta = chunk["choices"][0]["delta"]
            piece = delta.pop(field, delta.pop("reasoning", ""))
            delta["content"] = ("<think>\n" if number == 0 else "") + piece
        thinking_chunks[-1]["choices"][0]["delta"]["content"] += "\n</think>\n\n"
    if "thinking-not-streamed" in active:
        events = [event for event in events if not any(event is chunk for chunk in thinking_chunks)]
    if "thinking-after-answer" in active and thinking_chunks:
        last = thinking_chunks[-1]
        first_content = next(
            (
                i
                for i, e in enumerate(events)
                if isinstance(e, dict) and any(c["delta"].get("content") for c in e["choices"])
            ),
            None,
        )
        if first_content is not None:
            events.remove(last)
            events.insert(first_content, last)
    return events


# the Responses API


def responses_request(body: Any, active: Active) -> Any:
    """Refusals and rewrites of a POST /responses that passes reasoning back or asks for an effort."""
    if not active or not isinstance(body, dict):
        return body
    items = body.get("input") if isinstance(body.get("input"), list) else []
    if "responses-reasoning-refused-back" in active and any(
        isinstance(item, dict) and item.get("type") == "reasoning" for item in items
    ):
        raise bad_request("Invalid value for 'input[1].type': 'reasoning'.", "input[1].type", "invalid_value")
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else None
    effort = reasoning.get("effort") if reasoning else None
    if "responses-effort-500" in active and effort in _UNKNOWN_TO_UPSTREAM:
        raise ApiError(500, f"upstream error: unknown reasoning effort {effort!r}", type="server_error")
    if (
        "responses-invalid-effort-accepted" in active
        and reasoning
        and effort is not None
        and effort not in thinking.EFFORTS
    ):
        body = {**body, "reasoning": {**reasoning, "effort": "medium"}}
    if "responses-encrypted-content-missing" in active and isinstance(body.get("include"), list):
        body = {**body, "include": [value for value in body["include"] if value != "reasoning.encrypted_content"]}
    return body


def responses_chat(chat: ChatRequest, active: Active) -> dict[str, Any]:
    """Changes to what a Responses request asks the model to think."""
    if not active or not chat.thinking:
        return {}
    changes: dict[str, Any] = {}
    if "responses-effort-ignored" in active:
        changes["effort"] = None
    if "responses-thinking-endless" in active:
        changes["thinking"] = ENDLESS
    return changes


def response_body(body: dict[str, Any], active: Active, streamed: bool) -> dict[str, Any]:
    """Faults of where a response puts its thinking, how it counts it, and what it calls a starved answer."""
    if not active or not any(item.get("type") == "reasoning" for item in body["output"]):
        return body
    if "responses-no-summary" in active:
        for item in body["output"]:
            if item.get("type") == "reasoning":
                item["summary"] = []
    if "responses-thinking-in-text" in active:
        thought = "".join(
            part["text"] for item in body["output"] if item["type"] == "reasoning" for part in item["content"]
        )
        body["output"] = [item for item in body["output"] if item["type"] != "reasoning"]
        for item in body["output"]:
            if item["type"] == "message" and isinstance(item["content"], list) and item["content"]:
                item["content"][0]["text"] = f"<think>\n{thought}\n</think>\n\n{item['content'][0]['text']}"
    if "responses-reasoning-not-streamed" in active and streamed:
        body["output"] = [item for item in body["output"] if item["type"] != "reasoning"]
    usage = body.get("usage")
    if "responses-reasoning-tokens-outside-output" in active and isinstance(usage, dict):
        thought = usage["output_tokens_details"]["reasoning_tokens"]
        usage["output_tokens"] -= thought
        usage["total_tokens"] -= thought
    answered = any(item["type"] in ("message", "function_call") for item in body["output"])
    if "responses-starved-completed" in active and body["status"] == "incomplete" and not answered:
        body.update(status="completed", incomplete_details=None, completed_at=body["created_at"])
    return body


def response_events(events: list[dict[str, Any]], active: Active) -> list[dict[str, Any]]:
    """Faults of a Responses stream's reasoning events."""
    if "responses-reasoning-deltas-mismatch" in active:
        deltas = [i for i, event in enumerate(events) if event["type"] == "response.reasoning_text.delta"]
        if deltas:
            events = events[: deltas[-1]] + events[deltas[-1] + 1 :]
    return events


__all__ = [
    "after_parse",
    "answer",
    "before_parse",
    "response_body",
    "response_events",
    "responses_chat",
    "responses_request",
    "stream",
]
