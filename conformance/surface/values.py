"""The values the parameter sweep sends: for each parameter, realistic valid values and one invalid value.

Valid values are what real clients and frameworks send (a penalty of 0.5, ``user`` as an id, ``store``
false, a predicted output of the answer's own kind), and the edges the document allows (a penalty of -2
and 2, every value of a short enum). Each is sent as the only change to a baseline request, with the
companion a parameter needs where the document requires one (``function_call`` with ``functions``).
Parameters that are only valid with something the sweep cannot have (an audio model, a stored prompt or
conversation, a search model, a stream) get no valid value. The invalid value breaks what the catalogue
says of the parameter: its bound first, else its allowed values, else its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.surface.catalogue import load

_FUNCTION = {
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
# the realistic value first; values that need a companion say so as a body of their own
REALISTIC: dict[str, list[Any]] = {
    "frequency_penalty": [0.5],
    "presence_penalty": [0.6],
    # a bias of +100 makes one token the whole answer, and which token an id is depends on the tokenizer
    # (often a special one): only the other edge, which bans a token, is sent
    "logit_bias": [{"1": -100}, {"2": -100}],
    "metadata": [{"app": "conformance-suite", "run": "1"}],
    "modalities": [["text"]],
    "prediction": [{"type": "content", "content": "Hello! How can I help you today?"}],
    "prompt_cache_key": ["conformance-suite-v1"],
    "prompt_cache_options": [{"mode": "implicit"}],
    "safety_identifier": ["5f2b9c1d7e", "x" * 64],
    "service_tier": ["auto", "default"],
    "store": [False, True],
    "user": ["user-1234"],
    "functions": [[_FUNCTION]],
    "background": [False],
    "max_tool_calls": [1, 10],
    "top_logprobs": [2, 0, 20],
}
# the parameters whose valid values need another parameter beside them
COMPANIONS: dict[str, dict[str, Any]] = {"function_call": {"functions": [_FUNCTION]}}
# valid only with what the sweep cannot have: no valid value is sent, only the invalid one
NEEDS_MORE: dict[str, str] = {
    "audio": "an audio model",
    "web_search_options": "a search model",
    "moderation": "OpenAI's moderation of the answer",
    "prompt": "a stored prompt",
    "conversation": "a stored conversation",
    "context_management": "server-side compaction",
    "stream_options": "a stream",
}
_INVALID: dict[str, Any] = {
    "logit_bias": {"1": "high"},
    "metadata": {"app": 1},
    "modalities": ["smell"],
    "prediction": {"type": "guess", "content": "x"},
    "functions": "get_weather",
    "max_tool_calls": "many",
    "audio": {"voice": "alloy", "format": "tape"},
    "web_search_options": {"search_context_size": "huge"},
    "moderation": "strict",
    "prompt": "stored-prompt",
    "conversation": 12345,
    "context_management": "compact",
    "stream_options": {"include_obfuscation": "no"},
    "prompt_cache_options": {"mode": "forever"},
}


@dataclass(frozen=True)
class Probe:
    """One request of the sweep: the baseline plus ``body`` (the parameter, and its companion if any)."""

    parameter: str
    label: str  # how the report names the value: "0.5", "the maximum 2", "above the maximum 3"
    body: dict[str, Any]
    valid: bool


def probes(endpoint: str, parameter: str) -> list[Probe]:
    member = load().members[endpoint, "request"][parameter]
    companion = COMPANIONS.get(parameter, {})
    found = [Probe(parameter, _label(v), {**companion, parameter: v}, True) for v in _valid(parameter, member)]
    label, value = _invalid(parameter, member)
    found.append(Probe(parameter, label, {**companion, parameter: value}, False))
    return found


def _valid(parameter: str, member: dict[str, Any]) -> list[Any]:
    if parameter in NEEDS_MORE:
        return []
    values = list(REALISTIC.get(parameter, ()))
    bounds, enum = member.get("bounds", {}), member.get("enum")
    if "number" in member["types"] or "integer" in member["types"]:
        values += [bounds[edge] for edge in ("minimum", "maximum") if edge in bounds]
    if enum and len(enum) <= 3 and (member["types"] == ["string"] or parameter in COMPANIONS):
        values += list(enum)  # a short enum is sent whole; a long one (service tiers) by its realistic values
    if member["types"] == ["boolean"] and not values:
        values = [False, True]
    unique: dict[str, Any] = {}
    for value in values:
        unique.setdefault(repr(value), value)
    return list(unique.values())


def _invalid(parameter: str, member: dict[str, Any]) -> tuple[str, Any]:
    bounds, enum, types = member.get("bounds", {}), member.get("enum"), member["types"]
    if parameter in _INVALID:
        return f"invalid {_label(_INVALID[parameter])}", _INVALID[parameter]
    if "maximum" in bounds:
        above = bounds["maximum"] + 1
        return f"above the maximum: {above}", above
    if "maxLength" in bounds:
        return f"longer than {bounds['maxLength']} characters", "x" * (bounds["maxLength"] + 1)
    if enum and "string" in types:
        return "not an allowed value: 'sometimes'", "sometimes"
    if types == ["boolean"]:
        return "a string for a boolean: 'yes'", "yes"
    if types == ["string"]:
        return "a number for a string: 12345", 12345
    return "a string for a structure: 'x'", "x"


def _label(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
