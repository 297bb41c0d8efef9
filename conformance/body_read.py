"""Reading one answer's body off the wire: its chunks with their arrival times, within the cap, the read timeout
and the deadline, and why reading stopped early (``conformance.http`` keeps what the run's budget allows)."""

from __future__ import annotations

import hashlib
import time

import httpx2

from conformance.answer_parts import MAX_CHUNKS, coarsened
from conformance.deadline import Bound
from conformance.decoding import BodyDecoder, DecodingFailed, TooLarge
from conformance.exchange import Chunk, TransportFailure
from conformance.profiles import Limits
from conformance.redaction import Redactor


def deadline_failure(limits: Limits) -> TransportFailure:
    return TransportFailure(
        "deadline", f"body still arriving after {limits.deadline:g} s (the deadline); reading stopped"
    )


def read_body(
    reply: httpx2.Response,
    decoder: BodyDecoder,
    t0: float,
    bound: Bound,
    cap: int,
    too_large: TransportFailure,
    limits: Limits,
    read_timeout: float | None,
    redactor: Redactor,
) -> tuple[list[Chunk], int, int, hashlib._Hash, TransportFailure | None]:
    """(chunks, decoded size, size as sent, digest of what was read, why reading stopped early or None)."""
    chunks: list[Chunk] = []
    size = raw_size = 0
    digest = hashlib.sha256()
    failure: TransportFailure | None = None
    try:
        for raw in reply.iter_raw():
            raw_size += len(raw)
            data = decoder.decode(raw, cap - size)
            now = time.monotonic() - t0
            if data:
                chunks.append(Chunk(round(now, 4), data))
                size += len(data)
                digest.update(data)
                if len(chunks) >= MAX_CHUNKS:
                    chunks = coarsened(chunks)
            if raw_size > cap:
                failure = too_large
                break
            if now > limits.deadline:
                failure = deadline_failure(limits)
                break
        else:
            tail = decoder.flush(cap - size)
            if tail:
                chunks.append(Chunk(round(time.monotonic() - t0, 4), tail))
                size += len(tail)
                digest.update(tail)
    except TooLarge as exc:
        size += len(exc.data)
        digest.update(exc.data)
        failure = too_large
    except httpx2.TimeoutException:
        if bound.cut == "stopped":
            failure = TransportFailure("stopped", "the run was stopped")
        elif bound.cut == "deadline":
            failure = deadline_failure(limits)
        else:
            failure = TransportFailure(
                "timeout",
                f"body stalled: no data for {read_timeout or limits.timeout:g} s after {size} bytes (the read timeout)",
            )
    except (httpx2.RemoteProtocolError, httpx2.ReadError) as exc:
        failure = TransportFailure("protocol", redactor.text(f"connection broke after {size} bytes: {reason(exc)}"))
    except DecodingFailed as exc:
        failure = TransportFailure("protocol", f"body could not be decoded: {exc}")
    return chunks, size, raw_size, digest, failure


def reason(exc: BaseException) -> str:
    """The first line of what an exception says (its type when it says nothing)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
