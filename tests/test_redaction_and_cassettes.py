"""Redaction and cassettes: secrets never reach a file, and bytes round-trip exactly."""

from __future__ import annotations

import base64
import os
import sys
from dataclasses import replace

import pytest
from helpers import make_exchange
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.cassette_format import dump_exchange, exchange_from_dict, exchange_to_dict, load_yaml
from conformance.cassettes import CassetteSet, CassetteWriter, cassette_path, prune, request_mismatch
from conformance.console import redacted_console
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
    assert "SECRET-LOOKING" not in str(caught.value)  # the path is named, what it holds is not quoted


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


def _percent(text: str) -> str:
    return "".join(f"%{ord(ch):02X}" for ch in text)


def _json_escapes(text: str) -> str:
    return "".join(f"\\u{ord(ch):04x}" for ch in text)


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param(KEY, id="exact"),
        pytest.param(KEY.upper(), id="upper case"),
        pytest.param(KEY.swapcase(), id="swapped case"),
        pytest.param(_percent(KEY), id="percent-encoded"),
        pytest.param(_percent(KEY).lower(), id="percent-encoded, lower hex"),
        pytest.param(_json_escapes(KEY), id="JSON escapes"),
        pytest.param(_json_escapes(KEY[:9]) + KEY[9:], id="JSON escapes mixed with text"),
        pytest.param("".join(f"&#{ord(ch)};" for ch in KEY), id="HTML decimal references"),
        pytest.param("".join(f"&#x{ord(ch):X};" for ch in KEY), id="HTML hex references"),
        pytest.param(KEY.encode().hex(), id="hex"),
        pytest.param(KEY.encode().hex().upper(), id="upper hex"),
        pytest.param(base64.b64encode(f"Bearer {KEY}".encode()).decode(), id="base64 of Bearer key"),
        pytest.param(base64.b64encode(KEY.encode()).decode(), id="base64"),
        pytest.param(base64.b64encode(f"x{KEY}".encode()).decode(), id="base64 at offset 1"),
        pytest.param(base64.b64encode(f"xy{KEY}".encode()).decode(), id="base64 at offset 2"),
        pytest.param(base64.urlsafe_b64encode(f"user:{KEY}".encode()).decode().rstrip("="), id="base64url"),
    ],
)
def test_the_key_is_redacted_in_every_encoding(echo):
    redactor = Redactor(KEY, BASE)
    text = f'{{"echo": "{echo}"}}'
    for redacted in (redactor.text(text), redactor.data(text.encode()).decode()):
        assert "<API_KEY>" in redacted
        # what is left names no more than a few characters of the key
        leftover = redacted.split("<API_KEY>")
        assert all(len(part) < len(text) - len(echo) + 12 for part in leftover)
        for secret_part in (KEY[4:14], KEY[-10:]):
            assert secret_part.lower() not in redacted.lower()
    assert redactor.contains_secret(text.encode())
    # in a header's name (as sent, before it is lower-cased) and its value
    ((name, value),) = redactor.headers([(f"x-{echo}", echo)])
    for redacted, before in ((name, f"x-{echo}"), (value, echo)):
        assert "<API_KEY>" in redacted
        assert len(redacted) - len("<API_KEY>") <= len(before) - len(echo) + 20  # "Bearer s" and an edge


def test_redacting_a_stream_keeps_every_chunk_and_its_time():
    redactor = Redactor(KEY, None)
    events = [b"data: 1\n\n", f"data: {KEY[:5]}".encode(), f"{KEY[5:]} 2\n\n".encode(), b"data: 3\n\n"]
    chunks = [Chunk(0.1 * (number + 1), data) for number, data in enumerate(events)]
    redacted = redactor.chunks(chunks)
    assert [chunk.t for chunk in redacted] == [chunk.t for chunk in chunks]
    assert b"".join(chunk.data for chunk in redacted) == b"data: 1\n\ndata: <API_KEY> 2\n\ndata: 3\n\n"
    assert redacted[0] == chunks[0]
    assert redacted[3] == chunks[3]


def test_an_id_built_from_an_answer_names_no_file_after_the_key(tmp_path):
    redactor = Redactor(KEY, None)
    exchange_id = redactor.text(f"models/retrieve/{KEY}")
    assert KEY not in exchange_id
    path = cassette_path(tmp_path, exchange_id)
    assert KEY not in str(path)
    long = cassette_path(tmp_path, "models/retrieve/" + "m" * 5000)
    assert len(long.name) <= 90
    assert long != cassette_path(tmp_path, "models/retrieve/" + "m" * 5001)


@given(
    st.lists(st.binary(max_size=40) | st.text(max_size=20).map(lambda text: text.encode("utf-8")), max_size=6),
    st.sampled_from(["\x85", "\u2028", "\u2029", "\r", "\x00", "\ufeff", "\ufffe", "", "\t", " "]),
)
@settings(max_examples=150, derandomize=True, deadline=None)
def test_any_chunks_round_trip_through_a_cassette_byte_for_byte(pieces, odd):
    pieces = [piece + odd.encode("utf-8") + b"\n" + piece for piece in pieces]
    exchange = make_exchange("streaming/raw", chunks=pieces, headers=[("content-type", "text/event-stream")])
    loaded = exchange_from_dict(load_yaml(dump_exchange(exchange)))
    assert loaded.response is not None
    assert [chunk.data for chunk in loaded.response.chunks] == pieces


def test_a_body_too_large_to_keep_round_trips_as_its_head(tmp_path):
    exchange = make_exchange("models/list", raw=b"x" * 100)
    assert exchange.response is not None
    truncated = replace(exchange, response=replace(exchange.response, body_size=10**9, body_sha256="ab" * 32))
    CassetteWriter(tmp_path).write(truncated)
    loaded = CassetteSet.load(tmp_path).get("models/list")
    assert loaded is not None
    assert loaded.response is not None
    assert loaded.response.body_size == 10**9
    assert loaded.response.body_sha256 == "ab" * 32


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda path: path.write_text("a: &x [1, 2]\nb: *x\n"), "anchors or aliases"),
        (lambda path: path.symlink_to("/dev/zero"), "is a symbolic link"),
        (lambda path: os.mkfifo(path), "reads only regular files"),
        (lambda path: path.write_bytes(b"") or os.truncate(path, 65 * 1024**2), "larger than 67108864 bytes"),
        (lambda path: path.symlink_to(path.parent / "nowhere.yaml"), "is a symbolic link"),
        (lambda path: path.write_bytes(b"\xff\xfe not utf-8"), "unreadable"),
        (lambda path: path.write_text("[" * 500 + "]" * 500), "nests deeper than 200 levels"),
        (lambda path: path.write_text("a: !!python/name:os.system x\n"), "YAML tag"),
        (lambda path: path.write_text("a: 1\n---\nb: 2\n"), "more than one YAML document"),
        (lambda path: path.write_text("a: [unclosed\n  SECRET-LOOKING-TEXT\n"), "not YAML"),
    ],
    ids=[
        "alias bomb",
        "device",
        "fifo",
        "oversized",
        "dangling link",
        "not UTF-8",
        "deep",
        "tag",
        "two documents",
        "broken",
    ],
)
def test_a_hostile_cassette_file_is_refused_in_one_line(tmp_path, make, expected):
    (tmp_path / "models").mkdir()
    make(tmp_path / "models" / "list.yaml")
    with pytest.raises(ReplayError) as caught:
        CassetteSet.load(tmp_path)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "SECRET-LOOKING" not in str(caught.value)  # the path is named, what it holds is not quoted


def test_cassettes_hold_no_anchors_even_for_shared_values(tmp_path):
    shared = {"role": "user", "content": "same"}
    exchange = make_exchange(
        "chat-completions/basic", method="POST", path="/chat/completions", request_json={"messages": [shared, shared]}
    )
    text = dump_exchange(exchange)
    assert "&id" not in text
    assert "*id" not in text


def test_the_console_holds_no_key_even_written_in_pieces(capsys):
    with redacted_console(KEY) as streams:
        sys.stdout.write(f"before {KEY[:6]}")
        sys.stdout.flush()
        sys.stdout.write(f"{KEY[6:]} after\n")
        sys.stdout.write("task done\n")
        sys.stderr.write(f"an error with {KEY.upper()}\n")
    out, err = capsys.readouterr()
    assert out == "before <API_KEY> after\ntask done\n"
    assert KEY.upper() not in err
    assert "the key appeared in 2 pieces of the console output and was removed" in err
    assert all(stream.removed for stream in streams)


def test_a_file_the_run_wrote_is_scrubbed_of_the_key(tmp_path):
    path = tmp_path / "report.md"
    path.write_text(f"leaked {base64.b64encode(KEY.encode()).decode()} and {KEY}")
    redactor = Redactor(KEY, None)
    assert redactor.scrub_file(path)
    assert KEY not in path.read_text()
    assert not redactor.contains_secret(path.read_bytes())
    assert not redactor.scrub_file(path)
