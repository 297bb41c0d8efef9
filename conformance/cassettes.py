"""Cassettes: exchanges stored as readable YAML, one file per exchange.

``cassettes/<target>/<row>/<name>.yaml`` holds one exchange exactly as the suite saw it (already
redacted): the request (method, ``<BASE_URL>``-relative URL, the auth mode but never the key, the
body), and the response with its status, headers and body chunks, each with its arrival time, so
stream framing and timing survive a replay. Bodies are text when they are UTF-8 and base64 when
they are not, so the bytes round-trip exactly. ``cassette-set.yaml`` says where the set came from.

Why not VCR.py: it buffers a whole response before returning it (chunk boundaries and timings are
lost, and an endless stream hangs the recording), and it patches the HTTP library globally, which
rules out concurrent exchanges recorded into separate files. The suite owns its exchanges already,
so it stores them itself; pytest-recording's socket guard still blocks the network in replay.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml

from conformance import __version__
from conformance.errors import ReplayError
from conformance.exchange import Chunk, Exchange, FailureKind, RecordedRequest, Request, Response, TransportFailure
from conformance.redaction import BASE_URL

FORMAT = 1
SET_FILE = "cassette-set.yaml"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
# a file name part longer than this is cut and made unique by a digest (model ids come from targets)
MAX_NAME = 80
# no cassette the suite writes comes near this: bodies over the cap are kept as their first bytes
MAX_CASSETTE_BYTES = 64 * 1024**2


def cassette_path(directory: Path, exchange_id: str) -> Path:
    parts = []
    for part in exchange_id.split("/"):
        safe = _SAFE.sub("_", part) or "_"
        if safe != part or safe.startswith(".") or len(safe) > MAX_NAME:
            digest = hashlib.sha256(part.encode()).hexdigest()[:8]
            safe = f"{safe.lstrip('.')[: MAX_NAME - 9]}-{digest}"
        parts.append(safe)
    return directory.joinpath(*parts[:-1], f"{parts[-1]}.yaml")


class _Dumper(yaml.CSafeDumper if hasattr(yaml, "CSafeDumper") else yaml.SafeDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # never anchors and aliases: every value is written where it is


# characters a YAML literal block keeps as they are; others (CR, NEL, the Unicode line and
# paragraph separators, BOM, C0/C1 controls but tab and LF, non-characters) make PyYAML normalise
# or refuse it, so such a text is written double-quoted with escapes instead
_BLOCK_SAFE = re.compile(r"[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # literal blocks keep stream bodies readable
    style = "|" if "\n" in value and _BLOCK_SAFE.fullmatch(value) else None
    if style is None and not _BLOCK_SAFE.fullmatch(value):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Pair(list):  # type: ignore[type-arg]
    """A header (name, value): written on one line."""


def _represent_pair(dumper: yaml.SafeDumper, value: _Pair) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Pair, _represent_pair)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=2**31 - 1)


def _load(text: str) -> Any:
    """YAML as the suite writes it: no anchors or aliases (an alias bomb is refused, not expanded)."""
    if "*" in text or "&" in text:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ValueError("it uses YAML anchors or aliases, which the suite never writes")
    return yaml.load(text, Loader=yaml.CSafeLoader)


def _encode_bytes(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def _decode_bytes(node: dict[str, Any], where: str) -> bytes:
    if "text" in node:
        if not isinstance(node["text"], str):
            raise ValueError(f"{where}: text is not a string")
        return node["text"].encode("utf-8")
    if "base64" in node:
        return base64.b64decode(node["base64"], validate=True)
    raise ValueError(f"{where} has neither text nor base64")


def exchange_to_dict(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    req: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "auth": request.auth,
        "headers": dict(request.headers),
    }
    if request.body is not None:
        if request.json is not None:
            req["json"] = request.json
        else:
            req.update(_encode_bytes(request.body))
    data: dict[str, Any] = {
        "cassette": FORMAT,
        "id": exchange.id,
        "purpose": exchange.purpose,
        "started_at": exchange.started_at,
        "elapsed": exchange.elapsed,
        "ttfb": exchange.ttfb,
        "request": req,
        "response": None,
        "failure": None,
    }
    if exchange.response is not None:
        response = exchange.response
        data["response"] = {
            "status": response.status,
            "reason": response.reason,
            "http_version": response.http_version,
            "decoded_from": response.decoded_from,
            "headers": [_Pair((name, value)) for name, value in response.headers],
            "chunks": [{"t": chunk.t, **_encode_bytes(chunk.data)} for chunk in response.chunks],
        }
        if response.body_size is not None:
            # only the first bytes of a body too large to keep
            data["response"]["body_size"] = response.body_size
            data["response"]["body_sha256"] = response.body_sha256
    if exchange.failure is not None:
        data["failure"] = {"kind": exchange.failure.kind, "message": exchange.failure.message}
    return data


def exchange_from_dict(data: dict[str, Any]) -> Exchange:
    if data.get("cassette") != FORMAT:
        raise ValueError(f"unknown cassette format {data.get('cassette')!r} (this suite reads format {FORMAT})")
    req = data["request"]
    body: bytes | None = None
    if "json" in req:
        body = json.dumps(req["json"], ensure_ascii=False, separators=(",", ":")).encode()
    elif "text" in req or "base64" in req:
        body = _decode_bytes(req, "request body")
    request = RecordedRequest(
        method=str(req["method"]),
        url=str(req["url"]),
        headers=tuple((str(k), str(v)) for k, v in (req.get("headers") or {}).items()),
        auth=req.get("auth", "key"),
        body=body,
    )
    response = None
    if data.get("response") is not None:
        resp = data["response"]
        response = Response(
            status=int(resp["status"]),
            reason=str(resp.get("reason") or ""),
            http_version=str(resp.get("http_version") or "HTTP/1.1"),
            headers=tuple((str(name), str(value)) for name, value in resp.get("headers") or []),
            chunks=tuple(
                Chunk(float(chunk["t"]), _decode_bytes(chunk, f"chunk {index}"))
                for index, chunk in enumerate(resp.get("chunks") or [])
            ),
            decoded_from=resp.get("decoded_from"),
            body_size=None if resp.get("body_size") is None else int(resp["body_size"]),
            body_sha256=None if resp.get("body_sha256") is None else str(resp["body_sha256"]),
        )
    failure = None
    if data.get("failure") is not None:
        kind = data["failure"]["kind"]
        if kind not in get_args(FailureKind) or kind == "stopped":
            raise ValueError(f"unknown failure kind {kind!r}")
        failure = TransportFailure(kind=kind, message=str(data["failure"]["message"]))
    return Exchange(
        id=str(data["id"]),
        purpose=str(data.get("purpose") or ""),
        request=request,
        response=response,
        failure=failure,
        started_at=str(data.get("started_at") or ""),
        elapsed=float(data.get("elapsed") or 0.0),
        ttfb=None if data.get("ttfb") is None else float(data["ttfb"]),
        replayed=True,
    )


def dump_exchange(exchange: Exchange) -> str:
    """The cassette text of an exchange, checked to give back every byte of every chunk; where the
    YAML emitter would change a text chunk (it may normalise line breaks), the chunks go as base64."""
    data = exchange_to_dict(exchange)
    text = _dump(data)
    if exchange.response is None or _chunks_of(text) == exchange.response.chunks:
        return text
    data["response"]["chunks"] = [
        {"t": chunk.t, "base64": base64.b64encode(chunk.data).decode("ascii")} for chunk in exchange.response.chunks
    ]
    return _dump(data)


def _chunks_of(text: str) -> tuple[Chunk, ...] | None:
    try:
        response = exchange_from_dict(_load(text)).response
    except (yaml.YAMLError, ValueError, KeyError, TypeError):
        return None
    return None if response is None else response.chunks


_DATA_URL = re.compile(r"^data:([^;,]*);base64,.*$", re.DOTALL)


def _without_payloads(value: Any) -> Any:
    """JSON with base64 data URLs reduced to their media type: image encoders may change bytes
    between library versions, and no check depends on them, so a replay does not either."""
    if isinstance(value, dict):
        return {key: _without_payloads(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_payloads(item) for item in value]
    if isinstance(value, str):
        return _DATA_URL.sub(r"data:\1;base64,(payload)", value)
    return value


def request_mismatch(request: Request, recorded: RecordedRequest) -> str | None:
    """Why a recorded request is not the one the suite would send now, or None if it is."""
    if request.method != recorded.method:
        return f"method {recorded.method} was recorded, the suite now sends {request.method}"
    if f"{BASE_URL}{request.path}" != recorded.url:
        return f"URL {recorded.url} was recorded, the suite now requests {BASE_URL}{request.path}"
    if request.replay_match == "route":
        return None
    if request.auth != recorded.auth:
        return f"auth mode {recorded.auth!r} was recorded, the suite now uses {request.auth!r}"
    if dict(request.header_items()) != dict(recorded.headers):
        return f"headers {dict(recorded.headers)} were recorded, the suite now sends {dict(request.header_items())}"
    body = request.body_bytes()
    if request.json is not None and request.body is None:
        if _without_payloads(recorded.json) != _without_payloads(request.json):
            return "the JSON body differs from the recorded one"
    elif body != recorded.body:
        return "the body differs from the recorded one"
    return None


@dataclass(frozen=True)
class CassetteSetInfo:
    target: str
    dialect: str
    recorded_at: str
    suite_version: str
    recorded_from: str
    # the target as it was recorded (models, dialect, ...): a replay of a target given on the
    # command line, with no profile, is built from it
    profile: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


# cassette sets already read in this process, by directory, with the files' names, times and sizes
_LOADED: dict[Path, tuple[tuple[tuple[str, int, int], ...], CassetteSet]] = {}


class CassetteSet:
    """The recordings of one target, loaded eagerly so that a broken file stops the run at once."""

    def __init__(self, directory: Path, exchanges: dict[str, Exchange], files: dict[str, Path], info: dict[str, Any]):
        self.directory = directory
        self._exchanges = exchanges
        self._files = files
        self.info = info

    @classmethod
    def exists(cls, directory: Path) -> bool:
        return directory.is_dir() and any(path.name != SET_FILE for path in directory.rglob("*.yaml"))

    @classmethod
    def load(cls, directory: Path) -> CassetteSet:
        """The cassettes under ``directory``; loading the same unchanged files again in one process
        (the CLI checks them before pytest starts, the plugin then uses them) reads them once."""
        paths = sorted(directory.rglob("*.yaml")) if directory.is_dir() else []
        try:
            stamp = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in paths)
        except OSError as exc:
            raise ReplayError(f"cassette {exc.filename} is unreadable: {exc.strerror or exc}") from None
        cached = _LOADED.get(directory.resolve())
        if cached is not None and cached[0] == stamp:
            return cached[1]
        loaded = cls._read(directory, paths)
        _LOADED[directory.resolve()] = (stamp, loaded)
        return loaded

    @classmethod
    def _read(cls, directory: Path, paths: list[Path]) -> CassetteSet:
        exchanges: dict[str, Exchange] = {}
        files: dict[str, Path] = {}
        info: dict[str, Any] = {}
        if not directory.is_dir():
            raise ReplayError(f"no cassettes for this target in {directory}; record them with --mode record")
        for path in paths:
            try:
                data = _load(_read_text(path))
                if path.name == SET_FILE:
                    info = dict(data or {})
                    continue
                if not isinstance(data, dict):
                    raise ValueError("not a mapping")
                exchange = exchange_from_dict(data)
            except (OSError, yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                reason = " ".join(str(exc).split())[:200] or type(exc).__name__
                raise ReplayError(f"cassette {path} is unreadable: {reason}") from exc
            if cassette_path(directory, exchange.id) != path:
                raise ReplayError(f"cassette {path} holds exchange {exchange.id!r}, which belongs elsewhere")
            exchanges[exchange.id] = exchange
            files[exchange.id] = path
        return cls(directory, exchanges, files, info)

    @classmethod
    def read_info(cls, directory: Path) -> dict[str, Any]:
        """What ``cassette-set.yaml`` says about a set ({} when there is none or it is unreadable;
        loading the set reports an unreadable one)."""
        try:
            data = _load(_read_text(directory / SET_FILE))
        except (OSError, yaml.YAMLError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, exchange_id: str) -> Exchange | None:
        return self._exchanges.get(exchange_id)

    def ids(self) -> set[str]:
        return set(self._exchanges)

    def path_of(self, exchange_id: str) -> Path:
        return self._files.get(exchange_id, cassette_path(self.directory, exchange_id))


def _read_text(path: Path) -> str:
    """A cassette's text: a regular file (not a device, a FIFO or a link to one) of bounded size."""
    if not path.is_file():
        raise ValueError("it is not a regular file")
    if path.stat().st_size > MAX_CASSETTE_BYTES:
        raise ValueError(f"it is larger than {MAX_CASSETTE_BYTES // 1024**2} MiB, more than the suite ever writes")
    with path.open("rb") as file:
        data = file.read(MAX_CASSETTE_BYTES + 1)
    if len(data) > MAX_CASSETTE_BYTES:
        raise ValueError(f"it is larger than {MAX_CASSETTE_BYTES // 1024**2} MiB, more than the suite ever writes")
    return data.decode("utf-8")


class CassetteWriter:
    """Writes the exchanges of a recording run; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def write(self, exchange: Exchange) -> Path:
        path = cassette_path(self.directory, exchange.id)
        text = dump_exchange(exchange)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".yaml.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            self._written.add(exchange.id)
        return path

    @property
    def written(self) -> set[str]:
        return set(self._written)


def write_set_info(directory: Path, info: CassetteSetInfo) -> Path:
    """Describe where a cassette set came from, in ``cassette-set.yaml``."""
    directory.mkdir(parents=True, exist_ok=True)
    header = "# Recorded by openai-conformance; every exchange in this folder was redacted before it was written.\n"
    path = directory / SET_FILE
    path.write_text(header + _dump(info.as_dict()), encoding="utf-8")
    return path


def prune(directory: Path, keep: Iterable[str]) -> list[Path]:
    """Delete the recordings of exchanges not in ``keep`` (after a complete recording run)."""
    kept = {cassette_path(directory, exchange_id) for exchange_id in keep}
    removed = []
    for path in directory.rglob("*.yaml"):
        if path.name != SET_FILE and path not in kept:
            path.unlink()
            removed.append(path)
    for folder in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def describe_set(info: dict[str, Any]) -> str:
    if not info:
        return "no description"
    when, version, origin = (info.get(key, "?") for key in ("recorded_at", "suite_version", "recorded_from"))
    return f"recorded {when} by suite {version} from {origin}"


def new_set_info(
    target: str, dialect: str, recorded_at: str, recorded_from: str, profile: dict[str, Any] | None = None
) -> CassetteSetInfo:
    return CassetteSetInfo(
        target=target,
        dialect=dialect,
        recorded_at=recorded_at,
        suite_version=__version__,
        recorded_from=recorded_from,
        profile=profile,
    )
