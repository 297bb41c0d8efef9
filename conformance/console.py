"""The console of a live run, with the key taken out of everything written to it.

Whatever a run prints comes from exchanges that were redacted already; this is the last line of
defence, for text that reached the console by another way (a library's error message, a warning).
Text is passed on as it is written, except a tail that could be the start of the key, which waits
for what follows (a key written in two pieces is still found); the run says at its end whether
anything had to be removed.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from conformance.redaction import Redactor


class RedactingStream:
    def __init__(self, inner: TextIO, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor
        self._pending = ""
        self._key = (redactor.key or "").lower()
        self.removed = 0

    def write(self, text: str) -> int:
        self._pending += text
        cut = len(self._pending) - self._possible_start(self._pending)
        self._emit(self._pending[:cut])
        self._pending = self._pending[cut:]
        return len(text)

    def _possible_start(self, text: str) -> int:
        """The length of the longest tail of ``text`` that begins the key."""
        tail = text[-len(self._key) :].lower() if self._key else ""
        for start in range(len(tail)):
            if self._key.startswith(tail[start:]):
                return len(tail) - start
        return 0

    def _emit(self, text: str) -> None:
        if not text:
            return
        redacted = self._redactor.text(text)
        if redacted != text:
            self.removed += 1
        self._inner.write(redacted)

    def flush(self) -> None:
        self._inner.flush()

    def close_out(self) -> None:
        """Write what was held back (the run is over)."""
        self._emit(self._pending)
        self._pending = ""
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ... as the real stream has them
        return getattr(self._inner, name)


@contextlib.contextmanager
def redacted_console(key: str | None) -> Iterator[list[RedactingStream]]:
    """Within this block, standard output and error hold no key."""
    redactor = Redactor(key, None)
    if redactor.key is None:
        yield []
        return
    streams = [RedactingStream(sys.stdout, redactor), RedactingStream(sys.stderr, redactor)]
    previous = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = streams  # type: ignore[assignment]
    try:
        yield streams
    finally:
        for stream in streams:
            stream.close_out()
        sys.stdout, sys.stderr = previous
        removed = sum(stream.removed for stream in streams)
        if removed:
            sys.stderr.write(
                f"conformance: the key appeared in {removed} pieces of the console output and was removed from them; "
                "please report this\n"
            )
