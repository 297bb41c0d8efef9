"""A strict parser for server-sent event streams, stricter than the SDK's on purpose.

It follows the WHATWG event-stream grammar (lines end in CRLF, LF or CR; ``:`` starts a comment;
``field: value``; a blank line dispatches the event) and keeps everything a conformance check needs
to see: each event's fields and raw text, the byte offset where it ends and the arrival time of the
chunk that completed it, the line endings used, comments, and whatever was left unterminated at the
end. It never raises on bad input: problems are data.
"""

from __future__ import annotations

import bisect
import codecs
import itertools
import re
from dataclasses import dataclass, field

from conformance.exchange import Chunk

_LINE = re.compile(rb"\r\n|\n|\r")


@dataclass(frozen=True, slots=True)
class Event:
    index: int
    # (field, value) in the order they came; "data" may repeat
    fields: tuple[tuple[str, str], ...]
    end: int  # byte offset just after the blank line that dispatched it
    t: float  # arrival time of the chunk that held that blank line

    @property
    def data(self) -> str | None:
        values = [value for name, value in self.fields if name == "data"]
        return "\n".join(values) if values else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def field(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None


@dataclass
class Stream:
    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    line_endings: set[str] = field(default_factory=set)  # of "LF", "CRLF", "CR"
    # bytes after the last dispatched event (an event without its blank line, or stray text)
    trailing: bytes = b""
    # where the bytes stop being UTF-8, if they do
    invalid_utf8_at: int | None = None
    bom: bool = False
    # events past MAX_EVENTS, counted but not kept
    dropped: int = 0


# events kept of one stream (the longest bundled, a reasoning stream, has 968); a flood of tiny events
# past it is counted, so parsing stays linear and small whatever the target sends
MAX_EVENTS = 4096


def _arrival(offset: int, ends: list[int], chunks: tuple[Chunk, ...] | list[Chunk]) -> float:
    """The arrival time of the chunk holding byte ``offset - 1`` (``ends``: each chunk's end offset)."""
    index = bisect.bisect_left(ends, offset)
    return chunks[min(index, len(chunks) - 1)].t if chunks else 0.0


def parse(chunks: tuple[Chunk, ...] | list[Chunk]) -> Stream:
    body = b"".join(chunk.data for chunk in chunks)
    ends = list(itertools.accumulate(len(chunk.data) for chunk in chunks))
    stream = Stream()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(body, final=True)
    except UnicodeDecodeError as exc:
        stream.invalid_utf8_at = exc.start
    stream.bom = body.startswith(codecs.BOM_UTF8)
    position = len(codecs.BOM_UTF8) if stream.bom else 0
    pending: list[tuple[str, str]] = []
    pending_start = position
    for match in _LINE.finditer(body, position):
        line = body[position : match.start()]
        stream.line_endings.add({b"\r\n": "CRLF", b"\n": "LF", b"\r": "CR"}[match.group()])
        position = match.end()
        if not line:
            if pending and len(stream.events) >= MAX_EVENTS:
                stream.dropped += 1
            elif pending:
                stream.events.append(
                    Event(len(stream.events), tuple(pending), position, _arrival(position, ends, chunks))
                )
            pending = []
            pending_start = position
            continue
        if len(stream.comments) + len(pending) >= MAX_EVENTS:
            stream.dropped += 1  # a flood of comments or of one event's fields: counted, not kept
            continue
        text = line.decode("utf-8", errors="replace")
        if text.startswith(":"):
            stream.comments.append(text[1:].removeprefix(" "))
            continue
        name, colon, value = text.partition(":")
        pending.append((name, value.removeprefix(" ") if colon else ""))
    # a trailing CR could be half of a CRLF whose LF never came; either way the event is unterminated
    stream.trailing = body[pending_start:] if pending or position < len(body) else b""
    return stream
