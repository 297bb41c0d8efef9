"""What the stream faults of ``conformance.reference.faults`` do to a streamed answer: its events
(chunks, usage, errors) and how they are framed on the wire (see ``fault_hooks`` for the rest).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from conformance.reference.answers import DONE, ERROR
from conformance.reference.chat import ChatRequest

Active = frozenset[str]


@dataclass
class Framing:
    """How a stream's events are written."""

    separator: str = "\n\n"
    media_type: str = "text/event-stream"
    # "data" (OpenAI's), "event" (an event: error line), or "raw" (the JSON alone, no data:)
    errors: str = "data"
    delay: bool = True


def stream(events: list[Any], request: ChatRequest, active: Active) -> tuple[list[Any], Framing]:
    """Faults that spoil a stream. ``events`` holds chunk dicts, (ERROR, error) pairs and DONE."""
    framing = Framing()
    if not active:
        return events, framing
    chunks = [event for event in events if isinstance(event, dict)]
    if "nullable-fields" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                for name in ("tool_calls", "function_call", "refusal"):
                    choice["delta"].setdefault(name, None)
    if "created-in-ms" in active:
        for chunk in chunks:
            chunk["created"] *= 1000
    if "stream-no-role" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                choice["delta"].pop("role", None)
    if "stream-role-every-chunk" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                choice["delta"]["role"] = "assistant"
    if "stream-id-changes" in active:
        for number, chunk in enumerate(chunks):
            chunk["id"] = f"{chunk['id']}-{number}"
    if "stream-no-finish-reason" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                choice["finish_reason"] = None
    if "stream-tool-no-index" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                for part in choice["delta"].get("tool_calls") or []:
                    part.pop("index", None)
    if "stream-choice-index-1" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                choice["index"] = 1
    if "stream-tool-no-type" in active or "stream-tool-type-null" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                for part in choice["delta"].get("tool_calls") or []:
                    if "stream-tool-no-type" in active:
                        part.pop("type", None)
                    else:
                        part["type"] = None
    if "stream-tool-repeats-identity" in active:
        first: dict[tuple[int, int], dict[str, Any]] = {}
        for chunk in chunks:
            for choice in chunk["choices"]:
                for part in choice["delta"].get("tool_calls") or []:
                    started = first.setdefault((choice["index"], part["index"]), part)
                    name = started.get("function", {}).get("name")
                    part.update(id=started.get("id"), type="function")
                    part.setdefault("function", {})["name"] = name
    if "stream-split-utf8" in active:
        for chunk in chunks:
            for choice in chunk["choices"]:
                content = choice["delta"].get("content")
                if content:
                    choice["delta"]["content"] = "".join("\ufffd" if len(ch.encode()) > 1 else ch for ch in content)
    if "stream-usage-always" in active:
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        for chunk in chunks:
            chunk["usage"] = dict(usage)
    if "stream-content-after-finish" in active:
        finishing = [
            i for i, e in enumerate(events) if isinstance(e, dict) and any(c.get("finish_reason") for c in e["choices"])
        ]
        if finishing:
            late = copy.deepcopy(events[finishing[-1]])
            late["choices"][0].update(delta={"content": " and one more thing"}, finish_reason=None)
            events.insert(finishing[-1] + 1, late)
    if "stream-usage-in-last-choice" in active and request.include_usage:
        usage_chunks = [e for e in events if isinstance(e, dict) and e["choices"] == []]
        finishing = [e for e in events if isinstance(e, dict) and any(c.get("finish_reason") for c in e["choices"])]
        if usage_chunks and finishing:
            finishing[-1]["usage"] = usage_chunks[0]["usage"]
            events.remove(usage_chunks[0])
    # the second chunk's deltas ride in the first chunk, as further entries of the same choice
    if "stream-deltas-batched" in active and len(chunks) > 2 and chunks[0]["choices"] and chunks[1]["choices"]:
        chunks[0]["choices"] += chunks[1]["choices"]
        events.remove(chunks[1])
    if "tool-stream-breaks-off" in active and request.tools:
        first_call = next((i for i, e in enumerate(events) if _has_tool_call(e)), None)
        if first_call is not None:
            events = [*events[: first_call + 1], (ERROR, dict(SERVER_EXCEPTION))]
    if "stream-no-done" in active:
        events = [event for event in events if event != DONE]
    if "stream-error-as-event" in active:
        framing.errors = "event"
    if "stream-error-raw" in active:
        framing.errors = "raw"
    if "stream-no-blank-line" in active:
        framing.separator = "\n"
    if "stream-json-content-type" in active:
        framing.media_type = "application/json"
    if "stream-buffered" in active:
        framing.delay = False
    return events, framing


# what a server's exception handler sends when the model fails in the middle of an answer
SERVER_EXCEPTION = {"message": "Internal server error: generation failed", "type": "server_error", "code": None}


def _has_tool_call(event: Any) -> bool:
    return isinstance(event, dict) and any(choice["delta"].get("tool_calls") for choice in event["choices"])


def encode(event: Any, framing: Framing) -> bytes:
    if event == DONE:
        return f"data: [DONE]{framing.separator}".encode()
    if isinstance(event, tuple) and event[0] == ERROR:
        payload = json.dumps({"error": event[1]})
        if framing.errors == "event":
            return f"event: error\ndata: {payload}{framing.separator}".encode()
        if framing.errors == "raw":
            return f"{payload}\n".encode()
        return f"data: {payload}{framing.separator}".encode()
    return f"data: {json.dumps(event, ensure_ascii=False)}{framing.separator}".encode()
