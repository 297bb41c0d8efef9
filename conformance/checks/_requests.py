"""Request builders the row modules share. Requests keep answers short (live runs stay cheap) and
never depend on what a model chooses to say."""

from __future__ import annotations

from typing import Any

from conformance.exchange import Request
from conformance.profiles import Target

# enough for a short sentence; nothing checked depends on the content
ANSWER_TOKENS = 16
# enough for the small JSON documents the structured-output and tools rows ask for, even from a weak
# model whose constrained decoding pads them with whitespace
JSON_TOKENS = 320


def chat_request(
    target: Target,
    exchange_id: str,
    purpose: str,
    messages: list[dict[str, Any]],
    *,
    role: str = "chat",
    model: str | None = None,
    answer_tokens: int | None = ANSWER_TOKENS,
    thinking: bool = True,
    **params: Any,
) -> Request | None:
    """A POST /chat/completions for the model of ``role`` (or ``model``), its answer capped at
    ``answer_tokens`` with the target's max-tokens parameter, plus the run's allowance for thinking where
    the target thinks (``thinking=False``: a cap that is the claim itself); None when there is no such model."""
    model = model or target.models.for_role(role)
    if model is None:
        return None
    body: dict[str, Any] = {"model": model, "messages": messages}
    if answer_tokens is not None:
        body[target.max_tokens_param] = answer_tokens + (target.allowance_for(model) if thinking else 0)
    body.update(params)
    return Request(exchange_id, "POST", "/chat/completions", purpose=purpose, json=body)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]
