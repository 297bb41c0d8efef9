"""Endpoints a target may not serve at all: a row whose requests all go to one (the Responses API) names
a gate, the first probe of the endpoint. Until the gate is answered, nothing else of those rows is sent;
when it says the endpoint is not there (404, 405 or 501 about the route, not about a model), the rows are
unsupported and their other requests are never made, live or recorded."""

from __future__ import annotations

from conformance import jsonparse
from conformance.exchange import Exchange

# the rows behind each gate: every row whose id starts with the prefix
GATES = {"responses": "responses/basic", "embeddings": "embeddings/basic", "completions": "completions/basic"}


def gate_of(row: str) -> str | None:
    """The probe that says whether the target serves this row's endpoint, or None."""
    for prefix, gate in GATES.items():
        if row == prefix or row.startswith(f"{prefix}-"):
            return gate
    return None


def missing(exchange: Exchange) -> str | None:
    """Why the gate's answer says the endpoint is not served (an unknown route), or None."""
    response = exchange.response
    if response is None or response.status not in (404, 405, 501):
        return None
    text = response.body[:2000].decode("utf-8", errors="replace")
    try:
        body = jsonparse.loads(text)
        error = body.get("error", body) if isinstance(body, dict) else body
        message = error.get("message", error.get("detail")) if isinstance(error, dict) else error
        text = message if isinstance(message, str) else text
    except ValueError:
        pass
    if response.status == 404 and "model" in text.lower():
        return None  # an unknown model: the endpoint is there and answered
    return f"HTTP {response.status}: {' '.join(text.split())[:120]!r}"


__all__ = ["GATES", "gate_of", "missing"]
