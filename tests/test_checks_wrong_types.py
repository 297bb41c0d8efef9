"""No answer, whatever the types of its fields, makes a check blame the suite.

Every check is run on the recorded exchanges of the reference targets with one value of one
exchange it reads replaced by a value of another type (or taken out) (anywhere in a JSON body, or in one event of
a stream), drawn by hypothesis. Whatever the check then says (pass, fail, skipped...), it must not
be an internal error: a wrongly typed answer is the target's defect, reported as a verdict.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

import pytest
from helpers import FakeSource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.cassettes import CassetteSet
from conformance.context import CheckContext
from conformance.dialects import load_dialect
from conformance.exchange import Chunk, Exchange
from conformance.profiles import build_target, find_profile, load_profile
from conformance.registry import CHECKS, load_all
from conformance.resources import bundled_cassettes_dir
from conformance.runner import run_check
from conformance.schemas import schema_set
from conformance.verdicts import ErrorCause

load_all()
TARGETS = ("reference-openai", "reference")

# stands for "the field is missing"
DELETE = object()
WRONG = st.one_of(
    st.just(DELETE),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=2)), max_size=2),
    st.dictionaries(st.text(max_size=3), st.one_of(st.none(), st.integers()), max_size=2),
)


@cache
def _recorded(name: str) -> tuple[Any, dict[str, Exchange]]:
    target = build_target(load_profile(find_profile(name)))
    cassettes = CassetteSet.load(bundled_cassettes_dir() / name)
    exchanges = {exchange_id: cassettes.get(exchange_id) for exchange_id in cassettes.ids()}
    return target, {k: v for k, v in exchanges.items() if v is not None}


def _context(name: str, exchanges: dict[str, Exchange]) -> CheckContext:
    target, _ = _recorded(name)
    dialect = load_dialect(target.dialect)
    return CheckContext(target, dialect, schema_set(dialect), FakeSource(exchanges.values(), mode="replay"))


@cache
def _read_by(name: str, check_id: str) -> tuple[str, ...]:
    """The exchanges the check reads on the clean recordings, those with JSON in them."""
    _, exchanges = _recorded(name)
    result = run_check(CHECKS[check_id], _context(name, exchanges))
    return tuple(e for e in result.exchanges if e in exchanges and _documents(exchanges[e]))


def _documents(exchange: Exchange) -> list[Any]:
    """The JSON documents of an answer: its body, or each event of its stream."""
    response = exchange.response
    if response is None:
        return []
    if exchange.json_body.ok:
        return [exchange.json_body.value]
    return [json.loads(event.data) for event in exchange.stream.events if event.data and event.data.startswith("{")]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return None if new is DELETE else new
    copy = dict(value) if isinstance(value, dict) else list(value)
    if new is DELETE and len(path) == 1:
        del copy[path[0]]
        return copy
    copy[path[0]] = _set(copy[path[0]], path[1:], new)
    return copy


def _with_document(exchange: Exchange, index: int, document: Any) -> Exchange:
    assert exchange.response is not None
    if exchange.json_body.ok:
        chunks: tuple[Chunk, ...] = (Chunk(0.01, json.dumps(document).encode()),)
    else:
        documents = _documents(exchange)
        documents[index] = document
        events = [f"data: {json.dumps(item)}\n\n".encode() for item in documents] + [b"data: [DONE]\n\n"]
        chunks = tuple(Chunk(0.01 * (number + 1), event) for number, event in enumerate(events))
    return replace(exchange, response=replace(exchange.response, chunks=chunks))


@st.composite
def mutations(draw: st.DrawFn, name: str, check_id: str) -> tuple[str, int, tuple[Any, ...], Any]:
    _, exchanges = _recorded(name)
    exchange_id = draw(st.sampled_from(_read_by(name, check_id)))
    documents = _documents(exchanges[exchange_id])
    index = draw(st.integers(min_value=0, max_value=len(documents) - 1))
    path = draw(st.sampled_from(_paths(documents[index])))
    return exchange_id, index, path, draw(WRONG)


CASES = [(name, check_id) for name in TARGETS for check_id in sorted(CHECKS)]


@pytest.mark.parametrize(("name", "check_id"), CASES, ids=[f"{n}:{c}" for n, c in CASES])
def test_a_wrongly_typed_answer_is_a_verdict_not_an_internal_error(name, check_id):
    if not _read_by(name, check_id):
        pytest.skip("the check reads no JSON answer on this target")

    @settings(
        max_examples=60,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutations(name, check_id))
    def judge(mutation: tuple[str, int, tuple[Any, ...], Any]) -> None:
        exchange_id, index, path, new = mutation
        _, exchanges = _recorded(name)
        exchange = exchanges[exchange_id]
        document = _set(_documents(exchange)[index], path, new)
        changed = {**exchanges, exchange_id: _with_document(exchange, index, document)}
        result = run_check(CHECKS[check_id], _context(name, changed))
        assert result.error_cause != ErrorCause.HARNESS, f"{exchange_id} with {path} = {new!r}: {result.message}"

    judge()
