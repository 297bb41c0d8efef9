"""Faults of the legacy POST /completions, each from a public report of a real server or client
(``conformance.reference.completions`` does what each says)."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

ROW = ("completions",)


def _fault(fault_id: str, what: str, expect: str, source: str, level: str = "MUST") -> Fault:
    return Fault(fault_id, what, ROW, expect, source, level)


FAULTS = (
    _fault(
        "completions-echo-ignored",
        "echo is accepted and ignored: the text is the completion alone",
        "echo true was ignored",
        "ollama/ollama docs/api/openai-compatibility.mdx (echo unsupported), ggml-org/llama.cpp#27174",
    ),
    _fault(
        "completions-echo-logprobs-completion-only",
        "with echo and logprobs, log probabilities come for the generated tokens only, none for the prompt's",
        "the prompt's tokens are not scored",
        "ggml-org/llama.cpp#27174 (lm-evaluation-harness loglikelihood scores fell to chance)",
    ),
    _fault(
        "completions-default-max-tokens-unlimited",
        "without max_tokens the completion runs on (no default of 16)",
        "not at most 16",
        "ggml-org/llama.cpp#5308 (n_predict -1 by default); llama-cpp-python keeps 16 (abetlen/llama-cpp-python#903)",
    ),
    _fault(
        "completions-max-tokens-ignored",
        "max_tokens is ignored: every completion is 12 tokens",
        "was not honoured",
        "huggingface/text-generation-inference#1999 (legacy completions parameters ignored)",
    ),
    _fault(
        "completions-stop-included",
        "the stop sequence is left in the text",
        "holds the stop sequence",
        "huggingface/text-generation-inference#1724, jundot/omlx#2386",
    ),
    _fault(
        "completions-stream-ids-differ",
        "every chunk of a stream carries its own id",
        "the chunks carry",
        "huggingface/text-generation-inference#2336 (stream chunks with id '')",
    ),
    _fault(
        "completions-stream-no-done",
        "a stream ends without data: [DONE]",
        "no data: [DONE] event",
        "huggingface/text-generation-inference#2336 (its completions streams fixed to OpenAI's framing)",
    ),
    _fault(
        "completions-stream-not-event-stream",
        "a stream is sent as application/json",
        "not text/event-stream",
        "huggingface/text-generation-inference#2336",
    ),
    _fault(
        "completions-chat-object",
        "the answer is labelled object chat.completion",
        "violates the openai/text-completion schema",
        "BerriAI/litellm#699 (a chatcmpl- id on a text_completion)",
    ),
    _fault(
        "completions-finish-reason-null",
        "answers without streaming have finish_reason null",
        "violates the openai/text-completion schema",
        "openai/openai-openapi#100 (null is a stream's, until the last chunk)",
    ),
    _fault(
        "completions-index-per-prompt",
        "with several prompts and n, indexes restart at 0 for each prompt",
        "the choices' indexes are",
        "BerriAI/litellm#2796 (the choices of a list of prompts mismatched)",
    ),
    _fault(
        "completions-n-ignored",
        "n is ignored: one choice per prompt",
        "gave 2 choices, expected 4",
        "abetlen/llama-cpp-python#1906",
    ),
    _fault(
        "completions-token-ids-refused",
        "a prompt of token ids is refused: the prompt must be a string",
        "a prompt of 6 token ids",
        "ollama/ollama docs/api/openai-compatibility.mdx (prompt: string only)",
    ),
    _fault(
        "completions-logprobs-ignored",
        "logprobs is accepted and ignored: logprobs is null",
        "the log probabilities asked for are not there",
        "BerriAI/litellm#2796 (logprobs dropped)",
    ),
    _fault(
        "completions-logprobs-chat-format",
        "logprobs come in the chat form (content[] with token, logprob, bytes), no tokens or text_offset lists",
        "the log probabilities asked for are not there",
        "ggml-org/llama.cpp tools/server/server-task.cpp (to_json_oaicompat on /v1/completions)",
    ),
    _fault(
        "completions-logprobs-tokens-mismatch",
        "logprobs tokens lose their leading spaces: they no longer join to the text",
        "not to the text",
        "stanford-crfm/helm#53 (tokens that do not match the text break offset arithmetic)",
    ),
    _fault(
        "completions-top-logprobs-too-many",
        "top_logprobs hold 3 more alternatives than asked for",
        "not the 2 most likely tokens",
        "vllm-project/vllm#16546 (logprobs counts against the server's own maximum)",
    ),
    _fault(
        "completions-text-offset-from-zero",
        "text_offset counts from the start of the completion, not of the prompt",
        "not at the prompt's length",
        "vllm-project/vllm serving_completion.py (initial_text_offset=0), against openai/openai-python#38",
        "SHOULD",
    ),
    _fault(
        "completions-usage-total-wrong",
        "usage.total_tokens counts the prompt only",
        "expected the prompt's tokens and the sum",
        "huggingface/text-generation-inference#2336 (usage missing or wrong on completions)",
    ),
    _fault(
        "completions-prompts-uncounted",
        "usage counts the first prompt of a list only",
        "not every prompt is counted",
        "BerriAI/litellm#2796 (only the first of several prompts answered and counted)",
    ),
    _fault(
        "completions-stream-usage-ignored",
        "stream_options.include_usage is ignored: no usage chunk",
        "include_usage was ignored",
        "ggml-org/llama.cpp tools/server (include_usage read on the chat path only)",
    ),
    _fault(
        "completions-stream-usage-with-choices",
        "usage rides on the last text chunk instead of a chunk of its own with choices []",
        "the usage chunk has choices",
        "ogx-ai/ogx#6541 (the empty-choices usage chunk)",
    ),
    _fault(
        "completions-stream-finish-reason-missing",
        "no chunk of a stream gives finish_reason",
        "no chunk gives the choice a finish_reason",
        "huggingface/text-generation-inference#2336 (finish_reason '')",
    ),
    _fault(
        "completions-stream-finish-reason-every-chunk",
        "every chunk of a stream gives the choice's finish_reason",
        "finish_reason comes in chunks",
        "openai/openai-openapi#100 (null until the last chunk)",
    ),
    _fault(
        "completions-out-of-range-accepted",
        "max_tokens -1, logprobs -1, n 0 and best_of below n are answered as if not sent",
        "the app's mistake is answered",
        "openai/openai-python#287 (ranges of the completions API left unenforced)",
    ),
    _fault(
        "completions-best-of-stream-accepted",
        "best_of with stream is answered with a stream",
        "best_of 2, stream True",
        "vllm-project/vllm#13361 (best_of's handling reworked in V1)",
    ),
    _fault(
        "completions-best-of-returns-all",
        "best_of 2 with n 1 returns both candidates",
        "returned 2 choices",
        "vllm-project/vllm#13361, vllm-project/vllm#14356",
    ),
    _fault(
        "completions-seed-ignored",
        "seed is ignored at temperature 1",
        "seed 7 gave another text",
        "openai/openai-python#708 (seed best effort); servers that take seed sample deterministically",
        "SHOULD",
    ),
    _fault(
        "completions-suffix-refused-unnamed",
        "suffix is refused with 400 'Invalid request.' that does not name it",
        "suffix was refused with HTTP 400 without naming it",
        "vllm-project/vllm#9976 (suffix refused, there naming it)",
    ),
    _fault(
        "completions-refusals-unnamed",
        "refusals of out-of-range values and best_of conflicts name no parameter",
        "is not named",
        "openai/openai-python#287 (OpenAI's refusals name the parameter)",
        "SHOULD",
    ),
    _fault(
        "completions-unknown-model-answered",
        "an unknown model is answered by the default model",
        "a model the target does not have",
        "openai/openai-agents-python#458 (OpenAI: 404 model_not_found)",
    ),
)
