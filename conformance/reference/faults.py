"""The reference server's catalogue of faults: single, realistic misbehaviours it can be told to show.

Each fault is taken from something real servers did (the source names an issue thread or a server
observed here), says which feature rows must fail when it is on, and a phrase the failure message
must contain, so a test can show that the suite catches it, names the problem, and blames nothing
else. Faults are switched on for a whole server (``ReferenceConfig(faults=...)``,
``serve-reference --fault``) or per request, under the path prefix ``/faults/<id>[,<id>...]``.

What each fault does is in ``conformance.reference.fault_hooks``; ``gap`` marks a fault the suite
does not catch yet, with the reason, so the detection score stays honest.
"""

from __future__ import annotations

from dataclasses import dataclass

# the rows that judge ordinary chat completions (every row that validates one)
CHAT_ROWS = (
    "chat-completions",
    "model-selection",
    "sampling",
    "streaming",
    "image-understanding",
    "structured-output",
    "tools",
    "errors-400",
)
ERROR_ROWS = ("errors-400", "errors-auth", "errors-not-found", "model-selection", "errors-rate-limit")


@dataclass(frozen=True)
class Fault:
    id: str
    what: str
    # the rows that must report a failure (and the only ones allowed to)
    rows: tuple[str, ...]
    # a phrase the failure of one of those rows must contain
    expect: str
    source: str
    # the level of the failure that catches it
    level: str = "MUST"
    # why the suite does not catch it yet; None when it does
    gap: str | None = None


_CATALOGUE = (
    # streaming
    Fault(
        "stream-no-done",
        "streams end without data: [DONE]",
        ("streaming",),
        "no data: [DONE] event",
        "ikawrakow/ik_llama.cpp#467, EricLBuehler/mistral.rs#1226",
    ),
    Fault(
        "stream-no-role",
        "the first delta has no role",
        ("streaming",),
        "expected 'assistant'",
        "llama.cpp server tests, ollama middleware tests",
    ),
    Fault(
        "stream-role-every-chunk",
        "every delta repeats role: assistant",
        ("streaming",),
        "repeats role",
        "ollama middleware tests (role only on the first chunk)",
    ),
    Fault("stream-id-changes", "each chunk gets a new id", ("streaming",), "has id", "vLLM and llama.cpp stream tests"),
    Fault(
        "stream-no-finish-reason",
        "no chunk carries a finish_reason",
        ("streaming", "tools"),
        "never gets a finish_reason",
        "vllm-project/vllm tests (finish_reason exactly once)",
    ),
    Fault(
        "stream-content-after-finish",
        "a content delta follows the finish chunk",
        ("streaming",),
        "after its finish_reason",
        "am-i-openai-compatible quirks page",
    ),
    Fault(
        "stream-usage-ignored",
        "stream_options.include_usage gets no usage chunk",
        ("streaming",),
        "expected choices [] and a usage object",
        "ollama/ollama#4448",
    ),
    Fault(
        "stream-usage-in-last-choice",
        "usage rides on the finish chunk, which keeps its choice",
        ("streaming",),
        "expected choices [] and a usage object",
        "ggml-org/llama.cpp#15444, LiteLLM observed here",
    ),
    Fault(
        "stream-usage-always",
        "every chunk carries usage, asked for or not",
        ("streaming",),
        "already carries usage",
        "huggingface/text-generation-inference#3003",
    ),
    Fault(
        "stream-error-as-event",
        "a mid-stream error is sent as event: error",
        ("streaming",),
        "an 'event: error' is lost",
        "ggml-org/llama.cpp#16109",
    ),
    Fault(
        "stream-error-raw",
        "a mid-stream error is written as raw JSON without data:",
        ("streaming",),
        "carries no error event",
        "lemonade-sdk/lemonade#2975",
    ),
    Fault(
        "stream-no-blank-line",
        "events are separated by one newline, not a blank line",
        ("streaming", "tools"),
        "with no blank line between them",
        "brainlid/langchain#156 (framing)",
    ),
    Fault(
        "stream-json-content-type",
        "streams are sent as Content-Type application/json",
        ("streaming",),
        "expected Content-Type text/event-stream",
        "am-i-openai-compatible SSE check",
    ),
    Fault(
        "stream-buffered",
        "the whole stream is sent at once, at the end",
        ("streaming",),
        "arrived in one piece",
        "pseudo-streaming proxies (llama-stack streaming assertions)",
        level="SHOULD",
    ),
    Fault(
        "stream-split-utf8",
        "multi-byte characters are cut between chunks (U+FFFD)",
        ("streaming",),
        "a multi-byte character was cut",
        "llama.cpp incomplete UTF-8 in streamed tokens",
    ),
    Fault(
        "stream-tool-no-index",
        "streamed tool-call deltas have no index",
        ("tools",),
        "has no index",
        "EricLBuehler/mistral.rs#1507, openai/openai-python#3246",
    ),
    Fault(
        "answers-as-html",
        "non-streamed answers are sent as Content-Type text/html",
        (*CHAT_ROWS, "errors-rate-limit"),
        "expected Content-Type application/json, got text/html",
        "shims whose Flask view returns json.dumps(...) (Flask sends text/html)",
    ),
    # chat completions
    Fault(
        "usage-wrong-total",
        "usage.total_tokens is not prompt + completion",
        ("chat-completions",),
        "usage.total_tokens is",
        "usage accounting bugs (vLLM tests assert it)",
    ),
    Fault(
        "no-usage",
        "non-streamed answers carry no usage",
        ("chat-completions",),
        "has no usage object",
        "OpenAI-compatible servers without usage",
        level="SHOULD",
    ),
    Fault(
        "finish-reason-invalid",
        "finish_reason is 'eos'",
        CHAT_ROWS,
        "finish_reason",
        "native stop reasons leaking through (Llama API stop_reason, TGI eos_token)",
    ),
    Fault(
        "created-as-string",
        "created is a string of digits",
        CHAT_ROWS,
        "$.created",
        "lax servers; the SDK's lax parsing hides it",
    ),
    Fault(
        "role-not-assistant",
        "the answer's role is 'model'",
        CHAT_ROWS,
        "role",
        "Gemini-style roles through OpenAI-compatible gateways",
    ),
    Fault(
        "content-null",
        "text answers have content null",
        CHAT_ROWS,
        "content is None",
        "servers that put text elsewhere (reasoning_content)",
    ),
    Fault(
        "developer-role-refused",
        "the developer role is refused with 400",
        ("chat-completions",),
        "the developer role is refused",
        "peonist-ai/halogen-flash-server#32, QuantumNous/new-api#5330",
    ),
    Fault(
        "name-refused",
        "messages with a name are refused with 400",
        ("chat-completions",),
        "expected HTTP 200, got 400",
        "Groq documents messages[].name as unsupported",
    ),
    Fault(
        "content-parts-refused",
        "content given as a list of parts is refused",
        ("chat-completions", "image-understanding", "model-selection"),
        "got 400",
        "servers that accept string content only",
    ),
    Fault(
        "n-ignored",
        "n is ignored: one choice",
        ("chat-completions",),
        "n=2 gave 1 choices",
        "Ollama, Groq (n must be 1)",
    ),
    Fault(
        "history-dropped",
        "only the last message reaches the model",
        ("chat-completions",),
        "either the history is dropped",
        "gateways that forward the last turn only",
        level="SHOULD",
    ),
    # sampling
    Fault(
        "max-tokens-ignored",
        "max_tokens and max_completion_tokens are ignored",
        ("sampling",),
        "the limit is ignored",
        "Llama API native schema lacks max_tokens; LiteLLM mocks",
    ),
    Fault(
        "stop-ignored",
        "stop sequences are ignored",
        ("sampling",),
        "the stop sequence is ignored",
        "Llama API native schema lacks stop",
    ),
    Fault(
        "temperature-range-unchecked",
        "temperature and top_p out of range are accepted",
        ("sampling", "errors-400"),
        "was answered (HTTP 200) instead of refused",
        "llama.cpp and LiteLLM observed here",
    ),
    # structured output
    Fault(
        "json-schema-ignored",
        "response_format json_schema is ignored: prose comes back",
        ("structured-output",),
        "not JSON",
        "ROCm/FastFlowLM#554, router-for-me/CLIProxyAPI#5533",
    ),
    Fault(
        "json-object-ignored",
        "response_format json_object is ignored",
        ("structured-output",),
        "not JSON",
        "Blaizzy/mlx-vlm#1171",
    ),
    Fault(
        "json-schema-violated",
        "the JSON answer drops a required key",
        ("structured-output",),
        "does not match the requested schema",
        "servers without constrained decoding",
    ),
    Fault(
        "invalid-schema-accepted",
        "an invalid JSON Schema is accepted",
        ("structured-output",),
        "was answered (HTTP 200) instead of refused",
        "vLLM returned 500, then 200, for broken schemas",
    ),
    # tools
    Fault(
        "tool-arguments-object",
        "tool-call arguments are a JSON object, not a string",
        ("tools",),
        "arguments",
        "ggml-org/llama.cpp#20198, ollama/ollama#6155",
    ),
    Fault(
        "tool-call-no-id",
        "tool calls have no id",
        ("tools",),
        "'id' is a required property",
        "servers that omit call ids",
    ),
    Fault(
        "tool-choice-none-ignored",
        'tool_choice "none" still calls tools',
        ("tools",),
        'tool_choice "none" but the answer has',
        "tool_choice unsupported (Ollama docs)",
    ),
    Fault(
        "tool-finish-stop",
        "finish_reason is 'stop' after tool calls",
        ("tools",),
        'expected "tool_calls"',
        "sgl-project/sglang#2877, ollama/ollama#5995",
    ),
    Fault(
        "tool-named-ignored",
        "a named tool_choice calls another tool",
        ("tools",),
        "which was not offered",
        "tool_choice ignored by template-based servers",
    ),
    Fault(
        "tool-parallel-same-id", "parallel tool calls share one id", ("tools",), "share ids", "SamSaffron/term-llm#314"
    ),
    Fault(
        "tool-empty-arguments",
        'a tool without parameters gets arguments ""',
        ("tools",),
        "arguments is not JSON",
        "simonw/llm#1164",
    ),
    Fault(
        "tool-round-trip-refused",
        "a tool message after a tool call is refused with 400",
        ("tools",),
        "expected HTTP 200, got 400",
        "meta-llama/llama-models#346",
    ),
    # images
    Fault(
        "images-refused",
        "every image is refused with 400",
        ("image-understanding", "model-selection"),
        "got 400",
        "text-only deployments of vision models",
    ),
    Fault(
        "corrupt-image-accepted",
        "a corrupt base64 image is answered",
        ("image-understanding",),
        "a corrupt base64 image was answered",
        "LiteLLM observed here",
    ),
    Fault(
        "text-only-accepts-images",
        "a text-only model answers image requests (images dropped)",
        ("image-understanding",),
        "an image for a text-only model was answered",
        "servers that drop image parts silently",
    ),
    # moderation
    Fault(
        "moderation-count-wrong",
        "a list of inputs gets one result",
        ("moderation",),
        "results, expected",
        "moderation shims that join inputs",
    ),
    Fault(
        "moderation-flagged-inconsistent",
        "flagged is false although a category is true",
        ("moderation",),
        "flagged is",
        "Llama Guard shims (ogx-ai/ogx#2994)",
    ),
    Fault(
        "moderation-no-scores",
        "results have no category_scores",
        ("moderation",),
        "has no category_scores",
        "Llama API compatibility layer (documented there)",
    ),
    Fault(
        "moderation-no-applied-types",
        "results have no category_applied_input_types",
        ("moderation",),
        "has no category_applied_input_types",
        "Llama API compatibility layer (documented there)",
    ),
    Fault(
        "moderation-llama-categories",
        "results carry Llama's hazard categories instead of OpenAI's",
        ("moderation",),
        "dialect does not know",
        "a Llama Guard shim behind an OpenAI-compatible URL (the Llama API's documented categories)",
        level="SHOULD",
    ),
    # models
    Fault(
        "models-created-ms",
        "created is in milliseconds",
        ("models",),
        "milliseconds",
        "JavaScript servers using Date.now()",
    ),
    Fault(
        "models-retrieve-missing",
        "GET /models/{model} does not exist",
        ("models", "errors-not-found"),
        "expected HTTP 200, got 404",
        "vLLM and llama.cpp observed here",
    ),
    Fault(
        "models-list-no-object",
        'the list has no "object": "list"',
        ("models",),
        "'object' is a required property",
        "Llama API spec marks it optional",
    ),
    Fault(
        "models-list-missing",
        "GET /models does not exist (404)",
        ("models", "model-selection"),
        "expected HTTP 200, got 404",
        "modular/max#294, MiniMax-AI/MiniMax-M2.5#19, huggingface/text-generation-inference#2369",
    ),
    Fault(
        "models-list-duplicates",
        "every model is listed twice",
        ("models",),
        "lists these ids more than once",
        "rhesis-ai/rhesis#1609 (LiteLLM), tashfeenahmed/freellmapi#201",
        level="SHOULD",
    ),
    Fault(
        "models-list-incomplete",
        "the list leaves out a model that answers",
        ("models",),
        "does not list the configured",
        "gateways whose routed models are not all listed",
    ),
    Fault(
        "moderation-model-unlisted",
        "the moderation model is not listed",
        ("models",),
        "does not list the moderation model",
        "Llama API compatibility layer (documented there)",
        level="SHOULD",
    ),
    Fault(
        "models-retrieve-wrong-id",
        "GET /models/{model} describes the first model whatever the id",
        ("models", "errors-not-found"),
        "returned id",
        "single-model servers that describe their one model for any id",
    ),
    Fault(
        "models-retrieve-any",
        "GET /models/{model} answers 200 with an empty body for an unknown id",
        ("errors-not-found",),
        "an unknown model id was answered (HTTP 200)",
        "epam/ai-dial-chat#7926",
    ),
    # model selection
    Fault(
        "unknown-model-answered",
        "an unknown model is served by the default one",
        ("model-selection",),
        "silently substitutes a model",
        "llama.cpp observed here",
    ),
    Fault(
        "model-echo-wrong",
        "answers name another model than the one asked for",
        ("model-selection",),
        "answered as",
        "routers that echo the upstream model",
    ),
    Fault(
        "unknown-model-400",
        "an unknown model gets 400 instead of 404",
        ("model-selection", "errors-not-found"),
        "expected 404",
        "LiteLLM observed here",
    ),
    # errors
    Fault(
        "error-not-json",
        "errors are plain text",
        ERROR_ROWS,
        "expected Content-Type application/json",
        "vllm-project/vllm#12886",
    ),
    Fault(
        "error-as-string",
        'errors are {"error": "message"}',
        ERROR_ROWS,
        "is not of type 'object'",
        "microsoft/autogen#757, vLLM observed here",
    ),
    Fault(
        "error-code-int",
        "error.code is the HTTP status as a number",
        ERROR_ROWS,
        "$.error.code",
        "vLLM and llama.cpp observed here",
    ),
    Fault(
        "server-error-for-bad-requests",
        "invalid requests get 500 instead of 400",
        ("errors-400", "sampling", "structured-output", "image-understanding"),
        "(the SDK raises InternalServerError)",
        "tenstorrent/tt-inference-server#2771",
    ),
    Fault(
        "param-not-named",
        "error.param is always null",
        ("errors-400", "errors-not-found"),
        "do not name the offending parameter",
        "vLLM (body.messages) and llama.cpp observed here",
        level="SHOULD",
    ),
    Fault(
        "invalid-role-accepted",
        "an unknown role is answered",
        ("errors-400",),
        "a message with the role 'wizard' was answered",
        "vLLM observed here",
    ),
    Fault(
        "malformed-json-500",
        "a body that is not JSON gets 500",
        ("errors-400",),
        "refused with HTTP 500",
        "llama.cpp observed here",
    ),
    Fault(
        "stream-errors-as-sse",
        "invalid streamed requests start a stream and send the error in it",
        ("errors-400",),
        "before any stream starts",
        "vllm-project/vllm streaming error tests",
    ),
    Fault(
        "unknown-parameters-accepted",
        "unknown request fields are ignored",
        ("errors-400",),
        "an unknown parameter was answered",
        "most OpenAI-compatible servers",
    ),
    Fault(
        "auth-not-enforced",
        "any key, or none, is accepted",
        ("errors-auth",),
        "does not enforce keys",
        "local servers started without a key",
    ),
    Fault(
        "wrong-key-403",
        "a wrong key gets 403",
        ("errors-auth",),
        "refused with HTTP 403, expected 401",
        "gateways mapping auth errors to 403",
    ),
    Fault(
        "unauthorized-as-text",
        "401s are the text 'Unauthorized'",
        ("errors-auth",),
        "expected Content-Type application/json",
        "vLLM-style middlewares",
    ),
    Fault(
        "forbidden-model-answered",
        "a key answers for a model it may not use",
        ("errors-auth",),
        "the key is not limited to its models",
        "gateways without per-key model limits",
    ),
    Fault(
        "unknown-route-html",
        "unknown paths get an HTML 404",
        ("errors-not-found",),
        "got text/html",
        "reverse proxies in front of the API",
    ),
    Fault(
        "unknown-route-200",
        "unknown paths get 200 and an HTML app shell",
        ("errors-not-found",),
        "an unknown path was answered (HTTP 200)",
        "cabinetai/cabinet#236, pierreb-devkit/Node#3975 (catch-all routes)",
    ),
    Fault(
        "moderation-unknown-model-answered",
        "an unknown moderation model is served by the default",
        ("errors-not-found",),
        "substitutes its own moderation model",
        "moderation shims",
    ),
    Fault(
        "rate-limit-no-retry-after",
        "429s carry no Retry-After",
        ("errors-rate-limit",),
        "carry no Retry-After",
        "BerriAI/litellm#4695",
        level="SHOULD",
    ),
    Fault(
        "rate-limit-not-json",
        "429s are plain text",
        ("errors-rate-limit",),
        "expected Content-Type application/json",
        "reverse proxies rate limiting",
    ),
    Fault(
        "rate-limit-never-recovers",
        "the window never passes: 429 after Retry-After",
        ("errors-rate-limit",),
        "the limit does not recover",
        "leaky-bucket bugs",
    ),
    Fault(
        "no-rate-limit-headers",
        "chat completions carry no x-ratelimit-* headers",
        ("errors-rate-limit",),
        "no x-ratelimit",
        "vLLM, llama.cpp and LiteLLM observed here",
        level="SHOULD",
    ),
)

FAULTS: dict[str, Fault] = {fault.id: fault for fault in _CATALOGUE}


def unknown(ids: frozenset[str] | set[str]) -> list[str]:
    return sorted(set(ids) - set(FAULTS))
