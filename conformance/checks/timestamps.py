"""Every timestamp of every object the run got is a Unix time in seconds, near the time it was asked for.

Which fields are timestamps is the catalogue's (``unit: unix-seconds``, from the OpenAPI document's ``format:
unixtime``), not this module's choice: a chat completion's and every chunk's ``created``, a response's
``created_at`` and ``completed_at`` (and those of the responses that stream events carry), a model's ``created``.
Their type is the schema checks'; their unit is only seen here. Servers write milliseconds (mlc-ai/web-llm#829,
EricLBuehler/mistral.rs#1805 in every chunk, Vercel's v0 through zed-industries/zed#32982) or leave 0
(mudler/LocalAI#1164); the SDKs pass the number on, and an app shows the year 57000 or, typed as .NET's
DateTimeOffset, throws (Mintplex-Labs/anything-llm#2920). A day either side of when the request was made is allowed
for a server's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any

from conformance import jsonparse
from conformance.checks._every import Kind, every, judge_each
from conformance.checks._responses import BASIC, offered
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.surface.catalogue import load
from conformance.verdicts import CheckFailed, Level

# 2000-01-01T00:00:00Z, when nothing else says when the request was made
EARLIEST = 946_684_800
# a server's clock may be off: a day either side of the request
SLACK = 86_400
UNIT = "unix-seconds"


@cache
def unit_paths(endpoint: str, side: str) -> tuple[str, ...]:
    """The catalogue's timestamp members of an endpoint's answer (``side``: response or stream)."""
    members = load().members.get((endpoint, side), {})
    return tuple(path for path, member in members.items() if member.get("unit") == UNIT and "<" not in path)


@cache
def carried(endpoint: str, side: str) -> dict[str, dict[str, str]]:
    """The stream events that carry a whole object of another side: {event type: {field: that side}}."""
    found: dict[str, dict[str, str]] = {}
    for path, member in load().members.get((endpoint, side), {}).items():
        same = member.get("same_as", "")
        if path.startswith("<type=") and same.endswith(":") and path.count(".") >= 1:
            kind, _, field = path[len("<type=") :].partition(">.")
            if field and "." not in field:
                found.setdefault(kind, {})[field] = same[:-1]
    return found


def values_at(value: Any, path: str, where: str = "$") -> Iterator[tuple[str, Any]]:
    """The values at a catalogue path (``a[].b``) in an answer, each with where it is."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(value, dict) or key not in value:
        return
    found = value[key]
    items = list(enumerate(found)) if many and isinstance(found, list) else [(None, found)] if not many else []
    for index, item in items:
        here = f"{where}.{key}" + (f"[{index}]" if index is not None else "")
        if rest:
            yield from values_at(item, rest, here)
        else:
            yield here, item


def asked_at(exchange: Exchange) -> float | None:
    try:
        return datetime.fromisoformat(exchange.started_at).timestamp()
    except (TypeError, ValueError):
        return None


def wrong(value: Any, where: str, asked: float | None) -> str | None:
    """What is wrong with one timestamp, or None (a value that is not a number is the schema checks')."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    low, high = (asked - SLACK, asked + SLACK) if asked is not None else (EARLIEST, float("inf"))
    if low <= value <= high:
        return None
    reference = asked if asked is not None else EARLIEST
    hint = (
        " (milliseconds?)"
        if 100 * reference < value < 10_000 * reference
        else " (micro- or nanoseconds?)"
        if value >= 10_000 * reference
        else " (not a time)"
        if value < EARLIEST
        else ""
    )
    when = f"more than a day from when it was asked ({int(asked)})" if asked is not None else "before 2000"
    return f"{where} is {value}{hint}, {when}"


def _objects(exchange: Exchange, endpoint: str, side: str) -> Iterator[tuple[str, Any, str]]:
    """The objects of an answer to judge, each with where it is and the catalogue side it is written in."""
    if side == "response":
        body = exchange.json_body
        if body.ok:
            yield "", body.value, side
        return
    events = carried(endpoint, side)
    for event in exchange.stream.events:
        try:
            data = jsonparse.loads(event.data or "")
        except ValueError:
            continue  # not JSON, [DONE]: the stream form checks' concern
        if not isinstance(data, dict):
            continue
        yield f"event {event.index} ", data, side
        for field, their_side in events.get(str(data.get("type")), {}).items():
            their_endpoint, _, their = their_side.rpartition(" ")
            if their_endpoint == endpoint:
                yield f"event {event.index} {field}: ", data.get(field), their


def judge_timestamps(exchange: Exchange, endpoint: str, side: str) -> None:
    asked = asked_at(exchange)
    found = []
    for prefix, value, where_side in _objects(exchange, endpoint, side):
        for path in unit_paths(endpoint, where_side):
            for where, stamp in values_at(value, path):
                if (problem := wrong(stamp, where, asked)) is not None:
                    found.append(prefix + problem)
    if found:
        more = f" (and {len(found) - 2} more)" if len(found) > 2 else ""
        raise CheckFailed(f"{exchange.describe()}: {'; '.join(found[:2])}{more}: a Unix time in seconds is expected")


CHAT = "POST /chat/completions"
RESPONSES = "POST /responses"


def _judge_every(ctx: CheckContext, endpoint: str, kinds: dict[Kind, str], noun: str, empty: str) -> str:
    """Every answer of the run of these kinds ({kind: the catalogue side it is written in}), its timestamps judged."""
    answers = [(exchange, side) for kind, side in kinds.items() for exchange in every(ctx, kind)]
    sides = {exchange.id: side for exchange, side in answers}
    return judge_each(
        [exchange for exchange, _ in answers],
        lambda exchange: judge_timestamps(exchange, endpoint, sides[exchange.id]),
        noun=noun,
        empty=empty,
    )


@check("chat-completions", Level.MUST, source="openai-chat-object", needs=("chat-completions/basic",), runs_last=True)
def timestamps_are_unix_seconds(ctx: CheckContext) -> str | None:
    """Every chat completion's and every chunk's created, in every answer of the run, is a Unix time in seconds
    within a day of when it was asked for: not milliseconds, not 0."""
    kinds: dict[Kind, str] = {"chat-completion": "response", "stream": "stream"}
    return _judge_every(ctx, CHAT, kinds, "chat answers", "the run got no chat completion")


@check("responses", Level.MUST, source="open-responses-spec", needs=(BASIC,), runs_last=True)
def response_timestamps_are_unix_seconds(ctx: CheckContext) -> str | None:
    """Every response's created_at and completed_at, in every answer and stream event of the run, is a Unix time in
    seconds within a day of when it was asked for."""
    offered(ctx, judged_over_every_answer=True)
    kinds: dict[Kind, str] = {"response": "response", "response-stream": "stream"}
    return _judge_every(ctx, RESPONSES, kinds, "Responses answers", "the run got no response")
