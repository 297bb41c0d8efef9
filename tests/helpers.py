"""Hand-made exchanges and contexts, so each check can be shown to pass on good input and to fail
on exactly the deviation it targets; and ``Cli``, which runs the command as a user would."""

from __future__ import annotations

import json as jsonlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.context import CheckContext
from conformance.dialects import load_dialect
from conformance.errors import ReplayError
from conformance.exchange import Chunk, Exchange, RecordedRequest, Request, Response, TransportFailure
from conformance.profiles import build_target
from conformance.registry import CHECKS, load_all
from conformance.runner import run_check
from conformance.schemas import schema_set
from conformance.verdicts import CheckResult

load_all()

CHAT_MODEL = "model-chat"
VISION_MODEL = "model-vision"
MODERATION_MODEL = "model-guard"


def make_exchange(
    exchange_id: str,
    *,
    method: str = "GET",
    path: str = "/models",
    status: int | None = 200,
    body: Any = None,
    raw: bytes | None = None,
    headers: Iterable[tuple[str, str]] | None = None,
    chunks: list[bytes] | None = None,
    failure: TransportFailure | None = None,
    request_json: Any = None,
    auth: str = "key",
) -> Exchange:
    """An exchange as the store would hand it to a check. ``body`` is encoded as JSON; ``raw`` is
    sent as is; ``chunks`` splits the body as it would have arrived."""
    if raw is None and body is not None:
        raw = jsonlib.dumps(body).encode()
    if headers is None:
        headers = [("content-type", "application/json")] if raw is not None or chunks else []
    pieces = chunks if chunks is not None else ([raw] if raw else [])
    response = None
    if status is not None:
        response = Response(
            status=status,
            reason="",
            http_version="HTTP/1.1",
            headers=tuple(headers),
            chunks=tuple(Chunk(0.01 * (i + 1), piece) for i, piece in enumerate(pieces)),
        )
    request_body = None if request_json is None else jsonlib.dumps(request_json).encode()
    sent = (("accept", "application/json"),) + ((("content-type", "application/json"),) if request_body else ())
    return Exchange(
        id=exchange_id,
        purpose="hand-made",
        request=RecordedRequest(method, f"<BASE_URL>{path}", sent, auth, request_body),
        response=response,
        failure=failure,
        started_at="2026-01-01T00:00:00.000Z",
        elapsed=0.05,
        ttfb=0.01,
    )


def model(model_id: str, **overrides: Any) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_735_718_400, "owned_by": "owner", **overrides}


def model_list(*ids: str) -> dict[str, Any]:
    return {"object": "list", "data": [model(model_id) for model_id in ids]}


def chat_completion(content: Any = "Hello there.", **overrides: Any) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": CHAT_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    body.update(overrides)
    return body


def error_body(message: str = "not found", **overrides: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None, **overrides}}


class FakeSource:
    """Serves hand-made exchanges by id, as the store would."""

    def __init__(self, exchanges: Iterable[Exchange], mode: str = "live") -> None:
        self.mode = mode
        self.exchanges = {exchange.id: exchange for exchange in exchanges}
        self.requested: list[Request] = []

    def get(self, request: Request) -> Exchange:
        self.requested.append(request)
        if request.id not in self.exchanges:
            raise ReplayError(f"no hand-made exchange {request.id!r}")
        return self.exchanges[request.id]

    def get_many(self, requests: Iterable[Request]) -> list[Exchange]:
        return [self.get(request) for request in requests]

    def made(self) -> dict[str, Exchange]:
        return dict(self.exchanges)

    def every_exchange(self) -> dict[str, Exchange]:
        return self.made()


def context(exchanges: Iterable[Exchange], *, dialect: str = "openai", mode: str = "live", **profile: Any):
    data: dict[str, Any] = {
        "name": "handmade",
        "dialect": dialect,
        "models": {"chat": CHAT_MODEL, "vision": VISION_MODEL, "moderation": MODERATION_MODEL},
        # one trial per probe unless a test gives more (trial_exchanges)
        "limits": {"trials": 1},
    }
    data.update(profile)
    limits = data["limits"] = dict(data.get("limits") or {})
    # no more trials than the test made, unless it says so
    limits.setdefault("max_trials", limits.get("trials", 5))
    target = build_target(data)
    resolved = load_dialect(target.dialect)
    return CheckContext(target, resolved, schema_set(resolved), FakeSource(exchanges, mode))


def trial_exchanges(exchange: Exchange, count: int, vary: Any = None) -> list[Exchange]:
    """The exchange as ``count`` trials of its probe (ids as conformance.trials names them); ``vary(n)``
    gives trial n's exchange instead (n from 1), for trials that answer differently."""
    from dataclasses import replace

    from conformance.trials import trial_id

    made = []
    for number in range(1, count + 1):
        base = vary(number) if vary is not None else exchange
        made.append(replace(base, id=trial_id(exchange.id, number)))
    return made


@contextmanager
def openai_reference(key: str) -> Iterator[tuple[str, str]]:
    """A reference server speaking OpenAI's API on a free port, its root (without /v1) and its one key."""
    from conformance.reference import ReferenceConfig, ReferenceServer

    config = ReferenceConfig(api_keys=frozenset({key}), flavour="openai", base_path="/v1", stream_delay=0)
    with ReferenceServer(config) as server:
        yield server.base_url.removesuffix("/v1"), key


def live_context(root: str, key: str, fault: str | None, profile: dict[str, Any]) -> tuple[CheckContext, Any]:
    """A check's context against a live reference server (OpenAI flavour) at ``root``, with ``fault`` on by path,
    for a profile named reference-openai; returns the context and its store (close it)."""
    from conformance.http import HttpClient
    from conformance.profiles import Auth, Limits
    from conformance.redaction import Redactor
    from conformance.store import ExchangeStore

    base_url = f"{root}/faults/{fault}/v1" if fault else f"{root}/v1"
    target = build_target({"name": "reference-openai", "base_url": base_url, **profile})
    client = HttpClient(
        base_url=base_url, auth=Auth(), api_key=key, limits=Limits(timeout=5.0), redactor=Redactor(key, base_url)
    )
    store = ExchangeStore("live", client=client, concurrency=2)
    dialect = load_dialect("openai")
    return CheckContext(target, dialect, schema_set(dialect), store), store


def judge(check_id: str, *exchanges: Exchange, **options: Any) -> CheckResult:
    """Run one registered check over hand-made exchanges."""
    return run_check(CHECKS[check_id], context(exchanges, **options))


# enough trials of an answer that misses every time for a model check to fail beyond chance, 1 % family-wise
# (conformance.rates): 0 of 20 against a threshold up to 0.5, 0 of 5 short of it
DECIDING_TRIALS = 20


def judge_trials(check_id: str, *exchanges: Exchange, count: int = DECIDING_TRIALS, **options: Any) -> CheckResult:
    """Run a model check over each hand-made exchange repeated as ``count`` trials of its probe."""
    repeated = [trial for exchange in exchanges for trial in trial_exchanges(exchange, count)]
    return judge(check_id, *repeated, limits={"trials": count}, **options)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, index: int = 0, **top: Any) -> dict[str, Any]:
    """One chat.completion.chunk; ``choices=[]`` and ``usage=...`` can be given through ``top``."""
    body: dict[str, Any] = {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1_767_225_600,
        "model": CHAT_MODEL,
        "choices": [{"index": index, "delta": delta or {}, "finish_reason": finish}],
    }
    body.update(top)
    return body


def text_stream(text: str = "Hello there.", *, usage: bool = False) -> list[dict[str, Any]]:
    """The chunks of a conforming stream of ``text``, split at spaces."""
    words = text.split(" ")
    pieces = [word if i == 0 else f" {word}" for i, word in enumerate(words)]
    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": piece}) for piece in pieces]
    chunks.append(chunk({}, "stop"))
    if usage:
        for item in chunks:
            item["usage"] = None
        chunks.append(
            chunk(
                choices=[],
                usage={"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)},
            )
        )
    return chunks


def sse(payloads: Iterable[Any], *, done: bool = True) -> list[bytes]:
    """Raw event-stream pieces, one per payload (dicts are JSON-encoded, bytes sent as they are)."""
    pieces = [p if isinstance(p, bytes) else f"data: {jsonlib.dumps(p)}\n\n".encode() for p in payloads]
    if done:
        pieces.append(b"data: [DONE]\n\n")
    return pieces


def stream_exchange(
    exchange_id: str, pieces: list[bytes], *, status: int = 200, content_type: str = "text/event-stream", **kwargs: Any
) -> Exchange:
    """A streamed chat answer (its request asks for stream: true, as the suite's do)."""
    kwargs.setdefault("request_json", {"model": CHAT_MODEL, "messages": [], "stream": True})
    return make_exchange(
        exchange_id,
        method="POST",
        path="/chat/completions",
        status=status,
        chunks=pieces,
        headers=[("content-type", content_type)],
        **kwargs,
    )


def chat_exchange(exchange_id: str, body: Any = None, **kwargs: Any) -> Exchange:
    return make_exchange(
        exchange_id, method="POST", path="/chat/completions", body=chat_completion() if body is None else body, **kwargs
    )


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    report_dir: Path
    # the largest resident set of the run's process, when it was measured
    max_rss_mb: float | None = None

    @property
    def report(self) -> dict[str, Any]:
        return jsonlib.loads((self.report_dir / "report.json").read_text())

    def verdicts(self) -> dict[str, str]:
        return {check["id"]: check["status"] for check in self.report["checks"]}


class Cli:
    """Runs ``python -m conformance`` in a clean working directory; its reports go under ``tmp_path``."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        cwd: Path | None = None,
        rss: bool = False,
    ) -> Run:
        """Run the command; with ``rss``, through a parent that measures the run's peak memory."""
        report_dir = self.tmp_path / f"report-{secrets.token_hex(3)}"
        full = list(args)
        if args and args[0] == "run" and "--report-dir" not in args:
            full[1:1] = ["--report-dir", str(report_dir)]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
        # parsed cassettes are shared by the runs of one test process, not kept in the user's cache
        environment["CONFORMANCE_CACHE_DIR"] = str(self.tmp_path.parent / "conformance-cache")
        environment.update(env or {})
        command = [sys.executable, "-m", "conformance", *full]
        rss_file = self.tmp_path / f"rss-{secrets.token_hex(3)}"
        if rss:
            command = [sys.executable, "-c", _MEASURE, str(rss_file), *command]
        started = time.monotonic()
        completed = subprocess.run(
            command, cwd=cwd or self.tmp_path, env=environment, capture_output=True, text=True, timeout=timeout
        )
        seconds = time.monotonic() - started
        peak = int(rss_file.read_text()) / 1024 if rss else None
        return Run(completed.returncode, completed.stdout, completed.stderr, seconds, report_dir, peak)


# runs a command as its only child and writes the child's peak resident set (KiB) to argv[1]
_MEASURE = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(code)"
)
