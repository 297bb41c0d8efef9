"""The checks, one module per feature row. Each module registers its probes (the requests it needs)
and its checks (claims about the exchanges) on import.

To add a check: write a function in the row's module, decorate it with ``@check(row, level,
source=..., needs=(probe ids...))``, give it a one-line docstring that states the claim in the
indicative mood, and make it raise ``CheckFailed`` with what was expected, what came back and where.
A check of what the model chooses (``kind=Kind.MODEL``, SHOULD, with a ``threshold``) reads its
probes over trials (``ctx.trials``) and returns a ``Measured`` count (``checks._trials.measure``).
"""

from conformance.checks import (
    chat_completions,
    errors_400,
    errors_400_parameters,
    errors_auth,
    errors_not_found,
    errors_rate_limit,
    image_understanding,
    model_selection,
    models,
    moderation,
    responses,
    responses_errors,
    responses_images,
    responses_state,
    responses_streaming,
    responses_structured,
    responses_tools,
    sampling,
    sampling_rates,
    stream_form,
    streaming,
    structured_output,
    tools,
    tools_auto,
    transport,
    ts_client,
)

__all__ = [
    "chat_completions",
    "errors_400",
    "errors_400_parameters",
    "errors_auth",
    "errors_not_found",
    "errors_rate_limit",
    "image_understanding",
    "model_selection",
    "models",
    "moderation",
    "responses",
    "responses_errors",
    "responses_images",
    "responses_state",
    "responses_streaming",
    "responses_structured",
    "responses_tools",
    "sampling",
    "sampling_rates",
    "stream_form",
    "streaming",
    "structured_output",
    "tools",
    "tools_auto",
    "transport",
    "ts_client",
]
