"""The official ``openai`` SDK as a second, independent oracle.

The recorded response of an exchange is handed to the real SDK call a user would make (through an
in-memory transport, so nothing goes over the network), on the client an app constructs (``OpenAI()``'s
defaults), followed by the first read an app makes of what it got. The outcome is what user code would see:
a parsed object, the ``APIStatusError`` subclass the status maps to, or whatever else the call or the read
raises. The SDK's strict response validation (``_strict_response_validation=True``) is a second, labelled
opinion beside it (``SdkVerdict.strict``), never the verdict: no app gets it unless it asks.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import httpx2
import openai
from pydantic import ValidationError

from conformance.exchange import Exchange
from conformance.verdict_memo import VerdictMemo

SDK_VERSION = openai.__version__

Kind = Literal[
    "model",
    "model-list",
    "chat-completion",
    "chat-completion-stream",
    "chat-completion-stream-helper",
    "moderation",
    "embedding",
    "completion",
    "completion-stream",
    "error",
    "response",
    "response-stream",
    "response-stream-events",
]

# the SDK would decode these itself; the recorded body is already decoded
_TRANSPORT_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


@dataclass(frozen=True)
class SdkVerdict:
    accepted: bool
    # the exception class user code would see, e.g. "NotFoundError"; None when accepted
    raised: str | None
    detail: str
    value: Any = None
    # what a client with strict response validation makes of it, where that differs (a second opinion)
    strict: SdkVerdict | None = None

    def summary(self) -> str:
        if self.accepted and self.raised:
            raised = self.detail if self.detail.startswith(self.raised) else f"{self.raised} ({self.detail})"
            said = f"Python openai {SDK_VERSION} raises {raised}"
        elif self.accepted:
            said = f"Python openai {SDK_VERSION} reads it"
        elif self.raised is None:
            said = f"Python openai {SDK_VERSION} {self.detail}"
        else:
            said = f"Python openai {SDK_VERSION} raises {self.raised}: {self.detail}"
        return said + self.second_opinion()

    def second_opinion(self) -> str:
        """ "; a strict client rejects it: ..." where strict response validation would refuse what the app's client
        reads ("" otherwise)."""
        if self.strict is None or self.strict.accepted or not self.accepted:
            return ""
        return f" (a strict client, _strict_response_validation=True, rejects it: {self.strict.detail})"


class _OracleClient(openai.OpenAI):
    """The SDK's client, building each distinct request once: the oracle makes the same few calls
    (list the models, create a chat completion, ...) for every exchange, and what it judges is how
    the SDK reads the answer, which the request does not change. Building a request is half the
    SDK's time per exchange."""

    _built: dict[tuple[str, str, str], httpx2.Request]

    def _build_request(self, options: Any, *, retries_taken: int = 0) -> httpx2.Request:
        try:
            key = (options.method, options.url, repr(options.json_data) + repr(options.params))
        except AttributeError:  # a version of the SDK whose options look otherwise
            return super()._build_request(options, retries_taken=retries_taken)
        built = self.__dict__.setdefault("_built", {})
        request = built.get(key)
        if request is None:
            request = built[key] = super()._build_request(options, retries_taken=retries_taken)
        return request


class _Replayer:
    """One SDK client per thread, answering every request with the exchange being judged. ``strict``: the SDK's
    strict response validation (the oracle's), or the client an app constructs by default."""

    def __init__(self, *, strict: bool = True) -> None:
        self._local = threading.local()
        self._strict = strict

    def _client(self) -> openai.OpenAI:
        client = getattr(self._local, "client", None)
        if client is None:
            transport = httpx2.MockTransport(self._answer)
            client = _OracleClient(
                api_key="sk-oracle",
                base_url="http://sdk-oracle.invalid/v1",
                http_client=httpx2.Client(transport=transport),
                max_retries=0,
                _strict_response_validation=self._strict,
            )
            self._local.client = client
        return client

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        exchange: Exchange = self._local.exchange
        assert exchange.response is not None
        headers = [(k, v) for k, v in exchange.response.headers if k.lower() not in _TRANSPORT_HEADERS]
        return httpx2.Response(exchange.response.status, headers=headers, content=exchange.response.body)

    def run(self, exchange: Exchange, call: Callable[[openai.OpenAI], Any]) -> Any:
        self._local.exchange = exchange
        try:
            return call(self._client())
        finally:
            self._local.exchange = None


# the client an app constructs (the verdict), and one with strict response validation (the second opinion)
_APP_REPLAYER = _Replayer(strict=False)
_STRICT_REPLAYER = _Replayer(strict=True)


def _embeddings(exchange: Exchange) -> Callable[[openai.OpenAI], Any]:
    """The call an app makes for this exchange: ``embeddings.create()`` with no encoding_format when the request
    asked for base64 (what the SDK sends by default, then decodes), with the encoding it asked for otherwise."""
    body = exchange.request.json if isinstance(exchange.request.json, dict) else {}
    encoding = body.get("encoding_format")
    if encoding == "base64":
        return lambda client: client.embeddings.create(model="model", input="text")
    return lambda client: client.embeddings.create(
        model="model", input="text", encoding_format="float" if encoding is None else encoding
    )


def _completion_texts(value: Any) -> dict[int, str]:
    """The text of each choice a completion (or the chunks of a stream) hands the app, joined by index the way an
    app joins them (a choice whose text is not a string makes that join raise TypeError)."""
    texts: dict[int, str] = {}
    for item in value if isinstance(value, list) else [value]:
        for choice in item.choices:
            text = choice.text
            if not isinstance(text, str):
                raise TypeError(f"a choice's text is {_one_line(repr(text), 60)}: the app's join of the texts fails")
            texts[choice.index] = texts.get(choice.index, "") + text
    return texts


def _iterate(stream: Any) -> list[Any]:
    """Every item of an SDK stream, each read as an app reads it first (its ``type`` or its ``choices``)."""
    items = []
    for item in stream:
        if getattr(item, "object", None) == "chat.completion.chunk" or hasattr(item, "choices"):
            _ = item.choices
        else:
            _ = item.type
        items.append(item)
    return items


_CALLS: dict[str, Callable[[openai.OpenAI], Any]] = {
    "model": lambda client: client.models.retrieve("model"),
    "model-list": lambda client: list(client.models.list()),
    "chat-completion": lambda client: client.chat.completions.create(model="model", messages=[]),
    "chat-completion-stream": lambda client: _iterate(
        client.chat.completions.create(model="model", messages=[], stream=True)
    ),
    "chat-completion-stream-helper": lambda client: _final_completion(client),
    "moderation": lambda client: client.moderations.create(input="text"),
    "error": lambda client: client.models.retrieve("model"),
    "response": lambda client: client.responses.create(model="model", input="text"),
    "response-stream": lambda client: _final_response(client),
    "response-stream-events": lambda client: _iterate(
        client.responses.create(model="model", input="text", stream=True)
    ),
    "completion": lambda client: _completion_texts(client.completions.create(model="model", prompt="text")),
    "completion-stream": lambda client: _completion_texts(
        list(client.completions.create(model="model", prompt="text", stream=True))
    ),
}

# the kinds a strict client reads otherwise than the app's (the second opinion is asked for these)
_STRICT_CALLS: dict[str, Callable[[openai.OpenAI], Any]] = {
    kind: _CALLS[kind]
    for kind in (
        "model",
        "model-list",
        "chat-completion",
        "chat-completion-stream",
        "moderation",
        "response",
        "response-stream",
    )
}


def _final_completion(client: openai.OpenAI) -> Any:
    """A chat stream read through the stream helper: every event of chat.completions.stream(), then the chat
    completion it assembled (get_final_completion())."""
    with client.chat.completions.stream(model="model", messages=[]) as stream:
        for _ in stream:
            pass
        return stream.get_final_completion()


def _final_response(client: openai.OpenAI) -> Any:
    """A Responses stream read as user code reads it: every typed event of responses.stream(), then the
    response it assembled (the helper raises on events that do not fit what came before)."""
    with client.responses.stream(model="model", input="text") as stream:
        for _ in stream:
            pass
        return stream.get_final_response()


def _first_read(kind: str, value: Any) -> str | None:
    """What an app reads first from each kind of answer (the TypeScript oracle makes the same reads): a problem
    when that read fails or finds nothing to read, None when it works."""
    try:
        if kind == "model" and not isinstance(value.id, str):
            return f"model.id is {_one_line(repr(value.id), 60)}"
        if kind == "model-list":
            for model in value:
                _ = model.id
        if kind == "moderation" and not isinstance(value.results, list):
            return "no results to read"
        if kind in ("chat-completion", "chat-completion-stream-helper"):
            if not isinstance(value.choices, list):
                return "no choices to read"
            if not value.choices:
                return "IndexError: no choice to read (choices is empty)"
            if not all(choice.message is not None for choice in value.choices):
                return "a choice without a message"
        if kind in ("response", "response-stream"):
            if not isinstance(value.output, list):
                return "no output items to read"
            if not isinstance(value.output_text, str):
                return "no output_text (the SDK could not join the message text)"
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        return f"{type(exc).__name__}: {_one_line(str(exc), 120)}"
    return None


_MEMO: VerdictMemo[SdkVerdict] = VerdictMemo()

# raised by design by get_final_completion() for a stream cut by the token cap or the filter: the app's call raises,
# and the completion it assembled rides on the exception
_BY_DESIGN = (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError)


def judge(exchange: Exchange, kind: Kind) -> SdkVerdict:
    """What the SDK makes of this exchange's response when it expects a ``kind`` object."""
    return _MEMO.get(exchange, kind, lambda: _judge(exchange, kind))


def _judge(exchange: Exchange, kind: Kind) -> SdkVerdict:
    if exchange.response is None:
        return SdkVerdict(False, "APIConnectionError", "no response")
    if kind == "error":
        return _judge_error(exchange)
    verdict = _read(_APP_REPLAYER, exchange, kind)
    if verdict.accepted and kind in _STRICT_CALLS:
        strict = _read(_STRICT_REPLAYER, exchange, kind)
        if not strict.accepted:
            verdict = replace(verdict, strict=strict)
    return verdict


def _read(replayer: _Replayer, exchange: Exchange, kind: str) -> SdkVerdict:
    call = _embeddings(exchange) if kind == "embedding" else _CALLS[kind]
    try:
        value = replayer.run(exchange, call)
    except _BY_DESIGN as stopped:
        name = type(stopped).__name__
        return SdkVerdict(
            True, name, "by design: the completion it assembled rides on the exception", stopped.completion
        )
    except openai.APIResponseValidationError as exc:
        return SdkVerdict(False, type(exc).__name__, _validation_detail(exc))
    except openai.APIStatusError as exc:
        return SdkVerdict(False, type(exc).__name__, f"HTTP {exc.status_code}")
    except openai.APIError as exc:
        return SdkVerdict(False, type(exc).__name__, _one_line(str(exc)))
    except ValueError as exc:  # JSONDecodeError and friends surface unwrapped
        return SdkVerdict(False, type(exc).__name__, _one_line(str(exc)))
    except Exception as exc:  # whatever else the SDK raises on this answer is what user code would get
        return SdkVerdict(False, type(exc).__name__, _one_line(str(exc)) or "raised while reading the answer")
    problem = _first_read(kind, value)
    if problem is not None:
        raised = problem.split(":", 1)[0] if problem.split(":", 1)[0].endswith("Error") else "TypeError"
        return SdkVerdict(False, raised, f"the SDK returns an object the app cannot read: {problem}", value)
    return SdkVerdict(True, None, "parsed", value)


def _judge_error(exchange: Exchange) -> SdkVerdict:
    """An error response is accepted when the SDK raises the status error with the error object
    as its body (it unwraps body["error"]), so user code finds the message where it looks. The value is what the
    app reads from the exception: its status, code and message."""
    try:
        _APP_REPLAYER.run(exchange, _CALLS["error"])
    except openai.APIStatusError as exc:
        name = type(exc).__name__
        body = exc.body
        read = {"status": exc.status_code, "code": exc.code, "message": str(exc.message), "body": body}
        if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
            return SdkVerdict(True, name, f"{name} with the message {_one_line(body['message'], 80)!r}", read)
        return SdkVerdict(
            False,
            name,
            f"no error message where the SDK looks (body['error']['message']); body {_one_line(repr(body), 100)}",
            read,
        )
    except Exception as exc:
        return SdkVerdict(False, type(exc).__name__, _one_line(str(exc)))
    return SdkVerdict(False, None, "raises no exception: the response reads as a success")


def _validation_detail(exc: openai.APIResponseValidationError) -> str:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        parts = []
        for error in cause.errors()[:4]:
            path = _json_path(error["loc"])
            parts.append(f"{path}: {error['msg']}")
        more = len(cause.errors()) - len(parts)
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    return _one_line(exc.message)


def _json_path(loc: tuple[Any, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_structured(exchange: Exchange, response_format: type[Any]) -> SdkVerdict:
    """What ``client.chat.completions.parse(response_format=<pydantic model>)`` makes of the
    response: the parsed object, or the exception user code would get."""
    if exchange.response is None:
        return SdkVerdict(False, "APIConnectionError", "no response")

    def call(client: openai.OpenAI) -> Any:
        completion = client.chat.completions.parse(model="model", messages=[], response_format=response_format)
        return completion.choices[0].message.parsed

    try:
        parsed = _APP_REPLAYER.run(exchange, call)
    except openai.APIResponseValidationError as exc:
        return SdkVerdict(False, type(exc).__name__, _validation_detail(exc))
    except (openai.APIError, openai.OpenAIError) as exc:
        return SdkVerdict(False, type(exc).__name__, _one_line(str(exc)))
    except Exception as exc:  # pydantic's ValidationError, and whatever else user code would get
        return SdkVerdict(False, type(exc).__name__, _one_line(str(exc)) or "raised while reading the answer")
    if parsed is None:
        return SdkVerdict(False, None, "returns no parsed object (message.parsed is None)")
    return SdkVerdict(True, None, "parsed", parsed)


def request_body(call: Callable[[openai.OpenAI], Any]) -> dict[str, Any]:
    """The JSON body the SDK sends for ``call``, captured in memory (nothing goes out).

    Probes use it to send exactly what user code sends, e.g. the strict JSON Schema the SDK derives
    from a pydantic model for ``chat.completions.parse``."""
    captured: dict[str, Any] = {}

    def answer(request: httpx2.Request) -> httpx2.Response:
        captured.update(json.loads(request.content))
        return httpx2.Response(418, json={"error": {"message": "captured", "type": "capture"}})

    client = openai.OpenAI(
        api_key="sk-capture",
        base_url="http://sdk-capture.invalid/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        max_retries=0,
    )
    with contextlib.suppress(openai.APIStatusError):
        call(client)
    return captured
