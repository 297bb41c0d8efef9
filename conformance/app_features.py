"""What an application uses, read from its own requests: streaming, tools and their choice modes,
response formats, images, sampling parameters, endpoints. Each feature names the row of the feature
table (and the checks of a conformance run) that say whether a candidate supports it, so a migration
report can put the app's usage beside a candidate's conformance report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Body = dict[str, Any]


def _chat(method: str, path: str) -> bool:
    return method == "POST" and path.split("?", 1)[0] == "/chat/completions"


def _messages(body: Body) -> list[Any]:
    messages = body.get("messages")
    return messages if isinstance(messages, list) else []


def _tool_choice(body: Body) -> Any:
    return body.get("tool_choice", "auto" if body.get("tools") else None)


def _format(body: Body) -> dict[str, Any]:
    value = body.get("response_format")
    return value if isinstance(value, dict) else {}


def _has_image(body: Body) -> bool:
    for message in _messages(body):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(part, dict) and part.get("type") == "image_url" for part in content
        ):
            return True
    return False


def _strict(body: Body) -> bool:
    schema = _format(body).get("json_schema")
    return isinstance(schema, dict) and schema.get("strict") is True


@dataclass(frozen=True)
class Feature:
    id: str
    title: str
    # the feature row that covers it (None: no row of the table does)
    row: str | None
    # the checks of a conformance run that judge it, if any besides the row as a whole
    checks: tuple[str, ...]
    uses: Callable[[str, str, Body], bool]


def _chat_feature(
    feature_id: str, title: str, row: str, checks: tuple[str, ...], uses: Callable[[Body], bool]
) -> Feature:
    return Feature(feature_id, title, row, checks, lambda m, p, b: _chat(m, p) and uses(b))


FEATURES: tuple[Feature, ...] = (
    _chat_feature("chat", "chat completions", "chat-completions", (), lambda b: True),
    _chat_feature("streaming", "streaming (stream: true)", "streaming", (), lambda b: b.get("stream") is True),
    _chat_feature(
        "include_usage",
        "usage in streams (stream_options.include_usage)",
        "streaming",
        ("streaming.usage_chunk_when_asked",),
        lambda b: isinstance(b.get("stream_options"), dict) and b["stream_options"].get("include_usage") is True,
    ),
    _chat_feature("tools", "tools (function calling)", "tools", (), lambda b: bool(b.get("tools"))),
    _chat_feature(
        "tool_choice_auto",
        'tool_choice "auto" (or none given)',
        "tools",
        ("tools.auto_choice_calls_are_valid", "tools.auto_choice_calls_a_tool"),
        lambda b: bool(b.get("tools")) and _tool_choice(b) == "auto",
    ),
    _chat_feature(
        "tool_choice_required",
        'tool_choice "required"',
        "tools",
        ("tools.required_choice_gives_valid_calls",),
        lambda b: bool(b.get("tools")) and _tool_choice(b) == "required",
    ),
    _chat_feature(
        "tool_choice_none",
        'tool_choice "none"',
        "tools",
        ("tools.none_choice_calls_no_tool",),
        lambda b: bool(b.get("tools")) and _tool_choice(b) == "none",
    ),
    _chat_feature(
        "tool_choice_named",
        "tool_choice naming a function",
        "tools",
        ("tools.named_choice_calls_that_tool",),
        lambda b: bool(b.get("tools")) and isinstance(_tool_choice(b), dict),
    ),
    _chat_feature(
        "parallel_tool_calls",
        "parallel_tool_calls",
        "tools",
        ("tools.parallel_calls_have_distinct_ids",),
        lambda b: "parallel_tool_calls" in b,
    ),
    _chat_feature(
        "tool_results",
        "tool results sent back (role tool)",
        "tools",
        ("tools.tool_results_round_trip",),
        lambda b: any(isinstance(m, dict) and m.get("role") == "tool" for m in _messages(b)),
    ),
    _chat_feature(
        "streamed_tools",
        "tools in a stream",
        "tools",
        ("tools.streamed_calls_reassemble",),
        lambda b: bool(b.get("tools")) and b.get("stream") is True,
    ),
    _chat_feature(
        "json_object",
        'response_format "json_object"',
        "structured-output",
        ("structured-output.json_object_gives_json",),
        lambda b: _format(b).get("type") == "json_object",
    ),
    _chat_feature(
        "json_schema_strict",
        'response_format "json_schema", strict',
        "structured-output",
        ("structured-output.strict_json_schema_is_followed", "structured-output.sdk_parse_returns_the_model"),
        lambda b: _format(b).get("type") == "json_schema" and _strict(b),
    ),
    _chat_feature(
        "json_schema_loose",
        'response_format "json_schema", not strict',
        "structured-output",
        ("structured-output.loose_json_schema_is_followed",),
        lambda b: _format(b).get("type") == "json_schema" and not _strict(b),
    ),
    _chat_feature("images", "images in messages", "image-understanding", (), _has_image),
    _chat_feature(
        "reasoning_effort",
        "reasoning_effort",
        "reasoning",
        (
            "reasoning.effort_values_are_accepted_or_refused",
            "reasoning.lower_effort_thinks_less",
            "reasoning.effort_none_does_not_think",
        ),
        lambda b: "reasoning_effort" in b,
    ),
    _chat_feature(
        "reasoning_sent_back",
        "assistant messages sent back with their thinking",
        "reasoning",
        ("reasoning.thinking_sent_back_is_accepted", "reasoning.thinking_in_a_tool_loop_is_accepted"),
        lambda b: any(
            isinstance(m, dict) and m.get("role") == "assistant" and ("reasoning_content" in m or "reasoning" in m)
            for m in _messages(b)
        ),
    ),
    _chat_feature(
        "n", "n above 1", "chat-completions", ("chat-completions.n_is_honoured",), lambda b: (b.get("n") or 1) != 1
    ),
    _chat_feature("stop", "stop sequences", "sampling", ("sampling.stop_is_honoured",), lambda b: bool(b.get("stop"))),
    _chat_feature(
        "logprobs",
        "logprobs",
        "sampling",
        ("sampling.logprobs_are_returned_when_asked",),
        lambda b: b.get("logprobs") is True,
    ),
    _chat_feature("seed", "seed", "sampling", ("sampling.seed_is_accepted",), lambda b: "seed" in b),
    _chat_feature(
        "temperature", "temperature", "sampling", ("sampling.temperature_is_accepted",), lambda b: "temperature" in b
    ),
    _chat_feature("top_p", "top_p", "sampling", ("sampling.top_p_is_accepted",), lambda b: "top_p" in b),
    _chat_feature(
        "max_tokens", "max_tokens", "sampling", ("sampling.max_tokens_is_honoured",), lambda b: "max_tokens" in b
    ),
    _chat_feature(
        "max_completion_tokens",
        "max_completion_tokens",
        "sampling",
        ("sampling.max_completion_tokens_is_honoured",),
        lambda b: "max_completion_tokens" in b,
    ),
    Feature("models_list", "GET /models", "models", (), lambda m, p, b: m == "GET" and p.rstrip("/") == "/models"),
    Feature(
        "models_retrieve",
        "GET /models/{model}",
        "models",
        ("models.retrieve_is_schema_valid",),
        lambda m, p, b: m == "GET" and p.startswith("/models/"),
    ),
    Feature("moderation", "POST /moderations", "moderation", (), lambda m, p, b: m == "POST" and p == "/moderations"),
    Feature(
        "embeddings",
        "POST /embeddings",
        "embeddings",
        ("embeddings.strings_are_embedded_one_per_input", "embeddings.token_ids_are_embedded"),
        lambda m, p, b: m == "POST" and p == "/embeddings",
    ),
    Feature(
        "embeddings_base64",
        "embeddings as base64 (what both SDKs ask for by default)",
        "embeddings",
        ("embeddings.base64_is_the_float_vector",),
        lambda m, p, b: m == "POST" and p == "/embeddings" and b.get("encoding_format") == "base64",
    ),
    Feature(
        "embeddings_dimensions",
        "dimensions on embeddings",
        "embeddings",
        ("embeddings.dimensions_are_honoured_or_refused",),
        lambda m, p, b: m == "POST" and p == "/embeddings" and "dimensions" in b,
    ),
    Feature(
        "completions",
        "POST /completions (legacy text completions)",
        "completions",
        ("completions.every_prompt_gets_n_choices",),
        lambda m, p, b: m == "POST" and p == "/completions",
    ),
    Feature(
        "completions_scored",
        "echo and logprobs on /completions (how evaluation harnesses score)",
        "completions",
        ("completions.echo_prepends_the_prompt", "completions.logprobs_describe_the_text"),
        lambda m, p, b: m == "POST" and p == "/completions" and (b.get("echo") is True or "logprobs" in b),
    ),
)
FEATURE_IDS = tuple(feature.id for feature in FEATURES)
_KNOWN = ("/chat/completions", "/models", "/moderations", "/embeddings", "/completions")


def features_of(method: str, path: str, body: Any) -> list[str]:
    """The features one request uses (ids of ``FEATURES``, and "other-endpoint" for a path no row covers)."""
    data = body if isinstance(body, dict) else {}
    path = path.split("?", 1)[0]
    found = [feature.id for feature in FEATURES if feature.uses(method, path, data)]
    if not any(path == known or path.startswith(known + "/") for known in _KNOWN):
        found.append("other-endpoint")
    return found


def summary(requests: list[tuple[str, list[str]]], conformance: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The features the app uses, with the requests that use each; beside a candidate's conformance
    report (``conformance``), the status of each feature's row and checks there."""
    rows = {row["id"]: row for row in (conformance or {}).get("rows", [])}
    checks = {check["id"]: check for check in (conformance or {}).get("checks", [])}
    by_feature: dict[str, list[str]] = {}
    for request_id, used in requests:
        for feature_id in used:
            by_feature.setdefault(feature_id, []).append(request_id)
    out: list[dict[str, Any]] = []
    for feature in FEATURES:
        if feature.id not in by_feature:
            continue
        entry: dict[str, Any] = {
            "id": feature.id,
            "title": feature.title,
            "row": feature.row,
            "requests": by_feature[feature.id],
        }
        if conformance is not None:
            row = rows.get(feature.row or "")
            entry["conformance"] = {
                "row_status": row["status"] if row else "untested",
                "checks": [
                    {"id": check_id, "status": checks[check_id]["status"], "message": checks[check_id]["message"]}
                    for check_id in feature.checks
                    if check_id in checks
                ],
            }
            entry["conformance"]["supported"] = _supported(entry["conformance"])
        out.append(entry)
    if "other-endpoint" in by_feature:
        entry = {"id": "other-endpoint", "title": "endpoints no row covers", "row": None}
        entry["requests"] = by_feature["other-endpoint"]
        if conformance is not None:
            entry["conformance"] = {"row_status": "untested", "checks": [], "supported": "unknown"}
        out.append(entry)
    return out


def _supported(found: dict[str, Any]) -> str:
    """yes, no, partly, documented deviation or unknown: the row's status, narrowed by the feature's own checks."""
    statuses = {check["status"] for check in found["checks"]}
    if statuses & {"fail", "error"}:
        return "no"
    if "unsupported" in statuses:
        return "no"
    if "deviation" in statuses:
        return "documented deviation"
    if found["checks"] and statuses <= {"pass"}:
        return "yes"
    return {"supported": "yes", "partial": "partly", "unsupported": "no"}.get(found["row_status"], "unknown")
