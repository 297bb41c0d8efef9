"""The one place that talks HTTP.

``HttpClient.send`` turns a ``Request`` into an ``Exchange``: it reads the response incrementally,
keeps every chunk with its arrival time, and never waits longer than the target's limits allow (a
timeout between reads, a deadline for the whole response, a cap on the body size). Transport
failures become part of the exchange, never exceptions, so a misbehaving target yields verdicts.
Secrets are removed before the exchange leaves this module.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx2

from conformance import __version__
from conformance.budget import token_bound
from conformance.exchange import Chunk, Exchange, RecordedRequest, Request, Response, TransportFailure
from conformance.profiles import Auth, Limits
from conformance.redaction import Redactor
from conformance.throttle import Throttle

USER_AGENT = f"openai-conformance/{__version__}"
# sent when a probe asks for a wrong key; it is not a secret and may appear in recordings
WRONG_KEY = "sk-conformance-wrong-key-0000000000000000"


class HttpClient:
    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth,
        api_key: str | None,
        limits: Limits,
        redactor: Redactor,
        max_tokens_param: str = "max_tokens",
    ):
        self._base_url = base_url.rstrip("/")
        self._auth = auth
        self._api_key = api_key
        self._limits = limits
        self._redactor = redactor
        self._throttle = Throttle(limits.requests_per_minute, limits.tokens_per_minute)
        self._max_tokens_param = max_tokens_param
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(limits.timeout),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx2.Limits(max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency),
            trust_env=False,
        )
        self.requests_sent = 0
        # 429s the suite caused itself and absorbed by waiting and retrying
        self.retries = 0
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _auth_headers(self, request: Request) -> list[tuple[str, str]]:
        if request.auth == "none" or self._auth.kind == "none":
            return []
        if request.auth == "malformed":
            return [("authorization", "Bearer")]
        key = WRONG_KEY if request.auth == "wrong-key" else (self._api_key or "")
        value = f"{self._auth.scheme} {key}" if self._auth.scheme else key
        return [(self._auth.header, value)]

    @property
    def waited_for_limits(self) -> float:
        """Seconds requests were held back by the limits (declared, announced or imposed by a 429)."""
        return self._throttle.stats.waited

    def send(self, request: Request) -> Exchange:
        """Make the exchange. A paced request waits for the limits, and a 429 it gets is retried
        after the wait the target asks for (up to ``limits.retries`` times); an unpaced one (the
        rate-limit probe) goes at once and keeps whatever it gets."""
        if not request.paced:
            return self._send_once(request)
        tokens = sum(bound or 0 for bound in token_bound(request, self._max_tokens_param)[:2])
        # targets announce their limits per model
        model = request.json.get("model") if isinstance(request.json, dict) else None
        bucket = model if isinstance(model, str) else ""
        attempt = 0
        while True:
            ticket = self._throttle.acquire(tokens, bucket)
            exchange = self._send_once(request)
            headers = {name.lower(): value for name, value in exchange.response.headers} if exchange.response else {}
            delay = self._throttle.release(ticket, exchange.status, headers)
            if delay is None or attempt >= self._limits.retries or delay > self._limits.max_retry_wait:
                return exchange
            attempt += 1
            with self._count_lock:
                self.retries += 1

    def _send_once(self, request: Request) -> Exchange:
        with self._count_lock:
            self.requests_sent += 1
        url = self._base_url + request.path
        body = request.body_bytes()
        sent_headers = request.header_items()
        recorded = RecordedRequest(
            method=request.method,
            url=self._redactor.text(url),
            headers=tuple(sent_headers),
            auth=request.auth,
            body=None if body is None else self._redactor.data(body),
        )
        started_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        t0 = time.monotonic()
        response: Response | None = None
        failure: TransportFailure | None = None
        ttfb: float | None = None
        try:
            with self._client.stream(
                request.method, url, content=body, headers=sent_headers + self._auth_headers(request)
            ) as reply:
                ttfb = time.monotonic() - t0
                chunks, failure = self._read_body(reply, t0)
                encoding = reply.headers.get("content-encoding", "").strip().lower()
                response = Response(
                    status=reply.status_code,
                    reason=reply.reason_phrase,
                    http_version=reply.http_version,
                    headers=self._redactor.headers(list(reply.headers.multi_items())),
                    chunks=self._redactor.chunks(chunks),
                    decoded_from=encoding if encoding not in ("", "identity") else None,
                )
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            failure = TransportFailure("connect", self._redactor.text(f"cannot connect: {_reason(exc)}"))
        except httpx2.TimeoutException:
            failure = TransportFailure(
                "timeout", f"no response headers within {self._limits.timeout:g} s (the read timeout)"
            )
        except (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError) as exc:
            failure = TransportFailure(
                "protocol", self._redactor.text(f"connection failed before a response: {_reason(exc)}")
            )
        return Exchange(
            id=request.id,
            purpose=request.purpose,
            request=recorded,
            response=response,
            failure=failure,
            started_at=started_at,
            elapsed=round(time.monotonic() - t0, 4),
            ttfb=None if ttfb is None else round(ttfb, 4),
        )

    def _read_body(self, reply: httpx2.Response, t0: float) -> tuple[list[Chunk], TransportFailure | None]:
        chunks: list[Chunk] = []
        size = 0
        limits = self._limits
        try:
            for data in reply.iter_bytes():
                now = time.monotonic() - t0
                chunks.append(Chunk(round(now, 4), data))
                size += len(data)
                if size > limits.max_body_bytes:
                    return chunks, TransportFailure(
                        "too-large", f"body exceeded {limits.max_body_bytes} bytes; reading stopped"
                    )
                if now > limits.deadline:
                    return chunks, TransportFailure(
                        "deadline", f"body still arriving after {limits.deadline:g} s (the deadline); reading stopped"
                    )
        except httpx2.TimeoutException:
            return chunks, TransportFailure(
                "timeout", f"body stalled: no data for {limits.timeout:g} s after {size} bytes (the read timeout)"
            )
        except (httpx2.RemoteProtocolError, httpx2.ReadError) as exc:
            return chunks, TransportFailure(
                "protocol", self._redactor.text(f"connection broke after {size} bytes: {_reason(exc)}")
            )
        except httpx2.DecodingError as exc:
            return chunks, TransportFailure("protocol", f"body could not be decoded: {_reason(exc)}")
        return chunks, None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
