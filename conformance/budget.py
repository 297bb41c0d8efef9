"""An upper bound on the tokens one request can cost, from the request alone.

The completion bound is the request's cap (times ``n``); the prompt bound is one token per byte of
text, JSON schema and tool definition (no tokenizer in use packs less than a byte into a token),
plus a chat-template allowance per message and per request. Images are counted apart, since
vendors bill them by size and detail, not by bytes. The plan of a run and the token pacing of live
requests both use it.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.exchange import Request

# chat templates wrap each message in a few special tokens and may add a preamble
TEMPLATE_TOKENS_PER_MESSAGE = 8
TEMPLATE_TOKENS_PER_REQUEST = 64


def token_bound(request: Request, max_tokens_param: str = "max_tokens") -> tuple[int, int | None, int]:
    """(prompt bound, completion bound or None when uncapped, images) of one request."""
    body = request.json
    if not isinstance(body, dict):
        # no body (GET), a raw one (malformed JSON) or not an object: nothing a model could answer
        return len(request.body or b""), 0, 0
    if request.path.endswith("/moderations"):
        text, images = _text_and_images(body.get("input"))
        return len(text.encode("utf-8", "backslashreplace")), 0, images
    if request.path.endswith("/embeddings"):
        return _embedding_input(body.get("input")), 0, 0
    if request.path.endswith("/completions") and not request.path.endswith("/chat/completions"):
        return _legacy_completion(body, max_tokens_param)
    messages = body.get("messages")
    if request.path.endswith("/responses") and "input" in body:
        # a Responses request: its input items (or string) and instructions are the prompt
        text, images = _input_text_and_images(body.get("input"))
        prompt = (
            TEMPLATE_TOKENS_PER_REQUEST
            + len(text.encode("utf-8", "backslashreplace"))
            + len(str(body.get("instructions") or "").encode("utf-8", "backslashreplace"))
        )
        for key in ("tools", "text"):
            if body.get(key) is not None:
                prompt += len(json.dumps(body[key]).encode("utf-8", "backslashreplace"))
    elif isinstance(messages, list):
        prompt, images = TEMPLATE_TOKENS_PER_REQUEST, 0
        for message in messages:
            text, found = _text_and_images(message.get("content") if isinstance(message, dict) else message)
            prompt += TEMPLATE_TOKENS_PER_MESSAGE + len(text.encode("utf-8", "backslashreplace"))
            images += found
            if isinstance(message, dict) and message.get("tool_calls"):
                prompt += len(json.dumps(message["tool_calls"]).encode("utf-8", "backslashreplace"))
        for key in ("tools", "response_format"):
            if body.get(key) is not None:
                prompt += len(json.dumps(body[key]).encode("utf-8", "backslashreplace"))
    else:
        # invalid on purpose; a lax target may still answer it, from at most this much
        prompt, images = TEMPLATE_TOKENS_PER_REQUEST + len(json.dumps(body).encode("utf-8", "backslashreplace")), 0
    return prompt, _completion_cap(body, max_tokens_param), images


def answer_bound(request: Request, max_tokens_param: str = "max_tokens") -> int | None:
    """The completion tokens a target may take to answer ``request``, for its read timeout: the request's own cap,
    or None (the whole deadline) where it states none. A legacy /completions request without max_tokens is
    uncapped here, though the budget counts OpenAI's default of 16 for it: a server with another default (llama.cpp
    answers until the context is full) must be given the time to show it, not timed out at 16 tokens' worth."""
    body = request.json
    legacy = request.path.endswith("/completions") and not request.path.endswith("/chat/completions")
    if legacy and isinstance(body, dict) and "max_tokens" not in body:
        return None
    return token_bound(request, max_tokens_param)[1]


def _completion_cap(body: dict[str, Any], max_tokens_param: str) -> int | None:
    caps = [body.get(name) for name in (max_tokens_param, "max_tokens", "max_completion_tokens", "max_output_tokens")]
    valid = [cap for cap in caps if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 0]
    if not valid:
        return None
    choices = body.get("n")
    n = choices if isinstance(choices, int) and not isinstance(choices, bool) and choices > 0 else 1
    return min(valid) * n


def _legacy_completion(body: dict[str, Any], max_tokens_param: str) -> tuple[int, int | None, int]:
    """A legacy /completions request: its prompts (a byte of text or a token id a token, each echoed back where
    echo is asked) and its cap, OpenAI's default of 16 where none is given, for each prompt, n and best_of."""
    prompt = _embedding_input(body.get("prompt"))
    prompts = body.get("prompt")
    count = len(prompts) if isinstance(prompts, list) and prompts and not isinstance(prompts[0], int) else 1
    cap = body.get("max_tokens", 16)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        return prompt, None, 0
    n, best_of = (body.get(name) for name in ("n", "best_of"))
    each = max(
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1 for value in (n, best_of)
    )
    echoed = prompt if body.get("echo") is True else 0
    return prompt, cap * count * each + echoed * each, 0


def _embedding_input(value: Any) -> int:
    """An embeddings input's bound: a byte of text or one token id a token."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "backslashreplace"))
    if isinstance(value, int):
        return 1
    if isinstance(value, list):
        return sum(_embedding_input(item) for item in value)
    return len(json.dumps(value).encode("utf-8", "backslashreplace")) if value is not None else 0


def _input_text_and_images(value: Any) -> tuple[str, int]:
    """The text and images of a Responses input: a string, or items (messages with text and input_image
    parts, function calls and their outputs)."""
    if not isinstance(value, list):
        return _text_and_images(value)
    texts, images = [], 0
    for item in value:
        if not isinstance(item, dict):
            texts.append(json.dumps(item))
            continue
        content = item.get("content")
        if isinstance(content, list):
            images += sum(1 for part in content if isinstance(part, dict) and part.get("type") == "input_image")
            texts += [str(part.get("text", "")) for part in content if isinstance(part, dict)]
        elif content is not None:
            texts.append(str(content))
        texts += [str(item[key]) for key in ("arguments", "output") if key in item]
    return " ".join(texts), images


def _text_and_images(content: Any) -> tuple[str, int]:
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return (json.dumps(content) if content is not None else ""), 0
    texts, images = [], 0
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "image_url":
            images += 1
        elif isinstance(part, dict):
            texts.append(str(part.get("text", "")))
    return " ".join(texts), images
