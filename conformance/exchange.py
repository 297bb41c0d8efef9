"""Requests the suite sends and the exchanges they produce.

A ``Request`` is what a probe asks for, relative to the target's base URL. An ``Exchange`` is one
request and everything that came back: status, headers, the raw body as the chunks that arrived
(with their time offsets), or the transport failure that ended it. Checks read exchanges only.
"""

from __future__ import annotations

import json as _json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from conformance import jsonparse

# what a server says when it limits the rate, whatever the status
_RATE_LIMITED = re.compile(
    r"rate.?limit|too many requests|quota|usage limit|resource.?exhausted|slow down|try again in \d"
    r"|requests per (minute|second)|throttl",
    re.IGNORECASE,
)

if TYPE_CHECKING:
    from conformance.sse import Stream


def says_rate_limited(text: str) -> bool:
    """The words say the rate was limited (in a body, a reason phrase or an error message)."""
    return _RATE_LIMITED.search(text) is not None


# how the request authenticates: with the target's key, with none, with a wrong key, or with a
# malformed Authorization header
AuthMode = Literal["key", "none", "wrong-key", "malformed"]

# why an exchange ended without a complete response ("app-gone": the application whose traffic was
# captured hung up before the answer was whole; "stopped": the run itself was stopped, by a
# signal or its time bound; such an exchange says nothing about the target and is never judged)
FailureKind = Literal["connect", "timeout", "protocol", "too-large", "deadline", "replay", "app-gone", "stopped"]


def sendable(text: str) -> str:
    """``text`` with each lone surrogate (a target's ``\\ud800``, read from JSON) written as its
    escape: no UTF-8 holds one, so that is how it is sent, recorded and shown."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class Request:
    id: str
    method: str
    path: str
    purpose: str
    json: Any = None
    body: bytes | None = None  # a raw body (e.g. malformed JSON); wins over ``json``
    content_type: str | None = None
    auth: AuthMode = "key"
    headers: tuple[tuple[str, str], ...] = ()
    # "exact": a replay must find a recording of exactly this request. "route": only method and
    # URL must match, because the body is generated anew each run (e.g. by hypothesis) and the
    # recording's own request is what its checks judge against.
    replay_match: Literal["exact", "route"] = "exact"
    # False for the rate-limit burst, which must not be spaced out by the suite's own pacing
    paced: bool = True
    # the most answer bytes kept: a request judged by its status alone whose answer may be huge (None: the run's cap)
    body_cap: int | None = None

    def __post_init__(self) -> None:
        # an id built from a target's model id is kept as it can be written (a file name, a report key)
        object.__setattr__(self, "id", sendable(self.id))

    def body_bytes(self) -> bytes | None:
        if self.body is not None:
            return self.body
        if self.json is None:
            return None
        return _json.dumps(self.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8", "backslashreplace"
        )

    def header_items(self) -> list[tuple[str, str]]:
        """Headers the suite sends besides authentication, as an OpenAI SDK would."""
        items = [("accept", "application/json")]
        if self.body_bytes() is not None:
            items.append(("content-type", self.content_type or "application/json"))
        overridden = {name.lower() for name, _ in self.headers}
        return [(n, v) for n, v in items if n not in overridden] + [(n.lower(), v) for n, v in self.headers]


@dataclass(frozen=True)
class Chunk:
    t: float  # seconds since the request was sent
    data: bytes


@dataclass(frozen=True)
class TransportFailure:
    kind: FailureKind
    message: str


@dataclass(frozen=True)
class RecordedRequest:
    """The request as it went out, with secrets already removed."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    auth: AuthMode
    body: bytes | None

    @cached_property
    def json(self) -> Any:
        if self.body is None:
            return None
        try:
            return jsonparse.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    http_version: str
    headers: tuple[tuple[str, str], ...]
    chunks: tuple[Chunk, ...]
    # the body was sent with this Content-Encoding and is stored decoded
    decoded_from: str | None = None
    # set when only the first bytes of a body too large to keep are: its size as far as it was
    # read, and the SHA-256 of those bytes
    body_size: int | None = None
    body_sha256: str | None = None

    @cached_property
    def body(self) -> bytes:
        return b"".join(chunk.data for chunk in self.chunks)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def media_type(self) -> str | None:
        value = self.header("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None


@dataclass(frozen=True)
class JsonBody:
    ok: bool
    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Exchange:
    id: str
    purpose: str
    request: RecordedRequest
    response: Response | None
    failure: TransportFailure | None
    started_at: str  # ISO 8601, UTC
    elapsed: float  # seconds until the exchange ended
    ttfb: float | None  # seconds until the response headers arrived
    replayed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # the attempts made before this one and retried, as the SDKs retry them: a connection dropped or
    # refused before any answer, a 429 (or a rate limit signalled another way) waited out
    earlier: tuple[Exchange, ...] = ()

    @property
    def status(self) -> int | None:
        return self.response.status if self.response else None

    @cached_property
    def json_body(self) -> JsonBody:
        if self.response is None:
            return JsonBody(ok=False, error="no response")
        raw = self.response.body
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return JsonBody(ok=False, error=f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})")
        try:
            return JsonBody(ok=True, value=jsonparse.loads(text))
        except jsonparse.TooDeep as exc:
            return JsonBody(ok=False, error=f"body is JSON {exc}, past what the suite parses")
        except ValueError as exc:
            return JsonBody(ok=False, error=f"body is not JSON ({exc})")

    @cached_property
    def stream(self) -> Stream:
        """The body parsed as server-sent events (strictly; problems are data, not errors)."""
        from conformance import sse

        return sse.parse(self.response.chunks if self.response else ())

    def timed_out(self) -> bool:
        """The target did not answer in time: no headers, or a body that stalled, within the run's timeouts."""
        return self.failure is not None and self.failure.kind in ("timeout", "deadline")

    def cut_short(self) -> bool:
        """A chat or legacy completion stream answered 200 that ended before any choice finished: events came, none
        gave a ``finish_reason`` (llama-cpp-python's server ends a stream that way when the next request arrives)."""
        request, response = self.request, self.response
        if response is None or response.status != 200 or not request.url.endswith("/completions"):
            return False
        if not isinstance(request.json, dict) or request.json.get("stream") is not True:
            return False
        payloads = [event.data for event in self.stream.events if event.data and event.data != "[DONE]"]
        # a stream that says why it ended (an error event) was not cut short: that error is judged as it is
        said = ('"finish_reason"' in data or '"error"' in data for data in payloads)
        return bool(payloads) and not any(hint and _ends(data) for hint, data in zip(said, payloads, strict=True))

    def rate_limited(self) -> str | None:
        """How the answer says the rate was limited ("HTTP 429", or another status whose body, reason
        or Retry-After says so), or None."""
        response = self.response
        if response is None:
            return None
        if response.status == 429:
            return "HTTP 429"
        if response.status in (401, 403, 404) or not (400 <= response.status < 600):
            return None
        if response.status in (503, 529) and response.header("retry-after") is not None:
            return f"HTTP {response.status}"
        head = response.body[:4096].decode("utf-8", errors="replace")
        if _RATE_LIMITED.search(head) or _RATE_LIMITED.search(response.reason or ""):
            return f"HTTP {response.status}"
        return None

    def describe(self) -> str:
        """One line naming the request, for messages: 'POST /chat/completions'."""
        path = self.request.url.split(">", 1)[-1] if self.request.url.startswith("<") else self.request.url
        return f"{self.request.method} {path}"


def _ends(data: str) -> bool:
    """Whether a stream event's JSON gives a choice a finish_reason, or is an error."""
    try:
        value = jsonparse.loads(data)
    except ValueError:
        return False
    if not isinstance(value, dict):
        return False
    choices = value.get("choices")
    finished = isinstance(choices, list) and any(isinstance(c, dict) and c.get("finish_reason") for c in choices)
    return finished or value.get("error") is not None
