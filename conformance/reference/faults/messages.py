"""Faults of the shapes a request may take and of the units an answer is in (issue 28, items 3 and 4): malformed
histories mishandled, forms the document allows refused or mangled, the Responses API's own routes unguarded, and
timestamps in milliseconds (what each does: ``message_faults``, the app's routes for the key, the answer hooks for the
timestamps)."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

FAULTS = (
    Fault(
        "malformed-message-500",
        "a message without a role or content, a tool result without tool_call_id or a tool call without its function "
        "breaks the server (500)",
        ("errors-400",),
        "broke the server (HTTP 500",
        "vllm-project/vllm#13978 (500 on a tool_calls history the chat template cannot render), "
        "abetlen/llama-cpp-python#1405 (a template's UndefinedError on a tool message)",
    ),
    Fault(
        "malformed-message-422",
        "malformed messages are refused with 422 'Field required'",
        ("errors-400",),
        "was refused with 422, not 400",
        "FastAPI's validation status, kept by servers built on it",
        level="SHOULD",
    ),
    Fault(
        "tool-turns-unchecked",
        "a tool result that answers no call is read as the user's words, and unanswered tool calls are dropped",
        ("errors-400",),
        "a tool result that answers no earlier tool call was answered",
        "gpustack/gpustack#6210 (a permissive provider answers both with 200), mistralai/mistral-common#322",
        level="SHOULD",
    ),
    Fault(
        "assistant-name-refused",
        "a name on any message but the user's is refused with 400",
        ("chat-completions",),
        "an earlier assistant message with a name was refused (HTTP 400",
        "xAI: \"Only messages of role 'user' can have a name.\" (BerriAI/litellm#9720)",
    ),
    Fault(
        "response-format-text-refused",
        'response_format {"type": "text"} is refused with 400',
        ("structured-output",),
        "expected HTTP 200, got 400",
        "lmstudio-ai/lmstudio-bug-tracker#307 (\"'response_format.type' must be 'json_schema'\")",
    ),
    Fault(
        "schema-definitions-refused",
        "a json_schema with $defs and $ref is refused with 400",
        ("structured-output",),
        "expected HTTP 200, got 400",
        "vectorize-io/hindsight#3225 (a relay's \"reference to component '#/$defs/…' which was not found\"), "
        "abetlen/llama-cpp-python#1048",
    ),
    Fault(
        "schema-definitions-ignored",
        "what a $ref points to is not enforced: the referenced objects come back empty",
        ("structured-output",),
        "does not match the requested schema",
        "ggml-org/llama.cpp#8073 (an enum behind a $ref generates an object with unrestricted properties)",
    ),
    Fault(
        "response-retrieval-auth-not-enforced",
        "GET /responses/{id} does not check the key (an unknown id then gets 404)",
        ("responses-errors",),
        "GET /responses/{id} with a wrong key was refused with HTTP 404, expected 401",
        "Blaizzy/mlx-vlm#1714 (response-lifecycle routes registered without the key's dependency), "
        "vllm-project/vllm#58144 (a route outside /v1 answers without the key)",
    ),
    Fault(
        "created-in-ms",
        "created is in milliseconds in every chat completion and chunk",
        ("chat-completions",),
        "(milliseconds?), more than a day from when it was asked",
        "mlc-ai/web-llm#829, EricLBuehler/mistral.rs#1805 (every chunk), zed-industries/zed#32982 (Vercel v0)",
    ),
    Fault(
        "responses-created-at-ms",
        "a response's created_at and completed_at are in milliseconds",
        ("responses",),
        "(milliseconds?), more than a day from when it was asked",
        "the same Date.now() slip as mlc-ai/web-llm#829, on the Responses object",
    ),
    Fault(
        "developer-dropped",
        "a developer message is answered but dropped before the model (a chat template that renders only system, "
        "user and assistant messages)",
        ("chat-completions",),
        "the developer message does not reach the model",
        "issue 32: a chat template that renders only system, user and assistant messages, met on a server rendering "
        "a model's own template",
        level="SHOULD",
    ),
)
