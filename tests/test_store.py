"""The exchange store: each request made once, what a check waits for before what is prefetched,
and the exchanges of several processes shared under xdist."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers import make_exchange

from conformance.cassettes import CassetteSet, CassetteWriter
from conformance.exchange import Exchange, Request
from conformance.shared import SharedExchanges
from conformance.store import ExchangeStore


class FakeClient:
    """Answers every request with a 200 and remembers the order; the first answer waits for ``gate``."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate = threading.Event()
        self.requests_sent = 0
        self.retries = 0
        self.waited_for_limits = 0.0

    def send(self, request: Request) -> Exchange:
        if not self.sent:
            self.sent.append(request.id)
            self.gate.wait(10)
        else:
            self.sent.append(request.id)
        self.requests_sent += 1
        return make_exchange(request.id, path=request.path, body={"ok": True})

    def close(self) -> None:
        pass


def request(name: str) -> Request:
    return Request(name, "GET", f"/models/{name}", purpose=name)


def live_store(client: FakeClient, **options) -> ExchangeStore:
    return ExchangeStore("live", client=client, concurrency=1, **options)  # type: ignore[arg-type]


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.005)


def test_what_a_check_waits_for_goes_before_the_prefetch():
    client = FakeClient()
    store = live_store(client)
    store.prefetch([request("a"), request("b"), request("c"), request("d")])
    wait_for(lambda: client.sent == ["a"], "the first prefetched request started")
    waiting = threading.Thread(target=store.get_many, args=([request("d"), request("late")],))
    waiting.start()
    wait_for(lambda: store._queue.qsize() >= 5, "the check's requests were queued")
    client.gate.set()
    waiting.join(10)
    store.prefetch([])
    wait_for(lambda: len(client.sent) == 5, "every request was made")
    store.close()
    # d (prefetched, then needed by a check) and late (needed at once) jump the queue; each is made once
    assert client.sent == ["a", "d", "late", "b", "c"]
    assert set(store.made()) == {"a", "b", "c", "d", "late"}


def test_closing_cancels_what_was_only_prefetched():
    client = FakeClient()
    store = live_store(client)
    store.prefetch([request("a"), request("b"), request("c")])
    wait_for(lambda: client.sent == ["a"], "the first request started")
    closing = threading.Thread(target=store.close)
    closing.start()
    client.gate.set()
    closing.join(10)
    assert not closing.is_alive()
    assert client.sent == ["a"]
    assert set(store.made()) == {"a"}


def test_a_replay_reads_each_recording_once_and_starts_no_thread(tmp_path: Path):
    writer = CassetteWriter(tmp_path)
    writer.write(make_exchange("a", path="/models/a", body={"ok": True}))
    store = ExchangeStore("replay", cassettes=CassetteSet.load(tmp_path))
    store.prefetch([request("a")])
    first = store.get(request("a"))
    assert store.get_many([request("a")]) == [first]
    assert store._threads == []
    store.close()


def test_processes_of_one_run_share_each_exchange(tmp_path: Path):
    shared = SharedExchanges(tmp_path)
    clients = [FakeClient(), FakeClient()]
    for client in clients:
        client.gate.set()
    stores = [live_store(client, shared=shared) for client in clients]
    one = stores[0].get(request("a"))
    other = stores[1].get(request("a"))
    assert other == one
    assert [client.sent for client in clients] == [["a"], []]
    # a run-wide check in either process sees what the other made
    stores[1].get(request("b"))
    assert set(stores[0].every_exchange()) == {"a", "b"}
    assert stores[0].lookup("b") == stores[1].made()["b"]
    for store in stores:
        store.close()


def test_a_request_another_process_made_differently_is_an_error(tmp_path: Path):
    shared = SharedExchanges(tmp_path)
    first, second = FakeClient(), FakeClient()
    first.gate.set()
    live_store(first, shared=shared).get(request("a"))
    changed = Request("a", "GET", "/models/other", purpose="a")
    with pytest.raises(ValueError, match="made exchange 'a' differently"):
        live_store(second, shared=shared).get(changed)
