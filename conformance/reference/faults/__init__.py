"""The reference server's catalogue of faults: single, realistic misbehaviours it can be told to show.

Each fault is taken from something real servers did (the source names an issue thread or a server
observed here), says which feature rows must fail when it is on and a phrase the failure message
must contain, so a test can show that the suite catches it, names the problem, and blames nothing
else. Faults are switched on for a whole server (``ReferenceConfig(faults=...)``,
``serve-reference --fault``) or per request, under the path prefix ``/faults/<id>[,<id>...]``.

The catalogue is kept by area (``streams``, ``chat``, ``messages``, ``endpoints``, ``errors``, ``parameters``,
``responses``, ``reasoning``, ``embeddings``, ``completions``); what each fault does is in
``conformance.reference.fault_hooks`` (``message_faults`` for the shapes of messages, ``thinking_faults`` for the
reasoning ones, ``conformance.reference.parameters`` for the parameter sweep's, ``conformance.reference.embeddings``
and ``conformance.reference.completions`` for their own).
"""

from __future__ import annotations

from conformance.reference.faults import (
    chat,
    completions,
    embeddings,
    endpoints,
    errors,
    messages,
    parameters,
    reasoning,
    responses,
    streams,
)
from conformance.reference.faults.model import Fault

_CATALOGUE = (
    *streams.FAULTS,
    *chat.FAULTS,
    *messages.FAULTS,
    *endpoints.FAULTS,
    *errors.FAULTS,
    *parameters.FAULTS,
    *responses.FAULTS,
    *reasoning.FAULTS,
    *embeddings.FAULTS,
    *completions.FAULTS,
)

FAULTS: dict[str, Fault] = {fault.id: fault for fault in _CATALOGUE}


def unknown(ids: frozenset[str] | set[str]) -> list[str]:
    return sorted(set(ids) - set(FAULTS))


__all__ = ["FAULTS", "Fault", "unknown"]
