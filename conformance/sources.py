"""The documents and observations that checks rest on, each with a stable key.

A check names one of these keys; the report carries its title and address so a reader can see
why the suite expects what it expects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str


_SOURCES = (
    Source(
        "openai-models",
        "OpenAI API reference: Models (list, retrieve, the model object)",
        "https://platform.openai.com/docs/api-reference/models",
    ),
    Source(
        "openai-chat-object",
        "OpenAI API reference: the chat completion object",
        "https://platform.openai.com/docs/api-reference/chat/object",
    ),
    Source(
        "openai-chat-create",
        "OpenAI API reference: create chat completion (request body)",
        "https://platform.openai.com/docs/api-reference/chat/create",
    ),
    Source(
        "openai-errors",
        "OpenAI error codes guide and the error object {message, type, param, code}",
        "https://platform.openai.com/docs/guides/error-codes",
    ),
    Source(
        "openai-python-types",
        "openai-python: response types generated from OpenAI's OpenAPI spec",
        "https://github.com/openai/openai-python/tree/main/src/openai/types",
    ),
    Source(
        "llama-compat",
        "Llama API: OpenAI compatibility (feature table, endpoints, differences)",
        "https://llama.developer.meta.com/docs/features/compatibility",
    ),
    Source(
        "llama-models-api",
        "Llama API reference: Models",
        "https://llama.developer.meta.com/docs/api/models",
    ),
)

SOURCES: dict[str, Source] = {source.key: source for source in _SOURCES}
