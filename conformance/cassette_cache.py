"""Parsed cassette sets, kept between runs: reading YAML is a sixth of a replay's time.

A set's files are read every time, and the cache is keyed by what they hold (their names and a
digest of their bytes, with the suite's version), so a changed, added or removed file
is parsed afresh and a stale entry can never be read. An entry is JSON, written only when the
parsed data survive a JSON round trip unchanged (cassettes written by the suite always do), and
read as plain data, never as code. The cache holds what the cassettes hold (redacted already), and
nothing else.

An entry is not believed for its name alone: it carries an HMAC-SHA256 of its key and its text
under a secret kept beside the cache folder (created once, readable by its owner only), so an entry edited
or copied in from elsewhere does not verify and the set is parsed afresh (and the entry rewritten).

Where: ``$CONFORMANCE_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/conformance``, else
``~/.cache/conformance``. A cache that cannot be read or written is no cache: the run parses the
files as it would without one. It keeps the most recently used sets only.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from conformance import __version__, files

# sets kept (a re-recorded set makes a new entry; the least recently used go first)
KEEP = 64
FORMAT = 1


def cache_dir() -> Path | None:
    configured = os.environ.get("CONFORMANCE_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "cassettes" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "conformance" / "cassettes"


def _key(texts: dict[str, str]) -> str:
    hasher = hashlib.sha256(f"{FORMAT}\0{__version__}\0".encode())
    for name in sorted(texts):
        hasher.update(name.encode() + b"\0" + hashlib.sha256(texts[name].encode()).digest())
    return hasher.hexdigest()[:40]


def lookup(texts: dict[str, str]) -> dict[str, Any] | None:
    """The parsed data of these files (by name), if a run parsed the very same files before."""
    folder = cache_dir()
    if folder is None or not texts:
        return None
    key = _key(texts)
    path = folder / f"{key}.json"
    try:
        secret = _secret(folder, create=False)
        data = files.read_bytes(path, folder, files.MAX_SCRUBBED)
        seal, _, text = data.partition(b"\n")
        if secret is None or not hmac.compare_digest(seal, _seal(secret, key, text)):
            return None
        entry = json.loads(text)
        os.utime(path)  # used: the last to be pruned
    except (OSError, ValueError, RecursionError, files.UnsafePath):
        return None
    parsed = entry.get("files") if isinstance(entry, dict) else None
    if not isinstance(parsed, dict) or parsed.keys() != texts.keys():
        return None
    return parsed


def store(texts: dict[str, str], parsed: dict[str, Any]) -> None:
    """Keep the parsed data of these files for the next run (nothing when they are not plain JSON)."""
    folder = cache_dir()
    if folder is None or not texts:
        return
    try:
        text = json.dumps({"files": parsed}, ensure_ascii=False, allow_nan=False)
        if json.loads(text)["files"] != parsed:  # e.g. a date or a number as a mapping key
            return
    except (TypeError, ValueError, RecursionError):
        return
    key = _key(texts)
    try:
        secret = _secret(folder, create=True)
        if secret is None:
            return
        data = files.encode(text)
        files.write_bytes(folder / f"{key}.json", _seal(secret, key, data) + b"\n" + data, root=folder.parent)
        _prune(folder)
    except (OSError, files.UnsafePath):
        return


SECRET = "cassette-cache.secret"


def _secret(folder: Path, *, create: bool) -> bytes | None:
    """The cache's own key, made on first use (owner-only); None when it cannot be had."""
    path = folder.parent / SECRET
    with contextlib.suppress(OSError, ValueError, files.UnsafePath):
        secret = files.read_bytes(path, folder.parent, 64)
        if len(secret) == 64 and path.lstat().st_mode & 0o077 == 0:
            return secret
    if not create:
        return None
    secret = secrets.token_hex(32).encode()
    files.make_folder(folder, folder.parent)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another process made it meanwhile (or it is unfit: then no cache)
        return _secret(folder, create=False)
    with os.fdopen(handle, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(secret)
    return secret


def _seal(secret: bytes, key: str, text: bytes) -> bytes:
    return hmac.new(secret, key.encode() + b"\0" + text, hashlib.sha256).hexdigest().encode()


def _prune(folder: Path) -> None:
    entries = []
    for path in folder.iterdir():  # entries, and any a crashed writer left half-written
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        path.unlink(missing_ok=True)
