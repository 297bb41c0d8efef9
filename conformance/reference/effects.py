"""What the reference model does with the chat parameters whose effect is the model's choice of words.

A positive ``frequency_penalty`` or ``presence_penalty`` keeps the model from saying a word again: the answer
keeps only the first of each word. A ``logit_bias`` of 20 or more on a token makes that token the whole answer
(OpenAI: values like 100 "should result in ... exclusive selection of the relevant token"); the reference's
token for an id is one of its sampling words, the id's remainder picking it. ``verbosity`` "low" keeps the first
half of the answer and "high" says it twice, so that lower values are more concise, as the document has it.
Negative values and small biases change nothing the suite could see. Only the OpenAI flavour reads them (the
Llama API ignores what it does not support).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conformance.reference.noise import WORDS

# a bias this large puts one token above every other the model could choose
SELECTING_BIAS = 20
# how many times a selected token is said before the cap cuts it
_SELECTED = 64
_TOKEN = re.compile(r"\s*\S+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Effects:
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    logit_bias: dict[str, float] = field(default_factory=dict)
    verbosity: str = "medium"


def effects_of(body: dict[str, Any]) -> Effects:
    """The effects a (validated) request asks for; values of the wrong type are taken as not sent."""

    def number(name: str) -> float:
        value = body.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    bias = body.get("logit_bias")
    biases = {
        str(token): float(value)
        for token, value in (bias.items() if isinstance(bias, dict) else ())
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    verbosity = body.get("verbosity")
    return Effects(
        frequency_penalty=number("frequency_penalty"),
        presence_penalty=number("presence_penalty"),
        logit_bias=biases,
        verbosity=verbosity if verbosity in ("low", "medium", "high") else "medium",
    )


def apply(effects: Effects, text: str) -> str:
    """The answer's text as these effects change it (before stop sequences and the token cap)."""
    selected = [token for token, bias in effects.logit_bias.items() if bias >= SELECTING_BIAS and token.isdigit()]
    if selected:
        word = WORDS[int(selected[0]) % len(WORDS)]
        return " ".join([word] * _SELECTED)
    if effects.frequency_penalty > 0 or effects.presence_penalty > 0:
        text = _unrepeated(text)
    pieces = _TOKEN.findall(text)
    if effects.verbosity == "low" and len(pieces) > 3:
        return "".join(pieces[: max(3, len(pieces) // 2)])
    if effects.verbosity == "high":
        return f"{text} In more words: {text}"
    return text


def _unrepeated(text: str) -> str:
    """The text with every word said before dropped (its first saying kept)."""
    said: set[str] = set()
    kept = []
    for piece in _TOKEN.findall(text):
        words = _WORD.findall(piece.lower())
        if words and all(word in said for word in words):
            continue
        said.update(words)
        kept.append(piece)
    return "".join(kept)


__all__ = ["SELECTING_BIAS", "Effects", "apply", "effects_of"]
