"""Cassettes: exchanges stored as readable YAML, one file per exchange.

``cassettes/<target>/<row>/<name>.yaml`` holds one exchange exactly as the suite saw it (already
redacted): the request (method, ``<BASE_URL>``-relative URL, the auth mode but never the key, the
body), and the response with its status, headers and body chunks, each with its arrival time, so
stream framing and timing survive a replay (the format itself is ``conformance.cassette_format``).
``cassette-set.yaml`` says where the set came from, and what the target was. This module knows the
folder: where each exchange's file goes, reading a whole set, writing, pruning, matching requests.

Why not VCR.py: it buffers a whole response before returning it (chunk boundaries and timings are
lost, and an endless stream hangs the recording), and it patches the HTTP library globally, which
rules out concurrent exchanges recorded into separate files. The suite owns its exchanges already,
so it stores them itself; pytest-recording's socket guard still blocks the network in replay.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import __version__, cassette_cache, files
from conformance.cassette_format import MAX_CASSETTE_BYTES, dump_exchange, dump_yaml, exchange_from_dict, load_yaml
from conformance.errors import ReplayError
from conformance.exchange import Exchange, RecordedRequest, Request, sendable
from conformance.redaction import BASE_URL

SET_FILE = "cassette-set.yaml"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
# a file name part longer than this is cut and made unique by a digest (model ids come from targets)
MAX_NAME = 80


def cassette_path(directory: Path, exchange_id: str) -> Path:
    parts = []
    for part in sendable(exchange_id).split("/"):
        safe = _SAFE.sub("_", part) or "_"
        if safe != part or safe.startswith(".") or len(safe) > MAX_NAME:
            digest = hashlib.sha256(part.encode("utf-8", "backslashreplace")).hexdigest()[:8]
            safe = f"{safe.lstrip('.')[: MAX_NAME - 9]}-{digest}"
        parts.append(safe)
    return directory.joinpath(*parts[:-1], f"{parts[-1]}.yaml")


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
    if f"{BASE_URL}{sendable(request.path)}" != recorded.url:
        return f"URL {recorded.url} was recorded, the suite now requests {BASE_URL}{sendable(request.path)}"
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
        return directory.is_dir() and any(path.name != SET_FILE for path in _yaml_files(directory))

    @classmethod
    def load(cls, directory: Path) -> CassetteSet:
        """The cassettes under ``directory``; loading the same unchanged files again in one process
        (the CLI checks them before pytest starts, the plugin then uses them) reads them once."""
        paths = _yaml_files(directory)
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
        names = {path: path.relative_to(directory).as_posix() for path in paths}
        texts: dict[str, str] = {}
        for path in paths:
            texts[names[path]] = _read(directory, path)
        parsed = _parsed(directory, texts)
        for path in paths:
            data = parsed[names[path]]
            if path.name == SET_FILE:
                if not isinstance(data, dict | None):
                    raise _unreadable(path, ValueError("not a mapping"))
                info = dict(data or {})
                continue
            try:
                if not isinstance(data, dict):
                    raise ValueError("not a mapping")
                exchange = exchange_from_dict(data)
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                raise _unreadable(path, exc) from exc
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
            data = _parsed(directory, {SET_FILE: _read(directory, directory / SET_FILE)})[SET_FILE]
        except ReplayError:
            return {}
        return data if isinstance(data, dict) else {}

    def paths(self) -> list[Path]:
        """The files of the set, the description among them."""
        return sorted({*self._files.values(), self.directory / SET_FILE} & set(_yaml_files(self.directory)))

    def get(self, exchange_id: str) -> Exchange | None:
        return self._exchanges.get(exchange_id)

    def ids(self) -> set[str]:
        return set(self._exchanges)

    def path_of(self, exchange_id: str) -> Path:
        return self._files.get(exchange_id, cassette_path(self.directory, exchange_id))


def _yaml_files(directory: Path) -> list[Path]:
    """The cassette files of a set: regular files under its folder, no link followed (one is refused)."""
    if directory.is_symlink():
        raise ReplayError(f"cassette folder {directory} is a symbolic link; the suite does not follow it")
    if not directory.is_dir():
        return []
    try:
        return sorted(files.regular_files(directory, ".yaml"))
    except files.UnsafePath as exc:
        raise ReplayError(f"cassette {exc}") from None


def _read(directory: Path, path: Path) -> str:
    try:
        return files.read_bytes(path, directory, MAX_CASSETTE_BYTES).decode("utf-8")
    except files.UnsafePath as exc:
        raise ReplayError(f"cassette {exc}") from None
    except (OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc


def _parsed(directory: Path, texts: dict[str, str]) -> dict[str, Any]:
    """The YAML of these files (by their names under ``directory``), parsed or from the cache."""
    parsed = cassette_cache.lookup(texts)
    if parsed is None:
        parsed = {}
        for name, text in texts.items():
            try:
                parsed[name] = load_yaml(text)
            except (ValueError, RecursionError) as exc:
                raise _unreadable(directory / name, exc) from exc
        cassette_cache.store(texts, parsed)
    return parsed


def _unreadable(path: Path, exc: BaseException) -> ReplayError:
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return ReplayError(f"cassette {path} is unreadable: {reason}")


class CassetteWriter:
    """Writes the exchanges of a recording run; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def path_of(self, exchange_id: str) -> Path:
        return cassette_path(self.directory, exchange_id)

    def write(self, exchange: Exchange) -> Path:
        path = cassette_path(self.directory, exchange.id)
        text = dump_exchange(exchange)
        with self._lock:
            files.write_text(path, text, root=self.directory.parent)
            self._written.add(exchange.id)
        return path

    @property
    def written(self) -> set[str]:
        return set(self._written)


def write_set_info(directory: Path, info: CassetteSetInfo) -> Path:
    """Describe where a cassette set came from, in ``cassette-set.yaml``."""
    header = "# Recorded by openai-conformance; every exchange in this folder was redacted before it was written.\n"
    return files.write_text(directory / SET_FILE, header + dump_yaml(info.as_dict()), root=directory.parent)


def prune(directory: Path, keep: Iterable[str]) -> list[Path]:
    """Delete the recordings of exchanges not in ``keep`` (after a complete recording run)."""
    kept = {cassette_path(directory, exchange_id) for exchange_id in keep}
    removed = []
    for path in _yaml_files(directory):
        if path.name != SET_FILE and path not in kept:
            path.unlink()
            removed.append(path)
    folders = (p for p in directory.rglob("*") if p.is_dir() and not p.is_symlink())
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
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
