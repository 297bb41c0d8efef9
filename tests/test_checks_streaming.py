"""Each streaming check passes on a conforming stream and fails on the deviation it targets."""

from __future__ import annotations

import json

import pytest
from helpers import (
    chat_completion,
    chat_exchange,
    chunk,
    error_body,
    judge,
    judge_trials,
    sse,
    stream_exchange,
    text_stream,
    trial_exchanges,
)

from conformance.checks.streaming import BASIC, PROMPT, TWIN, USAGE
from conformance.exchange import Chunk
from conformance.verdicts import Status

TEXT = "You said: ça va, 日本語 ☕"


def basic(pieces=None, **kwargs):
    return stream_exchange(BASIC, sse(text_stream(TEXT)) if pieces is None else pieces, **kwargs)


def usage_stream(chunks=None):
    asked = {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
    return stream_exchange(USAGE, sse(text_stream(TEXT, usage=True) if chunks is None else chunks), request_json=asked)


def twin(text=TEXT):
    return chat_exchange(TWIN, chat_completion(text))


GOOD = (basic(), usage_stream(), twin())
CHECKS = [
    "streaming.request_succeeds",
    "streaming.events_are_single_data_lines",
    "streaming.stream_ends_with_done",
    "streaming.chunks_are_schema_valid",
    "streaming.chunks_share_id_created_and_model",
    "streaming.role_comes_first_and_once",
    "streaming.one_finish_reason_per_choice",
    "streaming.usage_chunk_when_asked",
    "streaming.no_usage_unless_asked",
    "streaming.text_is_intact_utf8",
    "streaming.deltas_join_to_the_non_streamed_answer",
    "streaming.delivered_incrementally",
]


@pytest.mark.parametrize("check_id", CHECKS)
def test_a_conforming_stream_passes(check_id):
    result = judge(check_id, *GOOD)
    assert result.status == Status.PASS, result.message


def test_the_prompt_carries_multibyte_characters():
    assert any(len(ch.encode()) == 4 for ch in PROMPT)
    assert any(len(ch.encode()) == 3 for ch in PROMPT)


def fails(check_id, *exchanges, expected):
    replaced = {exchange.id: exchange for exchange in (*GOOD, *exchanges)}
    result = judge(check_id, *replaced.values())
    assert result.status == Status.FAIL, result.message
    assert expected in result.message
    return result


def test_a_json_answer_instead_of_a_stream_fails_the_framing_and_blocks_the_rest():
    exchange = chat_exchange(BASIC, request_json={"model": "m", "messages": [], "stream": True})
    fails(
        "streaming.events_are_single_data_lines",
        exchange,
        expected="expected Content-Type text/event-stream, got application/json",
    )
    assert judge("streaming.request_succeeds", exchange, usage_stream(), twin()).status == Status.PASS
    blocked = judge("streaming.deltas_join_to_the_non_streamed_answer", exchange, usage_stream(), twin())
    assert blocked.status == Status.BLOCKED
    assert blocked.blocked_by == "streaming.events_are_single_data_lines"


def test_a_refusal_says_streaming_is_unsupported():
    exchange = chat_exchange(BASIC, error_body("stream is not supported"), status=400)
    assert judge("streaming.request_succeeds", exchange).status == Status.UNSUPPORTED


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (b"event: error\ndata: {}\n\n", "has the fields [event:"),
        (b"id: 3\ndata: {}\n\n", "has the fields [id:"),
        (b'data: {"a":\ndata: 1}\n\n', "has the fields [data:"),
    ],
)
def test_events_other_than_single_data_lines_fail(extra, expected):
    pieces = [*sse(text_stream(TEXT), done=False), extra, b"data: [DONE]\n\n"]
    fails("streaming.events_are_single_data_lines", basic(pieces), expected=expected)


@pytest.mark.parametrize("ending", [b"\n", b"\n\n"])
def test_events_without_blank_lines_between_them_fail(ending):
    # each chunk on its own data: line, but one newline apart: one event of many chunks, or none at all
    # when the stream does not end with a blank line
    pieces = [piece.replace(b"\n\n", b"\n") for piece in sse(text_stream(TEXT))] + [ending]
    fails(
        "streaming.events_are_single_data_lines",
        basic(pieces),
        expected="data: lines follow one another with no blank line between them",
    )


def test_comments_and_crlf_are_allowed_and_noted():
    pieces = [b": keep-alive\r\n\r\n"] + [piece.replace(b"\n", b"\r\n") for piece in sse(text_stream(TEXT))]
    result = judge("streaming.events_are_single_data_lines", basic(pieces))
    assert result.status == Status.PASS
    assert "comment lines (allowed)" in result.message
    assert "CRLF" in result.message


def test_an_unterminated_last_event_fails():
    pieces = [*sse(text_stream(TEXT), done=False), b"data: [DONE]"]
    fails("streaming.events_are_single_data_lines", basic(pieces), expected="not a complete event")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (sse(text_stream(TEXT), done=False), "no data: [DONE] event"),
        (sse(text_stream(TEXT)) + sse([chunk({"content": "late"})], done=False), "more follows it"),
    ],
)
def test_done_must_end_the_stream(pieces, expected):
    fails("streaming.stream_ends_with_done", basic(pieces), expected=expected)


def test_a_chunk_breaking_the_schema_is_named_by_number():
    chunks = text_stream(TEXT)
    chunks[2]["object"] = "chat.completion"
    result = fails("streaming.chunks_are_schema_valid", basic(sse(chunks)), expected="chunk 3 violates")
    assert "$.object" in result.message


def test_a_tool_call_delta_without_index_breaks_the_schema():
    chunks = text_stream(TEXT)
    chunks.insert(2, chunk({"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f"}}]}))
    fails("streaming.chunks_are_schema_valid", basic(sse(chunks)), expected="'index' is a required property")


def test_a_basic_stream_broken_off_by_an_error_fails_its_request():
    chunks = [*text_stream(TEXT)[:2], {"error": {"message": "engine died", "type": "server_error"}}]
    fails("streaming.request_succeeds", basic(sse(chunks)), expected="broke off with an error at event 3")
    # the error event is not a chunk, and no [DONE] is owed after it: the form checks judge the rest
    for check_id in ("streaming.chunks_are_schema_valid", "streaming.stream_ends_with_done"):
        assert judge(check_id, basic(sse(chunks)), usage_stream(), twin()).status == Status.PASS


@pytest.mark.parametrize("key", ["id", "created", "model"])
def test_chunks_must_share_id_created_and_model(key):
    chunks = text_stream(TEXT)
    chunks[3][key] = "other" if key != "created" else 1
    fails("streaming.chunks_share_id_created_and_model", basic(sse(chunks)), expected=f"chunk 4 has {key}")


def test_role_missing_from_the_first_delta_fails():
    chunks = text_stream(TEXT)
    del chunks[0]["choices"][0]["delta"]["role"]
    fails("streaming.role_comes_first_and_once", basic(sse(chunks)), expected="has role None, expected 'assistant'")


def test_role_repeated_later_fails():
    chunks = text_stream(TEXT)
    chunks[2]["choices"][0]["delta"]["role"] = "assistant"
    fails("streaming.role_comes_first_and_once", basic(sse(chunks)), expected="chunk 3 repeats role")


def test_finish_reason_missing_twice_or_followed_by_content():
    chunks = text_stream(TEXT)
    missing = [c for c in chunks if c["choices"][0]["finish_reason"] is None]
    fails("streaming.one_finish_reason_per_choice", basic(sse(missing)), expected="never gets a finish_reason")
    twice = [*chunks, chunk({}, "stop")]
    fails("streaming.one_finish_reason_per_choice", basic(sse(twice)), expected="second finish_reason")
    late = [*chunks, chunk({"content": "more"})]
    fails("streaming.one_finish_reason_per_choice", basic(sse(late)), expected="after its finish_reason")


def test_usage_chunk_deviations():
    without = text_stream(TEXT, usage=True)[:-1]
    fails("streaming.usage_chunk_when_asked", usage_stream(without), expected="expected choices [] and a usage object")
    early = text_stream(TEXT, usage=True)
    early[1]["usage"] = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    fails("streaming.usage_chunk_when_asked", usage_stream(early), expected="chunk 2 already carries usage")
    wrong = text_stream(TEXT, usage=True)
    wrong[-1]["usage"]["total_tokens"] += 1
    fails("streaming.usage_chunk_when_asked", usage_stream(wrong), expected="usage.total_tokens is")


def test_usage_without_asking_is_a_should_failure():
    chunks = text_stream(TEXT)
    chunks[-1]["usage"] = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    result = fails("streaming.no_usage_unless_asked", basic(sse(chunks)), expected="although none was asked for")
    assert result.level == "SHOULD"


def test_invalid_utf8_fails():
    pieces = sse(text_stream(TEXT))
    pieces.insert(2, b'data: {"broken": "\xff"}\n\n')
    fails("streaming.text_is_intact_utf8", basic(pieces), expected="not valid UTF-8 at byte")


def test_a_replacement_character_only_in_the_stream_fails():
    chunks = text_stream("You said: \ufffd\ufffd va")
    fails(
        "streaming.text_is_intact_utf8",
        basic(sse(chunks)),
        twin("You said: ça va"),
        expected="a multi-byte character was cut",
    )
    same = judge("streaming.text_is_intact_utf8", basic(sse(chunks)), twin("You said: \ufffd\ufffd va"))
    assert same.status == Status.PASS


def test_stream_and_twin_must_match_at_temperature_zero():
    five = [*trial_exchanges(basic(), 5), *trial_exchanges(twin("You said: something else"), 5)]
    result = judge("streaming.deltas_join_to_the_non_streamed_answer", *five, limits={"trials": 5})
    assert (result.status, result.level) == (Status.INCONCLUSIVE, "SHOULD")  # not beyond chance in five
    assert "pair 1 differ from character 10" in result.message
    assert result.rate == {
        "successes": 0,
        "trials": 5,
        "rate": 0.0,
        "interval": [0.0, 0.4345],
        "confidence": 0.95,
        "threshold": 0.5,
    }
    twenty = judge_trials("streaming.deltas_join_to_the_non_streamed_answer", basic(), twin("You said: something else"))
    assert (twenty.status, twenty.rate["trials"]) == (Status.FAIL, 20)


def test_a_buffered_stream_fails_and_timings_are_reported():
    exchange = basic()
    assert exchange.response is not None
    squashed = tuple(Chunk(0.5, c.data) for c in exchange.response.chunks)
    buffered = stream_exchange(BASIC, [c.data for c in squashed])
    object.__setattr__(buffered.response, "chunks", squashed)
    result = fails("streaming.delivered_incrementally", buffered, expected="arrived in one piece")
    assert result.details["timing"] == "measured"
    good = judge("streaming.delivered_incrementally", basic())
    assert good.details["first_chunk_ms"] < good.details["last_chunk_ms"]


def test_a_refused_basic_stream_is_one_failure_and_blocks_its_other_checks():
    refused = chat_exchange(BASIC, error_body("nope"), status=500)
    assert judge("streaming.request_succeeds", refused, usage_stream(), twin()).status == Status.FAIL
    for check_id in (
        "streaming.text_is_intact_utf8",
        "streaming.deltas_join_to_the_non_streamed_answer",
        "streaming.delivered_incrementally",
    ):
        result = judge(check_id, refused, usage_stream(), twin())
        assert result.status == Status.BLOCKED, (check_id, result.message)
        assert result.blocked_by == "streaming.request_succeeds"
    # the form checks judge the streams there are (the usage stream)
    assert judge("streaming.chunks_are_schema_valid", refused, usage_stream(), twin()).status == Status.PASS


def test_a_non_json_event_fails_with_its_number():
    pieces = [*sse(text_stream(TEXT), done=False), b"data: not json\n\n", b"data: [DONE]\n\n"]
    result = fails("streaming.chunks_are_schema_valid", basic(pieces), expected="is not JSON")
    assert json.dumps("not json")[1:-1] in result.message
    assert "event 9 is not JSON" in result.message
    blocked = judge("streaming.deltas_join_to_the_non_streamed_answer", basic(pieces), usage_stream(), twin())
    assert blocked.blocked_by == "streaming.chunks_are_schema_valid"
