"""How the pieces of an answer are kept: its header lines as the target sent them, at most so many,
its body's chunks with their arrival times, at most so many (a flood of tiny writes is merged, not
stored a line at a time), and of a body not kept whole, its first bytes."""

from __future__ import annotations

import httpx2

from conformance.exchange import Chunk
from conformance.redaction import Redactor

# response header lines read at most (LiteLLM, the most generous seen, sends about 40)
MAX_HEADERS = 256
# pieces of a body kept with their arrival times at most: past it, neighbours are merged two by two
# (each keeps the later time), so a flood of tiny writes costs neither memory nor cassette lines
MAX_CHUNKS = 2048


def coarsened(chunks: list[Chunk]) -> list[Chunk]:
    """Half as many chunks: each pair merged, at the time the later one arrived."""
    merged = [
        Chunk(second.t, first.data + second.data) for first, second in zip(chunks[::2], chunks[1::2], strict=False)
    ]
    return merged + chunks[len(merged) * 2 :]


def headers_as_sent(reply: httpx2.Response) -> list[tuple[str, str]]:
    """The response headers with their names as the target sent them (httpx lower-cases them)."""
    names = [name.decode("latin-1") for name, _ in reply.headers.raw]
    values = [value for _, value in reply.headers.multi_items()]
    return list(zip(names, values, strict=True)) if len(names) == len(values) else reply.headers.multi_items()


def head_of(chunks: list[Chunk], limit: int, redactor: Redactor) -> tuple[Chunk, ...]:
    """The first ``limit`` bytes of a body, redacted (with a margin, so that no secret is cut in two
    before it is found)."""
    margin = limit + redactor.max_match
    head: list[Chunk] = []
    taken = 0
    for chunk in chunks:
        if taken >= margin:
            break
        piece = chunk.data[: margin - taken]
        head.append(Chunk(chunk.t, piece))
        taken += len(piece)
    kept: list[Chunk] = []
    taken = 0
    for chunk in redactor.chunks(head):
        if taken >= limit:
            break
        piece = chunk.data[: limit - taken]
        kept.append(Chunk(chunk.t, piece))
        taken += len(piece)
    return tuple(kept)
