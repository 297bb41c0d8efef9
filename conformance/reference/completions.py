"""POST /completions of the reference server (OpenAI flavour; the Llama API serves none): legacy text completions.

Its "model" continues every prompt with the same story, word by word (a token is a word or a mark with the space
before it, so tokens join to the text): at temperature 0 from the story's start, otherwise from a place chosen at
random, or by the seed where one is given. Parameters and refusals are OpenAI's reference: max_tokens (default 16),
stop, n per prompt, echo, logprobs (0 to 5) with tokens, token_logprobs, top_logprobs and text_offset counted from
the start of the prompt, best_of (not below n, not streamed), suffix, streams with include_usage. The faults of the
completions row change the answer here (``conformance.reference.faults.completions`` says what each does).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from conformance.reference.catalog import CHAT_MODELS
from conformance.reference.errors import bad_request, unknown_model

Active = frozenset[str]
STORY = (
    " a kind old fisherman named Tom. Every morning, he walked to the harbour, and every evening, he told stories "
    "to the children of the village. They loved his tales of storms, whales and faraway islands."
)
_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]")
STORY_TOKENS = _TOKEN.findall(STORY)
KNOWN = (
    "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
    "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
)  # fmt: skip
DEFAULT_MAX_TOKENS = 16
# what a server with no default cap writes (completions-default-max-tokens-unlimited)
UNCAPPED = 48
# what a server that ignores max_tokens writes (completions-max-tokens-ignored)
IGNORED_CAP = 12


@dataclass
class Choice:
    prompt: list[str]
    tokens: list[str]
    finish_reason: str
    index: int


def _integer(body: dict[str, Any], name: str, default: int | None, low: int, high: int, active: Active) -> int | None:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        if "completions-out-of-range-accepted" in active:
            return default
        message = f"Invalid '{name}': {value!r} is not an integer from {low} to {high}."
        if "completions-refusals-unnamed" in active:
            raise bad_request("Invalid request.")
        raise bad_request(message, name, "invalid_value")
    return value


def _ids(item: Any) -> bool:
    """A list of token ids."""
    return (
        isinstance(item, list)
        and bool(item)
        and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in item)
    )


INVALID_PROMPT = "Invalid 'prompt': expected a string, strings, token ids or lists of token ids."


def _prompts(value: Any, active: Active) -> list[list[str]]:
    """The tokens of each prompt: a string, strings, token ids or lists of token ids."""
    if isinstance(value, str) or _ids(value):
        items: list[Any] = [value]
    elif isinstance(value, list) and value:
        items = value
    else:
        raise bad_request(INVALID_PROMPT, "prompt")
    prompts = []
    for item in items:
        if isinstance(item, str):
            prompts.append(_TOKEN.findall(item) if item else [""])
        elif _ids(item):
            if "completions-token-ids-refused" in active:
                raise bad_request("Invalid 'prompt': the prompt must be a string.", "prompt")
            prompts.append([f" <{token}>" for token in item])
        else:
            raise bad_request(
                "Invalid 'prompt': expected a string, strings, token ids or lists of token ids.", "prompt"
            )
    return prompts


def _start(temperature: float, seed: Any, index: int, active: Active) -> int:
    if temperature == 0:
        return 0
    if isinstance(seed, int) and "completions-seed-ignored" not in active:
        return random.Random(seed * 1000 + index).randrange(len(STORY_TOKENS))
    return random.randrange(len(STORY_TOKENS))


def _generate(cap: int, start: int, stops: list[str], active: Active) -> tuple[list[str], str]:
    """The tokens written (at most ``cap``) and why writing stopped; a stop sequence ends the text before it."""
    tokens: list[str] = []
    for position in range(cap):
        tokens.append(STORY_TOKENS[(start + position) % len(STORY_TOKENS)])
        text = "".join(tokens)
        found = [text.find(stop) for stop in stops if stop and stop in text]
        if found:
            if "completions-stop-included" in active:
                return tokens, "stop"
            cut = text[: min(found)]
            kept = []
            for token in tokens:
                if len("".join(kept)) + len(token) > len(cut):
                    break
                kept.append(token)
            if len("".join(kept)) < len(cut):
                kept.append(cut[len("".join(kept)) :])
            return kept, "stop"
    return tokens, "length"


def _logprob(token: str) -> float:
    return -round(0.05 + int(hashlib.sha256(token.encode()).hexdigest()[:4], 16) % 40 / 10, 4)


def logprobs_of(choice: Choice, echo: bool, top: int, active: Active) -> dict[str, Any]:
    """The four lists of OpenAI's logprobs for a choice's tokens (its prompt's first where echoed)."""
    prompt_text = "".join(choice.prompt)
    tokens = (
        choice.prompt if echo and "completions-echo-logprobs-completion-only" not in active else []
    ) + choice.tokens
    offset = 0 if echo or "completions-text-offset-from-zero" in active else len(prompt_text)
    if echo and "completions-echo-logprobs-completion-only" in active:
        offset = len(prompt_text)
    values: list[float | None] = []
    tops: list[dict[str, float] | None] = []
    offsets = []
    alternatives = top + 3 if "completions-top-logprobs-too-many" in active else top
    for number, token in enumerate(tokens):
        offsets.append(offset)
        offset += len(token)
        if echo and number == 0 and choice.prompt and "completions-echo-logprobs-completion-only" not in active:
            values.append(None)
            tops.append(None)
            continue
        value = _logprob(token)
        values.append(value)
        others = [other for other in dict.fromkeys(STORY_TOKENS) if other != token][: max(alternatives - 1, 0)]
        tops.append({token: value, **{other: value - 1 - k for k, other in enumerate(others)}})
    if "completions-logprobs-tokens-mismatch" in active:
        tokens = [token.strip() for token in tokens]
    if "completions-logprobs-chat-format" in active:
        return {
            "content": [
                {"token": token, "logprob": value, "bytes": list(token.encode()), "top_logprobs": []}
                for token, value in zip(tokens, values, strict=True)
            ]
        }
    return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


@dataclass
class Parsed:
    model: str
    prompts: list[list[str]]
    choices: list[Choice]
    echo: bool
    logprobs: int | None
    stream: bool
    include_usage: bool


def _checked(body: Any, active: Active) -> tuple[dict[str, Any], str]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for name in body:
        if name not in KNOWN:
            raise bad_request(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
    model = body.get("model")
    if model is None:
        raise bad_request("you must provide a model parameter")
    if model not in CHAT_MODELS and "completions-unknown-model-answered" not in active:
        raise unknown_model(str(model))
    if "prompt" not in body:
        raise bad_request("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if "suffix" in body and "completions-suffix-refused-unnamed" in active:
        raise bad_request("Invalid request.")
    return body, str(model) if model in CHAT_MODELS else next(iter(CHAT_MODELS))


def parse(body: Any, active: Active) -> Parsed:
    """The request, checked as OpenAI checks it, and the choices the model writes for it."""
    body, model = _checked(body, active)
    cap = _integer(body, "max_tokens", None, 0, 4096, active)
    n = _integer(body, "n", 1, 1, 128, active) or 1
    top = _integer(body, "logprobs", None, 0, 5, active)
    best_of = _integer(body, "best_of", n, 1, 20, active) or n
    stream = body.get("stream") is True
    if best_of < n:
        raise bad_request(
            "Invalid request." if "completions-refusals-unnamed" in active else "best_of must be at least n.",
            None if "completions-refusals-unnamed" in active else "best_of",
        )
    if stream and best_of > 1 and "completions-best-of-stream-accepted" not in active:
        raise bad_request(
            "Invalid request." if "completions-refusals-unnamed" in active else "best_of cannot be used with stream.",
            None if "completions-refusals-unnamed" in active else "best_of",
        )
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    stop = body.get("stop")
    stops = (
        [stop] if isinstance(stop, str) else [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []
    )
    temperature = body.get("temperature", 1)
    temperature = temperature if isinstance(temperature, int | float) else 1
    if cap is None:
        cap = UNCAPPED if "completions-default-max-tokens-unlimited" in active else DEFAULT_MAX_TOKENS
    elif "completions-max-tokens-ignored" in active:
        cap = IGNORED_CAP
    prompts = _prompts(body["prompt"], active)
    per_prompt = 1 if "completions-n-ignored" in active else n
    if "completions-best-of-returns-all" in active:
        per_prompt = max(per_prompt, best_of)
    choices = []
    for number, prompt in enumerate(prompts):
        for k in range(per_prompt):
            index = k if "completions-index-per-prompt" in active else number * per_prompt + k
            tokens, reason = _generate(cap, _start(temperature, body.get("seed"), index, active), stops, active)
            choices.append(Choice(prompt, tokens, reason, index))
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return Parsed(model, prompts, choices, body.get("echo") is True, top, stream, include_usage)


def _text(parsed: Parsed, choice: Choice, active: Active) -> str:
    echoed = parsed.echo and "completions-echo-ignored" not in active
    return ("".join(choice.prompt) if echoed else "") + "".join(choice.tokens)


def usage(parsed: Parsed, active: Active) -> dict[str, int]:
    prompt = len(parsed.prompts[0]) if "completions-prompts-uncounted" in active else sum(map(len, parsed.prompts))
    completion = sum(len(choice.tokens) for choice in parsed.choices)
    total = prompt if "completions-usage-total-wrong" in active else prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _logprobs(parsed: Parsed, choice: Choice, active: Active) -> dict[str, Any] | None:
    if parsed.logprobs is None or "completions-logprobs-ignored" in active:
        return None
    echoed = parsed.echo and "completions-echo-ignored" not in active
    return logprobs_of(choice, echoed, parsed.logprobs, active)


def answer(parsed: Parsed, active: Active) -> dict[str, Any]:
    """The text_completion object."""
    choices = [
        {
            "text": _text(parsed, choice, active),
            "index": choice.index,
            "logprobs": _logprobs(parsed, choice, active),
            "finish_reason": None if "completions-finish-reason-null" in active else choice.finish_reason,
        }
        for choice in parsed.choices
    ]
    return {
        "id": f"cmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion" if "completions-chat-object" in active else "text_completion",
        "created": int(time.time()),
        "model": parsed.model,
        "choices": choices,
        "usage": usage(parsed, active),
    }


def stream_events(parsed: Parsed, active: Active) -> list[bytes]:
    """The stream's events, encoded: a chunk per token of each choice, finish_reason on its last, the usage chunk
    where asked, [DONE]."""
    identifier, created = f"cmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    events: list[dict[str, Any]] = []
    for choice in parsed.choices:
        echoed = parsed.echo and "completions-echo-ignored" not in active
        pieces = [piece for piece in ["".join(choice.prompt) if echoed else ""] if piece] + choice.tokens or [""]
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            reason = choice.finish_reason if last or "completions-stream-finish-reason-every-chunk" in active else None
            if "completions-stream-finish-reason-missing" in active:
                reason = None
            chunk: dict[str, Any] = {
                "id": f"cmpl-{uuid.uuid4().hex[:24]}" if "completions-stream-ids-differ" in active else identifier,
                "object": "text_completion",
                "created": created,
                "model": parsed.model,
                "choices": [{"text": piece, "index": choice.index, "logprobs": None, "finish_reason": reason}],
            }
            if parsed.include_usage:
                chunk["usage"] = None
            events.append(chunk)
    if parsed.include_usage and "completions-stream-usage-ignored" not in active:
        if "completions-stream-usage-with-choices" in active:
            events[-1]["usage"] = usage(parsed, active)
        else:
            events.append({**events[-1], "choices": [], "usage": usage(parsed, active)})
    encoded = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
    return encoded if "completions-stream-no-done" in active else [*encoded, b"data: [DONE]\n\n"]


__all__ = ["Parsed", "answer", "parse", "stream_events", "usage"]
