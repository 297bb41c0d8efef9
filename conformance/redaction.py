"""Removing secrets from exchanges before anything stores or shows them.

Every exchange passes through a ``Redactor`` as soon as it is made, in every mode, so that checks,
cassettes, reports and logs all see the same redacted bytes, and a replay gives the verdicts of the
run that recorded it. The key, the base URL and its host are replaced by placeholders; headers that
carry credentials or identify the account are dropped.

A target may echo the key in any form, so the key is looked for in every encoding a server could
plausibly produce: exactly, in any letter case, percent-encoded, as JSON ``\\u`` escapes or HTML
character references (one character at a time, in any mixture), as hex, and as base64 or base64url
at each of the three alignments it can have inside a longer encoded text (which also covers
``Bearer <key>`` and ``user:<key>`` encoded whole). Bodies keep their chunk boundaries: a key
split across two chunks becomes a placeholder in the chunk where it began.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from conformance import files
from conformance.exchange import Chunk

API_KEY = "<API_KEY>"
BASE_URL = "<BASE_URL>"
HOST = "<HOST>"

# response headers that identify an account or a session; they never reach a cassette or report
DROPPED_RESPONSE_HEADERS = frozenset(
    {"set-cookie", "openai-organization", "openai-project", "x-api-key", "authorization", "api-key"}
)

# a key shorter than this is not redacted inside bodies: replacing a common short word such as
# vLLM's "EMPTY" everywhere would corrupt the recordings (and such a key is no secret)
MIN_SECRET_LENGTH = 8

_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=|:-]{8,}")


def _char_forms(ch: str) -> str:
    """A regex for one character of the key in any of the encodings a server might use for it."""
    forms = [re.escape(ch)]
    if ch.isspace() or not ch.isprintable():
        # as Python's repr and most error messages show it
        forms += [re.escape(repr(ch)[1:-1]), f"\\\\x{ord(ch):02x}"]
    for variant in dict.fromkeys((ch, ch.lower(), ch.upper())):
        code = ord(variant)
        if code < 256:
            forms.append(f"%{code:02x}")
        forms += [f"\\\\u{code:04x}", f"&\\#x0{{0,3}}{code:x};", f"&\\#0{{0,3}}{code};"]
    return "(?:" + "|".join(forms) + ")"


def _base64_forms(secret: bytes) -> list[str]:
    """The parts of base64 and base64url encodings of a longer text holding ``secret`` that depend
    on the secret alone, at each alignment (the groups it shares with its neighbours left out)."""
    forms: list[str] = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode("ascii")
        whole_groups = (shift + len(secret)) // 3
        core = encoded[4 if shift else 0 : 4 * whole_groups]
        if len(core) >= 8:
            forms += [core, core.replace("+", "-").replace("/", "_")]
    return sorted(set(forms), key=len, reverse=True)


class Redactor:
    def __init__(self, api_key: str | None, base_url: str | None) -> None:
        self.key = api_key if api_key and len(api_key) >= MIN_SECRET_LENGTH else None
        key_forms: list[str] = []
        if self.key is not None:
            secret = self.key.encode("utf-8")
            key_forms.append("(?i:" + "".join(_char_forms(ch) for ch in self.key) + ")")
            key_forms += [re.escape(form) for form in _base64_forms(secret)]
            key_forms.append("(?i:" + secret.hex() + ")")
        self.max_match = 9 * len(self.key) + 16 if self.key else 0
        pairs: list[tuple[str, str]] = []
        if base_url:
            base = base_url.rstrip("/")
            parts = urlsplit(base)
            pairs.append((base, BASE_URL))
            if parts.netloc:
                pairs.append((f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{HOST}"))
                pairs.append((parts.netloc, HOST))
            hostname = parts.hostname or ""
            if "." in hostname and len(hostname) >= MIN_SECRET_LENGTH - 1:
                pairs.append((hostname, HOST))
        # longest first, so the base URL is replaced as a whole before its host
        pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
        self._replacements = [API_KEY] * len(key_forms) + [new for _, new in pairs]
        alternatives = key_forms + [re.escape(old) for old, _ in pairs]
        pattern = "|".join(f"({alternative})" for alternative in alternatives)
        self._key_groups = len(key_forms)
        self._text = re.compile(pattern) if alternatives else None
        self._bytes = re.compile(pattern.encode("utf-8")) if alternatives else None
        key_pattern = "|".join(key_forms)
        self._key_bytes = re.compile(key_pattern.encode("utf-8")) if key_forms else None

    def _replacement(self, match: re.Match[str] | re.Match[bytes]) -> int:
        assert match.lastindex is not None
        return match.lastindex - 1

    def text(self, value: str) -> str:
        if self._text is not None:
            value = self._text.sub(lambda m: self._replacements[self._replacement(m)], value)
        return _BEARER.sub(r"\1 <redacted>", value)

    def data(self, value: bytes) -> bytes:
        if self._bytes is None:
            return value
        return self._bytes.sub(lambda m: self._replacements[self._replacement(m)].encode(), value)

    def contains_secret(self, value: bytes) -> bool:
        """Whether the key is in ``value`` in any of the forms looked for."""
        return self._key_bytes is not None and self._key_bytes.search(value) is not None

    def headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """Headers without the dropped ones, secrets replaced in their names (as they were sent:
        lower-casing first would hide a base64 echo from the redaction) and values; names lower-cased."""
        return tuple(
            (_lower(self.text(name)), self.text(value))
            for name, value in headers
            if name.lower() not in DROPPED_RESPONSE_HEADERS
        )

    def chunks(self, chunks: Iterable[Chunk]) -> tuple[Chunk, ...]:
        """Redact a body kept as chunks, keeping every chunk boundary: a secret that spans chunks
        becomes a placeholder in the chunk where it began, and its rest is taken out of the others."""
        chunks = tuple(chunks)
        if self._bytes is None:
            return chunks
        joined = b"".join(chunk.data for chunk in chunks)
        spans = [
            (m.start(), m.end(), self._replacements[self._replacement(m)].encode())
            for m in self._bytes.finditer(joined)
        ]
        if not spans:
            return chunks
        result = []
        offset = 0
        for chunk in chunks:
            start, end = offset, offset + len(chunk.data)
            parts, position = [], start
            for first, last, replacement in spans:
                if last <= position or first >= end:
                    continue
                if first >= start:
                    parts += [joined[position:first], replacement]
                position = max(position, min(last, end))
            parts.append(joined[position:end])
            result.append(Chunk(chunk.t, b"".join(parts)))
            offset = end
        return tuple(result)

    def scrub_file(self, path: Path) -> bool:
        """Remove the key from a file the run wrote; True if it was there."""
        if self._key_bytes is None:
            return False
        try:
            data = files.read_bytes(path, path.parent, files.MAX_SCRUBBED)
        except (OSError, ValueError, files.UnsafePath):
            return False
        if not self.contains_secret(data):
            return False
        files.write_bytes(path, self._key_bytes.sub(API_KEY.encode(), data))
        return True


def _lower(name: str) -> str:
    lowered = name.lower()
    for placeholder in (API_KEY, BASE_URL, HOST):
        lowered = lowered.replace(placeholder.lower(), placeholder)
    return lowered


_ACTIVE: Redactor | None = None


def activate(redactor: Redactor | None) -> None:
    """The redactor of the run this process makes, for what is shown outside the exchanges (error
    messages of the harness, the console)."""
    global _ACTIVE
    _ACTIVE = redactor


def active() -> Redactor | None:
    return _ACTIVE


def scrub(text: str) -> str:
    """``text`` with the active run's secrets replaced (unchanged when no run is active)."""
    return _ACTIVE.text(text) if _ACTIVE is not None else text
