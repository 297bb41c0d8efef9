"""The strict SSE parser: events, framing details, and bytes split anywhere across reads."""

from __future__ import annotations

import pytest

from conformance import sse
from conformance.answer_parts import coarsened
from conformance.exchange import Chunk
from conformance.sse import parse


def chunks(*pieces: bytes) -> list[Chunk]:
    return [Chunk(0.1 * (i + 1), piece) for i, piece in enumerate(pieces)]


def test_events_are_dispatched_on_blank_lines_with_their_arrival_time():
    stream = parse(chunks(b'data: {"a": 1}\n\n', b'data: {"a": 2}\n\ndata: [DONE]\n\n'))
    assert [event.data for event in stream.events] == ['{"a": 1}', '{"a": 2}', "[DONE]"]
    assert [event.t for event in stream.events] == [0.1, 0.2, 0.2]
    assert stream.line_endings == {"LF"}
    assert stream.trailing == b""


@pytest.mark.parametrize("cut", range(1, 30))
def test_an_event_split_at_any_byte_parses_the_same(cut):
    body = 'data: {"text": "日本語 ☕"}\n\ndata: [DONE]\n\n'.encode()
    stream = parse(chunks(body[:cut], body[cut:]))
    assert [event.data for event in stream.events] == ['{"text": "日本語 ☕"}', "[DONE]"]
    assert stream.invalid_utf8_at is None


def test_crlf_and_cr_line_endings_are_recognised_and_reported():
    stream = parse(chunks(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"))
    assert [event.data for event in stream.events] == ["a", "b", "c"]
    assert stream.line_endings == {"CRLF", "CR", "LF"}


def test_comments_fields_and_multi_line_data():
    stream = parse(chunks(b": keep-alive\n\nevent: error\nid: 7\ndata: x\ndata: y\nretry\n\n"))
    assert stream.comments == ["keep-alive"]
    event = stream.events[0]
    assert event.data == "x\ny"
    assert event.names == ("event", "id", "data", "data", "retry")
    assert event.field("event") == "error"
    assert event.field("retry") == ""


def test_only_one_space_after_the_colon_is_removed():
    assert parse(chunks(b"data:  two spaces\n\ndata:none\n\n")).events[0].data == " two spaces"
    assert parse(chunks(b"data:none\n\n")).events[0].data == "none"


def test_an_unterminated_last_event_is_left_as_trailing_bytes():
    stream = parse(chunks(b"data: a\n\ndata: [DONE]\n"))
    assert [event.data for event in stream.events] == ["a"]
    assert stream.trailing == b"data: [DONE]\n"
    assert parse(chunks(b"data: a\n\nstray text")).trailing == b"stray text"


def test_invalid_utf8_and_a_bom_are_noticed():
    stream = parse(chunks(b"\xef\xbb\xbfdata: ok\n\n", b"data: \xff\n\n"))
    assert stream.bom
    assert stream.invalid_utf8_at == 19
    assert stream.events[0].end == 13
    assert stream.events[1].data == "\ufffd"


def test_a_multibyte_character_cut_by_the_end_is_invalid():
    assert parse(chunks("data: é".encode()[:-1])).invalid_utf8_at == 6


def test_empty_input():
    stream = parse([])
    assert stream.events == []
    assert stream.trailing == b""


def test_a_flood_of_tiny_events_is_counted_not_kept_and_timed_by_bisection():
    """Issue 30: 100,000 one-field events took a check 485 s and 1.3 GB (each event's time was found by
    walking every chunk); past MAX_EVENTS they are counted, and each kept event's time is its chunk's."""
    chunks = [Chunk(index / 1000, b"d\n\n") for index in range(sse.MAX_EVENTS + 500)]
    chunks.append(Chunk(99.0, b"data: [DONE]\n\n"))
    stream = sse.parse(chunks)
    assert len(stream.events) == sse.MAX_EVENTS
    assert stream.dropped == 501
    assert [event.t for event in stream.events[:3]] == [0.0, 0.001, 0.002]
    assert stream.events[-1].t == chunks[sse.MAX_EVENTS - 1].t
    # a flood of comments, and of one event's fields, likewise
    assert sse.parse([Chunk(0.0, b":\n" * (sse.MAX_EVENTS + 7))]).dropped == 7
    assert sse.parse([Chunk(0.0, b"x: 1\n" * (sse.MAX_EVENTS + 7) + b"\n")]).dropped == 7


def test_chunks_past_the_bound_are_merged_two_by_two_at_the_later_time():
    chunks = [Chunk(float(index), bytes([65 + index % 26])) for index in range(7)]
    merged = coarsened(chunks)
    assert [chunk.t for chunk in merged] == [1.0, 3.0, 5.0, 6.0]
    assert b"".join(chunk.data for chunk in merged) == b"".join(chunk.data for chunk in chunks)
