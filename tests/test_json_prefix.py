"""The JSON-prefix recogniser accepts every beginning of a JSON document and nothing else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import jsonparse
from conformance.json_prefix import check_prefix
from conformance.render.html import _pretty

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(JSON, st.data())
def test_every_prefix_of_a_json_document_is_accepted(value, data):
    text = json.dumps(value, indent=data.draw(st.sampled_from([None, 2])))
    cut = data.draw(st.integers(0, len(text)))
    verdict = check_prefix(text[:cut])
    assert verdict.ok, (text[:cut], verdict)
    if cut == len(text):
        assert verdict.complete


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Hello from the mock.", "cannot start a JSON value"),
        ('{"a": 1} and more', "text follows the end"),
        ('{"a" 1}', "expected ':'"),
        ('{"a": tru3', "is not true, false or null"),
        ('{"a": "\\q"}', "invalid escape"),
        ('["a", }', "cannot start a JSON value"),
        ('{"a": 1.2.3,', "is not a number"),
    ],
)
def test_text_that_cannot_become_json_is_refused(text, reason):
    verdict = check_prefix(text)
    assert not verdict.ok
    assert reason in verdict.reason


def test_whitespace_heavy_documents_cut_anywhere_are_prefixes():
    text = '{   "city" :\t\n  "Paris",   \r\n "coastal":   tr'
    assert check_prefix(text).ok
    assert not check_prefix(text).complete
    assert check_prefix('{"city": "Paris"}').complete


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_pretty_json_is_the_standard_librarys_indented_json(value):
    assert jsonparse.pretty(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_pretty_json_takes_what_orjson_does_not():
    assert jsonparse.pretty({"big": 2**70}) == json.dumps({"big": 2**70}, indent=2)
    assert jsonparse.pretty({1: "a"}) == json.dumps({1: "a"}, indent=2)
    assert json.loads(jsonparse.pretty({"rate": 1e-06, "x": float("nan")})) == {"rate": 1e-06, "x": None}


def test_the_html_shows_a_body_with_nan_as_sent():
    assert "NaN" in _pretty('{"score": NaN}')
    assert _pretty('{"a": [1, 2]}') == json.dumps({"a": [1, 2]}, indent=2)
