"""Exchanges made once per run and shared by every check that reads them.

In ``live`` and ``record`` mode the store sends each distinct request once (concurrently, under the
target's limits) and, when recording, writes its cassette. In ``replay`` mode it serves the
recording after checking that it was made for exactly the request the suite would send now.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

from conformance.cassettes import CassetteSet, CassetteWriter, request_mismatch
from conformance.errors import ReplayError
from conformance.exchange import Exchange, Request
from conformance.http import HttpClient

Mode = Literal["live", "record", "replay"]


class ExchangeStore:
    def __init__(
        self,
        mode: Mode,
        *,
        client: HttpClient | None = None,
        cassettes: CassetteSet | None = None,
        writer: CassetteWriter | None = None,
        concurrency: int = 4,
    ) -> None:
        if mode == "replay" and cassettes is None:
            raise ValueError("replay needs a cassette set")
        if mode != "replay" and client is None:
            raise ValueError(f"{mode} needs an HTTP client")
        self.mode = mode
        self._client = client
        self._cassettes = cassettes
        self._writer = writer
        self._futures: dict[str, Future[Exchange]] = {}
        self._requests: dict[str, Request] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="exchange")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    @property
    def requests_sent(self) -> int:
        return self._client.requests_sent if self._client is not None else 0

    def made(self) -> dict[str, Exchange]:
        """Every exchange that completed, by id."""
        done = {}
        for exchange_id, future in list(self._futures.items()):
            if future.done() and future.exception() is None:
                done[exchange_id] = future.result()
        return done

    def _submit(self, request: Request, *, background: bool) -> Future[Exchange]:
        with self._lock:
            known = self._requests.get(request.id)
            if known is not None:
                if known != request:
                    raise ValueError(f"two different requests share the exchange id {request.id!r}")
                return self._futures[request.id]
            self._requests[request.id] = request
            in_pool = background and self.mode != "replay"
            future: Future[Exchange] = self._pool.submit(self._make, request) if in_pool else Future()
            self._futures[request.id] = future
        if not in_pool:
            try:
                future.set_result(self._make(request))
            except BaseException as exc:
                future.set_exception(exc)
        return future

    def get(self, request: Request) -> Exchange:
        return self._submit(request, background=False).result()

    def get_many(self, requests: Iterable[Request]) -> list[Exchange]:
        futures = [self._submit(request, background=True) for request in requests]
        return [future.result() for future in futures]

    def prefetch(self, requests: Iterable[Request]) -> None:
        """Start making these exchanges in the background (live and record modes)."""
        for request in requests:
            self._submit(request, background=True)

    def _make(self, request: Request) -> Exchange:
        if self.mode == "replay":
            assert self._cassettes is not None
            exchange = self._cassettes.get(request.id)
            path = self._cassettes.path_of(request.id)
            if exchange is None:
                raise ReplayError(f"no recording of exchange {request.id!r} ({path}); record it with --mode record")
            mismatch = request_mismatch(request, exchange.request)
            if mismatch:
                raise ReplayError(f"recording {path} is stale: {mismatch}; re-record with --mode record")
            return exchange
        assert self._client is not None
        exchange = self._client.send(request)
        if self._writer is not None and not (exchange.failure and exchange.failure.kind == "connect"):
            self._writer.write(exchange)
        return exchange
