"""The feature rows: the rows of the Llama API compatibility table, the error paths, the Responses
API (Open Responses), and the connections (transport faults are findings of their own, never charged
to the check that met them).

Row ids are used everywhere (check ids, reports, baselines, target profiles), so they never change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    summary: str


ROWS: tuple[Row, ...] = (
    Row("models", "Models", "GET /models and GET /models/{model}: shape, retrieve consistency"),
    Row("chat-completions", "Chat completions", "POST /chat/completions without streaming: shape, roles, turns"),
    Row("model-selection", "Model selection", "every listed model answers as itself; unknown models are refused"),
    Row("sampling", "Temperature and sampling", "temperature, top_p, max_tokens, stop, seed honoured or refused"),
    Row("streaming", "Streaming", "server-sent events, chunk invariants, include_usage, [DONE]"),
    Row("image-understanding", "Image understanding", "image_url parts: data URLs, http URLs, limits"),
    Row("structured-output", "Structured output (JSON mode)", "response_format json_object and json_schema"),
    Row("tools", "Function calling (tools)", "tools, tool_choice, tool_calls and the round trip"),
    Row(
        "reasoning",
        "Reasoning models",
        "thinking apart from the answer, streamed, counted, under the cap; reasoning_effort; thinking sent back",
    ),
    Row("moderation", "Moderation", "POST /moderations and the dialect's categories"),
    Row(
        "embeddings",
        "Embeddings",
        "POST /embeddings: one vector per input in order, every input form, base64 and float alike, dimensions, "
        "refusals",
    ),
    Row(
        "completions",
        "Legacy completions",
        "POST /completions: text_completion answers and streams, every prompt form, n, max_tokens, stop, echo, "
        "logprobs, best_of, refusals",
    ),
    Row(
        "parameters",
        "Every documented parameter",
        "each chat parameter no other row judges, at valid and invalid values: accepted, or refused with 400 naming it",
    ),
    Row("errors-400", "Errors: bad requests (400)", "invalid requests are refused with 400 and the envelope"),
    Row("errors-auth", "Errors: authentication (401/403)", "missing or wrong keys are refused"),
    Row("errors-not-found", "Errors: not found (404)", "unknown models and routes give 404 and the envelope"),
    Row("errors-rate-limit", "Errors: rate limits (429)", "429 with the envelope and Retry-After"),
    Row("responses", "Responses API", "POST /responses: the response object, status, usage, settings echoed, limits"),
    Row("responses-streaming", "Responses: streaming", "typed events in order, sequence numbers, deltas join"),
    Row(
        "responses-tools", "Responses: function tools", "function_call items, tool_choice, call outputs, streamed args"
    ),
    Row("responses-structured-output", "Responses: structured output", "text.format json_schema and json_object"),
    Row("responses-multimodal", "Responses: image input", "input_image parts by data URL, bad images refused"),
    Row("responses-state", "Responses: conversation state", "input items, previous_response_id, GET /responses/{id}"),
    Row(
        "responses-reasoning",
        "Responses: reasoning",
        "reasoning items and their events, reasoning.effort, reasoning tokens, items passed back",
    ),
    Row(
        "responses-parameters",
        "Responses: every documented parameter",
        "each /responses parameter no other row judges, at valid and invalid values: accepted and echoed, or refused",
    ),
    Row("responses-errors", "Responses: errors", "400 with param, 401, unknown models, in the error envelope"),
    Row("transport", "Connections", "connections are not dropped or refused; the suite retries them as the SDKs do"),
)

ROW_IDS: tuple[str, ...] = tuple(row.id for row in ROWS)
ROWS_BY_ID: dict[str, Row] = {row.id: row for row in ROWS}
