"""The TypeScript client (npm ``openai``) as an oracle beside the Python one.

Node apps use the ``openai`` npm package, whose parsing, stream helper (``ChatCompletionStream``,
``finalChatCompletion()``), structured output (``chat.completions.parse`` with a zod schema) and
error classes are its own code. ``ts_oracle.mjs`` (the SDK and zod bundled with esbuild, pinned in
``js/package-lock.json``; rebuilt with ``npm --prefix js ci && npm --prefix js run build``) runs in
one ``node`` process per process of the run, and is handed each recorded response through the SDK's
``fetch`` option: status, headers and body chunks in order, nothing over the network. What it says
is what a Node app would have got.

Without ``node`` (18 or later) on ``PATH`` (or at ``$CONFORMANCE_NODE``), every verdict is "not
run", the checks that need the TypeScript client are skipped, and the run says so once.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import selectors
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conformance.exchange import Exchange
from conformance.verdict_memo import VerdictMemo

BUNDLE = Path(__file__).with_name("ts_oracle.mjs")
# the npm openai release bundled (js/package.json pins it; a test holds the two and the bundle together)
BUNDLED_SDK = "6.49.0"
MIN_NODE = 18
# seconds for node to start and describe itself, and for one answer
START_DEADLINE = 20.0
ANSWER_DEADLINE = 15.0
# an answer line is a verdict, never a body: anything longer is a broken oracle
MAX_LINE = 1024 * 1024

Kind = Literal[
    "model",
    "model-list",
    "chat-completion",
    "chat-completion-stream",
    "moderation",
    "embedding",
    "completion",
    "completion-stream",
    "error",
    "parse",
    "response",
    "response-stream",
]


@dataclass(frozen=True)
class TsVerdict:
    """What the TypeScript client made of an answer. ``ran`` is False when it could not be asked."""

    ran: bool
    accepted: bool
    raised: str | None
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.ran:
            return f"the TypeScript client was not run ({self.detail})"
        name = f"TypeScript openai {version() or BUNDLED_SDK}"
        if self.accepted:
            return f"{name} " + (f"throws {self.detail}" if self.raised else "reads it")
        if self.raised is None:
            return f"{name} {self.detail}"
        return f"{name} throws {self.raised}: {self.detail}"

    @property
    def helper(self) -> TsVerdict | None:
        """For a stream: what ChatCompletionStream's finalChatCompletion() made of it."""
        helper = self.data.get("helper")
        if not self.ran or not isinstance(helper, dict):
            return None
        return TsVerdict(True, bool(helper.get("ok")), helper.get("raised"), str(helper.get("detail", "")), helper)


class OracleUnavailable(Exception):
    pass


class _Node:
    """One node process running the bundle, owned by the process that started it (a forked copy of
    the run starts its own).

    Requests may be queued ahead (``later``): a replay hands node every recording at its start, node
    judges them while this process judges the checks, and a check that asks for one finds its answer
    waiting (or asks for it first, ahead of the queue). Answers are kept by key until taken."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._owner = 0
        self._buffer = b""
        self._numbers = 0
        # (key, a function that builds the request): built by the thread that hands them to node
        self._backlog: list[tuple[str, Callable[[], dict[str, Any]]]] = []
        self._answers: dict[str, dict[str, Any]] = {}
        self._checked = False
        self.unavailable: str | None = None
        self.described: dict[str, Any] = {}

    def queue(self, requests: list[tuple[str, Callable[[], dict[str, Any]]]]) -> None:
        """Requests (by key) to hand node as soon as it runs, judged when nothing else is asked."""
        with self._lock:
            self._backlog.extend(requests)

    def warm(self) -> None:
        """Start node now (without waiting for it) and hand it the queue."""
        with self._lock:
            if self.unavailable is None:
                try:
                    self._running()
                except OracleUnavailable as exc:
                    self._fail(exc)

    def ask(self, request: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """The answer to ``request`` (one queued under ``key`` if it came first)."""
        with self._lock:
            if self.unavailable is not None:
                raise OracleUnavailable(self.unavailable)
            try:
                self._running()
                self._check_version()
                if key is not None and key in self._answers:
                    return self._answers.pop(key)
                number = self._send({**request, "key": key} if key is not None else request)
                return self._wait(
                    lambda answer: answer.get("id") == number or (key is not None and answer.get("key") == key),
                    ANSWER_DEADLINE,
                )
            except OracleUnavailable as exc:
                self._fail(exc)
                raise

    def _fail(self, exc: OracleUnavailable) -> None:
        self.unavailable = str(exc)
        self._stop()

    def _running(self) -> None:
        if self._process is not None and self._owner == os.getpid():
            return
        self._process, self._buffer, self._answers, self._checked = None, b"", {}, False
        node = os.environ.get("CONFORMANCE_NODE") or shutil.which("node")
        if not node:
            raise OracleUnavailable("node not found")
        if not BUNDLE.is_file():
            raise OracleUnavailable(f"the bundle {BUNDLE.name} is missing")
        try:
            self._process = subprocess.Popen(
                [node, str(BUNDLE)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C is the run's to handle, not node's
            )
        except OSError as exc:
            raise OracleUnavailable(f"node cannot be started: {exc.strerror or exc}") from None
        self._owner = os.getpid()
        self._describing = self._send({"kind": "describe"})
        backlog, self._backlog = self._backlog, []
        if backlog:
            # a thread builds the queue and hands it to node, so that this one never waits for node to read it
            threading.Thread(target=self._send_all, args=(backlog,), name="ts-oracle-queue", daemon=True).start()

    def _check_version(self) -> None:
        if self._checked:
            return
        number = self._describing
        described = self._wait(lambda answer: answer.get("id") == number, START_DEADLINE)
        major = re.match(r"(\d+)", str(described.get("node", "")))
        if major is None or int(major.group(1)) < MIN_NODE:
            raise OracleUnavailable(f"node {described.get('node', '?')} is older than {MIN_NODE}")
        self.described, self._checked = described, True

    def _send(self, request: dict[str, Any]) -> int:
        process = self._process
        assert process is not None
        assert process.stdin is not None
        self._numbers += 1
        number = self._numbers
        try:
            with self._write_lock:
                process.stdin.write(json.dumps({**request, "id": number}).encode() + b"\n")
                process.stdin.flush()
        except (OSError, ValueError):
            raise OracleUnavailable("node ended") from None
        return number

    def _send_all(self, backlog: list[tuple[str, Callable[[], dict[str, Any]]]]) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):  # node ended: the checks that ask will say so
            for key, build in backlog:
                line = json.dumps({**build(), "key": key, "later": True, "id": 0}).encode() + b"\n"
                with self._write_lock:
                    process.stdin.write(line)
                    process.stdin.flush()

    def _wait(self, wanted: Callable[[dict[str, Any]], bool], deadline: float) -> dict[str, Any]:
        process = self._process
        assert process is not None
        ends = time.monotonic() + deadline
        while True:
            line = self._line(process, ends)
            try:
                answer = json.loads(line)
            except ValueError:
                raise OracleUnavailable("node answered something that is not JSON") from None
            if not isinstance(answer, dict):
                continue
            if wanted(answer):
                return answer
            if answer.get("key") is not None:
                self._answers[str(answer["key"])] = answer

    def _line(self, process: subprocess.Popen[bytes], ends: float) -> bytes:
        assert process.stdout is not None
        descriptor = process.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(descriptor, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = ends - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise OracleUnavailable("node did not answer in time")
                data = os.read(descriptor, 65536)
                if not data:
                    raise OracleUnavailable("node ended")
                self._buffer += data
                if len(self._buffer) > MAX_LINE and b"\n" not in self._buffer:
                    raise OracleUnavailable("node answered more than an answer holds")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def take(self, key: str) -> dict[str, Any] | None:
        """A queued answer that has arrived, if it has (read without waiting)."""
        with self._lock:
            return self._answers.pop(key, None)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and self._owner == os.getpid():
            process.kill()
            process.wait()


_NODE = _Node()


def unavailable() -> str | None:
    """Why the TypeScript client cannot be asked (None when it can); starts it to find out."""
    try:
        _NODE.ask({"kind": "describe"})
    except OracleUnavailable as exc:
        return str(exc)
    return None


def version() -> str | None:
    """The bundled SDK's version, once node has started (None before, or without node)."""
    value = _NODE.described.get("version")
    return str(value) if value else None


def describe() -> dict[str, Any]:
    """What the oracle says about itself: versions, and the response_format zod gives parse()."""
    return _NODE.ask({"kind": "describe"})


_MEMO: VerdictMemo[TsVerdict] = VerdictMemo()


def judge(exchange: Exchange, kind: Kind) -> TsVerdict:
    """What the TypeScript client makes of this exchange's response when it expects ``kind``."""
    return _MEMO.get(exchange, kind, lambda: _judge(exchange, kind))


def _key(exchange: Exchange, kind: str) -> str:
    return f"{id(exchange)}:{kind}"


def _request(exchange: Exchange, kind: str) -> dict[str, Any]:
    response = exchange.response
    assert response is not None
    request = {
        "kind": kind,
        "status": response.status,
        "headers": [[name, value] for name, value in response.headers],
        "chunks": [base64.b64encode(chunk.data).decode("ascii") for chunk in response.chunks],
    }
    if kind == "embedding":
        # the call an app makes depends on the encoding the request asked for (the SDK decodes only its own default)
        body = exchange.request.json
        encoding = body.get("encoding_format") if isinstance(body, dict) else None
        request["encoding_format"] = encoding if isinstance(encoding, str) else None
    return request


def queue_ahead(pairs: Iterable[tuple[Exchange, Kind]]) -> None:
    """Have node judge these (exchange, kind) pairs ahead, starting now: a replay knows every answer
    before the checks ask (the exchanges must stay alive: their identity is the key)."""
    pairs = [(e, kind) for e, kind in pairs if e.response is not None]
    _KEPT.extend(e for e, _ in pairs)
    _NODE.queue([(_key(e, kind), functools.partial(_request, e, kind)) for e, kind in pairs])
    _NODE.warm()


# the exchanges queued ahead, kept alive so that no other object takes their identity
_KEPT: list[Exchange] = []


def _judge(exchange: Exchange, kind: Kind) -> TsVerdict:
    if exchange.response is None:
        return TsVerdict(True, False, "APIConnectionError", "no response")
    request = _request(exchange, kind)
    try:
        answer = _NODE.ask(request, _key(exchange, kind))
    except OracleUnavailable as exc:
        return TsVerdict(False, False, None, str(exc))
    return TsVerdict(True, bool(answer.get("ok")), answer.get("raised"), str(answer.get("detail", "")), answer)


# the checks that need the TypeScript client itself (conformance.checks.ts_client)
TS_CHECKS = (
    "streaming.typescript_stream_helper_assembles_every_stream",
    "structured-output.typescript_parse_returns_the_object",
)
NOT_RUN = "the TypeScript client was not run"


def run_status(results: list[Any]) -> tuple[str | None, str | None]:
    """The TypeScript client's version if it judged anything in this run, and why not if it could not
    (from this process, or from what the results say: a forked copy may have done the judging)."""
    if _NODE.described:
        return version(), None
    if _NODE.unavailable is not None:
        return None, _NODE.unavailable
    ran = False
    for result in results:
        message = str(getattr(result, "message", ""))
        if result.check_id in TS_CHECKS and NOT_RUN in message:
            return None, message.split(":", 1)[0]
        oracles = (getattr(result, "details", None) or {}).get("oracles")
        if isinstance(oracles, dict) and oracles.get("typescript_sdk") == "not run":
            return None, "node not found"
        if result.check_id in TS_CHECKS and result.status in ("pass", "fail"):
            ran = True
        if isinstance(oracles, dict) and oracles.get("typescript_sdk") in ("accept", "reject"):
            ran = True
    return (BUNDLED_SDK if ran else None), None
