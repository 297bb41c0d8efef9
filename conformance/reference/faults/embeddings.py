"""Faults of POST /embeddings, each from a public report of a real server (conformance.reference.embeddings)."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

ROW = ("embeddings",)

FAULTS = (
    Fault(
        "embeddings-base64-ignored",
        "encoding_format base64 is ignored: vectors come back as lists of numbers",
        ROW,
        "encoding_format base64 was ignored",
        "openai/openai-node#1542 (Ollama and LM Studio: the Node client decodes a quarter of the vector), "
        "sgl-project/sglang#30434, mudler/LocalAI#9135",
    ),
    Fault(
        "embeddings-base64-float64",
        "base64 vectors pack float64s, not float32s",
        ROW,
        "it packs float64",
        "vllm-project/vllm#6744 (the Python client decodes twice the length), fixed by vllm-project/vllm#7855",
    ),
    Fault(
        "embeddings-index-from-one",
        "the indexes of data start at 1",
        ROW,
        "the indexes of data are",
        "xorbitsai/inference#5240 (a 2-input request answered with index [1, 2])",
    ),
    Fault(
        "embeddings-order-reversed",
        "the embeddings of a list come back in reverse order, each with its own index",
        ROW,
        "the indexes of data are",
        "getzep/graphiti#1732 and pydantic/pydantic-ai#7284 (clients pairing vectors by position mismatch them when "
        "data is not in input order)",
    ),
    Fault(
        "embeddings-token-ids-refused",
        "inputs of token ids are refused with 422",
        ROW,
        "expected HTTP 200, got 422",
        "michaelfeil/infinity#295 (422 'Input should be a valid string' for input=[100, 201, 301])",
    ),
    Fault(
        "embeddings-dimensions-ignored",
        "dimensions is accepted and ignored: vectors keep the model's full length",
        ROW,
        "dimensions 16 was ignored",
        "ggml-org/llama.cpp#25210 (dimensions 128 still returns 768), QwenLM/Qwen3-Embedding#101 (LM Studio)",
    ),
    Fault(
        "embeddings-dimensions-not-renormalised",
        "dimensions cuts the vector short without renormalising it",
        ROW,
        "without being renormalised",
        "getzep/graphiti#1722 (a sliced text-embedding-3 vector is no longer unit-length)",
    ),
    Fault(
        "embeddings-not-normalised",
        "vectors are not of unit length",
        ROW,
        "not 1: a dot product",
        "mudler/LocalAI#5821 (llama.cpp backend vectors not L2-normalised), ollama/ollama#8094",
        level="SHOULD",
    ),
    Fault(
        "embeddings-usage-prompt-missing",
        "usage has total_tokens but no prompt_tokens",
        ROW,
        "violates the openai/embedding-list schema",
        "api7/aisix#474 and CherryHQ/cherry-studio#15778 (Jina omits usage.prompt_tokens)",
    ),
    Fault(
        "embeddings-object-missing",
        "the answer and its embeddings carry no object field",
        ROW,
        "violates the openai/embedding-list schema",
        "raphaelmansuy/edgequake-llm#62 (a TEI-style answer without object: 'missing field object')",
    ),
    Fault(
        "embeddings-empty-input-answered",
        "an empty string and an empty list are answered with vectors",
        ROW,
        "was answered (HTTP 200) instead of refused",
        "openclaw/openclaw#117615 (200 for '', [], [''] and ['valid', ''])",
    ),
    Fault(
        "embeddings-empty-input-500",
        "an empty input breaks the server (500)",
        ROW,
        "was refused with HTTP 500",
        "ggml-org/llama.cpp#10866 (crash on an empty input), ollama/ollama#5781 (500 on /api/embed)",
    ),
    Fault(
        "embeddings-truncates-silently",
        "inputs longer than 512 tokens are cut short and embedded without a word",
        ROW,
        "it was truncated in silence",
        "jundot/omlx#1687 (inputs truncated at 512 tokens, no warning), raullenchai/Rapid-MLX#1381",
    ),
    Fault(
        "embeddings-unknown-encoding-accepted",
        "an encoding_format other than float and base64 is answered as floats",
        ROW,
        "was answered (HTTP 200) instead of refused",
        "sgl-project/sglang#30434 ('unsupported values are silently accepted')",
    ),
    Fault(
        "embeddings-zero-vector",
        "the last input of a list gets a vector of zeros",
        ROW,
        "is all zeros",
        "ollama/ollama#17878 (all-zero vectors on /v1/embeddings), ggml-org/llama.cpp#14812 (vectors of nulls)",
    ),
    Fault(
        "embeddings-usage-zero",
        "usage counts 0 prompt and 0 total tokens",
        ROW,
        "expected the input's tokens in both",
        "lmstudio-ai/lmstudio-bug-tracker#1546 (prompt_tokens and total_tokens always 0), BerriAI/litellm#33681",
    ),
    Fault(
        "embeddings-nondeterministic",
        "the same input gets a slightly different vector on every request",
        ROW,
        "the same string got another vector",
        "huggingface/text-embeddings-inference#704 (different results for the same request), ollama/ollama#6187",
    ),
    Fault(
        "embeddings-too-many-accepted",
        "more than 2048 inputs in one request are embedded",
        ROW,
        "was answered (HTTP 200) instead of refused",
        "michaelfeil/infinity#307 (asked to lift OpenAI's 2048-input limit, which servers without it do not have)",
        level="SHOULD",
    ),
    Fault(
        "embeddings-chat-model-embeds",
        "the chat model answers embeddings requests with vectors",
        ROW,
        "was answered (HTTP 200) instead of refused",
        "ggml-org/llama.cpp#23509 (a causal chat model answers /v1/embeddings with 200), ollama/ollama#1624",
        level="SHOULD",
    ),
    Fault(
        "embeddings-missing-model-defaulted",
        "a request without a model is answered by the embedding model",
        ROW,
        "was answered (HTTP 200) instead of refused",
        "continuedev/continue#11803 (llama-server accepts and ignores the model field)",
        level="SHOULD",
    ),
    Fault(
        "embeddings-unknown-model-answered",
        "an unknown model is answered by the embedding model",
        ROW,
        "was answered (HTTP 200) instead of refused",
        "sgl-project/sglang#1348 (/v1/embeddings answers 'model': 'Nothing')",
    ),
    Fault(
        "embedding-model-chats",
        "a chat request to the embedding model is answered with text",
        ("model-selection",),
        "a chat request to the embedding model was answered",
        "ollama/ollama#2877 (Ollama added 'embedding models do not support chat'; a server without that guard "
        "generates from an embedding model's weights)",
        level="SHOULD",
    ),
    Fault(
        "embeddings-auth-not-enforced",
        "POST /embeddings answers without a valid key",
        ("errors-auth",),
        "embeddings quota",
        "vllm-project/vllm#42591 (/v2/embed bypasses --api-key), wyeeeee/hajimi#306 (embeddings endpoints added "
        "without the authentication chat has)",
    ),
)
