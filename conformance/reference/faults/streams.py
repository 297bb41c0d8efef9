"""Faults of streamed answers: framing, chunks, usage, errors in the stream."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

FAULTS = (
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
        ("streaming",),
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
        ("streaming",),
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
        "tool-stream-breaks-off",
        'a streamed answer with tools breaks off with data: {"error": …} after its first tool-call delta',
        ("tools",),
        "broke off with an error",
        "transformers serve, observed by the suite (a server exception mid-stream)",
    ),
    Fault(
        "stream-tool-no-index",
        "streamed tool-call deltas have no index",
        ("streaming",),
        "'index' is a required property",
        "EricLBuehler/mistral.rs#1507, openai/openai-python#3246",
    ),
    Fault(
        "stream-choice-index-1",
        "a stream numbers its only choice 1",
        ("streaming",),
        "ChatCompletionStream throws",
        "spring-projects/spring-ai#6221 (a gateway sending index 1), huggingface/text-generation-inference#1648 "
        "(the Python SDK reads chunk.choices[0] by position; TypeScript's helper puts the choice at index 1)",
    ),
    Fault(
        "stream-tool-no-type",
        'streamed tool-call deltas have no "type"',
        ("tools",),
        "ChatCompletionStream throws",
        "vllm-project/vllm#16340 (the TypeScript stream helper throws; the Python SDK reads it)",
    ),
    Fault(
        "stream-tool-type-null",
        'streamed tool-call deltas say "type": null',
        ("tools",),
        "ChatCompletionStream throws",
        "BerriAI/litellm#2645 (the TypeScript stream helper throws; the Python SDK reads it)",
    ),
    Fault(
        "stream-tool-repeats-identity",
        "every streamed tool-call delta repeats the call's id, type and name",
        ("tools",),
        "the helper joins every string",
        "BerriAI/litellm#8990 and SillyTavern/SillyTavern#5948 (Fireworks repeats id, type and name), "
        "NousResearch/hermes-agent#8259 (NVIDIA NIM repeats the name): Python's stream helper joins them, "
        "TypeScript's keeps the last",
    ),
    Fault(
        "stream-deltas-batched",
        "the first chunk carries two deltas of choice 0 (the role, then the first words) as two entries of choices",
        ("streaming",),
        "chat.completions.stream()",
        "no public report: Python's stream helper builds its snapshot from the first chunk by index and raises, "
        "TypeScript's accumulates both (this fault proves the Python helper's check)",
    ),
    Fault(
        "answers-as-html",
        "non-streamed answers are sent as Content-Type text/html",
        ("chat-completions",),
        "expected Content-Type application/json, got text/html",
        "shims whose Flask view returns json.dumps(...) (Flask sends text/html)",
    ),
)
