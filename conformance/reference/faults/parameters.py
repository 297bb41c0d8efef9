"""Faults of the parameter sweep: documented parameters that break the server, are refused, go unchecked,
are refused with the wrong status or without naming themselves, or are dropped from the response."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

BOTH = ("parameters", "responses-parameters")

FAULTS = (
    Fault(
        "parameter-not-implemented",
        "logit_bias (chat) and top_logprobs (/responses) answer 501 Not implemented",
        BOTH,
        "requests of the sweep broke",
        "xorbitsai/inference#1924 (logit_bias answered 501 {'detail': 'Not implemented'})",
    ),
    Fault(
        "parameter-valid-refused",
        "service_tier is refused with 400 as an unsupported parameter",
        BOTH,
        "valid values of documented parameters were refused",
        "browserbase/stagehand#670 (400 extra_forbidden for service_tier 'auto')",
        level="SHOULD",
    ),
    Fault(
        "parameter-values-unchecked",
        "values outside a documented parameter's type, values or bounds are answered",
        BOTH,
        "invalid values were not refused",
        "openai/openai-python#287 (frequency_penalty outside -2..2 answered)",
    ),
    Fault(
        "parameter-refusal-422",
        "invalid values of documented parameters are refused with 422 (a schema validator's status)",
        BOTH,
        "were not refused with HTTP 400",
        "hiyouga/LlamaFactory#2644 (UnprocessableEntityError 422 from request validation)",
    ),
    Fault(
        "parameter-refusal-unnamed",
        "refusals of invalid parameter values say only 'Invalid request body.', naming nothing",
        BOTH,
        "name neither the parameter",
        "xtekky/gpt4free#1623 (a refusal that does not say what is wrong)",
        level="SHOULD",
    ),
    Fault(
        "frequency-penalty-ignored",
        "frequency_penalty is accepted and has no effect on the answer",
        ("parameters",),
        "accepts frequency_penalty and ignores it",
        "ollama/ollama#15783 (the Go sampler silently ignores frequency_penalty and presence_penalty), "
        "mudler/LocalAI#1051 (penalties from the request discarded)",
        level="SHOULD",
    ),
    Fault(
        "presence-penalty-ignored",
        "presence_penalty is accepted and has no effect on the answer",
        ("parameters",),
        "accepts presence_penalty and ignores it",
        "ollama/ollama#15783, lucasjinreal/Crane#87 (penalties parsed, then dropped before the sampler)",
        level="SHOULD",
    ),
    Fault(
        "logit-bias-ignored",
        "logit_bias is accepted and has no effect on the answer",
        ("parameters",),
        "accepts logit_bias and ignores it",
        'sgl-project/sglang#6171 ("this API is just a placeholder"), huggingface/text-generation-inference#3186',
        level="SHOULD",
    ),
    Fault(
        "verbosity-ignored",
        "verbosity is accepted and has no effect on the answer",
        ("parameters",),
        "accepts verbosity and ignores it",
        "BerriAI/litellm#32254 and #34979 (verbosity silently dropped on the way to the model)",
        level="SHOULD",
    ),
    Fault(
        "functions-ignored",
        "the deprecated functions and function_call are accepted and answered as if they had not been sent",
        ("parameters",),
        "answered with text as if functions had not been sent",
        "Continuum-AI-Corp/OrcaRouter-Lite#131 (functions and function_call silently stripped in front of LiteLLM; "
        "plain text answered)",
        level="SHOULD",
    ),
    Fault(
        "responses-logprobs-ignored",
        'include ["message.output_text.logprobs"] is accepted and every output_text part has logprobs []',
        ("responses-parameters",),
        "the logprobs included are not there",
        "vllm-project/vllm#23225 (the Responses API returned empty logprobs)",
    ),
    Fault(
        "responses-setting-dropped",
        "background, max_tool_calls, top_logprobs, truncation, prompt_cache_key and safety_identifier come back "
        "as their defaults",
        ("responses-parameters",),
        "are not echoed as sent",
        "BerriAI/litellm#13257 (service_tier not passed on for /responses)",
        level="SHOULD",
    ),
)
