"""The reference server's Responses API answers: the response object, its stream of typed events, and
the store behind ``previous_response_id`` and ``GET /responses/{id}``.

The object carries every field the Open Responses specification requires, settings echoed as sent.
A stream is created, in_progress, then per output item its added event, its content part (text
token by token) or its arguments (in two pieces), its done events, and completed (or incomplete, when
cut at max_output_tokens); every event has ``event: <type>`` and a sequence number. Faults of these
answers are applied here too, each named after what it breaks (see ``faults/responses.py``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from conformance.reference import answers, thinking
from conformance.reference.responses import ResponsesRequest

Active = frozenset[str]
FAILED = {"code": "server_error", "message": "The reference server was told to fail in the middle of the stream."}


def _hex() -> str:
    return uuid.uuid4().hex[:24]


def _items(made: answers.Choice, active: Active, streamed: bool, top: int | None) -> list[dict[str, Any]]:
    """The output items of an answer; ``top``: the alternatives of each token's logprobs (None: not asked for)."""
    if made.calls:
        shared = f"call_{_hex()}"
        return [
            {
                "type": "function_call",
                "id": f"fc_{_hex()}",
                "call_id": shared if "responses-parallel-same-call-id" in active else call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
            for call in made.calls
        ]
    cut = made.finish_reason == "length"
    text = made.content or ""
    asked = top is not None and "responses-logprobs-ignored" not in active
    logprobs = answers.token_logprobs(text, top) if asked and top is not None else []
    content: Any = [{"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs}]
    if "responses-content-as-string" in active and not streamed:
        content = text
    status = "incomplete" if cut else "completed"
    return [{"type": "message", "id": f"msg_{_hex()}", "status": status, "role": "assistant", "content": content}]


def _reasoned(request: ResponsesRequest, made: answers.Choice, output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The output with the model's thinking first, as a reasoning item; thinking that spent the whole cap
    leaves no message after it (OpenAI sends only the reasoning item then)."""
    if made.reasoning is None:
        return output
    starved = made.finish_reason == "length" and not made.content and not made.calls
    item = thinking.reasoning_item(
        made.reasoning,
        summary=request.reasoning.get("summary"),
        encrypted="reasoning.encrypted_content" in request.include,
        cut=starved,
        item_id=f"rs_{_hex()}",
    )
    return [item] if starved else [item, *output]


def build(request: ResponsesRequest, active: Active) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The response object, and the conversation to store with it (its history and its output)."""
    chat = request.chat
    made = answers.choices(chat)[0]
    asked = "message.output_text.logprobs" in request.include
    top = request.settings.get("top_logprobs", 0) if asked else None
    output = _reasoned(request, made, _items(made, active, request.stream, top))
    cut = made.finish_reason == "length" and not made.calls
    if "responses-incomplete-as-completed" in active:
        cut = False
    prompt = answers.prompt_tokens(chat.messages)
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": made.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": made.reasoning_tokens},
        "total_tokens": prompt + made.completion_tokens + ("responses-usage-wrong-total" in active),
    }
    now = int(time.time()) * (1000 if "responses-created-at-ms" in active else 1)
    echo_as_sent = "responses-settings-not-echoed" not in active
    settings = {} if "responses-setting-dropped" in active else request.settings
    body: dict[str, Any] = {
        "id": f"resp_{_hex()}",
        "object": "response",
        "created_at": now,
        "completed_at": None if cut else now,
        "status": "incomplete" if cut else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "model": chat.model,
        "previous_response_id": request.previous_response_id,
        "instructions": request.instructions,
        "output": output,
        "error": None,
        "tools": request.tools,
        "tool_choice": request.tool_choice,
        "truncation": settings.get("truncation", "disabled"),
        "parallel_tool_calls": request.parallel_tool_calls,
        "text": {"format": request.text_format},
        "top_p": (request.top_p if request.top_p is not None else 1.0) if echo_as_sent else 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "top_logprobs": settings.get("top_logprobs", 0),
        "temperature": (request.temperature if request.temperature is not None else 1.0) if echo_as_sent else 1.0,
        "reasoning": dict(request.reasoning),
        "user": None,
        "usage": usage,
        "max_output_tokens": request.max_output_tokens if echo_as_sent else None,
        "max_tool_calls": settings.get("max_tool_calls"),
        "store": request.store,
        "background": settings.get("background", False),
        "service_tier": "default",
        "metadata": request.metadata,
        "safety_identifier": settings.get("safety_identifier"),
        "prompt_cache_key": settings.get("prompt_cache_key"),
    }
    if "responses-no-usage" in active:
        body["usage"] = None
    if "responses-usage-without-cache-writes" in active:
        del usage["input_tokens_details"]["cache_write_tokens"]
    if "responses-status-in-progress" in active and not request.stream:
        body["status"] = "in_progress"
    if "responses-spec-fields-missing" in active:
        for name in ("completed_at", "presence_penalty", "frequency_penalty", "max_tool_calls", "safety_identifier"):
            body.pop(name)
    reply: dict[str, Any] = {"role": "assistant", "content": made.content}
    if made.calls:
        reply = {"role": "assistant", "content": None, "tool_calls": made.calls}
    return body, [*request.history, reply]


def _text_events(item: dict[str, Any], index: int, active: Active, fail: bool) -> list[dict[str, Any]]:
    part = item["content"][0] if isinstance(item["content"], list) else {"type": "output_text", "text": item["content"]}
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    added_part = {"type": "response.content_part.added", **where, "part": empty}
    pieces = answers.tokens(part["text"])
    asked = part.get("logprobs") or []
    deltas = [
        {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": asked[n : n + 1]}
        for n, piece in enumerate(pieces)
    ]
    if fail:
        return [added_part, *deltas[:2]]
    if "responses-stream-deltas-mismatch" in active and deltas:
        deltas = deltas[:-1]
    events = [added_part, *deltas]
    if "responses-stream-out-of-order" in active and deltas:
        events = [deltas[0], added_part, *deltas[1:]]
    done_text = part["text"]
    return [
        *events,
        {"type": "response.output_text.done", **where, "text": done_text, "logprobs": asked},
        {"type": "response.content_part.done", **where, "part": part},
    ]


def _call_events(item: dict[str, Any], index: int, active: Active) -> list[dict[str, Any]]:
    where = {"item_id": item["id"], "output_index": index}
    arguments = item["arguments"]
    half = len(arguments) // 2
    pieces = [arguments[:half], arguments[half:]]
    if "responses-stream-arguments-mismatch" in active:
        pieces = [arguments[:half]]
    return [
        *({"type": "response.function_call_arguments.delta", **where, "delta": piece} for piece in pieces),
        {"type": "response.function_call_arguments.done", **where, "arguments": arguments},
    ]


def stream_events(body: dict[str, Any], active: Active, fail: bool = False) -> list[dict[str, Any]]:
    """The stream of a response ``body``, event by event (without sequence numbers yet); with
    ``fail``, it breaks off after two deltas with response.failed."""
    started = {**body, "status": "in_progress", "output": [], "usage": None, "completed_at": None}
    started["incomplete_details"] = None
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
    ]
    for index, item in enumerate(body["output"]):
        if item["type"] == "reasoning":
            opening = {**item, "status": "in_progress", "summary": [], "content": [], "encrypted_content": None}
            events.append({"type": "response.output_item.added", "output_index": index, "item": opening})
            events += thinking.reasoning_events(item, index)
            if fail and not any(other["type"] == "message" for other in body["output"]):
                # thinking that spent the cap leaves no text to break off in: the failure comes after it
                failed = {**started, "status": "failed", "error": dict(FAILED)}
                return [*events, {"type": "response.failed", "response": failed}]
        elif item["type"] == "message":
            opening = {**item, "status": "in_progress", "content": []}
            events.append({"type": "response.output_item.added", "output_index": index, "item": opening})
            events += _text_events(item, index, active, fail)
            if fail:
                if "responses-stream-failure-unmarked" in active:
                    return events
                failed = {**started, "status": "failed", "error": dict(FAILED)}
                return [*events, {"type": "response.failed", "response": failed}]
        else:
            opening = {**item, "status": "in_progress", "arguments": ""}
            events.append({"type": "response.output_item.added", "output_index": index, "item": opening})
            events += _call_events(item, index, active)
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    if "responses-stream-no-completed" in active:
        return events
    final = "response.incomplete" if body["status"] == "incomplete" else "response.completed"
    return [*events, {"type": final, "response": body}]


def encode(events: list[dict[str, Any]], active: Active) -> list[bytes]:
    """Each event as ``event: <type>`` and ``data: <json>`` with its sequence number."""
    pieces = []
    for number, event in enumerate(events):
        numbered = {**event, "sequence_number": 0 if "responses-stream-sequence-repeats" in active else number}
        data = json.dumps(numbered, separators=(",", ":"))
        name = "" if "responses-stream-no-event-lines" in active else f"event: {event['type']}\n"
        if "responses-stream-named-wrong" in active:
            name = "event: message\n"
        pieces.append(f"{name}data: {data}\n\n".encode())
    return pieces


class ResponseStore:
    """The responses the server keeps (``store`` true), per API key, the newest ``limit`` of them."""

    def __init__(self, limit: int = 2048) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._kept: OrderedDict[tuple[str, str], tuple[dict[str, Any], list[dict[str, Any]]]] = OrderedDict()

    def keep(self, key: str, body: dict[str, Any], conversation: list[dict[str, Any]]) -> None:
        with self._lock:
            self._kept[(key, body["id"])] = (body, conversation)
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)

    def get(self, key: str, response_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        with self._lock:
            return self._kept.get((key, response_id))


__all__ = ["FAILED", "ResponseStore", "build", "encode", "stream_events"]
