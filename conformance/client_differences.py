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

Where both raise on an answer that is not an error (``both-raise``), the clients agree, but it is noted too: both
fail the app there, and the client columns of the rows whose failing checks found the answer at fault say so.

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
KINDS = ("one-raises", "error-class", "error-code", "error-message", "assembled-value", "both-raise")


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
    # lacks the server's words that the other's holds; "both" where both raise (None: neither)
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
    if exchange.response is None or exchange.response.body_size is not None:
        return []  # no answer, or only the head of one too large to keep: no app was handed this
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
    """One client raises and the other returns (one-raises), or both raise (both-raise: no difference, but both
    clients fail the app on this answer, which the client columns must show); nothing when both return."""
    if python_raises is None and ts_raises is None:
        return []
    if python_raises == ts_raises == "APIError":
        return []  # the error event of a stream reaches both apps as the SDK's APIError: what both should do
    failing = [name for name, raised in (("python", python_raises), ("typescript", ts_raises)) if _fails(raised)]
    worse = "both" if len(failing) == 2 else (failing[0] if failing else None)
    kind = "both-raise" if python_raises is not None and ts_raises is not None else "one-raises"
    return [ClientDifference(exchange.id, call, kind, python, typescript, python_raises, ts_raises, worse)]


def _fails(raised: str | None) -> bool:
    return raised is not None and raised not in BY_DESIGN


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
    # the oracle's detail is err.message, with a note of its own where the SDK finds no message
    ts_message = typescript.detail.removesuffix(_NO_MESSAGE)
    ts_has = _has_words(ts_message, words)
    if python_has != ts_has:
        found.append(
            ClientDifference(
                exchange.id,
                call,
                "error-message",
                f"Python openai {sdk_oracle.SDK_VERSION}'s err.message is {_brief(read.get('message'), 100)}",
                f"TypeScript openai {ts_oracle.version() or ts_oracle.BUNDLED_SDK}'s err.message is "
                f"{_brief(ts_message, 100)}",
                python.raised,
                typescript.raised,
                "typescript" if python_has else "python",
            )
        )
    return found


_NO_MESSAGE = "; no error message where the SDK looks (err.error.message)"


def server_words(exchange: Exchange) -> list[str]:
    """The server's own words in an error answer: its error's message, or else every string it holds (the whole
    text of a body that is not JSON, or is JSON deeper than the suite parses)."""
    assert exchange.response is not None
    body = exchange.json_body
    if not body.ok:
        text = exchange.response.body[:_MAX_TEXT].decode("utf-8", "replace").strip()
        return [text] if text else []
    value = body.value
    error = value.get("error", value) if isinstance(value, dict) else value
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"].strip():
        return [error["message"]]
    found: list[str] = []
    pending, seen = [value], 0
    while pending and seen < _MAX_VALUES:  # a walk, not a recursion: the body may nest as deep as jsonparse allows
        item, seen = pending.pop(), seen + 1
        if isinstance(item, str) and len(item.strip()) >= 3:
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


# the most of an error body read for its words
_MAX_TEXT = 64 * 1024
_MAX_VALUES = 10_000


def _has_words(message: str, words: list[str]) -> bool:
    flat = " ".join(message.split())
    return any(" ".join(word.split())[:100] in flat for word in words)


def _typed(value: Any) -> str:
    kind = {str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "absent"}
    if type(value) not in kind:
        return f"a {type(value).__name__}"
    text = json.dumps(value)
    return f"{text if len(text) <= 60 else text[:59] + '…'} ({kind[type(value)]})"


def _brief(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
