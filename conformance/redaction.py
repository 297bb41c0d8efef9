"""Removing secrets from exchanges before anything stores or shows them.

Every exchange passes through a ``Redactor`` as soon as it is made, in every mode, so that checks,
cassettes, reports and logs all see the same redacted bytes, and a replay gives the verdicts of the
run that recorded it. The key, the base URL and its host are replaced by placeholders; headers that
carry credentials or identify the account are dropped.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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


class Redactor:
    def __init__(self, api_key: str | None, base_url: str | None) -> None:
        pairs: list[tuple[str, str]] = []
        if api_key and len(api_key) >= MIN_SECRET_LENGTH:
            pairs.append((api_key, API_KEY))
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
        self._text_pairs = pairs
        self._byte_pairs = [(old.encode(), new.encode()) for old, new in pairs]

    def text(self, value: str) -> str:
        for old, new in self._text_pairs:
            value = value.replace(old, new)
        return _BEARER.sub(r"\1 <redacted>", value)

    def data(self, value: bytes) -> bytes:
        for old, new in self._byte_pairs:
            value = value.replace(old, new)
        return value

    def contains_secret(self, value: bytes) -> bool:
        return any(old in value for old, _ in self._byte_pairs)

    def headers(self, headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name.lower(), self.text(value)) for name, value in headers if name.lower() not in DROPPED_RESPONSE_HEADERS
        )

    def chunks(self, chunks: list[Chunk]) -> tuple[Chunk, ...]:
        """Redact a body kept as chunks, keeping chunk boundaries unless a secret spans two."""
        joined = b"".join(chunk.data for chunk in chunks)
        if not self.contains_secret(joined):
            return tuple(chunks)
        redacted = tuple(Chunk(chunk.t, self.data(chunk.data)) for chunk in chunks)
        if self.contains_secret(b"".join(chunk.data for chunk in redacted)):
            # a secret crossed a chunk boundary: give up the boundaries rather than the secret
            return (Chunk(chunks[-1].t, self.data(joined)),)
        return redacted
