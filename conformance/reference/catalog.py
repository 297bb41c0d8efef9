"""What the reference server serves: the documented Llama API models, and the two flavours it can
speak: the Llama API compatibility layer (its default) and OpenAI's API itself."""

from __future__ import annotations

from dataclasses import dataclass, field

# the date the Llama API docs show as every model's "created" (2025-01-01T00:00:00Z)
CREATED = 1_735_718_400
OWNER = "Meta"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    vision: bool
    chat: bool = True
    # a reasoning model: it thinks before it answers (conformance.reference.thinking)
    thinks: bool = False


# the models of the Llama API models reference, in its order; Llama-Guard serves /moderations only
# and, as in the docs' list, is not listed by GET /models
MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("Llama-3.3-70B-Instruct", vision=False),
    ModelInfo("Llama-3.3-8B-Instruct", vision=False),
    ModelInfo("Llama-4-Scout-17B-16E-Instruct-FP8", vision=True),
    ModelInfo("Llama-4-Maverick-17B-128E-Instruct-FP8", vision=True),
)
MODERATION_MODEL = "Llama-Guard"
# test models that answer chat requests but are not listed: one no key may use (403), one with a
# rate limit low enough to provoke on purpose
FORBIDDEN_MODEL = "Llama-Restricted-Preview"
RATE_LIMITED_MODEL = "Llama-Rate-Limit-Test"
# a reasoning model: the OpenAI flavour lists it (the Llama API documents none), both answer it
REASONING_MODEL = ModelInfo("Llama-Reasoning-Test", vision=False, thinks=True)

# the OpenAI flavour's embedding model (the Llama API serves no /embeddings): vectors of this many numbers
EMBEDDING_MODEL = "text-embedding-test"
EMBEDDING_LENGTH = 256

CHAT_MODELS = {model.id: model for model in (*MODELS, ModelInfo(RATE_LIMITED_MODEL, vision=False), REASONING_MODEL)}

# Llama's hazard categories (MLCommons taxonomy, as Llama Guard names them); the docs confirm the
# spelling of "privacy" and "self-harm", the other slugs follow the same pattern
HAZARD_CATEGORIES: tuple[str, ...] = (
    "violent-crimes",
    "non-violent-crimes",
    "sex-related-crimes",
    "child-sexual-exploitation",
    "defamation",
    "specialized-advice",
    "privacy",
    "intellectual-property",
    "indiscriminate-weapons",
    "hate",
    "self-harm",
    "sexual-content",
    "elections",
    "code-interpreter-abuse",
)

# the deterministic classifier: a category is flagged when one of its words appears in the input
HAZARD_WORDS: dict[str, tuple[str, ...]] = {
    "violent-crimes": ("murder", "kill someone", "assault"),
    "non-violent-crimes": ("steal", "launder", "fraud"),
    "privacy": ("credit card", "social security number", "home address of"),
    "indiscriminate-weapons": ("bomb", "nerve agent", "bioweapon"),
    "hate": ("inferior race",),
    "self-harm": ("hurt myself", "not eating is a great way", "suicide"),
    "sexual-content": ("explicit sex",),
    "elections": ("vote twice",),
}

# OpenAI's moderation categories, and the words the deterministic classifier flags them by
OPENAI_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
OPENAI_WORDS: dict[str, tuple[str, ...]] = {
    "illicit": ("build a bomb", "steal", "launder"),
    "illicit/violent": ("build a bomb", "nerve agent"),
    "violence": ("hurt people", "kill someone", "murder"),
    "self-harm": ("hurt myself", "suicide"),
    "self-harm/intent": ("hurt myself",),
    "hate": ("inferior race",),
}

# the categories OpenAI judges images for (the others are text only)
OPENAI_IMAGE_CATEGORIES = frozenset(
    {"self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence", "violence/graphic"}
)


@dataclass(frozen=True)
class Flavour:
    """What differs between the Llama API compatibility layer and OpenAI's own API."""

    name: str
    moderation_model: str
    # GET /models lists the moderation model too
    lists_moderation_model: bool
    categories: tuple[str, ...]
    category_words: dict[str, tuple[str, ...]]
    # results carry category_scores and category_applied_input_types
    scores: bool
    image_types: frozenset[str]
    max_images: int | None
    # a request field OpenAI does not know is refused with 400, rather than ignored
    refuses_unknown_parameters: bool
    # the x-ratelimit-* headers of chat completions
    rate_limit_headers: tuple[str, ...] = field(default=())
    # test models GET /models lists besides the documented ones
    extra_models: tuple[str, ...] = ()


LLAMA = Flavour(
    name="llama-api",
    moderation_model=MODERATION_MODEL,
    lists_moderation_model=False,
    categories=HAZARD_CATEGORIES,
    category_words=HAZARD_WORDS,
    scores=False,
    # the types of the image understanding docs (JPEG, PNG, GIF, ICO), at most 9 per request
    image_types=frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif", "image/x-icon"}),
    max_images=9,
    refuses_unknown_parameters=False,
    rate_limit_headers=("limit-requests", "remaining-requests", "limit-tokens", "remaining-tokens"),
)
OPENAI = Flavour(
    name="openai",
    moderation_model="omni-moderation-latest",
    lists_moderation_model=True,
    categories=OPENAI_CATEGORIES,
    category_words=OPENAI_WORDS,
    scores=True,
    image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    max_images=None,
    refuses_unknown_parameters=True,
    rate_limit_headers=(
        "limit-requests",
        "remaining-requests",
        "limit-tokens",
        "remaining-tokens",
        "reset-requests",
        "reset-tokens",
    ),
    extra_models=(REASONING_MODEL.id, EMBEDDING_MODEL),
)
FLAVOURS = {flavour.name: flavour for flavour in (LLAMA, OPENAI)}
