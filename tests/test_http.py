"""The one place that talks HTTP: every misbehaviour becomes part of an exchange, within bounded time."""

from __future__ import annotations

import gzip
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hostile import HostileServer
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from conformance.exchange import Request
from conformance.http import HEAD_BYTES, HttpClient, RequestNotSent
from conformance.profiles import Auth, Limits
from conformance.redaction import Redactor
from conformance.reference import ReferenceConfig, ReferenceServer

KEY = "sk-test-http-0123456789"


def client(base_url: str, **limits: float) -> HttpClient:
    return HttpClient(
        base_url=base_url,
        auth=Auth(),
        api_key=KEY,
        limits=Limits(**{"timeout": 1.0, "deadline": 1.5, **limits}),
        redactor=Redactor(KEY, base_url),
    )


LIST = Request("models/list", "GET", "/models", purpose="list")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_a_connect_failure():
    exchange = client(f"http://127.0.0.1:{free_port()}/v1").send(LIST)
    assert exchange.response is None
    assert exchange.failure is not None
    assert exchange.failure.kind == "connect"
    assert "<HOST>" in exchange.failure.message or "127.0.0.1" not in exchange.failure.message


@pytest.mark.parametrize(
    ("behaviour", "kind", "fragment", "bound"),
    [
        ("hang", "timeout", "no response headers within 1 s", 2.5),
        ("drop-mid-body", "protocol", "connection broke after 14 bytes", 2.5),
        ("endless", "deadline", "still arriving after 1.5 s", 3.5),
        ("slow-drip", "deadline", "still arriving after 1.5 s", 3.5),
        ("huge", "too-large", "exceeded 1048576 bytes", 5.0),
        ("close", "protocol", "connection failed before a response", 2.5),
        # every byte resets the read timeout: only the deadline ends these
        ("trickle-headers", "deadline", "no complete response headers within 1.5 s", 2.5),
        ("endless-headers", "deadline", "no complete response headers within 1.5 s", 2.5),
        ("gzip-bomb", "too-large", "exceeded 1048576 bytes", 2.5),
        ("huge-gzip", "too-large", "exceeded 1048576 bytes", 2.5),
    ],
)
def test_misbehaving_servers_end_in_a_failure_within_bounded_time(behaviour, kind, fragment, bound):
    with HostileServer(behaviour) as server:
        started = time.monotonic()
        exchange = client(server.base_url, max_body_bytes=1024 * 1024).send(LIST)
        took = time.monotonic() - started
    assert exchange.failure is not None, exchange
    assert exchange.failure.kind == kind
    assert fragment in exchange.failure.message
    assert took < bound
    if kind == "too-large":
        # only the first bytes of a body too large to keep stay, with its size and digest
        assert exchange.response is not None
        assert len(exchange.response.body) <= HEAD_BYTES
        assert exchange.response.body_size is not None
        assert exchange.response.body_size > 1024 * 1024
        assert exchange.response.body_sha256 is not None
        assert len(exchange.response.body_sha256) == 64


def test_invalid_utf8_is_kept_byte_exact():
    with HostileServer("invalid-utf8") as server:
        exchange = client(server.base_url).send(LIST)
    assert exchange.failure is None
    assert exchange.response is not None
    assert b"\xff\xfe" in exchange.response.body
    assert not exchange.json_body.ok
    assert "not valid UTF-8" in (exchange.json_body.error or "")


def test_gzip_is_decoded_and_noted():
    body = b'{"object":"list","data":[]}'

    async def models(request):
        return Response(gzip.compress(body), media_type="application/json", headers={"content-encoding": "gzip"})

    app = Starlette(routes=[Route("/v1/models", models)])
    with _serve(app) as base_url:
        exchange = client(base_url).send(LIST)
    assert exchange.response is not None
    assert exchange.response.body == body
    assert exchange.response.decoded_from == "gzip"


def test_stream_chunks_keep_their_boundaries_and_times():
    async def events():
        for index in range(3):
            yield f"data: {index}\n\n".encode()
            import asyncio

            await asyncio.sleep(0.1)

    async def stream(request):
        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/models", stream)])
    with _serve(app) as base_url:
        exchange = client(base_url).send(LIST)
    assert exchange.response is not None
    chunks = exchange.response.chunks
    assert [chunk.data for chunk in chunks] == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]
    assert chunks[2].t - chunks[0].t >= 0.15


def test_secrets_never_leave_the_client():
    async def echo(request):
        auth = request.headers.get("authorization", "")
        text = f'{{"seen": "{auth}", "url": "{request.url}"}}'
        return Response(text, media_type="application/json", headers={"x-echo": auth, "set-cookie": "s=1"})

    app = Starlette(routes=[Route("/v1/models", echo)])
    with _serve(app) as base_url:
        exchange = client(base_url).send(LIST)
    assert exchange.response is not None
    everything = repr(exchange)
    assert KEY not in everything
    assert base_url not in everything
    assert "<API_KEY>" in exchange.response.body.decode()
    assert exchange.request.url == "<BASE_URL>/models"
    assert "set-cookie" not in dict(exchange.response.headers)
    assert "authorization" not in dict(exchange.request.headers)


@pytest.mark.parametrize("style", ["openai", "llama"])
def test_an_announced_window_is_spent_at_once_then_waited_for_without_a_429(style):
    # 3 requests a second per key, announced with a reset (OpenAI) or as limit and remaining (Llama API)
    config = ReferenceConfig(api_keys=frozenset({KEY}), key_limit=(3, 1.0), key_limit_style=style)
    with ReferenceServer(config) as server:
        http = HttpClient(
            base_url=server.base_url,
            auth=Auth(),
            api_key=KEY,
            # without a reset, the window's length comes from the declared rate: 3 a second
            limits=Limits(requests_per_minute=180 if style == "llama" else None),
            redactor=Redactor(KEY, None),
        )
        started = time.monotonic()
        times = []
        for _ in range(7):
            assert http.send(LIST).status == 200
            times.append(time.monotonic() - started)
    assert http.requests_sent == 7
    assert http.retries == 0
    assert times[2] < 0.5  # the first three at once
    assert times[3] >= 0.95
    assert times[6] >= 1.95
    assert times[6] < 3.5


def test_a_key_wide_window_shared_by_models_and_threads_meets_no_429():
    # 5 requests a second per key, four threads and four models: every request once, none refused
    config = ReferenceConfig(api_keys=frozenset({KEY}), key_limit=(5, 1.0), key_limit_style="openai")
    models = ["Llama-3.3-70B-Instruct", "Llama-4-Scout-17B-16E-Instruct-FP8", None, "Llama-3.3-8B-Instruct"]
    with ReferenceServer(config) as server:
        http = HttpClient(
            base_url=server.base_url,
            auth=Auth(),
            api_key=KEY,
            limits=Limits(concurrency=4),
            redactor=Redactor(KEY, None),
        )
        requests = [
            LIST
            if model is None
            else Request(
                id=f"chat-{n}",
                purpose="",
                method="POST",
                path="/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
            )
            for n, model in enumerate(models * 5)
        ]
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda request: http.send(request).status, requests))
        took = time.monotonic() - started
    assert http.retries == 0
    assert http.requests_sent == 20
    assert set(statuses) == {200}
    assert took >= 2.9  # 20 at 5 a second: the window was waited for, three times


class _serve:
    def __init__(self, app: Starlette) -> None:
        import threading

        import uvicorn

        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)


def _limited_app(refusals: int, retry_after: str) -> tuple[Starlette, list[float]]:
    """Answers 429 (with this Retry-After) to its first ``refusals`` requests, then 200."""
    seen: list[float] = []

    async def models(request: object) -> Response:
        seen.append(time.monotonic())
        if len(seen) <= refusals:
            body = b'{"error": {"message": "slow down", "type": "requests", "param": null, "code": null}}'
            return Response(body, 429, {"retry-after": retry_after}, media_type="application/json")
        return Response(b'{"object": "list", "data": []}', media_type="application/json")

    return Starlette(routes=[Route("/v1/models", models)]), seen


def test_a_429_the_suite_caused_is_waited_out_and_retried():
    app, seen = _limited_app(2, "0.2")
    with _serve(app) as base_url:
        http = client(base_url)
        exchange = http.send(LIST)
    assert exchange.status == 200
    assert (http.requests_sent, http.retries) == (3, 2)
    assert seen[1] - seen[0] >= 0.19
    assert seen[2] - seen[1] >= 0.19
    assert http.waited_for_limits >= 0.35


@pytest.mark.parametrize(
    ("limits", "retry_after", "sent"),
    [({"retries": 1}, "0", 2), ({"max_retry_wait": 5}, "100", 1), ({"retries": 0}, "0", 1)],
    ids=["retries-exhausted", "wait-too-long", "no-retries"],
)
def test_a_429_is_kept_when_retrying_would_cost_more_than_the_profile_allows(limits, retry_after, sent):
    app, _ = _limited_app(10, retry_after)
    with _serve(app) as base_url:
        http = client(base_url, **limits)
        exchange = http.send(LIST)
    assert exchange.status == 429
    assert http.requests_sent == sent
    assert http.retries == sent - 1


def test_the_runs_retries_stop_at_its_budget():
    """Issue 30: retries took a live run past the dry run's bound; past the budget, an answer is kept as it is."""
    app, _ = _limited_app(100, "0")
    with _serve(app) as base_url:
        http = client(base_url, retries=4)
        http.retry_budget = 1
        exchanges = [http.send(LIST) for _ in range(2)]
    assert [exchange.status for exchange in exchanges] == [429, 429]
    assert (http.requests_sent, http.retries) == (2 + 1, 1)  # unbounded: 2 x (1 + 4)
    with HostileServer("close") as server:
        http = client(server.base_url)
        http.retry_budget = 1
        first, second = http.send(LIST), http.send(LIST)
    assert (len(first.earlier), len(second.earlier)) == (1, 0)  # the SDKs' two retries, while the budget lasts
    assert http.requests_sent == 3


def test_an_unpaced_request_keeps_its_429_at_once():
    app, seen = _limited_app(1, "30")
    unpaced = Request("burst/001", "GET", "/models", purpose="burst", paced=False)
    with _serve(app) as base_url:
        http = client(base_url)
        exchange = http.send(unpaced)
        after = http.send(LIST)
    assert exchange.status == 429
    assert (http.requests_sent, http.retries) == (2, 0)
    # the probe's 429 does not hold back the suite's other requests: the throttle never saw it
    assert after.status == 200
    assert seen[1] - seen[0] < 5


def test_a_request_that_cannot_be_sent_says_so_without_the_key():
    key = "sk-embedded\nnewline-0123456789"
    with HostileServer("hang") as server, pytest.raises(RequestNotSent) as caught:
        HttpClient(
            base_url=server.base_url, auth=Auth(), api_key=key, limits=Limits(), redactor=Redactor(key, None)
        ).send(LIST)
    message = str(caught.value)
    assert "GET /models could not be sent" in message
    assert "newline-0123456789" not in message
    assert "sk-embedded" not in message


def test_a_request_judged_by_its_status_keeps_only_the_first_bytes_of_a_large_answer():
    from dataclasses import replace

    with HostileServer("huge") as server:
        capped = client(server.base_url).send(replace(LIST, body_cap=16 * 1024))
    assert capped.failure is not None
    assert capped.failure.kind == "too-large"
    assert "keeps only the first 16384 bytes of this answer" in capped.failure.message
    assert capped.response is not None
    assert capped.response.status == 200
    assert len(capped.response.body) <= HEAD_BYTES


def _one_slot_app(seconds: float) -> Starlette:
    """A server that answers one request at a time, each taking ``seconds`` (the others wait for the slot)."""
    import asyncio

    slot = asyncio.Lock()

    async def models(request: object) -> Response:
        async with slot:
            await asyncio.sleep(seconds)
        return Response(b'{"object": "list", "data": []}', media_type="application/json")

    return Starlette(routes=[Route("/v1/models", models)])


def test_a_request_that_timed_out_behind_others_is_sent_again_alone_and_the_run_keeps_fewer_in_flight():
    """Issue 32: a server taking one request at a time left the queued ones without headers past the read timeout;
    each alone would have been answered."""
    with _serve(_one_slot_app(0.3)) as base_url:
        http = client(base_url, timeout=1.0, deadline=5.0, concurrency=4)
        requests = [Request(f"models/list-{n}", "GET", "/models", purpose="list") for n in range(4)]
        with ThreadPoolExecutor(4) as pool:
            exchanges = list(pool.map(http.send, requests))
    assert [exchange.status for exchange in exchanges] == [200] * 4
    retried = [exchange for exchange in exchanges if exchange.earlier]
    assert retried, "the queued request should have timed out once"
    assert all(attempt.timed_out() for exchange in retried for attempt in exchange.earlier)
    assert http.admission.allowed < 4
    assert http.admission.narrowed[0] == "4 -> 2"


def test_an_answer_that_comes_whole_may_take_as_long_as_its_tokens_at_the_measured_rate():
    from conformance.admission import Admission
    from conformance.stopping import RunStop

    admission = Admission(Limits(timeout=30, deadline=120), RunStop())
    assert admission.read_timeout(200, streamed=False) == 30  # nothing measured yet
    admission.measure(b'{"usage": {"completion_tokens": 100}}', 10.0)  # ten tokens a second
    assert admission.read_timeout(200, streamed=False) == 2 * 200 / 10 + 5
    assert admission.read_timeout(5000, streamed=False) == 120  # within the deadline
    assert admission.read_timeout(None, streamed=False) == 120  # no cap: the whole deadline
    assert admission.read_timeout(200, streamed=True) == 30  # tokens flow as they are written


def test_a_legacy_completion_without_max_tokens_may_take_the_whole_deadline():
    """Issue 32, found by the ten-run benchmark: OpenAI's default of 16 tokens is what completions' default-length
    probe tests, so its read timeout must not assume it (llama.cpp answers until the context is full: timed out at
    30 s in one run of ten, answered in another)."""
    from conformance.budget import answer_bound, token_bound

    def completion(body):
        return Request("completions/x", "POST", "/completions", purpose="x", json=body)

    default = completion({"model": "m", "prompt": "Once upon a time"})
    assert token_bound(default)[1] == 16  # the budget still counts OpenAI's default
    assert answer_bound(default) is None
    assert answer_bound(completion({"model": "m", "prompt": "Once", "max_tokens": 8})) == 8
    chat = Request("chat/x", "POST", "/chat/completions", purpose="x", json={"model": "m", "messages": []})
    assert answer_bound(chat) is None
    assert answer_bound(Request("models/list", "GET", "/models", purpose="list")) == 0


def _interrupting_app() -> Starlette:
    """llama-cpp-python's server as it comes (interrupt_requests): a stream ends with [DONE] and no finish_reason
    when the next request arrives while it is answered."""
    import asyncio

    arrivals = [0]

    async def chat(request: object) -> StreamingResponse:
        arrivals[0] += 1
        seen = arrivals[0]
        first = b'data: {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": null}]}\n\n'
        rest = b'data: {"choices": [{"index": 0, "delta": {"content": "Hi."}, "finish_reason": "stop"}]}\n\n'

        async def events():
            yield first
            await asyncio.sleep(0.3)
            if arrivals[0] == seen:
                yield rest
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def test_a_stream_cut_off_by_the_next_request_is_sent_again_alone_with_none_beside_it():
    with _serve(_interrupting_app()) as base_url:
        http = client(base_url, timeout=5.0, deadline=10.0, concurrency=4)
        body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
        requests = [Request(f"streaming/s-{n}", "POST", "/chat/completions", purpose="s", json=body) for n in range(4)]
        with ThreadPoolExecutor(4) as pool:
            exchanges = list(pool.map(http.send, requests))
    assert [exchange.cut_short() for exchange in exchanges] == [False] * 4
    retried = [exchange for exchange in exchanges if exchange.earlier]
    assert retried, "a stream should have been cut off once"
    assert all(attempt.cut_short() for exchange in retried for attempt in exchange.earlier)
    assert http.admission.allowed < 4
