"""POST /embeddings of the reference server (OpenAI flavour; the Llama API serves none).

A vector is a hashed bag of the input's tokens (its words, or the token ids it was given), normalised to length
1: the same input always gets the same vector, different inputs different ones. Refusals are OpenAI's, in its
words: an empty input, more than 2048 inputs, an input over 8192 tokens, no model, an unknown model, a chat model,
an encoding or a dimensions value it does not take. The faults of the embeddings row change the answer here.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import struct
from typing import Any

from conformance.reference.catalog import CHAT_MODELS, EMBEDDING_LENGTH, EMBEDDING_MODEL
from conformance.reference.errors import ApiError, bad_request, unknown_model

MAX_INPUTS = 2048
MAX_TOKENS = 8192
# what a server that cuts long inputs short keeps (embeddings-truncates-silently)
TRUNCATED = 512
KNOWN = ("model", "input", "encoding_format", "dimensions", "user")
_WORD = re.compile(r"\w+|[^\w\s]")

Active = frozenset[str]
_CHANCE = random.Random()


def _invalid_input() -> ApiError:
    return bad_request(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        "input",
    )


def _inputs(value: Any, active: Active) -> list[list[str]]:
    """The token lists to embed, one per input."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif (
        isinstance(value, list)
        and value
        and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    ):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise _invalid_input()
    if len(items) > MAX_INPUTS and "embeddings-too-many-accepted" not in active:
        raise bad_request(
            f"Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS}, but got an array "
            f"with length {len(items)} instead.",
            "input",
            "array_above_max_length",
        )
    tokens = []
    for item in items:
        if isinstance(item, str):
            tokens.append(_WORD.findall(item))
        elif isinstance(item, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in item):
            if "embeddings-token-ids-refused" in active:
                raise ApiError(422, "Input should be a valid string", param="input")
            tokens.append([f"<{token}>" for token in item])
        else:
            raise _invalid_input()
    if not items or any(not words for words in tokens):
        if "embeddings-empty-input-500" in active:
            raise ApiError(500, "RuntimeError: input is empty", type="server_error")
        if "embeddings-empty-input-answered" not in active:
            raise _invalid_input()
    return tokens


def _vector(tokens: list[str], length: int) -> list[float]:
    values = [0.0] * length
    for position, token in enumerate(tokens or ["<empty>"]):
        digest = hashlib.sha256(token.lower().encode()).digest()
        for k in range(4):
            slot = int.from_bytes(digest[4 * k : 4 * k + 3], "big") % length
            sign = 1.0 if digest[4 * k + 3] & 1 else -1.0
            values[slot] += sign / (1 + 0.01 * position)
    size = math.sqrt(sum(value * value for value in values)) or 1.0
    return [value / size for value in values]


def _parameters(body: dict[str, Any], active: Active) -> tuple[str, int]:
    """The encoding and the length asked for; unknown parameters and bad values are refused."""
    for name in body:
        if name not in KNOWN:
            raise bad_request(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64") and "embeddings-unknown-encoding-accepted" not in active:
        raise bad_request(
            f"Invalid 'encoding_format': '{encoding}'. Supported values are: 'float' and 'base64'.",
            "encoding_format",
            "invalid_value",
        )
    length = body.get("dimensions", EMBEDDING_LENGTH)
    if "embeddings-dimensions-ignored" in active:
        length = EMBEDDING_LENGTH
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= EMBEDDING_LENGTH:
        raise bad_request(
            f"Invalid 'dimensions': expected an integer from 1 to {EMBEDDING_LENGTH}, got {length!r}.",
            "dimensions",
            "invalid_value",
        )
    return str(encoding), length


def _model(body: dict[str, Any], active: Active) -> str:
    model = body.get("model")
    if model is None:
        if "embeddings-missing-model-defaulted" in active:
            return EMBEDDING_MODEL
        raise bad_request("you must provide a model parameter")
    if model in CHAT_MODELS and "embeddings-chat-model-embeds" not in active:
        raise ApiError(403, "You are not allowed to generate embeddings from this model")
    if model != EMBEDDING_MODEL and model not in CHAT_MODELS:
        if "embeddings-unknown-model-answered" in active:
            return EMBEDDING_MODEL
        raise unknown_model(str(model))
    return str(model)


def _jittered(values: list[float]) -> list[float]:
    """The vector moved at random (a server whose batching changes the numbers from one request to the next)."""
    moved = [value + _CHANCE.gauss(0.0, 0.05) for value in values]
    size = math.sqrt(sum(value * value for value in moved)) or 1.0
    return [value / size for value in moved]


def _encoded(values: list[float], encoding: str, active: Active) -> list[float] | str:
    if encoding != "base64" or "embeddings-base64-ignored" in active:
        return values
    layout = "<d" if "embeddings-base64-float64" in active else "<f"
    return base64.b64encode(b"".join(struct.pack(layout, value) for value in values)).decode("ascii")


def embed(body: Any, active: Active) -> dict[str, Any]:
    """The answer to one request, or an ApiError."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    model = _model(body, active)
    if "input" not in body:
        raise bad_request("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    encoding, length = _parameters(body, active)
    inputs = _inputs(body["input"], active)
    for tokens in inputs:
        if len(tokens) > MAX_TOKENS and "embeddings-truncates-silently" not in active:
            raise bad_request(
                f"This model's maximum context length is {MAX_TOKENS} tokens, however you requested {len(tokens)} "
                f"tokens ({len(tokens)} in your prompt; 0 for the completion). Please reduce your prompt; or "
                "completion length.",
            )
    if "embeddings-truncates-silently" in active:
        inputs = [tokens[:TRUNCATED] for tokens in inputs]
    data = []
    for index, tokens in enumerate(inputs):
        full = _vector(tokens, EMBEDDING_LENGTH)
        values = full[:length]
        if length < EMBEDDING_LENGTH and "embeddings-dimensions-not-renormalised" not in active:
            size = math.sqrt(sum(value * value for value in values)) or 1.0
            values = [value / size for value in values]
        if "embeddings-not-normalised" in active:
            values = [value * 3.0 for value in values]
        if "embeddings-nondeterministic" in active:
            values = _jittered(values)
        if "embeddings-zero-vector" in active and index == len(inputs) - 1 and len(inputs) > 1:
            values = [0.0] * len(values)
        data.append({"object": "embedding", "index": index, "embedding": _encoded(values, encoding, active)})
    if "embeddings-index-from-one" in active:
        data = [{**item, "index": item["index"] + 1} for item in data]
    if "embeddings-order-reversed" in active:
        data.reverse()
    counted = sum(len(tokens) for tokens in inputs)
    answer: dict[str, Any] = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": counted, "total_tokens": counted},
    }
    if "embeddings-usage-zero" in active:
        answer["usage"] = {"prompt_tokens": 0, "total_tokens": 0}
    if "embeddings-usage-prompt-missing" in active:
        del answer["usage"]["prompt_tokens"]
    if "embeddings-object-missing" in active:
        del answer["object"]
        for item in data:
            del item["object"]
    return answer
