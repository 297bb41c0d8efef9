"""Parsed cassette sets, kept between runs: reading YAML is a sixth of a replay's time.

A set's files are read every time, and the cache is keyed by what they hold (their names and a
digest of their bytes, with the suite's version), so a changed, added or removed file
is parsed afresh and a stale entry can never be read. An entry is JSON, written only when the
parsed data survive a JSON round trip unchanged (cassettes written by the suite always do), and
read as plain data, never as code. The cache holds what the cassettes hold (redacted already), and
nothing else.

Where: ``$CONFORMANCE_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/conformance``, else
``~/.cache/conformance``. A cache that cannot be read or written is no cache: the run parses the
files as it would without one. It keeps the most recently used sets only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from conformance import __version__

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
    path = folder / f"{_key(texts)}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        os.utime(path)  # used: the last to be pruned
    except (OSError, ValueError, RecursionError):
        return None
    files = entry.get("files") if isinstance(entry, dict) else None
    if not isinstance(files, dict) or files.keys() != texts.keys():
        return None
    return files


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
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        Path(tmp).replace(folder / f"{_key(texts)}.json")
        _prune(folder)
    except OSError:
        return


def _prune(folder: Path) -> None:
    entries = []
    for path in folder.iterdir():  # entries, and any a crashed writer left half-written
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        path.unlink(missing_ok=True)
