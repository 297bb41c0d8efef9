"""Row ``errors-400``: invalid requests are refused with 400 and the error envelope.

Each kind of invalid request gets its own check of the status (so the SDK raises
BadRequestError); the envelope, the ``param`` naming the offending field, the same errors with
``stream: true``, bodies broken by hypothesis, and the target's health afterwards are judged across
all of them. Unknown and unsupported parameters are in ``errors_400_parameters``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from conformance import client_differences
from conformance.checks._every import applicable, every, judge_each, kind_of, maybe_exchange
from conformance.checks._expect import (
    expect_chat_completion,
    expect_error_envelope,
    expect_refusal,
    response_of,
    shown,
)
from conformance.checks._requests import chat_request
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.generation import first_distinct, placeholders
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

HELLO = [{"role": "user", "content": "Say hi."}]
GENERATED = 8


def base_body(target: Target) -> dict[str, Any] | None:
    request = chat_request(target, "errors-400/base", "", HELLO)
    return None if request is None else dict(request.json)


@dataclass(frozen=True)
class Invalid:
    kind: str
    # the name of the check that judges its status
    check: str
    purpose: str
    # the parameter OpenAI names in error.param, or None where it names none
    param: str | None
    streamable: bool = True


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _mutate(kind: str, body: dict[str, Any], target: Target) -> dict[str, Any]:
    tokens = target.max_tokens_param
    return {
        "missing-model": lambda: _without(body, "model"),
        "missing-messages": lambda: _without(body, "messages"),
        "empty-messages": lambda: {**body, "messages": []},
        "invalid-role": lambda: {**body, "messages": [{"role": "wizard", "content": "Say hi."}]},
        "messages-as-string": lambda: {**body, "messages": "Say hi."},
        "temperature-as-string": lambda: {**body, "temperature": "hot"},
        "negative-max-tokens": lambda: {**body, tokens: -1},
        "stream-options-without-stream": lambda: {**body, "stream_options": {"include_usage": True}},
        "tool-choice-names-no-tool": lambda: {
            **body,
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_stock_price"}},
        },
    }[kind]()


INVALID = (
    Invalid("malformed-json", "malformed_json_is_refused", "a body that is not JSON", None, streamable=False),
    Invalid("missing-model", "missing_model_is_refused", "no model", None),
    Invalid("missing-messages", "missing_messages_are_refused", "no messages", "messages"),
    Invalid("empty-messages", "empty_messages_are_refused", "an empty messages array", "messages"),
    Invalid("invalid-role", "invalid_role_is_refused", "a message with the role 'wizard'", "messages[0].role"),
    Invalid("messages-as-string", "messages_as_a_string_are_refused", "messages given as a string", "messages"),
    Invalid(
        "temperature-as-string",
        "temperature_as_a_string_is_refused",
        "temperature given as the string 'hot'",
        "temperature",
    ),
    Invalid("negative-max-tokens", "negative_token_limit_is_refused", "a negative token limit", "max_tokens"),
    Invalid(
        "stream-options-without-stream",
        "stream_options_without_stream_are_refused",
        "stream_options without stream",
        "stream_options",
        streamable=False,
    ),
    Invalid(
        "tool-choice-names-no-tool",
        "tool_choice_naming_no_tool_is_refused",
        "a named tool_choice that names no offered tool",
        "tool_choice",
    ),
)
# refusals other rows ask for, whose envelope and param this row judges too
BORROWED = {
    "sampling/temperature-too-high": "temperature",
    "sampling/top-p-too-high": "top_p",
    "structured-output/invalid-schema": "response_format",
    "image-understanding/corrupt-base64": None,
    "reasoning/effort-invalid": "reasoning_effort",
}


def invalid_request(target: Target, invalid: Invalid, *, stream: bool = False) -> Request | None:
    body = base_body(target)
    if body is None:
        return None
    prefix = "errors-400/streamed/" if stream else "errors-400/"
    purpose = invalid.purpose + (", with stream: true" if stream else "")
    if invalid.kind == "malformed-json":
        raw = json.dumps(body)[:-12].encode()
        return Request(f"{prefix}{invalid.kind}", "POST", "/chat/completions", purpose, body=raw)
    mutated = _mutate(invalid.kind, body, target)
    if stream:
        mutated = {**mutated, "stream": True}
    return Request(f"{prefix}{invalid.kind}", "POST", "/chat/completions", purpose, json=mutated)


def _register(invalid: Invalid) -> None:
    probe(f"errors-400/{invalid.kind}", refusal=True)(lambda target: invalid_request(target, invalid))
    if invalid.streamable:
        probe(f"errors-400/streamed/{invalid.kind}", refusal=True)(
            lambda target: invalid_request(target, invalid, stream=True)
        )


for _invalid in INVALID:
    _register(_invalid)

OWN = tuple(f"errors-400/{invalid.kind}" for invalid in INVALID)
STREAMED = tuple(f"errors-400/streamed/{invalid.kind}" for invalid in INVALID if invalid.streamable)


def _param_of(invalid: Invalid, target: Target) -> str | None:
    return target.max_tokens_param if invalid.kind == "negative-max-tokens" else invalid.param


def _refused(ctx: CheckContext, kind: str) -> str | None:
    invalid = next(item for item in INVALID if item.kind == kind)
    exchange = ctx.exchange(f"errors-400/{kind}")
    expect_refusal(exchange, ctx.dialect.status_for("invalid_request"), invalid.purpose)
    return None


def _status_check(invalid: Invalid) -> None:
    def refused(ctx: CheckContext) -> str | None:
        return _refused(ctx, invalid.kind)

    refused.__name__ = invalid.check
    refused.__doc__ = f"A request with {invalid.purpose} is refused with 400 (the SDK raises BadRequestError)."
    check("errors-400", Level.MUST, source="openai-errors", needs=(f"errors-400/{invalid.kind}",))(refused)


for _invalid in INVALID:
    _status_check(_invalid)


@check("errors-400", Level.MUST, source="openai-errors", needs=OWN + tuple(BORROWED), runs_last=True)
def refusals_use_the_error_envelope(ctx: CheckContext) -> str | None:
    """Every error answer of the run (4xx and 5xx: invalid requests, keys, unknown models and paths, limits) is
    application/json in the envelope {"error": {message, type, param, code}} with string message and type and
    string-or-null param and code, where the SDK finds the message."""

    def judge(exchange: Exchange) -> None:
        expect_error_envelope(ctx, exchange, "the check of its status")

    return judge_each(every(ctx, "error"), judge, noun="error answers", empty="the run got no error answer")


@check("errors-400", Level.SHOULD, source="openai-errors", needs=OWN + tuple(BORROWED))
def param_names_the_offending_field(ctx: CheckContext) -> str | None:
    """Where OpenAI names the offending parameter in error.param, the target names the same one."""
    expected: dict[str, str | None] = {f"errors-400/{i.kind}": _param_of(i, ctx.target) for i in INVALID}
    expected.update(BORROWED)
    wrong, judged = [], 0
    for exchange in applicable(ctx, tuple(expected)):
        want = expected[exchange.id]
        body = exchange.json_body
        error = body.value.get("error") if body.ok and isinstance(body.value, dict) else None
        # a 5xx is no refusal of a parameter: the check of its status reports it
        if want is None or not isinstance(error, dict) or exchange.status is None or not 400 <= exchange.status < 500:
            continue
        judged += 1
        if error.get("param") != want:
            wrong.append(f"{exchange.id}: param {error.get('param')!r}, OpenAI names {want!r}")
    if not judged:
        raise NotApplicable("no refusal carried an error object to compare")
    if wrong:
        raise CheckFailed(
            f"{len(wrong)} of {judged} refusals do not name the offending parameter: " + "; ".join(wrong[:4])
        )
    return f"{judged} refusals name their parameter"


@check("errors-400", Level.MUST, source="openai-streaming", needs=STREAMED)
def streamed_invalid_requests_get_a_json_error(ctx: CheckContext) -> str | None:
    """The same invalid requests with stream: true are refused with a plain JSON error, not an event stream."""

    def judge(exchange: Exchange) -> None:
        response = response_of(exchange)
        if response.media_type == "text/event-stream" or response.status < 400:
            client_differences.note_answer(exchange, kind_of(exchange))
            events = [event.data for event in exchange.stream.events][:2]
            raise CheckFailed(
                f"{exchange.purpose} was answered HTTP {response.status} {response.media_type or ''} "
                f"{shown(json.dumps(events), 120)}; expected a 400 with a JSON error body before any stream starts"
            )
        expect_refusal(exchange, ctx.dialect.status_for("invalid_request"), exchange.purpose)

    return judge_each(
        applicable(ctx, STREAMED), judge, noun="streamed invalid requests", empty="no streamed invalid request was sent"
    )


_INVALID_VALUES: dict[str, list[Any]] = {
    "model": [42, [], {"id": "x"}, ""],
    "messages": [
        "hi",
        7,
        [],
        [1],
        [{"role": "user"}],
        [{"content": "x"}],
        [{"role": "robot", "content": "x"}],
        [{"role": "user", "content": 7}],
    ],
    "temperature": ["hot", -1, 99, [1]],
    "top_p": ["x", -0.5, 7],
    "n": [0, -1, "two"],
    "stream": ["yes", {"on": True}],
    "stop": [7, {"a": 1}, ["a", "b", "c", "d", "e"]],
    "tools": ["x", [{"type": "function"}], [{"type": "function", "function": {"name": "has space"}}]],
    "response_format": ["json", {"type": "nope"}],
}


def _mutation() -> SearchStrategy[tuple[str, Any]]:
    from hypothesis import strategies as st

    return st.sampled_from(sorted(_INVALID_VALUES)).flatmap(
        lambda key: st.sampled_from(_INVALID_VALUES[key]).map(lambda value: (key, value))
    )


def generated_bodies(count: int, base: dict[str, Any]) -> list[dict[str, Any]]:
    """``count`` bodies, each the valid base with one or two fields given an invalid value; the same
    bodies on every run (derandomized)."""
    text = json.dumps(base, sort_keys=True)
    return [dict(json.loads(body)) for body in _generated(count, text, placeholders())]


@cache
def _generated(count: int, base_text: str, replaying: bool) -> tuple[str, ...]:
    # replaying is part of the cache key only: first_distinct reads it itself
    base = json.loads(base_text)

    def bodies() -> SearchStrategy[str]:
        from hypothesis import strategies as st

        mutations = st.lists(_mutation(), min_size=1, max_size=2, unique_by=lambda pair: pair[0])
        return mutations.map(lambda changes: json.dumps({**base, **dict(changes)}, sort_keys=True))

    # a replay's placeholder is the valid base itself: matched by route, never sent
    return tuple(first_distinct(bodies, count, placeholder=base_text, budget=10 * count))


def _generated_probe(number: int) -> None:
    exchange_id = f"errors-400/generated-{number}"

    @probe(exchange_id, refusal=True)
    def build(target: Target) -> Request | None:
        base = base_body(target)
        if base is None:
            return None
        body = generated_bodies(GENERATED, base)[number - 1]
        return Request(
            exchange_id,
            "POST",
            "/chat/completions",
            f"a body made invalid by hypothesis, number {number}",
            json=body,
            replay_match="route",
        )


for _number in range(1, GENERATED + 1):
    _generated_probe(_number)

GENERATED_IDS = tuple(f"errors-400/generated-{n}" for n in range(1, GENERATED + 1))


@check("errors-400", Level.MUST, source="openai-errors", needs=GENERATED_IDS)
def generated_invalid_requests_are_refused_cleanly(ctx: CheckContext) -> str | None:
    """Bodies made invalid by hypothesis are all refused with a 4xx in the envelope: never a 5xx, never a hang,
    never an answer."""
    statuses = []
    base = base_body(ctx.target) or {}

    def judge(exchange: Exchange) -> None:
        response = response_of(exchange)
        changed = {k: v for k, v in (exchange.request.json or {}).items() if base.get(k, object()) != v}
        what = f"invalid values {shown(json.dumps(changed), 100)}"
        if response.status < 400:
            client_differences.note_answer(exchange, kind_of(exchange))
        if response.status >= 500 or response.status < 400:
            raise CheckFailed(
                f"{exchange.describe()}: {what} got HTTP {response.status}, expected a 4xx refusal; "
                f"body {shown(response.body)}"
            )
        statuses.append(response.status)

    judge_each(
        [ctx.exchange(probe_id) for probe_id in GENERATED_IDS],
        judge,
        noun="generated invalid bodies",
        empty="no generated body was sent",
    )
    return f"{len(statuses)} bodies refused with {sorted(set(statuses))}"


STILL = "errors-400/still-answers"
BEFORE_STILL = OWN + STREAMED + GENERATED_IDS + ("errors-400/unknown-parameter",)


def _still_request(target: Target, dialect: Dialect | None = None) -> list[Request]:
    request = chat_request(target, STILL, "a valid request sent after all the invalid ones", HELLO)
    return [request] if request is not None else []


@check("errors-400", Level.MUST, source="openai-errors", needs=BEFORE_STILL, extra=_still_request)
def target_still_answers_after_invalid_requests(ctx: CheckContext) -> str | None:
    """After all the invalid requests of this row (named, streamed and generated), the target still answers a
    valid request."""
    for probe_id in BEFORE_STILL:
        maybe_exchange(ctx, probe_id)  # wait until every invalid request has been made
    request = next(iter(_still_request(ctx.target)), None)
    if request is None:
        raise NotApplicable("no chat model configured")
    exchange = ctx.fetch(request)
    expect_chat_completion(ctx, exchange, text=False)
    return None
