"""The capture proxy: it streams (the app has the first chunk before the upstream has finished), keeps
every exchange redacted (the key in no encoding), survives an app that hangs up mid-stream, and says
what it cannot do in one line."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conformance import capture
from conformance.capture import CaptureProxy
from conformance.cassettes import CassetteSet
from conformance.redaction import Redactor

KEY = "sk-capture-secret-0123456789abcdef"


class Upstream:
    """A stub API: /v1/stream sends one event, waits for ``go``, then the rest; /v1/echo echoes the
    request's headers (the key among them) in its body and headers; /v1/slow streams until the
    client goes."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.finished = threading.Event()
        self.slow_ended = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                if self.path == "/v1/echo":
                    auth = self.headers.get("authorization", "")
                    body = json.dumps(
                        {"seen": auth, "b64": base64.b64encode(auth.encode()).decode(), "hex": auth.encode().hex()}
                    ).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("x-echo", auth)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()

                def event(data: str) -> None:
                    raw = f"data: {data}\n\n".encode()
                    self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                    self.wfile.flush()

                if self.path == "/v1/stream":
                    event('{"n":1}')
                    stub.go.wait(10)
                    event('{"n":2}')
                    event("[DONE]")
                    self.wfile.write(b"0\r\n\r\n")
                    stub.finished.set()
                    return
                try:
                    for number in range(200):
                        event(json.dumps({"n": number}))
                        if stub.slow_ended.wait(0.02):
                            break
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
                finally:
                    stub.slow_ended.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.go.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    stub = Upstream()
    yield stub
    stub.close()


@pytest.fixture
def proxy(upstream: Upstream, tmp_path: Path) -> Iterator[CaptureProxy]:
    found = CaptureProxy(upstream.url, tmp_path / "traffic", timeout=10)
    found.start()
    yield found
    found.stop()


def _post(proxy: CaptureProxy, path: str, body: bytes = b"{}") -> http.client.HTTPResponse:
    host, port = proxy.base_url.split("//", 1)[1].split("/", 1)[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", f"/v1{path}", body=body, headers={"authorization": f"Bearer {KEY}"})
    return connection.getresponse()


def _captured(proxy: CaptureProxy) -> CassetteSet:
    proxy.describe()
    return CassetteSet.load(proxy.out)


def test_the_app_gets_the_first_chunk_before_the_upstream_has_finished(upstream: Upstream, proxy: CaptureProxy) -> None:
    response = _post(proxy, "/stream")
    first = response.readline() + response.readline()  # the upstream holds the rest back until told
    assert first == b'data: {"n":1}\n\n'
    assert not upstream.finished.is_set(), "the proxy passed the chunk on only after the upstream finished"
    upstream.go.set()
    rest = response.read()
    assert rest == b'data: {"n":2}\n\ndata: [DONE]\n\n'
    exchange = next(iter(_wait_for(proxy, 1).values()))
    assert exchange.response is not None
    assert next(chunk.data for chunk in exchange.response.chunks) == b'data: {"n":1}\n\n'
    assert exchange.response.body == first + rest
    assert exchange.request.url == "<BASE_URL>/stream"


def _wait_for(proxy: CaptureProxy, count: int) -> dict:
    for _ in range(200):
        if proxy.captured >= count:
            break
        threading.Event().wait(0.02)
    cassettes = _captured(proxy)
    return {exchange_id: cassettes.get(exchange_id) for exchange_id in sorted(cassettes.ids())}


def test_the_key_the_app_sent_is_in_no_captured_file_in_any_encoding(proxy: CaptureProxy) -> None:
    response = _post(proxy, "/echo")
    answer = json.loads(response.read())
    assert answer["seen"] == f"Bearer {KEY}"  # the key went upstream: the app's requests pass unchanged
    assert len(response.headers.get_all("date") or []) <= 1
    exchange = next(iter(_wait_for(proxy, 1).values()))
    assert exchange.request.auth == "key"
    assert "authorization" not in dict(exchange.request.headers)
    assert KEY not in exchange.response.body.decode()
    redactor = Redactor(KEY, None)
    for path in proxy.out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not redactor.contains_secret(data), path
            assert KEY.encode() not in data
            assert base64.b64encode(f"Bearer {KEY}".encode()) not in data


def test_an_app_that_hangs_up_mid_stream_ends_its_exchange_not_the_proxy(
    upstream: Upstream, proxy: CaptureProxy
) -> None:
    host, port = proxy.base_url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /v1/slow HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nauthorization: Bearer "
            + KEY.encode()
            + b"\r\n\r\n{}"
        )
        received = b""
        while b"data:" not in received:  # the headers and the first event may come in separate reads
            piece = raw.recv(4096)
            assert piece, "the proxy closed the connection before the first event"
            received += piece
    # the app is gone; the proxy notices when it next writes, and stops reading the upstream
    assert upstream.slow_ended.wait(10)
    response = _post(proxy, "/echo")  # and it goes on serving
    assert response.status == 200
    response.read()
    captured = _wait_for(proxy, 2)
    slow = next(e for e in captured.values() if e.request.url.endswith("/slow"))
    assert slow.failure is not None
    assert slow.failure.kind == "app-gone"
    assert "closed the connection" in slow.failure.message
    assert slow.response is not None
    assert slow.response.body.startswith(b"data:")


def test_an_unreachable_upstream_is_a_502_for_the_app_and_a_recorded_failure(tmp_path: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    proxy = CaptureProxy(f"http://127.0.0.1:{port}/v1", tmp_path / "traffic", timeout=5)
    proxy.start()
    try:
        response = _post(proxy, "/chat/completions")
        assert response.status == 502
        response.read()
        exchange = next(iter(_wait_for(proxy, 1).values()))
        assert exchange.failure is not None
        assert exchange.failure.kind == "connect"
        assert exchange.request.json == {}
    finally:
        proxy.stop()


def test_requests_outside_the_upstream_path_and_oversized_bodies_are_refused(
    proxy: CaptureProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, port = proxy.base_url.split("//", 1)[1].split("/", 1)[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/elsewhere/models")
    response = connection.getresponse()
    assert response.status == 404
    assert proxy.base_url.encode() in response.read()
    monkeypatch.setattr(capture, "MAX_REQUEST_BYTES", 10)
    response = _post(proxy, "/echo", b"x" * 11)
    assert response.status == 413
    assert proxy.captured == 0


def test_numbers_go_on_from_an_earlier_capture_in_the_same_folder(upstream: Upstream, tmp_path: Path) -> None:
    out = tmp_path / "traffic"
    for _ in range(2):
        proxy = CaptureProxy(upstream.url, out, timeout=10)
        proxy.start()
        _post(proxy, "/echo").read()
        _wait_for(proxy, 1)
        proxy.stop()
    assert sorted(path.name for path in out.glob("0*.yaml")) == ["0001-post-echo.yaml", "0002-post-echo.yaml"]
