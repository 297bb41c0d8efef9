"""Exchanges made once per run and shared by every check that reads them.

In ``live`` and ``record`` mode the store sends each distinct request once (concurrently, under the
target's limits) and, when recording, writes its cassette. In ``replay`` mode it serves the
recording after checking that it was made for exactly the request the suite would send now.
Under pytest-xdist, the processes of a live run share their exchanges (``conformance.shared``), so
each distinct request is still sent once.

Live exchanges are made by ``concurrency`` threads from one queue: what a running check waits for
goes first, the prefetch of what later checks will read fills the rest. A check that needs a
request built from an earlier answer thus never waits behind the whole prefetch.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from conformance import files
from conformance.cassettes import CassetteSet, CassetteWriter, request_mismatch
from conformance.errors import ExitCode, ReplayError
from conformance.exchange import Exchange, Request
from conformance.redaction import Redactor

if TYPE_CHECKING:  # a replay sends nothing: the HTTP stack is not even imported
    from conformance.http import HttpClient
    from conformance.shared import SharedExchanges

Mode = Literal["live", "record", "replay"]
# queue priorities: a check is waiting for it, or it is prefetched for a later check
NOW, LATER = 0, 1


class ExchangeStore:
    def __init__(
        self,
        mode: Mode,
        *,
        client: HttpClient | None = None,
        cassettes: CassetteSet | None = None,
        writer: CassetteWriter | None = None,
        concurrency: int = 4,
        shared: SharedExchanges | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        if mode == "replay" and cassettes is None:
            raise ValueError("replay needs a cassette set")
        if mode != "replay" and client is None:
            raise ValueError(f"{mode} needs an HTTP client")
        self.mode = mode
        self._client = client
        self._cassettes = cassettes
        self._writer = writer
        self.shared = shared
        self.redactor = redactor
        # a replay under pytest-xdist: other processes read the rest of the recordings
        self.whole_set = False
        self._futures: dict[str, Future[Exchange]] = {}
        self._made: dict[str, Exchange] = {}
        self._requests: dict[str, Request] = {}
        # re-entrant: a future that is already done runs its callback (which takes the lock) at once
        self._lock = threading.RLock()
        self._queue: queue.PriorityQueue[tuple[int, int, Request | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._started: set[str] = set()
        self._concurrency = concurrency
        self._threads: list[threading.Thread] = []

    def close(self) -> None:
        with self._lock:
            for request_id, future in self._futures.items():
                if request_id not in self._started:
                    self._started.add(request_id)
                    future.cancel()
            for _ in self._threads:
                self._queue.put((NOW, -1, None))  # each thread stops at its sentinel
        for thread in self._threads:
            thread.join()
        if self._client is not None:
            self._client.close()

    def _queue_up(self, request: Request, priority: int) -> None:
        """Hand a request to the threads (the lock is held)."""
        if not self._threads:
            for number in range(self._concurrency):
                thread = threading.Thread(target=self._work, name=f"exchange-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._queue.put((priority, next(self._order), request))

    def _work(self) -> None:
        while True:
            _, _, request = self._queue.get()
            if request is None:
                return
            with self._lock:
                if request.id in self._started:  # queued again with a higher priority, and made
                    continue
                self._started.add(request.id)
                future = self._futures[request.id]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._make(request))
            except BaseException as exc:
                future.set_exception(exc)

    @property
    def requests_sent(self) -> int:
        return self._client.requests_sent if self._client is not None else 0

    def eta(self, requests: int) -> float | None:
        """Seconds the next ``requests`` live requests will take (None when nothing is sent)."""
        return self._client.eta(requests) if self._client is not None else None

    def holding(self) -> float:
        return self._client.holding() if self._client is not None else 0.0

    def limit_retries(self, budget: int) -> None:
        """The retries this process may make in all (see ``plan.retry_budget``)."""
        if self._client is not None:
            self._client.retry_budget = budget

    @property
    def retries(self) -> int:
        return self._client.retries if self._client is not None else 0

    @property
    def waited_for_limits(self) -> float:
        return self._client.waited_for_limits if self._client is not None else 0.0

    def made(self) -> dict[str, Exchange]:
        """Every exchange that completed, by id."""
        with self._lock:
            return dict(self._made)

    def adopt(self, exchange_ids: list[str]) -> None:
        """Count these recordings as made, in this order: another process replayed them for this run
        (conformance.ahead), and the checks that read every exchange must see them as made here."""
        assert self._cassettes is not None
        with self._lock:
            for exchange_id in exchange_ids:
                exchange = self._cassettes.get(exchange_id)
                if exchange is not None and exchange_id not in self._made:
                    self._made[exchange_id] = exchange

    def every_exchange(self) -> dict[str, Exchange]:
        """Every exchange of the run so far, also those other processes made (under pytest-xdist:
        shared in live runs; in a replay, every recording, which is what a whole run reads)."""
        made = self.made()
        if self.shared is not None:
            return {**self.shared.every(), **made}
        if self.whole_set and self._cassettes is not None:
            every = {exchange_id: self._cassettes.get(exchange_id) for exchange_id in self._cassettes.ids()}
            return {**{k: v for k, v in every.items() if v is not None}, **made}
        return made

    def lookup(self, exchange_id: str) -> Exchange | None:
        """An exchange of the run by id, wherever it was made (see every_exchange)."""
        with self._lock:
            exchange = self._made.get(exchange_id)
        if exchange is None and self.shared is not None:
            exchange = self.shared.get(exchange_id)
        if exchange is None and self.whole_set and self._cassettes is not None:
            exchange = self._cassettes.get(exchange_id)
        return exchange

    def _completed(self, future: Future[Exchange]) -> None:
        if not future.cancelled() and future.exception() is None:
            exchange = future.result()
            if exchange.failure is not None and exchange.failure.kind == "stopped":
                return  # the stopped run cut it: it is nobody's evidence
            with self._lock:
                self._made[exchange.id] = exchange

    def _submit(self, request: Request, priority: int) -> Future[Exchange]:
        if self.redactor is not None and self.redactor.text(request.id) != request.id:
            # an id built from what the target said (a model id) that holds the key: the request
            # still goes to the target that said it, but nothing named after it holds the key
            request = replace(request, id=self.redactor.text(request.id), purpose=self.redactor.text(request.purpose))
        with self._lock:
            known = self._requests.get(request.id)
            if known is not None:
                if known != request:
                    raise ValueError(f"two different requests share the exchange id {request.id!r}")
                if priority == NOW and request.id not in self._started:
                    self._queue_up(request, NOW)  # prefetched, not yet started: a check waits for it now
                return self._futures[request.id]
            self._requests[request.id] = request
            future: Future[Exchange] = Future()
            future.add_done_callback(self._completed)
            self._futures[request.id] = future
            if self.mode != "replay":
                self._queue_up(request, priority)
                return future
            self._started.add(request.id)
        # a replay reads its recordings at once, in the caller's thread
        future.set_running_or_notify_cancel()
        try:
            future.set_result(self._make(request))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def get(self, request: Request) -> Exchange:
        return self._submit(request, NOW).result()

    def get_many(self, requests: Iterable[Request]) -> list[Exchange]:
        futures = [self._submit(request, NOW) for request in requests]
        return [future.result() for future in futures]

    def prefetch(self, requests: Iterable[Request]) -> None:
        """Start making these exchanges in the background, after anything a check waits for."""
        for request in requests:
            self._submit(request, LATER)

    def prefetch_after(self, gate: Request, requests: list[Request], served: Callable[[Exchange], bool]) -> None:
        """Make ``gate`` in the background and, once it is made and ``served`` says its endpoint is
        there, prefetch ``requests``; otherwise they are made only if a check asks for them."""
        future = self._submit(gate, LATER)

        def then(done: Future[Exchange]) -> None:
            if not done.cancelled() and done.exception() is None and served(done.result()):
                self.prefetch(requests)

        future.add_done_callback(then)

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
        if self.shared is None:
            return self._send(request)
        exchange, _ = self.shared.get_or_make(request.id, lambda: self._send(request))
        mismatch = request_mismatch(request, exchange.request)
        if mismatch:
            raise ValueError(f"another process of this run made exchange {request.id!r} differently: {mismatch}")
        return exchange

    def _send(self, request: Request) -> Exchange:
        assert self._client is not None
        exchange = self._client.send(request)
        # the process that makes an exchange records it (what the stopped run cut short says
        # nothing about the target, and an unreachable one said nothing at all)
        kind = exchange.failure.kind if exchange.failure else None
        if self._writer is not None and kind not in ("connect", "stopped"):
            try:
                self._writer.write(exchange)
            except OSError as exc:
                # a full disk: the run stops with the environment's code and the true cause
                failure = files.environment_failure(exc, self._writer.path_of(exchange.id))
                if failure is None:
                    raise
                self._client.stop.request(str(failure), ExitCode.ENVIRONMENT)
        return exchange
