"""What the reference server serves: the documented Llama API models and moderation categories."""

from __future__ import annotations

from dataclasses import dataclass

# the date the Llama API docs show as every model's "created" (2025-01-01T00:00:00Z)
CREATED = 1_735_718_400
OWNER = "Meta"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    vision: bool
    chat: bool = True


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

CHAT_MODELS = {model.id: model for model in (*MODELS, ModelInfo(RATE_LIMITED_MODEL, vision=False))}

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

# image types the Llama API accepts (image understanding docs), by data-URL media type
IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/gif", "image/x-icon"}
MAX_IMAGES = 9
