"""Bounding every read and write of a request by its deadline, however slowly the target trickles.

httpx's timeouts bound one socket operation each: a target that sends one byte every half second
resets the read timeout with every byte, also while the response headers arrive (which happens
inside the HTTP library, out of the caller's reach). So the suite gives the connection pool a
network backend whose streams know the deadline of the request their thread is making
(``bounded``): every read waits at most until that deadline, in slices short enough that a
stopped run (Ctrl-C, the run's time bound) cuts a request in flight within a fraction of a
second. A read cut this way raises the library's own ``ReadTimeout``; the bound says why
(``Bound.cut``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpcore2
import httpx2

# the longest one blocking read lasts before the deadline and the stop are looked at again
SLICE = 0.2

Cut = Literal["deadline", "stopped"]


@dataclass
class Bound:
    until: float  # time.monotonic() by which the request must be over
    stop: threading.Event | None = None
    # why a read or write was cut short, once one was
    cut: Cut | None = None

    def left(self) -> float:
        """Seconds left; raises the library's timeout (and says why) when none are."""
        if self.stop is not None and self.stop.is_set():
            self.cut = "stopped"
            raise httpcore2.ReadTimeout("the run was stopped")
        left = self.until - time.monotonic()
        if left <= 0:
            self.cut = "deadline"
            raise httpcore2.ReadTimeout("the request's deadline passed")
        return left


_local = threading.local()


@contextmanager
def bounded(until: float, stop: threading.Event | None = None) -> Iterator[Bound]:
    """Within this block, this thread's reads and writes end by ``until`` (or when ``stop`` is set)."""
    bound = Bound(until, stop)
    _local.bound = bound
    try:
        yield bound
    finally:
        _local.bound = None


def _current() -> Bound | None:
    return getattr(_local, "bound", None)


def _clip(timeout: float | None, bound: Bound | None) -> float | None:
    if bound is None:
        return timeout
    left = bound.left()
    return left if timeout is None else min(timeout, left)


class BoundedStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound = _current()
        if bound is None:
            return self._inner.read(max_bytes, timeout)
        started = time.monotonic()
        while True:
            left = bound.left()
            idle = float("inf") if timeout is None else timeout - (time.monotonic() - started)
            if idle <= 0:
                raise httpcore2.ReadTimeout("timed out")
            try:
                return self._inner.read(max_bytes, min(left, idle, SLICE))
            except httpcore2.ReadTimeout:
                continue

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, _current()))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        return BoundedStream(self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, _current())))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class BoundedBackend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _clip(timeout, _current()), local_address, socket_options)
        return BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        return BoundedStream(self._inner.connect_unix_socket(path, _clip(timeout, _current()), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class BoundedTransport(httpx2.HTTPTransport):
    """httpx's transport, over a connection pool whose streams keep to the deadline."""

    def __init__(self, *, max_connections: int) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=BoundedBackend(),
        )
