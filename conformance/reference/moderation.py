"""POST /moderations of the reference server.

One result per input string, one result for a list of text and image parts. In the Llama flavour
(the compat docs) ``categories`` maps every hazard category to a boolean and there is no
``category_scores`` and no ``category_applied_input_types``; in the OpenAI flavour the 13 OpenAI
categories come with both.
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance.reference.catalog import LLAMA, OPENAI_IMAGE_CATEGORIES, Flavour
from conformance.reference.chat_messages import check_image
from conformance.reference.errors import bad_request, unknown_model


def _inputs(value: Any, flavour: Flavour) -> list[tuple[str, list[str]]]:
    """The texts to judge, one per result, each with the input types it holds."""
    if isinstance(value, str):
        return [(value, ["text"])]
    if not isinstance(value, list) or not value:
        raise bad_request(
            "Invalid 'input': expected a string, an array of strings or an array of content parts.",
            "input",
            "invalid_type",
        )
    if all(isinstance(item, str) for item in value):
        return [(item, ["text"]) for item in value]
    texts, kinds = [], []
    for index, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
            kinds.append("text")
        elif kind == "image_url" and isinstance(part.get("image_url"), dict):
            check_image(part["image_url"].get("url"), f"input[{index}].image_url.url", flavour)
            kinds.append("image")
        else:
            raise bad_request(f"Invalid content part at 'input[{index}]'.", f"input[{index}]", "invalid_value")
    return [(" ".join(texts), sorted(set(kinds), reverse=True))]


def classify(text: str, flavour: Flavour = LLAMA) -> dict[str, bool]:
    lowered = text.lower()
    return {
        category: any(word in lowered for word in flavour.category_words.get(category, ()))
        for category in flavour.categories
    }


def moderate(
    body: Any, flavour: Flavour = LLAMA, *, unknown_model_answered: bool = False, llama_categories: bool = False
) -> dict[str, Any]:
    """The moderation answer. ``unknown_model_answered`` and ``llama_categories`` are faults: any model
    is served by the default one; results carry Llama's hazard categories whatever the flavour."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    model = body.get("model", flavour.moderation_model)
    if model != flavour.moderation_model and not unknown_model_answered:
        raise unknown_model(str(model))
    if "input" not in body:
        raise bad_request("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    results = []
    for text, kinds in _inputs(body["input"], flavour):
        categories = classify(text, LLAMA if llama_categories else flavour)
        result: dict[str, Any] = {"flagged": any(categories.values()), "categories": categories}
        if flavour.scores and not llama_categories:
            result["category_scores"] = {name: 0.91 if hit else 0.0004 for name, hit in categories.items()}
            result["category_applied_input_types"] = {
                name: kinds if name in OPENAI_IMAGE_CATEGORIES else [kind for kind in kinds if kind == "text"]
                for name in categories
            }
        results.append(result)
    return {"id": f"modr-{uuid.uuid4().hex[:24]}", "model": flavour.moderation_model, "results": results}
