"""Undoing a response's Content-Encoding with a bound on what comes out.

httpx decodes each compressed piece whole, so 64 KiB of a gzip bomb can become 60 MiB in one step.
The suite reads the raw bytes and decodes them here instead, asking zlib for at most the room left
under the body cap: a body that would decode past it is known to be too large without ever being
held in memory. Encodings are those the suite asks for (``ACCEPT_ENCODING``); like httpx, an
encoding it does not know is left as it is.
"""

from __future__ import annotations

import zlib

ACCEPT_ENCODING = "gzip, deflate"
# codings undone at most: more is a verdict, not work (each layer holds a zlib window of its own)
MAX_CODINGS = 4


class DecodingFailed(Exception):
    pass


class TooLarge(Exception):
    """The decoded body would exceed the room it was given; ``data`` is what came out before."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(f"more than the room given ({len(data)} bytes decoded)")
        self.data = data


class _Layer:
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate = False
        self._first = True
        wbits = zlib.MAX_WBITS | 16 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits)

    def decode(self, data: bytes, room: int) -> bytes:
        try:
            out = self._zlib.decompress(data, room + 1)
        except zlib.error as exc:
            if self.encoding == "deflate" and self._first and not self._raw_deflate:
                # servers send raw deflate streams under "deflate" too; httpx accepts both
                self._raw_deflate = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(data, room)
            raise DecodingFailed(f"{self.encoding}: {exc}") from None
        self._first = False
        if len(out) > room or self._zlib.unconsumed_tail:
            raise TooLarge(out)
        return out

    def flush(self, room: int) -> bytes:
        try:
            out = self._zlib.flush()
        except zlib.error as exc:
            raise DecodingFailed(f"{self.encoding}: {exc}") from None
        if len(out) > room:
            raise TooLarge(out)
        return out


class BodyDecoder:
    """Decodes the pieces of one body, the encodings applied in the order the header lists them."""

    def __init__(self, content_encoding: str | None) -> None:
        names = (content_encoding or "").split(",", 64)[:64]
        known = [name.strip().lower() for name in names if name.strip().lower() in ("gzip", "x-gzip", "deflate")]
        # a header listing more codings than anyone stacks is refused before any is undone
        self.problem = (
            f"Content-Encoding lists {len(names) if len(names) < 64 else 'at least 64'} codings; "
            f"the suite undoes at most {MAX_CODINGS}"
            if len(known) > MAX_CODINGS
            else None
        )
        self._layers = [] if self.problem else [_Layer(name) for name in reversed(known)]
        self.encoding = ", ".join(known[:MAX_CODINGS]) + (", ..." if self.problem else "") or None

    def decode(self, data: bytes, room: int) -> bytes:
        """The decoded bytes of ``data``; ``TooLarge`` if they would exceed ``room``."""
        for layer in self._layers:
            data = layer.decode(data, room)
        return data

    def flush(self, room: int) -> bytes:
        data = b""
        for layer in self._layers:
            data = layer.decode(data, room) + layer.flush(room) if data else layer.flush(room)
        return data
