"""The request parameters the official clients declare, read from the installed packages.

Python: the ``TypedDict`` of each endpoint's parameters in ``openai.types``. TypeScript: the interface of
the same name in the npm package's declaration files (``js/node_modules/openai``, installed by
``npm ci --prefix js``). Both say what an app can send through the client without ``extra_body``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

# endpoint -> the Python TypedDicts (module, class) and the TypeScript (declaration file, interface)
PYTHON_PARAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "POST /chat/completions": (
        ("openai.types.chat.completion_create_params", "CompletionCreateParamsBase"),
        ("openai.types.chat.completion_create_params", "CompletionCreateParamsStreaming"),
    ),
    "POST /moderations": (("openai.types.moderation_create_params", "ModerationCreateParams"),),
    "POST /embeddings": (("openai.types.embedding_create_params", "EmbeddingCreateParams"),),
    "POST /completions": (
        ("openai.types.completion_create_params", "CompletionCreateParamsBase"),
        ("openai.types.completion_create_params", "CompletionCreateParamsStreaming"),
    ),
    "POST /responses": (
        ("openai.types.responses.response_create_params", "ResponseCreateParamsBase"),
        ("openai.types.responses.response_create_params", "ResponseCreateParamsStreaming"),
    ),
    "GET /responses/{response_id}": (
        ("openai.types.responses.response_retrieve_params", "ResponseRetrieveParamsBase"),
        ("openai.types.responses.response_retrieve_params", "ResponseRetrieveParamsStreaming"),
    ),
}
TYPESCRIPT_PARAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "POST /chat/completions": (
        ("resources/chat/completions/completions.d.ts", "ChatCompletionCreateParamsBase"),
        ("resources/chat/completions/completions.d.ts", "ChatCompletionCreateParamsStreaming"),
    ),
    "POST /moderations": (("resources/moderations.d.ts", "ModerationCreateParams"),),
    "POST /embeddings": (("resources/embeddings.d.ts", "EmbeddingCreateParams"),),
    "POST /completions": (
        ("resources/completions.d.ts", "CompletionCreateParamsBase"),
        ("resources/completions.d.ts", "CompletionCreateParamsStreaming"),
    ),
    "POST /responses": (
        ("resources/responses/responses.d.ts", "ResponseCreateParamsBase"),
        ("resources/responses/responses.d.ts", "ResponseCreateParamsStreaming"),
    ),
    "GET /responses/{response_id}": (
        ("resources/responses/responses.d.ts", "ResponseRetrieveParamsBase"),
        ("resources/responses/responses.d.ts", "ResponseRetrieveParamsStreaming"),
    ),
}
NODE_PACKAGE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "openai"
_MEMBER = re.compile(r"^    ([A-Za-z_][A-Za-z0-9_]*)\??:")


def python_version() -> str:
    import openai

    return openai.__version__


def python_params(endpoint: str) -> set[str]:
    names: set[str] = set()
    for module, cls in PYTHON_PARAMS.get(endpoint, ()):
        typed = getattr(importlib.import_module(module), cls)
        for klass in typed.__mro__:
            names.update(getattr(klass, "__annotations__", {}))
    return names


def node_version(package: Path = NODE_PACKAGE) -> str | None:
    manifest = package / "package.json"
    if not manifest.is_file():
        return None
    found = re.search(r'"version"\s*:\s*"([^"]+)"', manifest.read_text())
    return found.group(1) if found else None


def node_params(endpoint: str, package: Path = NODE_PACKAGE) -> set[str]:
    """The members of the endpoint's parameter interfaces (empty when the package is not installed)."""
    names: set[str] = set()
    for declarations, interface in TYPESCRIPT_PARAMS.get(endpoint, ()):
        path = package / declarations
        if path.is_file():
            names |= interface_members(path.read_text(), interface)
    return names


def interface_members(text: str, interface: str) -> set[str]:
    """The top-level members of ``export interface <interface> ... {`` in a declaration file."""
    opened = re.search(rf"^export interface {re.escape(interface)}\b[^{{]*\{{\n", text, re.MULTILINE)
    if opened is None:
        return set()
    body = text[opened.end() :]
    body = body[: body.find("\n}")]
    return {found.group(1) for line in body.splitlines() if (found := _MEMBER.match(line))}
