"""The deprecated function calling of chat completions, ``functions`` and ``function_call``.

The reference reads them as the tools and the tool choice they stand for, and answers in their own form:
``message.function_call`` (name and arguments, one call) instead of ``tool_calls``, finish_reason
"function_call" (or "stop" when the call was asked for by name, as with a named tool), and in a stream
``delta.function_call`` pieces. Only the OpenAI flavour reads them; the Llama API ignores them, as its dialect
says. The fault ``functions-ignored`` accepts them and answers as if they had not been sent.
"""

from __future__ import annotations

from typing import Any

Active = frozenset[str]


def as_tools(body: Any, active: Active) -> tuple[Any, bool]:
    """The body with ``functions`` and ``function_call`` as ``tools`` and ``tool_choice`` (a body that has tools
    keeps them), and whether the answer is to be given in the deprecated form."""
    if not isinstance(body, dict) or not isinstance(body.get("functions"), list) or "tools" in body:
        return body, False
    body = dict(body)
    functions, choice = body.pop("functions"), body.pop("function_call", None)
    if "functions-ignored" in active:
        return body, False
    body["tools"] = [{"type": "function", "function": function} for function in functions]
    if isinstance(choice, dict):
        body["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif choice is not None:
        body["tool_choice"] = choice
    return body, True


def _call(calls: list[dict[str, Any]]) -> dict[str, Any]:
    function = calls[0].get("function", {})
    return {key: function[key] for key in ("name", "arguments") if key in function}


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """A chat completion with its tool calls as the deprecated function_call."""
    for choice in body.get("choices", []):
        message = choice.get("message", {})
        calls = message.pop("tool_calls", None)
        if calls:
            message["function_call"] = _call(calls)
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "function_call"
    return body


def stream(events: list[Any]) -> list[Any]:
    """Stream chunks with each tool call delta as a function_call delta (the first call's only)."""
    for event in events:
        for choice in event.get("choices", []) if isinstance(event, dict) else []:
            delta = choice.get("delta", {})
            calls = delta.pop("tool_calls", None)
            if calls and calls[0].get("index", 0) == 0:
                delta["function_call"] = _call(calls)
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "function_call"
    return events


__all__ = ["answer", "as_tools", "stream"]
