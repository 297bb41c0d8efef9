"""POST /moderations of the reference server: Llama's categories, as the compat docs describe.

One result per input string, one result for a list of text and image parts; ``categories`` maps
every hazard category to a boolean; there is no ``category_scores`` and no
``category_applied_input_types`` (documented as not supported).
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance.reference.catalog import HAZARD_CATEGORIES, HAZARD_WORDS, MODERATION_MODEL
from conformance.reference.chat import check_image
from conformance.reference.errors import bad_request, unknown_model


def _texts(value: Any) -> list[str]:
    """The texts to judge, one per result."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        raise bad_request(
            "Invalid 'input': expected a string, an array of strings or an array of content parts.",
            "input",
            "invalid_type",
        )
    if all(isinstance(item, str) for item in value):
        return list(value)
    texts = []
    for index, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url" and isinstance(part.get("image_url"), dict):
            check_image(part["image_url"].get("url"), f"input[{index}].image_url.url")
        else:
            raise bad_request(f"Invalid content part at 'input[{index}]'.", f"input[{index}]", "invalid_value")
    return [" ".join(texts)]


def classify(text: str) -> dict[str, bool]:
    lowered = text.lower()
    return {category: any(word in lowered for word in HAZARD_WORDS.get(category, ())) for category in HAZARD_CATEGORIES}


def moderate(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    model = body.get("model", MODERATION_MODEL)
    if model != MODERATION_MODEL:
        raise unknown_model(str(model))
    if "input" not in body:
        raise bad_request("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    results = []
    for text in _texts(body["input"]):
        categories = classify(text)
        results.append({"flagged": any(categories.values()), "categories": categories})
    return {"id": f"modr-{uuid.uuid4().hex[:24]}", "model": MODERATION_MODEL, "results": results}
