"""How much of the catalogue a run exercised and judged: read from a report alone.

For each covered endpoint:

- *parameters*: how many of its top-level parameters the run sent, and how many it judged (a check
  whose claim is about the parameter reached a verdict: pass, fail or documented deviation), with
  every parameter not judged and why (unsupported, skipped or blocked in this run; sent but no check
  judges its effect; no probe sends it);
- *fields*: how many members of its answers and events the run saw, and how many it judged (seen in
  an answer that a check validating the whole object judged);
- *undocumented*: paths of answers that no member of the document describes (a server's extensions).

Only evidence in the report counts, so an old report, a replay and a live run are measured alike.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance import jsonparse
from conformance.surface import judged
from conformance.surface.catalogue import Place, endpoint_of, load, locate
from conformance.surface.derive import top

VERDICTS = frozenset({"pass", "fail", "deviation"})
# checks that judge every field of the objects they read: the dialect's JSON Schema and both SDKs' types
OBJECT_CHECKS: frozenset[str] = frozenset(
    {
        "models.list_is_schema_valid",
        "models.retrieve_is_schema_valid",
        "chat-completions.response_is_schema_valid",
        "streaming.chunks_are_schema_valid",
        "moderation.response_is_schema_valid",
        "embeddings.response_is_schema_valid",
        "completions.response_is_schema_valid",
        "completions.streams_are_framed_and_valid",
        "responses.response_is_schema_valid",
        "responses-streaming.events_are_typed_json",
    }
)
_UNDOCUMENTED_SHOWN = 20
_ANSWER_SIDES = ("response", "stream")


def _route(url: str) -> tuple[str, dict[str, list[str]]]:
    """The path of a request after its base URL, and its query."""
    parts = urlsplit(url.split("<BASE_URL>", 1)[-1])
    return parts.path, parse_qs(parts.query)


def _endpoint(method: str, path: str) -> str | None:
    segments = path.split("/")
    for start in range(len(segments)):  # the base URL's own path, when it was not replaced
        if found := endpoint_of(method, "/" + "/".join(s for s in segments[start:] if s)):
            return found
    return None


def _answers(response: dict[str, Any]) -> tuple[str, list[Any]]:
    """The side and the JSON values of a successful answer: one object, or each event of a stream."""
    if response.get("body_encoding") != "text" or not isinstance(response.get("body"), str):
        return "response", []
    text = response["body"]
    media = next((v for k, v in response.get("headers", ()) if k.lower() == "content-type"), "") or ""
    if "event-stream" in media:
        values = []
        for line in text.splitlines():
            if line.startswith("data:") and (data := line[5:].strip()) and data != "[DONE]":
                try:
                    value = jsonparse.loads(data)
                except ValueError:
                    continue
                if not (isinstance(value, dict) and set(value) == {"error"}):  # an error event is no chunk
                    values.append(value)
        return "stream", values
    try:
        return "response", [jsonparse.loads(text)]
    except ValueError:
        return "response", []


class _Seen:
    def __init__(self) -> None:
        self.sent: dict[str, set[str]] = defaultdict(set)  # endpoint -> top-level parameters
        self.by_exchange: dict[str, tuple[str, set[str]]] = {}  # exchange -> endpoint, its parameters
        self.fields: dict[str, set[Place]] = defaultdict(set)
        self.fields_of: dict[str, set[Place]] = {}
        self.undocumented: dict[str, set[str]] = defaultdict(set)

    def read(self, exchange_id: str, evidence: dict[str, Any]) -> None:
        request = evidence.get("request") or {}
        path, query = _route(str(request.get("url", "")))
        endpoint = _endpoint(str(request.get("method", "")), path)
        if endpoint is None:
            return
        catalogue = load()
        params = {name for name in query if name in catalogue.members.get((endpoint, "query"), {})}
        params |= set(catalogue.members.get((endpoint, "path"), {}))
        if request.get("body_encoding") == "json" and isinstance(request.get("body"), dict):
            places, _ = locate(endpoint, "request", request["body"])
            params |= {top(p) for e, side, p in places if side == "request"}
        self.sent[endpoint] |= params
        self.by_exchange[exchange_id] = (endpoint, params)
        response = evidence.get("response") or {}
        if response.get("status") != 200:
            return
        side, values = _answers(response)
        fields: set[Place] = set()
        for value in values:
            places, unknown = locate(endpoint, side, value)
            fields |= places
            self.undocumented[endpoint] |= {f"{where}:{path}" for _, where, path in unknown}
        self.fields[endpoint] |= fields
        self.fields_of[exchange_id] = fields


def _field_members(endpoint: str) -> set[Place]:
    """The members of an endpoint's answers and events, followed where a side is written elsewhere."""
    catalogue = load()
    places: set[Place] = set()
    for side in _ANSWER_SIDES:
        members = catalogue.members.get((endpoint, side), {})
        root = members.get("", {}).get("same_as")
        if root:
            where, _, _ = root.partition(":")
            their_endpoint, their_side = where.rsplit(" ", 1)
            members = catalogue.members.get((their_endpoint, their_side), {})
            endpoint_side = (their_endpoint, their_side)
        else:
            endpoint_side = (endpoint, side)
        places |= {(*endpoint_side, path) for path, member in members.items() if path and "same_as" not in member}
    return places


def coverage(report: dict[str, Any]) -> dict[str, Any]:
    catalogue = load()
    seen = _Seen()
    for exchange_id, evidence in (report.get("exchanges") or {}).items():
        if isinstance(evidence, dict):
            seen.read(exchange_id, evidence)
    results = {result["id"]: result for result in report.get("checks", ()) if isinstance(result, dict)}
    judged_params: dict[str, set[str]] = defaultdict(set)
    judged_fields: dict[str, set[Place]] = defaultdict(set)
    for result in results.values():
        if result.get("status") not in VERDICTS:
            continue
        for exchange_id in result.get("evidence", ()):
            if result["id"] in judged.PER_PARAMETER and exchange_id in seen.by_exchange:
                endpoint, params = seen.by_exchange[exchange_id]
                judged_params[endpoint] |= params
            if result["id"] in OBJECT_CHECKS and exchange_id in seen.fields_of:
                endpoint, _ = seen.by_exchange[exchange_id]
                judged_fields[endpoint] |= seen.fields_of[exchange_id]
    endpoints: dict[str, Any] = {}
    for endpoint in catalogue.endpoints:
        parameters = catalogue.parameters(endpoint)
        for name in parameters:
            if any(results.get(check, {}).get("status") in VERDICTS for check in judged.checks_of(endpoint, name)):
                judged_params[endpoint].add(name)
        unjudged = [
            {"parameter": name, "why": _why(endpoint, name, results, seen.sent[endpoint])}
            for name in parameters
            if name not in judged_params[endpoint]
        ]
        members = _field_members(endpoint)
        fields_seen = seen.fields[endpoint] & members
        undocumented = sorted(seen.undocumented[endpoint])
        endpoints[endpoint] = {
            "parameters": {
                "total": len(parameters),
                "sent": len(seen.sent[endpoint] & set(parameters)),
                "judged": len(judged_params[endpoint] & set(parameters)),
                "not_judged": unjudged,
            },
            "fields": {
                "total": len(members),
                "seen": len(fields_seen),
                "judged": len(judged_fields[endpoint] & fields_seen),
            },
            "undocumented_fields": undocumented[:_UNDOCUMENTED_SHOWN],
            "undocumented_count": len(undocumented),
        }
    spec = catalogue.spec
    return {
        "spec": {key: spec[key] for key in ("repository", "commit", "version")},
        "clients": {key: catalogue.clients.get(key) for key in ("python", "node")},
        "endpoints": endpoints,
    }


def _why(endpoint: str, name: str, results: dict[str, dict[str, Any]], sent: set[str]) -> str:
    checks = [results[check] for check in judged.checks_of(endpoint, name) if check in results]
    row = judged.SWEEP_ROWS.get(endpoint)
    if not checks and row and name in sent:  # sent by the sweep, whose checks reached no verdict
        checks = [result for check_id, result in results.items() if check_id.startswith(f"{row}.")]
    if checks:
        first = checks[0]
        statuses = sorted({str(result.get("status")) for result in checks})
        return f"{'/'.join(statuses)} in this run ({first['id']}: {str(first.get('message', ''))[:160]})"
    if judged.checks_of(endpoint, name):
        return "its checks were not run"
    reason = judged.why_unjudged(endpoint, name) or "no check judges it"
    return f"sent, but no check judges it ({reason})" if name in sent else f"not sent ({reason})"


def share(counts: dict[str, Any], of: str) -> str:
    """``12/40 (30 %)``: how many of a total."""
    total = counts["total"]
    return f"{counts[of]}/{total} ({round(100 * counts[of] / total)} %)" if total else "none"
