"""Verdicts an oracle has reached, by exchange and kind: the form checks and the checks of a claim
often ask about the same answer, and an oracle's verdict on it never changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from conformance.exchange import Exchange

V = TypeVar("V")


class VerdictMemo(Generic[V]):
    """Keyed by the exchange's identity (the store hands every check the same object), holding the
    exchange itself so that an identity reused by another object is never mistaken for it."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._verdicts: OrderedDict[tuple[int, str], tuple[Exchange, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, exchange: Exchange, kind: str, make: Callable[[], V]) -> V:
        key = (id(exchange), kind)
        with self._lock:
            known = self._verdicts.get(key)
        if known is not None and known[0] is exchange:
            return known[1]
        verdict = make()
        with self._lock:
            self._verdicts[key] = (exchange, verdict)
            while len(self._verdicts) > self._size:
                self._verdicts.popitem(last=False)
        return verdict
