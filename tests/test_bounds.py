"""The bounds that hold against any answer: decoding with a cap, JSON with a depth limit, renderings
that nothing from a target can break, throttling that no announcement can stall, and a run-wide
time bound taken from the plan."""

from __future__ import annotations

import gzip
import zlib
from xml.etree import ElementTree as ET

import pytest
from helpers import make_exchange

from conformance import jsonparse, sdk_oracle
from conformance.decoding import BodyDecoder, DecodingFailed, TooLarge
from conformance.json_prefix import check_prefix
from conformance.plan import time_bound
from conformance.profiles import build_target
from conformance.render.common import md_code
from conformance.render.junit import _xml
from conformance.throttle import Throttle


def test_a_gzip_bomb_is_too_large_without_being_decoded_whole():
    bomb = gzip.compress(b"\0" * (50 * 1024**2))
    # 4 KiB of it would decode to about 4 MiB: with 1 MiB of room, zlib is asked for no more
    with pytest.raises(TooLarge) as caught:
        BodyDecoder("gzip").decode(bomb[:4096], 1024 * 1024)
    assert len(caught.value.data) == 1024 * 1024 + 1


def test_decoding_gives_back_the_body_and_knows_raw_deflate():
    body = b'{"object": "list"}' * 100
    assert BodyDecoder("gzip").decode(gzip.compress(body), 10**6) == body
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert BodyDecoder("deflate").decode(raw.compress(body) + raw.flush(), 10**6) == body
    assert BodyDecoder("deflate").decode(zlib.compress(body), 10**6) == body
    # two layers, applied in the order the header lists them, undone in reverse
    assert BodyDecoder("deflate, gzip").decode(gzip.compress(zlib.compress(body)), 10**6) == body
    # an encoding the suite did not ask for is left as it is, as httpx does
    assert BodyDecoder("br").decode(b"\x1b\x00", 10) == b"\x1b\x00"
    assert BodyDecoder("br").encoding is None
    with pytest.raises(DecodingFailed):
        BodyDecoder("gzip").decode(b"not gzip at all", 10**6)


def test_json_nested_past_the_limit_is_a_verdict_not_a_recursion():
    deep = "[" * 10_000 + "]" * 10_000
    with pytest.raises(jsonparse.TooDeep, match="nested deeper than 64 levels"):
        jsonparse.loads(deep)
    assert jsonparse.loads("[" * 64 + "]" * 64) is not None
    # brackets inside strings do not count, and a long escaped string is scanned in linear time
    assert jsonparse.loads('["' + "[" * 1000 + '"]') == ["[" * 1000]
    assert not jsonparse.depth_exceeds('"' + '\\"' * 200_000 + "[" * 100)
    exchange = make_exchange("models/list", raw=deep.encode())
    assert not exchange.json_body.ok
    assert "nested deeper than 64 levels" in (exchange.json_body.error or "")
    assert check_prefix(deep[:5000]).ok is False
    verdict = sdk_oracle.judge(exchange, "model-list")
    assert not verdict.accepted


def test_markdown_code_spans_hold_anything_a_target_sends():
    text = "a <img src=x onerror=alert(1)> ``` [x](https://evil.invalid) | \x00 \n next"
    span = md_code(text)
    fence = span[: span.index("a")].strip()
    assert fence == "````"
    assert span.endswith(fence)
    assert "\n" not in span
    assert "\\u0000" in span
    assert "\\|" in md_code("a | b", table=True)
    assert md_code("`tick`").startswith("`` `tick`")
    assert md_code("") == "` `"


def test_junit_text_holds_no_character_xml_cannot():
    text = _xml("nul \x00 escape \x1b bad \ufffe ok \t\n")
    ET.fromstring(f"<a b='{text}'>{text}</a>")


def test_an_announced_wait_is_believed_only_as_far_as_the_longest_wait():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    throttle = Throttle(600, clock=lambda: now[0], sleep=sleep, longest_wait=10.0)
    ticket = throttle.acquire(0, "m")
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "99999s"}
    throttle.release(ticket, 200, headers)
    throttle.acquire(0, "m")
    assert 9.9 <= sum(waits) <= 10.1
    # a Retry-After of a day pauses every start no longer either
    ticket = throttle.acquire(0, "n")
    throttle.release(ticket, 429, {"retry-after": "86400"})
    before = sum(waits)
    throttle.acquire(0, "n")
    assert sum(waits) - before <= 10.1


def test_the_run_time_bound_lets_every_request_take_its_deadline():
    target = build_target(
        {
            "name": "t",
            "models": {"chat": "m"},
            "limits": {"concurrency": 4, "deadline": 10, "retries": 0, "requests_per_minute": 600},
        }
    )
    # 40 requests, 4 at a time: 10 waves of 10 s, the declared rate (600/min: 4 s), and a minute
    assert time_bound(40, target) == pytest.approx(60 + 100 + 4)
    probing = build_target(
        {
            "name": "t",
            "models": {"chat": "m"},
            "limits": {"concurrency": 4, "deadline": 10, "retries": 0},
            "rate_limit": {"probe": True, "budget": 8, "max_wait": 30},
        }
    )
    # and both bursts of 8 (chat completions, /responses) with the wait for the window between them
    assert time_bound(40, probing) == pytest.approx(160 + 30 + 4 * 10)


def test_a_stack_of_codings_is_a_verdict_before_any_is_undone():
    """Issue 30: "Content-Encoding: gzip, gzip, ..." thousands of times cost 711 MB for one request."""
    assert BodyDecoder("gzip, gzip").problem is None
    assert (
        BodyDecoder(", ".join(["gzip"] * 5)).problem == "Content-Encoding lists 5 codings; the suite undoes at most 4"
    )
    huge = BodyDecoder(", ".join(["gzip"] * 3000))
    assert huge.problem is not None
    assert "at least 64 codings" in huge.problem
    assert huge.decode(b"anything", 10) == b"anything"  # nothing is set up to undo them
