"""Faults of the other endpoints: the model list and retrieve, model selection, moderation."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

FAULTS = (
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
        ("models",),
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
        ("model-selection",),
        "expected 404",
        "LiteLLM observed here",
    ),
)
