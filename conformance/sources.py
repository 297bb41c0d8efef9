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
        "openai-seed-best-effort",
        "OpenAI cookbook: reproducible outputs with the seed parameter (best effort: mostly the same output; "
        "users see differences at temperature 0 with the same seed and fingerprint, openai/openai-python#708)",
        "https://cookbook.openai.com/examples/reproducible_outputs_with_the_seed_parameter",
    ),
    Source(
        "k2-vendor-verifier",
        "MoonshotAI K2 Vendor Verifier: tool-call triggering measured over thousands of requests per vendor; the "
        "official API's own repeated runs gave an F1 of 82.7-84 %, so 80 % and more is accepted",
        "https://github.com/MoonshotAI/K2-Vendor-Verifier",
    ),
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
        "openai-streaming",
        "OpenAI API reference: streaming chat completions (server-sent events, chunk object, stream_options)",
        "https://platform.openai.com/docs/api-reference/chat-streaming",
    ),
    Source(
        "openai-node-helpers",
        "openai-node helpers.md: ChatCompletionStream (chat.completions.stream, finalChatCompletion()) assembles a "
        "stream and throws where a part is missing (a streamed tool call without type: vllm-project/vllm#16340, "
        "BerriAI/litellm#2645); chat.completions.parse with zodResponseFormat",
        "https://github.com/openai/openai-node/blob/master/helpers.md",
    ),
    Source(
        "openai-python-helpers",
        "openai-python helpers.md: chat.completions.stream() wraps create(stream=True) with automatic accumulation of "
        "each delta, and get_final_completion() returns the accumulated ParsedChatCompletion",
        "https://github.com/openai/openai-python/blob/main/helpers.md",
    ),
    Source(
        "openai-vision",
        "OpenAI guide: images and vision (image_url parts, data URLs, detail)",
        "https://platform.openai.com/docs/guides/images-vision",
    ),
    Source(
        "openai-structured-outputs",
        "OpenAI guide: structured outputs (json_object, json_schema, strict, parse)",
        "https://platform.openai.com/docs/guides/structured-outputs",
    ),
    Source(
        "openai-function-calling",
        "OpenAI guide: function calling (tools, tool_choice, parallel calls, streaming)",
        "https://platform.openai.com/docs/guides/function-calling",
    ),
    Source(
        "observed-openai-tool-choice",
        "Observed api.openai.com behaviour: finish_reason is tool_calls for tool_choice required, stop for a named "
        "tool (vllm-project/vllm#25054)",
        "https://github.com/vllm-project/vllm/issues/25054",
    ),
    Source(
        "openai-moderation",
        "OpenAI API reference: moderations (13 categories, category_scores, category_applied_input_types)",
        "https://platform.openai.com/docs/api-reference/moderations",
    ),
    Source(
        "openai-embeddings",
        "OpenAI API reference (openapi.yaml): CreateEmbeddingRequest (model and input required; input a string, "
        "strings, token ids or lists of token ids, at most 2048 items, no empty string, 8192 tokens per input; "
        "encoding_format float or base64; dimensions at least 1) and CreateEmbeddingResponse (object list, model, "
        "data of embeddings with index, usage with prompt_tokens and total_tokens, all required)",
        "https://github.com/openai/openai-openapi/blob/f85dbe223d40e1a31cba812ab2d755c7e98a92a3/openapi.yaml",
    ),
    Source(
        "openai-embeddings-sdks",
        "Both official clients ask for encoding_format base64 by default and decode little-endian float32s "
        "(openai-python lib/_parsing/_embeddings.py passes a list of numbers through; openai-node's toFloat32Array "
        "reads one as bytes, a quarter of the length, mostly zeros: openai/openai-node#1542, and PR #2150 closed "
        "with 'the OpenAI API honors that contract')",
        "https://github.com/openai/openai-node/issues/1542",
    ),
    Source(
        "openai-embeddings-normalised",
        "OpenAI embeddings guide, FAQ: embeddings are normalized to length 1 (cosine similarity is a dot product); "
        "dimensions shortens a vector server-side, and one cut by hand must be renormalised",
        "https://platform.openai.com/docs/guides/embeddings#which-distance-function-should-i-use",
    ),
    Source(
        "openai-embeddings-errors",
        "OpenAI's refusals on /embeddings as public reports quote them: 400 \"'$.input' is invalid\" for an empty "
        'input (aryn-ai/sycamore#943), 400 "This model\'s maximum context length is 8192 tokens" '
        '(pingcap/autoflow#265), 403 "You are not allowed to generate embeddings from this model" for a chat '
        'model (infiniflow/ragflow#1835), 400 "you must provide a model parameter" (tmc/langchaingo#779)',
        "https://github.com/infiniflow/ragflow/issues/1835",
    ),
    Source(
        "openai-completions",
        "OpenAI API reference (openapi.yaml): CreateCompletionRequest (prompt a string, strings, token ids or lists "
        "of token ids; max_tokens at least 0, default 16; n 1 to 128, one choice per prompt and n; logprobs 0 to 5; "
        "best_of 0 to 20, 'must be greater than n', 'results cannot be streamed'; echo, stop, seed, suffix) and "
        "CreateCompletionResponse (object text_completion; id, created, model, choices with text, index, logprobs "
        "and finish_reason stop, length or content_filter; usage with prompt, completion and total tokens)",
        "https://github.com/openai/openai-openapi/blob/f85dbe223d40e1a31cba812ab2d755c7e98a92a3/openapi.yaml",
    ),
    Source(
        "openai-completions-logprobs",
        "OpenAI's logprobs on /completions as real answers show them: tokens, token_logprobs, top_logprobs and "
        "text_offset of one length, offsets counted from the start of the prompt (prompt 'test' gives text_offset "
        "[4]: openai/openai-python#38; simonw/llm#284), with echo the first token's log probability null "
        "(text-davinci-003's answer quoted in vllm-project/vllm#1504; stanford-crfm/helm#54); gpt-3.5-turbo-instruct "
        "refuses 'Setting 'echo' and 'logprobs' at the same time is not supported for this model' "
        "(fastai/lm-hackers#7); llama.cpp's prompt log probabilities missing with echo sent lm-evaluation-harness "
        "scores to chance (ggml-org/llama.cpp#27174)",
        "https://github.com/openai/openai-python/issues/38",
    ),
    Source(
        "openai-completions-streaming",
        "A /completions stream as OpenAI sends it: text_completion chunks of the answer's shape ('both the streamed "
        "and non-streamed response objects share the same shape'), one id, finish_reason null until the last "
        "(the raw capture in openai/openai-openapi#100), data: [DONE] last; with stream_options.include_usage one "
        "more chunk with usage and choices 'always an empty array' (ChatCompletionStreamOptions)",
        "https://github.com/openai/openai-openapi/pull/100",
    ),
    Source(
        "openai-completions-errors",
        "OpenAI's refusals on /completions as public threads quote them: 404 model_not_found 'The model `X` does "
        "not exist or you do not have access to it.' (openai/openai-agents-python#458); a chat model is 404 'This "
        "is a chat model and not supported in the v1/completions endpoint' (hegelai/prompttools#115)",
        "https://github.com/openai/openai-agents-python/issues/458",
    ),
    Source(
        "openai-not-a-chat-model",
        'OpenAI refuses a chat request to a model that does not chat with 404 "This is not a chat model and thus not '
        'supported in the v1/chat/completions endpoint", param model (the body quoted in Chanzhaoyu/chatgpt-web#1440)',
        "https://github.com/Chanzhaoyu/chatgpt-web/issues/1440",
    ),
    Source(
        "llama-images",
        "Llama API: image understanding (JPEG, PNG, GIF, ICO; at most 9 images; 25 MB)",
        "https://llama.developer.meta.com/docs/features/image-understanding",
    ),
    Source(
        "llama-moderation",
        "Llama API: moderation (Llama Guard hazard categories; compat: no category_scores, no "
        "category_applied_input_types)",
        "https://llama.developer.meta.com/docs/features/moderation",
    ),
    Source(
        "openai-errors",
        "OpenAI error codes guide and the error object {message, type, param, code}",
        "https://platform.openai.com/docs/guides/error-codes",
    ),
    Source(
        "openai-parameters",
        "OpenAI's request parameters as openai/openai-openapi f85dbe2 documents them (types, allowed values, bounds; "
        "the catalogue in schemas/surface.json). A value outside them is refused with 400 invalid_request_error "
        "naming the parameter: \"Invalid value: 'object'. Supported values are: 'json_object', 'json_schema', and "
        "'text'.\", param response_format.type, code invalid_value (epuerta9/deep-research-py#19); \"2.2 is greater "
        "than the maximum of 2 - 'presence_penalty'\" (openai/openai-python#287, which also found the 2023 "
        "completions API leaving frequency_penalty's range unenforced). The Responses API echoes the settings a "
        "response was made with (the Response object's max_tool_calls, top_logprobs, truncation, "
        "prompt_cache_key, safety_identifier, background)",
        "https://github.com/openai/openai-openapi/tree/f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
    ),
    Source(
        "openai-parameter-effects",
        "What the chat parameters whose effect is the model's choice do, as openai/openai-openapi f85dbe2 documents "
        "them: frequency_penalty (positive values decrease \"the model's likelihood to repeat the same line "
        'verbatim"), presence_penalty (positive values penalize tokens that appear in the text so far), logit_bias '
        '("values like -100 or 100 should result in a ban or exclusive selection of the relevant token"), verbosity '
        '("Lower values will result in more concise responses"). Servers that accept them and ignore them: '
        "ollama/ollama#15783 (penalties silently ignored by the Go sampler), mudler/LocalAI#1051 (penalties from the "
        "request discarded), sgl-project/sglang#6171 and #3059 (logit_bias accepted, no effect), "
        "huggingface/text-generation-inference#3186 (logit_bias unused on chat), BerriAI/litellm#32254 and #34979 "
        "(verbosity silently dropped)",
        "https://github.com/openai/openai-openapi/tree/f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
    ),
    Source(
        "openai-legacy-functions",
        "The deprecated function calling of chat completions (openai/openai-openapi f85dbe2: functions, and "
        'function_call "none", "auto" or {"name": ...}, deprecated in favour of tools and tool_choice): the '
        "answer's message.function_call holds the name and the arguments as a JSON string (openai/openai-cookbook#496; "
        'a served body in MeetKai/functionary#243); finish_reason is "function_call", and "stop" when the call '
        "was forced by name (openai/openai-node#305), so it is not judged. Servers that strip them and answer text "
        "(Continuum-AI-Corp/OrcaRouter-Lite#131), or refuse them: vLLM's \"functions Extra inputs are not "
        'permitted" (runpod-workers/worker-vllm#85), Azure\'s "Unrecognized request arguments supplied: '
        'function_call, functions" (langchain-ai/langchain#8593)',
        "https://github.com/openai/openai-openapi/tree/f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
    ),
    Source(
        "openai-responses-logprobs",
        "The Responses API's logprobs: with include [\"message.output_text.logprobs\"] each output_text part's "
        "logprobs holds, per token, token, logprob, bytes and top_logprobs (openai/openai-openapi f85dbe2, "
        "OutputTextContent and LogProb; top_logprobs an integer from 0 to 20); without include they are [] "
        '(a gpt-5-nano body in BerriAI/litellm#33738); a reasoning model refuses them with 400 "logprobs are not '
        'supported with reasoning models.", param include (vllm-project/vllm#23319); vLLM answered them empty '
        "(vllm-project/vllm#23225)",
        "https://github.com/openai/openai-openapi/tree/f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
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
        "groq-openai",
        "Groq: OpenAI compatibility (unsupported fields refused with 400; n must be 1)",
        "https://console.groq.com/docs/openai",
    ),
    Source(
        "ollama-openai",
        "Ollama: OpenAI compatibility (supported request fields)",
        "https://docs.ollama.com/api/openai-compatibility",
    ),
    Source(
        "sdk-retries",
        "openai-python: the client retries connection errors, timeouts, 408/409/429 and 5xx twice by default "
        "(_should_retry, _calculate_retry_timeout in _base_client.py)",
        "https://github.com/openai/openai-python/blob/main/src/openai/_base_client.py",
    ),
    Source(
        "openai-model-not-found",
        "api.openai.com's 404 for an unknown chat model, quoted from a real answer: code model_not_found, param "
        "null (Aider-AI/aider#2030: 'param': None, 'code': 'model_not_found')",
        "https://github.com/Aider-AI/aider/issues/2030",
    ),
    Source(
        "openai-python-optional",
        "openai-python types optional fields Optional[...] = None: null and absent read the same "
        "(tool_calls, function_call, refusal, audio, annotations; ChoiceDelta.tool_calls)",
        "https://github.com/openai/openai-python/blob/main/src/openai/types/chat/chat_completion_message.py",
    ),
    Source(
        "llama-models-api",
        "Llama API reference: Models",
        "https://llama.developer.meta.com/docs/api/models",
    ),
    Source(
        "open-responses-spec",
        "Open Responses specification, public/openapi/openapi.json (version 2026-04-24): ResponseResource, its "
        "items (Message, OutputTextContent, FunctionCall), Usage, IncompleteDetails, and POST /responses",
        "https://github.com/openresponses/openresponses/blob/main/public/openapi/openapi.json",
    ),
    Source(
        "open-responses-streaming",
        "Open Responses specification: the streaming events (response.created, in_progress, output_item.added, "
        "content_part.added, output_text.delta/done, content_part.done, output_item.done, completed, failed, "
        "function_call_arguments.delta/done, error), each with type and sequence_number, sent as event: <type>",
        "https://github.com/openresponses/openresponses/blob/main/schema/events.tsp",
    ),
    Source(
        "open-responses-compliance",
        "Open Responses compliance tester (src/lib/compliance-tests.ts): basic-response, streaming-response, "
        "system-prompt, tool-calling, tool-calling-streaming, image-input, multi-turn; every answer parsed with "
        "the zod schema of ResponseResource",
        "https://github.com/openresponses/openresponses/blob/main/src/lib/compliance-tests.ts",
    ),
    Source(
        "openai-responses-sdk",
        "openai-python types/responses (Response, ResponseOutputMessage, ResponseFunctionToolCall, ResponseUsage, "
        "ResponseStreamEvent) and the ResponseStream helper that assembles events into the final response",
        "https://github.com/openai/openai-python/blob/main/src/openai/types/responses/response.py",
    ),
    Source(
        "openai-responses-state",
        "OpenAI conversation state guide: previous_response_id continues a stored response (store defaults to "
        "true); GET /responses/{response_id} retrieves it",
        "https://platform.openai.com/docs/guides/conversation-state",
    ),
)

_REASONING = (
    Source(
        "openai-reasoning",
        "OpenAI's reasoning surface: max_completion_tokens is 'an upper bound ... including visible output tokens"
        " and reasoning tokens' (openai/openai-openapi f85dbe2, CreateChatCompletionRequest); max_tokens is "
        "deprecated and 'not compatible with o-series models' (400 unsupported_parameter, param max_tokens: "
        "griptape-ai/ComfyUI-Griptape#312); usage.completion_tokens_details.reasoning_tokens counts thinking "
        "within completion_tokens (CompletionUsage); no chat message or delta carries reasoning text "
        "(ChatCompletionResponseMessage); a cap spent on thinking gives finish_reason length with empty content "
        "(covan-ai/covan#112), and on /responses status incomplete for max_output_tokens with reasoning items "
        "only (OpenAI reasoning guide, 'Allocating space for reasoning')",
        "https://platform.openai.com/docs/guides/reasoning",
    ),
    Source(
        "openai-reasoning-effort",
        "OpenAI API reference, reasoning_effort (chat) and reasoning.effort (Responses): none, minimal, low, "
        "medium, high, xhigh, max; 'Reducing reasoning effort can result in ... fewer tokens used on reasoning' "
        "(openai-openapi f85dbe2, ReasoningEffort; the same seven values in openai-python and openai-node); an "
        "unsupported one is refused with 400 naming it ('Unrecognized request argument supplied: "
        "reasoning_effort', langchain_dart#712); accepted and ignored by Ollama (inspect_ai#2246) and OpenVINO "
        "model server (model_server#4495)",
        "https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort",
    ),
    Source(
        "reasoning-fields",
        "Where OpenAI-compatible servers return thinking: reasoning_content (DeepSeek, llama.cpp --reasoning-"
        "format deepseek, SGLang, Kimi, LiteLLM), reasoning (vLLM since its rename, vllm-project/vllm#27752 and "
        "the removal of reasoning_content in #33402 that broke Dify, llama_index and LibreChat; OpenRouter, "
        "Ollama /v1, Groq), streamed as deltas of the same field; llama.cpp --reasoning-format none and servers "
        "without a reasoning parser leave <think> in content (ggml-org/llama.cpp#13867, ollama/ollama#8529)",
        "https://docs.vllm.ai/en/latest/features/reasoning_outputs.html",
    ),
    Source(
        "reasoning-sent-back",
        "Thinking sent back in the next turn: DeepSeek thinking mode requires reasoning_content back within a "
        "tool loop ('The reasoning_content in the thinking mode must be passed back to the API', "
        "crewAIInc/crewAI#5878), Kimi K2 thinking likewise (platform.moonshot.ai), vLLM and llama.cpp read it "
        "from assistant messages; Groq and Cerebras refuse it ('property reasoning_content is unsupported', "
        "agentjido/req_llm#772, Kilo-Org/kilocode#10375)",
        "https://api-docs.deepseek.com/guides/thinking_mode",
    ),
    Source(
        "openai-responses-reasoning",
        "OpenAI Responses API: reasoning output items (id, summary of summary_text parts, content of "
        "reasoning_text parts, encrypted_content, status; openai-openapi ReasoningItem), reasoning.summary "
        "auto/concise/detailed, include reasoning.encrypted_content for stateless multi-turn with store false, "
        "output_tokens_details.reasoning_tokens (required), the events response.reasoning_summary_part/_text and "
        "response.reasoning_text (response.reasoning.* in the Open Responses specification), and reasoning items "
        "passed back as input",
        "https://platform.openai.com/docs/api-reference/responses/object",
    ),
)

SOURCES: dict[str, Source] = {source.key: source for source in (*_SOURCES, *_REASONING)}
