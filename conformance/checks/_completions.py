"""What the completions row reads from an answer of POST /completions: its choices, their text and usage.

The form of every answer is ``completions.response_is_schema_valid``'s and of every stream
``completions.streams_are_framed_and_valid``'s; the other checks of the row read answers only through the helpers
here, blocked by those two where they cannot.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.checks._every import COMPLETION_FORM, COMPLETION_STREAM_FORM
from conformance.checks._expect import error_message, succeeded
from conformance.checks.stream_form import Chunk, read_chunks
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.verdicts import Blocked

# the prompt every request continues: plain ASCII, so that tokens join to the text on every tokenizer
PROMPT = "Once upon a time, in a small village by the sea, there lived"
PROMPTS = [PROMPT, "The three primary colours are red, blue and"]
# OpenAI's default max_tokens for /completions
DEFAULT_MAX_TOKENS = 16
# a BOS token a server adds before the prompt
ADDED_TOKENS = 1


def completion_request(
    target: Target, exchange_id: str, purpose: str, body: dict[str, Any], *, model: str | None = None
) -> Request | None:
    """A POST /completions for the completion model (the chat model unless the profile names one); None without."""
    chosen = model or target.models.for_role("completion")
    if chosen is None:
        return None
    return Request(exchange_id, "POST", "/completions", purpose=purpose, json={"model": chosen, **body})


def choices_of(exchange: Exchange, owner: str = COMPLETION_FORM) -> list[dict[str, Any]]:
    """The answer's choices, each with its text; blocked where the request was not answered (``owner`` says why) or
    the choices cannot be read (the form check's)."""
    body = succeeded(exchange, owner)
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not all(isinstance(choice, dict) for choice in choices):
        raise Blocked(COMPLETION_FORM, f"{exchange.describe()} has no list of choices")
    for number, choice in enumerate(choices):
        if not isinstance(choice.get("text"), str):
            raise Blocked(COMPLETION_FORM, f"{exchange.describe()}: $.choices[{number}].text is not a string")
    return choices


def usage_of(exchange: Exchange) -> tuple[int, int, int] | None:
    """(prompt_tokens, completion_tokens, total_tokens) of an answer, or None where they are not integers."""
    body = exchange.json_body.value if exchange.json_body.ok else None
    return usage_in(body.get("usage") if isinstance(body, dict) else None)


def usage_in(usage: Any) -> tuple[int, int, int] | None:
    if not isinstance(usage, dict):
        return None
    counts = [usage.get(name) for name in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in counts):
        return None
    return counts[0], counts[1], counts[2]


def needs_usage(exchange: Exchange) -> tuple[int, int, int]:
    usage = usage_of(exchange)
    if usage is None:
        raise Blocked(
            "completions.usage_counts_prompt_and_completion", f"{exchange.describe()} has no usage with token counts"
        )
    return usage


def stream_chunks(exchange: Exchange, owner: str | None) -> list[Chunk]:
    """The chunks of a completions stream; failing where it was not answered (blocked by ``owner`` where another
    check owns that claim), blocked where it is no framed stream of JSON chunks (the stream form check's)."""
    return read_chunks(exchange, answered_by=owner, framing=COMPLETION_STREAM_FORM, form=COMPLETION_STREAM_FORM)


def chunk_choices(chunk: Chunk) -> list[dict[str, Any]]:
    choices = chunk.value.get("choices")
    return [choice for choice in choices if isinstance(choice, dict)] if isinstance(choices, list) else []


def names(exchange: Exchange, parameter: str) -> bool:
    """The refusal names the parameter: in error.param, or as a word of its message."""
    body = exchange.json_body.value if exchange.json_body.ok else None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("param") == parameter:
        return True
    message = error_message(exchange) or ""
    return re.search(rf"\b{re.escape(parameter)}\b", message) is not None


def token_text(token: str) -> bytes:
    """A logprobs token as the bytes it stands for: vLLM writes a token that is part of a UTF-8 character as
    ``bytes:\\xe2\\x80``."""
    if token.startswith("bytes:"):
        try:
            return bytes(int(part, 16) for part in re.findall(r"\\x([0-9a-fA-F]{2})", token[6:]))
        except ValueError:
            return token.encode("utf-8", "backslashreplace")
    return token.encode("utf-8", "backslashreplace")


def joined_tokens(tokens: list[str]) -> str:
    return b"".join(token_text(token) for token in tokens).decode("utf-8", errors="replace")


__all__ = [
    "ADDED_TOKENS",
    "DEFAULT_MAX_TOKENS",
    "PROMPT",
    "PROMPTS",
    "choices_of",
    "chunk_choices",
    "completion_request",
    "joined_tokens",
    "names",
    "needs_usage",
    "stream_chunks",
    "usage_in",
    "usage_of",
]
