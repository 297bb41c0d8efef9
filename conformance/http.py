"""The one place that talks HTTP.

``HttpClient.send`` turns a ``Request`` into an ``Exchange``: it reads the response incrementally,
keeps every chunk with its arrival time, and never waits longer than the target's limits allow: a
timeout between reads, a deadline for the whole request from its first byte sent to the last byte
received, headers included, whatever the target trickles (``conformance.deadline``); a cap on the
body, compressed and decoded alike (``conformance.decoding``), and on what a whole run keeps. A body
over a cap is kept as its first bytes, its size and its digest. Transport failures become part of
the exchange, never exceptions, so a misbehaving target yields verdicts. Secrets are removed before
the exchange leaves this module.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import httpx2

from conformance import __version__
from conformance.admission import Admission
from conformance.answer_parts import MAX_HEADERS, head_of, headers_as_sent
from conformance.body_read import read_body, reason
from conformance.budget import answer_bound, token_bound
from conformance.deadline import Bound, BoundedTransport, bounded
from conformance.decoding import ACCEPT_ENCODING, BodyDecoder
from conformance.errors import RequestNotSent
from conformance.exchange import Chunk, Exchange, RecordedRequest, Request, Response, TransportFailure, sendable
from conformance.limit_headers import with_retry_hint
from conformance.profiles import Auth, Limits
from conformance.redaction import Redactor
from conformance.stopping import RunStop, RunStopped
from conformance.throttle import Throttle

USER_AGENT = f"openai-conformance/{__version__}"
# sent when a probe asks for a wrong key; it is not a secret and may appear in recordings
WRONG_KEY = "sk-conformance-wrong-key-0000000000000000"
# of a body too large to keep, this much is kept (and its size and digest)
HEAD_BYTES = 16 * 1024
# of an answer not kept because the run's budget is spent, this much is kept
BUDGET_HEAD_BYTES = 1024
# a connection dropped or refused before any answer is tried again this many times, as the SDKs do
TRANSPORT_RETRIES = 2


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
        stop: RunStop | None = None,
    ):
        self._base_url = base_url.rstrip("/")
        self._auth = auth
        self._api_key = api_key
        self._limits = limits
        self._redactor = redactor
        self._stop = stop or RunStop()
        self.stop = self._stop
        # retries the whole run may make (None: no bound); the dry run's bound counts them
        self.retry_budget: int | None = None
        self._throttle = Throttle(
            limits.requests_per_minute, limits.tokens_per_minute, sleep=self._pause, longest_wait=limits.max_retry_wait
        )
        self._max_tokens_param = max_tokens_param
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(limits.timeout),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT, "accept-encoding": ACCEPT_ENCODING},
            transport=BoundedTransport(max_connections=limits.concurrency),
            trust_env=False,
        )
        self.requests_sent = 0
        # 429s the suite caused itself and absorbed by waiting and retrying
        self.retries = 0
        # body bytes kept by this run so far (bounded by limits.max_run_bytes)
        self.kept_bytes = 0
        self._count_lock = threading.Lock()
        # the time answers took, for the ETA
        self._elapsed = 0.0
        self._answered = 0
        # how many requests are in flight, and how long each may wait for its answer (conformance.admission)
        self.admission = Admission(limits, self._stop)

    def _pause(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise RunStopped(self._stop.reason or "the run was stopped")

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

    def eta(self, requests: int) -> float | None:
        """Seconds the next ``requests`` requests will take, at the latency seen so far, under the
        limits (None before any answer: nothing says how long one takes)."""
        with self._count_lock:
            if not self._answered:
                return None
            latency = self._elapsed / self._answered
        return self._throttle.projected(requests, latency, self._limits.concurrency)

    def holding(self) -> float:
        """Seconds until the last request now held back for the limits may start."""
        return self._throttle.holding()

    @property
    def waited_for_limits(self) -> float:
        """Seconds requests were held back by the limits (declared, announced or imposed by a 429)."""
        return self._throttle.stats.waited

    def _may_retry(self) -> bool:
        """Take one retry from the run's budget; False when it is spent (the answer is judged as it is)."""
        with self._count_lock:
            if self.retry_budget is None:
                return True
            if self.retry_budget <= 0:
                return False
            self.retry_budget -= 1
            return True

    def send(self, request: Request) -> Exchange:
        """Make the exchange. A paced request waits for the limits, and a 429 it gets is retried
        after the wait the target asks for (up to ``limits.retries`` times); an unpaced one (the
        rate-limit probe) goes at once and keeps whatever it gets."""
        try:
            return self._send_paced(request) if request.paced else self._send_unpaced(request)
        except RunStopped:
            return self._stopped(request)

    def _send_unpaced(self, request: Request) -> Exchange:
        """At once, keeping whatever comes back (a 429 is what the burst is for); a connection dropped
        or refused before any answer is still tried again, as the SDKs do."""
        earlier: list[Exchange] = []
        while True:
            exchange, _ = self._send_admitted(request)
            if not _dropped(exchange) or len(earlier) >= TRANSPORT_RETRIES or not self._may_retry():
                return replace(exchange, earlier=tuple(earlier)) if earlier else exchange
            earlier.append(exchange)
            self._pause(0.5 * 2 ** (len(earlier) - 1))

    def _send_paced(self, request: Request) -> Exchange:
        """Send within the limits; retry, keeping each retried attempt in ``exchange.earlier``:
        a connection dropped or refused before any answer (twice, after 0.5 and 1 s, on a fresh
        connection, as the SDKs do), and a rate limit the suite caused (a 429, or another status that
        says so), after the wait the target asks for."""
        tokens = sum(bound or 0 for bound in token_bound(request, self._max_tokens_param)[:2])
        # targets announce their limits per model
        model = request.json.get("model") if isinstance(request.json, dict) else None
        bucket = model if isinstance(model, str) else ""
        attempt = dropped = 0
        earlier: list[Exchange] = []
        alone = False
        while True:
            ticket = self._throttle.acquire(tokens, bucket)
            exchange, others = self._send_admitted(request, alone=alone)
            headers = {name.lower(): value for name, value in exchange.response.headers} if exchange.response else {}
            limited = exchange.rate_limited() is not None
            if limited:
                assert exchange.response is not None
                headers = with_retry_hint(exchange.response.body, headers)
            delay = self._throttle.release(ticket, 429 if limited else exchange.status, headers)
            if _dropped(exchange) and dropped < TRANSPORT_RETRIES and self._may_retry():
                dropped += 1
                earlier.append(exchange)
                self._pause(0.5 * 2 ** (dropped - 1))
                continue
            if (exchange.timed_out() or exchange.cut_short()) and others and not alone and self._may_retry():
                # the target may have queued it behind the others, or ended its stream for them (llama-cpp-python
                # interrupts a stream when the next request comes): fewer at a time, and this one again, alone
                self.admission.narrow()
                alone = True
                earlier.append(exchange)
                continue
            if (
                delay is None
                or attempt >= self._limits.retries
                or delay > self._limits.max_retry_wait
                or not self._may_retry()
            ):
                return replace(exchange, earlier=tuple(earlier)) if earlier else exchange
            attempt += 1
            earlier.append(exchange)
            with self._count_lock:
                self.retries += 1

    def _send_admitted(self, request: Request, *, alone: bool = False) -> tuple[Exchange, int]:
        """Send once, as one of the requests the run keeps in flight; and how many others were in flight with it
        (when it began, or admitted before it ended)."""
        others = self.admission.enter(alone=alone)
        entered = self.admission.entries
        try:
            body = request.json
            streamed = isinstance(body, dict) and body.get("stream") is True
            cap = answer_bound(request, self._max_tokens_param)
            exchange = self._send_once(request, self.admission.read_timeout(cap, streamed=streamed))
            others += self.admission.entries - entered
        finally:
            self.admission.leave(alone=alone)
        response = exchange.response
        if response is not None and exchange.failure is None and response.status == 200 and not streamed:
            self.admission.measure(b"".join(chunk.data for chunk in response.chunks), exchange.elapsed)
        return exchange, others

    def _recorded(self, request: Request) -> RecordedRequest:
        body = request.body_bytes()
        return RecordedRequest(
            method=request.method,
            url=self._redactor.text(self._base_url + sendable(request.path)),
            headers=tuple(request.header_items()),
            auth=request.auth,
            body=None if body is None else self._redactor.data(body),
        )

    def _stopped(self, request: Request) -> Exchange:
        """The exchange of a request the stopped run did not send (or cut short)."""
        reason = self._stop.reason or "the run was stopped"
        return Exchange(
            id=request.id,
            purpose=request.purpose,
            request=self._recorded(request),
            response=None,
            failure=TransportFailure("stopped", f"not completed: {reason}"),
            started_at=_now(),
            elapsed=0.0,
            ttfb=None,
        )

    def _send_once(self, request: Request, read_timeout: float | None = None) -> Exchange:
        if self._stop.stopped:
            return self._stopped(request)
        with self._count_lock:
            self.requests_sent += 1
        url = self._base_url + sendable(request.path)
        recorded = self._recorded(request)
        started_at = _now()
        t0 = time.monotonic()
        limits = self._limits
        response: Response | None = None
        failure: TransportFailure | None = None
        ttfb: float | None = None
        with bounded(t0 + limits.deadline, self._stop.event) as bound:
            try:
                with self._client.stream(
                    request.method,
                    url,
                    content=request.body_bytes(),
                    headers=request.header_items() + self._auth_headers(request),
                    timeout=httpx2.Timeout(read_timeout or limits.timeout, connect=limits.timeout),
                ) as reply:
                    ttfb = time.monotonic() - t0
                    headers = headers_as_sent(reply)
                    if len(headers) > MAX_HEADERS:
                        chunks, cut = (), None
                        failure = TransportFailure(
                            "protocol",
                            f"the answer came with {len(headers)} header lines; the suite reads at most {MAX_HEADERS}",
                        )
                    else:
                        chunks, failure, cut = self._read_body(reply, t0, bound, request.body_cap, read_timeout)
                    response = Response(
                        status=reply.status_code,
                        reason=self._redactor.text(reply.reason_phrase),
                        http_version=reply.http_version,
                        headers=self._redactor.headers(headers[:MAX_HEADERS]),
                        chunks=chunks,
                        decoded_from=BodyDecoder(reply.headers.get("content-encoding")).encoding,
                        body_size=cut[0] if cut else None,
                        body_sha256=cut[1] if cut else None,
                    )
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                failure = self._cut(bound) or TransportFailure(
                    "connect", self._redactor.text(f"cannot connect: {reason(exc)}")
                )
            except httpx2.TimeoutException:
                failure = self._cut(bound) or TransportFailure(
                    "timeout", f"no response headers within {read_timeout or limits.timeout:g} s (the read timeout)"
                )
            except (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError) as exc:
                failure = self._cut(bound) or TransportFailure(
                    "protocol", self._redactor.text(f"connection failed before a response: {reason(exc)}")
                )
            except (httpx2.HTTPError, ValueError, UnicodeError, OverflowError, OSError) as exc:
                raise RequestNotSent(
                    self._redactor.text(
                        f"{request.method} {request.path} could not be sent: {type(exc).__name__}: {reason(exc)}"
                    )
                ) from None
        if failure is not None and failure.kind == "stopped":
            return self._stopped(request)
        with self._count_lock:
            self._elapsed += time.monotonic() - t0
            self._answered += 1
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

    def _cut(self, bound: Bound) -> TransportFailure | None:
        """The failure of a request the deadline or the stop cut short, before its headers were in."""
        if bound.cut == "stopped":
            return TransportFailure("stopped", "the run was stopped")
        if bound.cut == "deadline":
            return TransportFailure(
                "deadline",
                f"no complete response headers within {self._limits.deadline:g} s (the deadline); "
                "the target sent them too slowly",
            )
        return None

    def _read_body(
        self,
        reply: httpx2.Response,
        t0: float,
        bound: Bound,
        body_cap: int | None = None,
        read_timeout: float | None = None,
    ) -> tuple[tuple[Chunk, ...], TransportFailure | None, tuple[int, str] | None]:
        """The body's chunks (redacted), why reading stopped early, and for a body too large to
        keep whole its size as far as it was read and its digest. ``body_cap``: the request needs only the
        status and the first bytes of its answer, and keeps no more."""
        limits = self._limits
        cap = min(limits.max_body_bytes, body_cap) if body_cap is not None else limits.max_body_bytes
        decoder = BodyDecoder(reply.headers.get("content-encoding"))
        if decoder.problem is not None:
            return (), TransportFailure("protocol", f"body not decoded: {decoder.problem}"), None
        said = (
            f"the suite keeps only the first {cap} bytes of this answer (its status is what is judged)"
            if body_cap is not None and body_cap < limits.max_body_bytes
            else f"body exceeded {cap} bytes; reading stopped"
        )
        read = read_body(
            reply, decoder, t0, bound, cap, TransportFailure("too-large", said), limits, read_timeout, self._redactor
        )
        chunks, size, raw_size, digest, failure = read
        keep = failure is not None and failure.kind == "too-large"
        head = HEAD_BYTES
        if not keep:
            # every body kept counts, small ones too: hundreds of 16 KiB answers are megabytes of cassettes
            with self._count_lock:
                if self.kept_bytes + size > limits.max_run_bytes and size > BUDGET_HEAD_BYTES:
                    keep, head = True, BUDGET_HEAD_BYTES
                    failure = TransportFailure(
                        "too-large",
                        f"body of {size} bytes not kept: the run has kept {self.kept_bytes} bytes of answers, "
                        f"close to its bound of {limits.max_run_bytes} (limits.max_run_bytes)",
                    )
                else:
                    self.kept_bytes += size
        if keep:
            # as far as it was read: decoded, or as sent where that was more
            return head_of(chunks, head, self._redactor), failure, (max(size, raw_size), digest.hexdigest())
        return self._redactor.chunks(chunks), failure, None


def _dropped(exchange: Exchange) -> bool:
    """The connection was dropped, reset or refused before any answer: a fault worth a retry."""
    kind = exchange.failure.kind if exchange.failure is not None else None
    return exchange.response is None and kind in ("connect", "protocol")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
