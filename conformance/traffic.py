"""An application's traffic, as ``conformance migrate`` reads it.

Three sources give the same thing, a list of ``Captured`` requests in the order they were made:

- a folder written by ``conformance capture`` (or any cassette set, e.g. a run's recordings): each
  exchange's request, and its answer as the original upstream gave it;
- a JSONL file of request bodies, one per line (the shape tool-call verification sets use): a chat
  request body (it has ``messages``), or ``{"method", "path", "body"}`` for any other endpoint; such
  traffic has no original answer to compare with.

Bad input is one line (``ConfigError``), never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conformance import jsonparse
from conformance.cassettes import CassetteSet
from conformance.errors import ConfigError, ReplayError
from conformance.exchange import AuthMode, Exchange
from conformance.redaction import BASE_URL

MAX_REQUESTS = 10_000
MAX_LINE_BYTES = 16 * 1024**2
Origin = Literal["capture", "cassettes", "jsonl"]


@dataclass(frozen=True)
class Captured:
    id: str
    method: str
    # relative to the base URL: "/chat/completions"
    path: str
    body: Any
    auth: AuthMode = "key"
    # the answer the original upstream gave (None for JSONL traffic, or a request it never answered)
    original: Exchange | None = None
    origin: Origin = "capture"

    @property
    def answered(self) -> bool:
        """The original answer came back whole (the app did not hang up, the upstream did not fail)."""
        return self.original is not None and self.original.response is not None and self.original.failure is None


def load(path: Path) -> tuple[list[Captured], Origin]:
    """The traffic at ``path``: a capture folder, a cassette set, or a JSONL file."""
    if path.is_dir():
        return _from_cassettes(path)
    if path.is_file():
        return _from_jsonl(path), "jsonl"
    raise ConfigError(f"traffic {path} is neither a capture folder nor a JSONL file")


def _from_cassettes(path: Path) -> tuple[list[Captured], Origin]:
    if not CassetteSet.exists(path):
        raise ConfigError(f"traffic folder {path} holds no captured exchange (capture some with conformance capture)")
    try:
        cassettes = CassetteSet.load(path)
    except ReplayError as exc:
        raise ConfigError(str(exc)) from None
    origin: Origin = "capture" if (cassettes.info.get("profile") or {}).get("traffic") else "cassettes"
    found: list[Captured] = []
    for exchange_id in sorted(cassettes.ids()):
        exchange = cassettes.get(exchange_id)
        if exchange is None:
            continue
        url = exchange.request.url
        if not url.startswith(BASE_URL):
            raise ConfigError(f"traffic {cassettes.path_of(exchange_id)}: its URL {url[:80]} is not under {BASE_URL}")
        body: Any = exchange.request.json
        if body is None and exchange.request.body:
            body = _RawBody(exchange.request.body)
        found.append(
            Captured(
                id=exchange_id,
                method=exchange.request.method,
                path=url[len(BASE_URL) :] or "/",
                body=body,
                auth=exchange.request.auth,
                original=exchange,
                origin=origin,
            )
        )
    _bounded(found, path)
    return found, origin


@dataclass(frozen=True)
class _RawBody:
    """A body that was not JSON: sent again byte for byte."""

    data: bytes


def raw_bytes(body: Any) -> bytes | None:
    return body.data if isinstance(body, _RawBody) else None


def _from_jsonl(path: Path) -> list[Captured]:
    found: list[Captured] = []
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"traffic {path} is unreadable: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), start=1):
            if len(line) > MAX_LINE_BYTES:
                raise ConfigError(f"traffic {path}, line {number}: longer than {MAX_LINE_BYTES} bytes")
            if not line.strip():
                continue
            try:
                value = jsonparse.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise ConfigError(f"traffic {path}, line {number}: not JSON ({str(exc)[:120]})") from None
            found.append(_entry(value, f"{number:04d}", f"traffic {path}, line {number}"))
            if len(found) > MAX_REQUESTS:
                break
    if not found:
        raise ConfigError(f"traffic {path} holds no request")
    _bounded(found, path)
    return found


def _entry(value: Any, number: str, where: str) -> Captured:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: a request body is a JSON object, not {type(value).__name__}")
    if "path" in value or "method" in value:
        method, request_path, body = value.get("method", "POST"), value.get("path"), value.get("body")
        if not isinstance(method, str) or method.upper() not in ("GET", "POST", "DELETE"):
            raise ConfigError(f"{where}: method is GET, POST or DELETE")
        if not isinstance(request_path, str) or not request_path.startswith("/"):
            raise ConfigError(
                f'{where}: path is relative to the base URL and starts with "/", e.g. "/chat/completions"'
            )
        method = method.upper()
    else:
        method, request_path, body = "POST", "/chat/completions", value
        if not isinstance(body.get("messages"), list):
            raise ConfigError(f'{where}: neither a chat request body (no "messages" list) nor {{"path", "body"}}')
    slug = request_path.strip("/").replace("/", "-").split("?", 1)[0] or "root"
    return Captured(id=f"{number}-{method.lower()}-{slug}", method=method, path=request_path, body=body, origin="jsonl")


def _bounded(found: list[Captured], path: Path) -> None:
    if len(found) > MAX_REQUESTS:
        raise ConfigError(f"traffic {path} holds more than {MAX_REQUESTS} requests; split it")


def dumps(body: Any) -> str:
    """A body as the report shows it."""
    if isinstance(body, _RawBody):
        return body.data.decode("utf-8", errors="replace")
    return json.dumps(body, ensure_ascii=False, indent=2)
