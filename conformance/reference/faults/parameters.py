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
        "responses-setting-dropped",
        "background, max_tool_calls, top_logprobs, truncation, prompt_cache_key and safety_identifier come back "
        "as their defaults",
        ("responses-parameters",),
        "are not echoed as sent",
        "BerriAI/litellm#13257 (service_tier not passed on for /responses)",
        level="SHOULD",
    ),
)
