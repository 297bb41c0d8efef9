"""Redaction and cassettes: secrets never reach a file, and bytes round-trip exactly."""

from __future__ import annotations

import pytest
from helpers import make_exchange

from conformance.cassettes import (
    CassetteSet,
    CassetteWriter,
    cassette_path,
    exchange_from_dict,
    exchange_to_dict,
    prune,
    request_mismatch,
)
from conformance.errors import ReplayError
from conformance.exchange import Chunk, Request, TransportFailure
from conformance.redaction import Redactor

KEY = "sk-live-SECRET-0123456789abcdef"
BASE = "https://gateway.internal.example:8443/openai/v1"


def test_key_base_url_and_host_become_placeholders():
    redactor = Redactor(KEY, BASE)
    text = f"key {KEY} url {BASE}/models host gateway.internal.example:8443 name gateway.internal.example"
    assert redactor.text(text) == "key <API_KEY> url <BASE_URL>/models host <HOST> name <HOST>"
    assert redactor.data(text.encode()) == redactor.text(text).encode()


def test_short_keys_are_not_replaced_everywhere():
    redactor = Redactor("EMPTY", None)
    assert redactor.text("EMPTY response") == "EMPTY response"


def test_bearer_tokens_in_headers_are_masked_and_account_headers_dropped():
    redactor = Redactor(None, None)
    headers = redactor.headers([("X-Echo", "Bearer abcdefghijklmnop"), ("Set-Cookie", "a=b"), ("Content-Type", "x")])
    assert headers == (("x-echo", "Bearer <redacted>"), ("content-type", "x"))


def test_a_secret_split_across_chunks_keeps_the_chunk_boundaries():
    redactor = Redactor(KEY, None)
    chunks = [
        Chunk(0.1, b"before " + KEY[:10].encode()),
        Chunk(0.2, KEY[10:20].encode()),
        Chunk(0.3, KEY[20:].encode() + b" after"),
    ]
    redacted = redactor.chunks(chunks)
    # the placeholder goes where the key began; the chunks (and their times) stay
    assert [chunk.t for chunk in redacted] == [0.1, 0.2, 0.3]
    assert [chunk.data for chunk in redacted] == [b"before <API_KEY>", b"", b" after"]
    untouched = [Chunk(0.1, b"a"), Chunk(0.2, b"b")]
    assert redactor.chunks(untouched) == tuple(untouched)


@pytest.mark.parametrize(
    "pieces",
    [
        [b'data: {"a": "\xc3\xa9"}\n\n', b"data: [DONE]\n\n"],
        [b"line\r\nwith crlf  \r\n", b"trailing spaces   \n"],
        [b"\xff\xfe invalid utf-8 \x00 nul"],
        [b"\xf0\x9f", b"\x98\x80 an emoji split across chunks"],
        [b"\tleading tab\n", b" leading space\n"],
        [],
    ],
)
def test_cassettes_round_trip_bytes_exactly(tmp_path, pieces):
    exchange = make_exchange("streaming/raw", chunks=pieces, headers=[("content-type", "text/event-stream")])
    path = CassetteWriter(tmp_path).write(exchange)
    loaded = CassetteSet.load(tmp_path).get("streaming/raw")
    assert loaded is not None
    assert loaded.replayed
    assert loaded.response is not None
    assert exchange.response is not None
    assert [c.data for c in loaded.response.chunks] == pieces
    assert [c.t for c in loaded.response.chunks] == [c.t for c in exchange.response.chunks]
    assert loaded.response.headers == exchange.response.headers
    assert path == tmp_path / "streaming" / "raw.yaml"


def test_a_json_request_is_stored_readably_and_failures_survive(tmp_path):
    exchange = make_exchange(
        "chat-completions/basic",
        method="POST",
        path="/chat/completions",
        status=None,
        request_json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        failure=TransportFailure("timeout", "no response headers within 1 s"),
    )
    CassetteWriter(tmp_path).write(exchange)
    text = (tmp_path / "chat-completions" / "basic.yaml").read_text()
    assert "  json:\n    model: m\n" in text
    loaded = CassetteSet.load(tmp_path).get("chat-completions/basic")
    assert loaded is not None
    assert loaded.response is None
    assert loaded.failure == exchange.failure
    assert loaded.request.json == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_odd_exchange_ids_get_safe_unique_file_names(tmp_path):
    assert cassette_path(tmp_path, "models/retrieve/Llama-3.3-70B") == tmp_path / "models/retrieve/Llama-3.3-70B.yaml"
    odd = cassette_path(tmp_path, "models/retrieve/llama3:8b")
    assert odd.parent == tmp_path / "models" / "retrieve"
    assert odd.name.startswith("llama3_8b-")
    assert odd.suffix == ".yaml"
    assert cassette_path(tmp_path, "models/retrieve/llama3_8b") != odd
    assert ".." not in cassette_path(tmp_path, "models/retrieve/../../etc").parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cassette: 1\nid: [unclosed", "is unreadable"),
        ("- just\n- a list\n", "not a mapping"),
        ("cassette: 99\nid: x\n", "unknown cassette format 99"),
        ("cassette: 1\nid: models/list\n", "'request'"),
    ],
)
def test_an_unreadable_cassette_is_one_line(tmp_path, text, expected):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "list.yaml").write_text(text)
    with pytest.raises(ReplayError) as caught:
        CassetteSet.load(tmp_path)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_cassette_in_the_wrong_place_is_refused(tmp_path):
    CassetteWriter(tmp_path).write(make_exchange("models/list", body={}))
    (tmp_path / "models" / "list.yaml").rename(tmp_path / "elsewhere.yaml")
    with pytest.raises(ReplayError, match="belongs elsewhere"):
        CassetteSet.load(tmp_path)


def test_request_mismatch_names_what_changed():
    recorded = exchange_from_dict(
        exchange_to_dict(
            make_exchange(
                "chat-completions/basic", method="POST", path="/chat/completions", request_json={"model": "a"}
            )
        )
    ).request
    same = Request("chat-completions/basic", "POST", "/chat/completions", "x", json={"model": "a"})
    assert request_mismatch(same, recorded) is None
    assert "JSON body differs" in str(
        request_mismatch(Request(same.id, "POST", same.path, "x", json={"model": "b"}), recorded)
    )
    assert "URL" in str(request_mismatch(Request(same.id, "POST", "/other", "x", json={"model": "a"}), recorded))
    assert "method" in str(request_mismatch(Request(same.id, "GET", same.path, "x", json={"model": "a"}), recorded))
    wrong_auth = Request(same.id, "POST", same.path, "x", json={"model": "a"}, auth="none")
    assert "auth mode" in str(request_mismatch(wrong_auth, recorded))


def test_prune_keeps_only_what_was_used(tmp_path):
    writer = CassetteWriter(tmp_path)
    for exchange_id in ("models/list", "models/retrieve/a", "old/thing"):
        writer.write(make_exchange(exchange_id, body={}))
    removed = prune(tmp_path, {"models/list", "models/retrieve/a"})
    assert [p.name for p in removed] == ["thing.yaml"]
    assert not (tmp_path / "old").exists()
    assert CassetteSet.load(tmp_path).ids() == {"models/list", "models/retrieve/a"}
