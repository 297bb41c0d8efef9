"""A recording proxy: an application's own traffic, captured as a cassette set.

The application points its ``base_url`` at the proxy; each request goes to the upstream as it came
(its key included: the proxy holds none of its own) and each answer comes back as it arrives, chunk
by chunk, so a stream keeps its chunking and timing. Only hop-by-hop headers are not passed on, and
the upstream is asked for an uncompressed body (``accept-encoding: identity``), which every client
reads. Each exchange is then redacted (the key the app sent, in every encoding
``conformance.redaction`` knows, and the upstream's URL) and written as a cassette of the set, which
``conformance migrate`` replays against a candidate.

Bounded: a request body over ``MAX_REQUEST_BYTES`` is refused (413); an answer is passed on whole
but kept only up to the body cap; every upstream read has a timeout and every exchange a deadline.
An app that hangs up mid-stream ends that exchange (kept as far as it went, marked ``app-gone``), not
the proxy.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx2

from conformance import __version__
from conformance.cassettes import CassetteWriter, new_set_info, write_set_info
from conformance.decoding import BodyDecoder, DecodingFailed, TooLarge
from conformance.exchange import AuthMode, Chunk, Exchange, RecordedRequest, Response, TransportFailure
from conformance.redaction import Redactor

MAX_REQUEST_BYTES = 32 * 1024**2
# of an answer, this much is kept in the cassette (all of it reaches the app)
MAX_KEPT_BYTES = 8 * 1024**2
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
    }
)
# request headers that carry the key (or identify the account): passed on, never stored
CREDENTIAL_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "openai-organization", "openai-project"})
TRAFFIC_TARGET = "traffic"
_SLUG = re.compile(r"[^a-z0-9]+")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _key_of(headers: list[tuple[str, str]]) -> str | None:
    """The key the app sent (Bearer token, or an api-key header's value)."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "authorization":
            scheme, _, token = value.strip().partition(" ")
            return token.strip() or scheme
        if lowered in ("api-key", "x-api-key"):
            return value.strip()
    return None


class CaptureProxy:
    """``start()`` returns the base URL the app should use; ``stop()`` ends it and describes the set."""

    def __init__(
        self,
        upstream: str,
        out: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 120.0,
        deadline: float = 1800.0,
        announce_each: bool = False,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.prefix = urlsplit(self.upstream).path.rstrip("/")
        self.out = out
        self.writer = CassetteWriter(out)
        self.timeout = timeout
        self.deadline = deadline
        self.announce_each = announce_each
        self._numbers = itertools.count(_first_free_number(out))
        self._lock = threading.Lock()
        self.captured = 0
        self.started_at = _now()
        self._client = httpx2.Client(timeout=httpx2.Timeout(timeout), follow_redirects=False, trust_env=False)
        self._server = _Server((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="capture", daemon=True)
        self._thread.start()
        return self.base_url

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
        self.describe()

    def describe(self) -> None:
        info = new_set_info(
            TRAFFIC_TARGET,
            "openai",
            self.started_at,
            f"an application's traffic through conformance capture {__version__} (upstream <BASE_URL>)",
            {"name": TRAFFIC_TARGET, "traffic": True},
        )
        write_set_info(self.out, info)

    def next_id(self, method: str, path: str) -> str:
        with self._lock:
            number = next(self._numbers)
        slug = _SLUG.sub("-", f"{method} {path.split('?', 1)[0]}".lower()).strip("-")[:60]
        return f"{number:04d}-{slug}"

    def keep(self, exchange: Exchange) -> None:
        # kept whatever became of it (an unreachable upstream too): the request is the app's
        self.writer.write(exchange)
        with self._lock:
            self.captured += 1
        if self.announce_each:
            status = exchange.status if exchange.status is not None else exchange.failure.kind  # type: ignore[union-attr]
            print(f"captured {exchange.id}: {exchange.describe()} -> {status}", flush=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """An app that drops its connection between requests is no error; anything else is one line."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        print(f"capture: a request failed in the proxy: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def _first_free_number(out: Path) -> int:
    """Numbers go on from the highest already in the folder (a capture may be resumed)."""
    highest = 0
    if out.is_dir():
        for path in out.glob("[0-9][0-9][0-9][0-9]-*.yaml"):
            highest = max(highest, int(path.name[:4]))
    return highest + 1


def _handler(proxy: CaptureProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"conformance-capture/{__version__}"

        def log_message(self, format: str, *args: object) -> None:
            return  # the proxy says what it captured, never request lines with their query strings

        def do_GET(self) -> None:
            self._forward()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

        def _refuse(self, status: int, message: str) -> None:
            body = ('{"error":{"message":"' + message + '","type":"capture_proxy_error"}}').encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _read_body(self) -> bytes | None:
            length = self.headers.get("content-length")
            if length is not None:
                size = int(length) if length.isdigit() else -1
                if size < 0 or size > MAX_REQUEST_BYTES:
                    self._refuse(413, f"request body over {MAX_REQUEST_BYTES} bytes or of no valid length")
                    return None
                return self.rfile.read(size)
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                parts, total = [], 0
                while True:
                    line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                    size = int(line, 16) if line else 0
                    total += size
                    if total > MAX_REQUEST_BYTES:
                        self._refuse(413, f"request body over {MAX_REQUEST_BYTES} bytes")
                        return None
                    if size == 0:
                        self.rfile.readline(1024)
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline(1024)
            return b""

        def _forward(self) -> None:
            path = self.path
            if not path.startswith(proxy.prefix + "/") and path != proxy.prefix:
                self._refuse(404, f"the proxy forwards {proxy.prefix}/... only; set base_url to {proxy.base_url}")
                return
            relative = path[len(proxy.prefix) :] or "/"
            body = self._read_body()
            if body is None:
                return
            sent = [(name, value) for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP]
            key = _key_of(sent)
            redactor = Redactor(key, proxy.upstream)
            auth: AuthMode = "key" if key else "none"
            recorded = RecordedRequest(
                method=self.command,
                url=redactor.text(f"{proxy.upstream}{relative}"),
                headers=tuple(
                    (name.lower(), redactor.text(value))
                    for name, value in sent
                    if name.lower() not in CREDENTIAL_HEADERS
                ),
                auth=auth,
                body=redactor.data(body) if body else None,
            )
            exchange_id = proxy.next_id(self.command, relative)
            exchange = _relay(self, proxy, relative, body or None, sent, recorded, redactor, exchange_id)
            proxy.keep(exchange)

    return Handler


def _relay(
    handler: BaseHTTPRequestHandler,
    proxy: CaptureProxy,
    relative: str,
    body: bytes | None,
    sent: list[tuple[str, str]],
    recorded: RecordedRequest,
    redactor: Redactor,
    exchange_id: str,
) -> Exchange:
    """Send the request upstream and pass each piece of the answer on as it comes; the exchange as
    it went (redacted)."""
    started_at, t0 = _now(), time.monotonic()
    headers = [*sent, ("accept-encoding", "identity")]
    chunks: list[Chunk] = []
    failure: TransportFailure | None = None
    response: Response | None = None
    ttfb: float | None = None
    kept = total = 0
    digest = hashlib.sha256()
    try:
        with proxy._client.stream(handler.command, proxy.upstream + relative, content=body, headers=headers) as reply:
            ttfb = time.monotonic() - t0
            decoder = BodyDecoder(reply.headers.get("content-encoding"))
            passed = [(n, v) for n, v in reply.headers.multi_items() if n.lower() not in HOP_BY_HOP]
            length = reply.headers.get("content-length")
            chunked = length is None or "transfer-encoding" in reply.headers
            try:
                # the upstream's own Server and Date pass on as they came, not the proxy's
                handler.send_response_only(reply.status_code, reply.reason_phrase)
                for name, value in passed:
                    handler.send_header(name, value)
                if chunked:
                    handler.send_header("transfer-encoding", "chunked")
                else:
                    handler.send_header("content-length", length or "0")
                handler.end_headers()
                handler.wfile.flush()
                for raw in reply.iter_raw():
                    total += len(raw)
                    if chunked:
                        handler.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                    else:
                        handler.wfile.write(raw)
                    handler.wfile.flush()
                    if kept < MAX_KEPT_BYTES:
                        data = decoder.decode(raw, MAX_KEPT_BYTES - kept)
                        if data:
                            chunks.append(Chunk(round(time.monotonic() - t0, 4), data))
                            kept += len(data)
                            digest.update(data)
                    if time.monotonic() - t0 > proxy.deadline:
                        failure = TransportFailure("deadline", f"answer still arriving after {proxy.deadline:g} s")
                        break
                if chunked:
                    handler.wfile.write(b"0\r\n\r\n")
                    handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
                failure = TransportFailure(
                    "app-gone", f"the application closed the connection after {total} bytes ({type(exc).__name__})"
                )
                handler.close_connection = True
            except (TooLarge, DecodingFailed) as exc:
                failure = TransportFailure("too-large", f"the answer was passed on but not kept whole: {exc}")
            except httpx2.HTTPError as exc:
                failure = TransportFailure("protocol", redactor.text(f"upstream broke after {total} bytes: {exc}"))
                handler.close_connection = True
            cut = kept >= MAX_KEPT_BYTES or (failure is not None and failure.kind == "too-large")
            response = Response(
                status=reply.status_code,
                reason=redactor.text(reply.reason_phrase),
                http_version=reply.http_version,
                headers=redactor.headers(reply.headers.multi_items()),
                chunks=redactor.chunks(chunks),
                decoded_from=decoder.encoding,
                body_size=total if cut else None,
                body_sha256=digest.hexdigest() if cut else None,
            )
    except httpx2.HTTPError as exc:
        kind = "connect" if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout) else "protocol"
        failure = TransportFailure(kind, redactor.text(f"upstream unreachable: {exc}"))
        with contextlib.suppress(OSError):  # the app is gone already
            handler._refuse(502, "the upstream could not be reached")  # type: ignore[attr-defined]
    return Exchange(
        id=exchange_id,
        purpose="captured from the application",
        request=recorded,
        response=response,
        failure=failure,
        started_at=started_at,
        elapsed=round(time.monotonic() - t0, 4),
        ttfb=None if ttfb is None else round(ttfb, 4),
    )
