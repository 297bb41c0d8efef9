"""Where the two official clients hand an app different things for the same answer.

Both oracles (``sdk_oracle``: Python's client as ``OpenAI()`` builds it; ``ts_oracle``: npm ``openai`` as ``new
OpenAI()`` builds it) make the calls an app makes. For one answer and one call they may disagree in four ways:

=================  =============================================================================================
kind               what differs
=================  =============================================================================================
one-raises         one client's call (or the app's first read of what it returned) raises, the other's returns
error-class        both raise, errors of different classes
error-code         both raise the status error, with different ``err.code`` (Python turns a number into a string)
error-message      the server's own words reach one client's ``err.message`` and not the other's
assembled-value    both stream helpers return, with different assembled text
=================  =============================================================================================

A check that judges an answer with both clients notes what differs (``note``); the runner puts the notes in that
check's result (``details["client_differences"]``), whatever its verdict, and the report gathers them on the row.
A difference on an answer the check found at fault is part of that finding; on an answer it passed, it is the
clients' own (a note on the row, never a failure of the target).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from conformance import sdk_oracle, ts_oracle
from conformance.exchange import Exchange

# what a stream helper raises by design on a valid stream (get_final_completion(): the completion rides on it)
BY_DESIGN = ("LengthFinishReasonError", "ContentFilterFinishReasonError")
KINDS = ("one-raises", "error-class", "error-code", "error-message", "assembled-value")


@dataclass(frozen=True)
class ClientDifference:
    exchange: str
    # the operation both clients were asked to do, in neutral words
    call: str
    kind: str
    python: str
    typescript: str
    # the class each client's call raised (None where it returned)
    python_raises: str | None
    typescript_raises: str | None
    # the client whose app gets less: it raises where the other returns (not by design), or its error's message
    # lacks the server's words that the other's holds (None: neither)
    worse: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def said(self) -> str:
        return f"{self.call}: {self.python}; {self.typescript}"


_NOTED: ContextVar[list[ClientDifference] | None] = ContextVar("client_differences", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[ClientDifference]]:
    """Collect what the checks run inside note (the runner wraps each check in it)."""
    noted: list[ClientDifference] = []
    token = _NOTED.set(noted)
    try:
        yield noted
    finally:
        _NOTED.reset(token)


# the most exchanges a group names (the count says how many there were)
MAX_NAMED = 300


def grouped(noted: list[ClientDifference]) -> list[dict[str, Any]]:
    """The differences a check noted, one group for each call, kind and pair of outcomes: both sides as the first
    exchange showed them, and every exchange that showed the same."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for difference in noted:
        key = (
            difference.call,
            difference.kind,
            difference.python_raises,
            difference.typescript_raises,
            difference.worse,
        )
        group = groups.get(key)
        if group is None:
            group = groups[key] = {**difference.as_dict(), "exchanges": [], "count": 0}
            del group["exchange"]
        if difference.exchange not in group["exchanges"]:
            group["count"] += 1
            if len(group["exchanges"]) < MAX_NAMED:
                group["exchanges"].append(difference.exchange)
    return list(groups.values())


def note(exchange: Exchange, kind: str) -> list[ClientDifference]:
    """What differs between the two clients on this answer read as ``kind`` (an sdk_oracle kind); noted for the
    running check. Nothing where the TypeScript client cannot be run."""
    found = differences(exchange, kind)
    noted = _NOTED.get()
    if noted is not None:
        noted.extend(found)
    return found


# what each kind of answer (conformance.checks._every.kind_of) is read as by both clients
_READ_AS = {
    "stream": ("chat-completion-stream", "chat-completion-stream-helper"),
    "response-stream": ("response-stream-events", "response-stream"),
}


def note_answer(exchange: Exchange, kind: str | None) -> None:
    """Note what differs on an answer of this kind (kind_of's names), with every call an app reads it with."""
    for read_as in _READ_AS.get(kind or "", (kind,) if kind else ()):
        note(exchange, read_as)


def note_parse(exchange: Exchange, python: sdk_oracle.SdkVerdict, typescript: ts_oracle.TsVerdict) -> None:
    """chat.completions.parse(): the pydantic model in Python, its zod twin in TypeScript (their verdicts given)."""
    if exchange.response is None or exchange.response.status >= 400 or not typescript.ran:
        return
    found = _one_raises(
        exchange,
        "chat.completions.parse()",
        python.summary(),
        typescript.summary(),
        python.raised,
        None if typescript.accepted else typescript.raised,
    )
    noted = _NOTED.get()
    if noted is not None:
        noted.extend(found)


def differences(exchange: Exchange, kind: str) -> list[ClientDifference]:
    if exchange.response is None:
        return []
    if kind == "error" or exchange.response.status >= 400:
        return _error(exchange)
    if kind in ("chat-completion-stream", "chat-completion-stream-helper"):
        typescript = ts_oracle.judge(exchange, "chat-completion-stream")
        if not typescript.ran:
            return []
        if kind == "chat-completion-stream":
            return _reads(exchange, "chat.completions.create(stream=True), iterated", kind, typescript)
        return _helper(exchange, typescript.helper) if typescript.helper is not None else []
    if kind in ("response-stream", "response-stream-events"):
        typescript = ts_oracle.judge(exchange, "response-stream")
        if not typescript.ran:
            return []
        if kind == "response-stream-events":
            return _reads(exchange, "responses.create(stream=True), iterated", kind, typescript)
        if typescript.helper is None:
            return []
        python = sdk_oracle.judge(exchange, "response-stream")
        return _one_raises(
            exchange,
            "responses.stream() to its final response",
            _said_python(python, "get_final_response()"),
            _said_typescript(typescript.helper, "finalResponse()"),
            python.raised if not python.accepted else None,
            typescript.helper.raised if not typescript.helper.accepted else None,
        )
    if kind not in _CALLS:
        return []
    typescript = ts_oracle.judge(exchange, kind)  # type: ignore[arg-type]
    if not typescript.ran:
        return []
    return _reads(exchange, _CALLS[kind], kind, typescript)


# the call each kind stands for, in neutral words
_CALLS = {
    "model": "models.retrieve()",
    "model-list": "models.list(), iterated",
    "chat-completion": "chat.completions.create()",
    "moderation": "moderations.create()",
    "embedding": "embeddings.create()",
    "completion": "completions.create()",
    "completion-stream": "completions.create(stream=True), its texts joined",
    "response": "responses.create()",
}


def _reads(exchange: Exchange, call: str, kind: str, typescript: ts_oracle.TsVerdict) -> list[ClientDifference]:
    python = sdk_oracle.judge(exchange, kind)  # type: ignore[arg-type]
    return _one_raises(
        exchange,
        call,
        python.summary(),
        typescript.summary(),
        None if python.accepted else (python.raised or "TypeError"),
        None if typescript.accepted else (typescript.raised or "TypeError"),
    )


def _one_raises(
    exchange: Exchange, call: str, python: str, typescript: str, python_raises: str | None, ts_raises: str | None
) -> list[ClientDifference]:
    if (python_raises is None) == (ts_raises is None):
        return []
    raiser = "python" if python_raises is not None else "typescript"
    worse = None if (python_raises or ts_raises) in BY_DESIGN else raiser
    return [ClientDifference(exchange.id, call, "one-raises", python, typescript, python_raises, ts_raises, worse)]


def _said_python(verdict: sdk_oracle.SdkVerdict, method: str) -> str:
    name = f"Python openai {sdk_oracle.SDK_VERSION}'s {method}"
    if verdict.raised:
        return f"{name} raises {verdict.raised}: {verdict.detail}"
    return f"{name} returns it" if verdict.accepted else f"{name} {verdict.detail}"


def _said_typescript(verdict: ts_oracle.TsVerdict, method: str) -> str:
    name = f"TypeScript openai {ts_oracle.version() or ts_oracle.BUNDLED_SDK}'s {method}"
    if not verdict.accepted:
        return f"{name} throws {verdict.raised}: {verdict.detail}"
    return f"{name} returns it"


def _helper(exchange: Exchange, helper: ts_oracle.TsVerdict) -> list[ClientDifference]:
    """chat.completions.stream() to its final completion: get_final_completion() against finalChatCompletion()."""
    call = "chat.completions.stream() to its final completion"
    python = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    python_raises = python.raised
    ts_raises = None if helper.accepted else helper.raised or "TypeError"
    said_python = _said_python(python, "get_final_completion()")
    said_typescript = _said_typescript(helper, "finalChatCompletion()")
    final = helper.data.get("final") or {}
    if python_raises is None and ts_raises is None:
        message = _first_message(python.value)
        ours, theirs = getattr(message, "content", None), final.get("content")
        if ours != theirs:
            return [
                ClientDifference(
                    exchange.id,
                    call,
                    "assembled-value",
                    f"{said_python} with content {_brief(ours)}",
                    f"{said_typescript} with content {_brief(theirs)}",
                    None,
                    None,
                )
            ]
        return []
    if ts_raises is None and final:
        said_typescript += (
            f" (finish_reason {_brief(final.get('finish_reason'))}, content {_brief(final.get('content'))})"
        )
    return _one_raises(exchange, call, said_python, said_typescript, python_raises, ts_raises)


def _first_message(final: Any) -> Any:
    choices = getattr(final, "choices", None) or []
    return getattr(choices[0], "message", None) if choices else None


def _error(exchange: Exchange) -> list[ClientDifference]:
    """An error answer: both clients should raise the status error; what the app then reads from it may differ."""
    python = sdk_oracle.judge(exchange, "error")
    typescript = ts_oracle.judge(exchange, "error")
    if not typescript.ran:
        return []
    call = "any call answered with this error"
    read = python.value if isinstance(python.value, dict) else {}
    if python.raised != typescript.raised:
        kind = "one-raises" if (python.raised is None) != (typescript.raised is None) else "error-class"
        said = (python.summary(), typescript.summary())
        return [ClientDifference(exchange.id, call, kind, *said, python.raised, typescript.raised)]
    if python.raised is None or "status" not in read:
        return []
    found = []
    python_code, ts_code = read.get("code"), typescript.data.get("code")
    if python_code != ts_code:
        found.append(
            ClientDifference(
                exchange.id,
                call,
                "error-code",
                f"Python openai {sdk_oracle.SDK_VERSION}'s err.code is {_typed(python_code)}",
                f"TypeScript openai {ts_oracle.version() or ts_oracle.BUNDLED_SDK}'s err.code is {_typed(ts_code)}",
                python.raised,
                typescript.raised,
            )
        )
    words = server_words(exchange)
    python_has = _has_words(str(read.get("message", "")), words)
    ts_has = _has_words(typescript.detail, words)
    if python_has != ts_has:
        found.append(
            ClientDifference(
                exchange.id,
                call,
                "error-message",
                f"Python openai {sdk_oracle.SDK_VERSION}'s err.message is {_brief(read.get('message'), 100)}",
                f"TypeScript openai {ts_oracle.version() or ts_oracle.BUNDLED_SDK}'s err.message is "
                f"{_brief(typescript.detail, 100)}",
                python.raised,
                typescript.raised,
                "typescript" if python_has else "python",
            )
        )
    return found


def server_words(exchange: Exchange) -> list[str]:
    """The server's own words in an error answer: its error's message, or else every string it holds (the whole
    text of a body that is not JSON)."""
    assert exchange.response is not None
    text = exchange.response.body.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return [text] if text else []
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"].strip():
        return [error["message"]]
    return [value for value in _strings(body) if len(value.strip()) >= 3]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _has_words(message: str, words: list[str]) -> bool:
    flat = " ".join(message.split())
    return any(" ".join(word.split())[:100] in flat for word in words)


def _typed(value: Any) -> str:
    kind = {str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "absent"}
    return f"{json.dumps(value)} ({kind.get(type(value), type(value).__name__)})"


def _brief(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
