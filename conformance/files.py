"""The suite's own files, written and read without following links planted among them.

``reports/`` and ``cassettes/`` are committed folders, so a pull request can plant a symbolic link
in them (``report.json.tmp`` pointing at a file of the runner's, a cassette sub-folder pointing
elsewhere). Everything here walks from a *root* the user named (trusted as given, links and all)
down to the file one directory at a time with ``O_NOFOLLOW``, so no link below the root is ever
followed: a link where a folder should be is refused in one line (``UnsafePath``, exit 2) naming
the path, never what it points to. A file is written to a fresh temporary name created exclusively
and then renamed over the old one, so an existing link there is replaced, never written through,
and a write that fails (a full disk) leaves no temporary file behind. Text is encoded as UTF-8 with
lone surrogates written as ``\\udXXX`` escapes: in JSON that is the very escape that reads back as
the same string.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from conformance.errors import ConfigError, EnvironmentFailure

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0)
# errors of the machine rather than of the path: the environment's exit code, with the cause
_ENVIRONMENT = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "a read-only file system",
    errno.EIO: "an input/output error",
}


# the largest file of the run's own that the final scan for the key reads back
MAX_SCRUBBED = 256 * 1024**2


class UnsafePath(ConfigError):
    """A path below a root that is a link or not what it should be (a folder, a regular file)."""


def encode(text: str) -> bytes:
    """UTF-8, lone surrogates (from ``\\ud800`` in a target's JSON) as their escapes."""
    return text.encode("utf-8", "backslashreplace")


def environment_failure(exc: OSError, path: Path | str) -> EnvironmentFailure | None:
    """The environment's failure for an error of the machine (a full disk), or None."""
    cause = _ENVIRONMENT.get(exc.errno or 0)
    return EnvironmentFailure(f"cannot write {path}: {cause}") if cause else None


def _parts(path: Path, root: Path) -> tuple[str, ...]:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise UnsafePath(f"{path} is not under {root}") from None
    if any(part == ".." for part in parts):
        raise UnsafePath(f"{path} leaves {root}")
    return parts


def _open_folder(root: Path, parts: tuple[str, ...], *, create: bool) -> int:
    """A descriptor of root/parts, no link below root followed; created when asked."""
    if create:
        root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    walked = root
    try:
        for part in parts:
            walked = walked / part
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
            try:
                inner = os.open(part, _DIRECTORY, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePath(
                        f"{walked} is {_what(walked)}, not a folder; the suite does not follow it"
                    ) from None
                raise
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _what(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def write_bytes(path: Path, data: bytes, root: Path | None = None) -> Path:
    """Write ``path`` whole or not at all; the folders from ``root`` (default: its own folder) down
    are created as needed and never followed through a link."""
    root = path.parent if root is None else root
    fd = _open_folder(root, _parts(path.parent, root), create=True)
    try:
        tmp = f".{path.name[:80]}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        handle = os.open(tmp, _NEW_FILE, 0o644, dir_fd=fd)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(tmp, path.name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=fd)
            raise
    finally:
        os.close(fd)
    return path


def write_text(path: Path, text: str, root: Path | None = None) -> Path:
    return write_bytes(path, encode(text), root)


def make_folder(path: Path, root: Path) -> None:
    os.close(_open_folder(root, _parts(path, root), create=True))


def read_bytes(path: Path, root: Path, limit: int) -> bytes:
    """A regular file under ``root`` (no link followed below it), at most ``limit`` bytes, else
    ``UnsafePath`` or ``ValueError`` saying why."""
    fd = _open_folder(root, _parts(path.parent, root), create=False)
    try:
        try:
            handle = os.open(path.name, _FILE, dir_fd=fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePath(f"{path} is a symbolic link; the suite reads only regular files") from None
            raise
    finally:
        os.close(fd)
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise UnsafePath(f"{path} is {_what(path)}; the suite reads only regular files")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit} bytes")
    return data


def regular_files(root: Path, suffix: str) -> Iterator[Path]:
    """The regular files under ``root`` whose names end in ``suffix``, sorted; ``UnsafePath`` for the
    first link or special file met anywhere below it (nothing is followed)."""
    for folder, folders, names in os.walk(root, followlinks=False):
        folders.sort()
        here = Path(folder)
        for name in [*folders, *names]:
            if (here / name).is_symlink():
                raise UnsafePath(f"{here / name} is a symbolic link; the suite does not follow links under {root}")
        for name in sorted(names):
            if name.endswith(suffix):
                if not stat.S_ISREG(os.lstat(here / name).st_mode):
                    raise UnsafePath(f"{here / name} is {_what(here / name)}; the suite reads only regular files")
                yield here / name
