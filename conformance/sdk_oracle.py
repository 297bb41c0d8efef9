"""The official ``openai`` SDK as a second, independent oracle.

The recorded response of an exchange is handed to the real SDK call a user would make (through an
in-memory transport, so nothing goes over the network), with the SDK's strict response validation
on. The outcome is what user code would see: a parsed object, an ``APIResponseValidationError``,
or the ``APIStatusError`` subclass the status maps to.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx2
import openai
from openai.types.chat import ChatCompletion
from openai.types.responses import Response as ResponseObject
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

    def summary(self) -> str:
        if self.accepted:
            return f"Python openai {SDK_VERSION} " + (f"raises {self.detail}" if self.raised else "reads it")
        if self.raised is None:
            return f"Python openai {SDK_VERSION} {self.detail}"
        return f"Python openai {SDK_VERSION} raises {self.raised}: {self.detail}"


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


_REPLAYER = _Replayer()
# embeddings: the SDK's own types say a vector is a list of floats, yet embeddings.create asks for base64 by default
# and decodes it after validation, so only the default client reads what it asked for; it is the app's view (and
# for legacy completions, whose echoed first token has a null log probability the strict types refuse)
_APP_REPLAYER = _Replayer(strict=False)


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
    """The text of each choice a completion (or the chunks of a stream) hands the app, joined by index."""
    texts: dict[int, str] = {}
    for item in value if isinstance(value, list) else [value]:
        for choice in getattr(item, "choices", None) or []:
            index, text = getattr(choice, "index", None), getattr(choice, "text", None)
            if isinstance(index, int) and isinstance(text, str):
                texts[index] = texts.get(index, "") + text
    return texts


# legacy completions: the app's client (the default one), as for embeddings; the texts it hands the app come back
_APP_CALLS: dict[str, Callable[[openai.OpenAI], Any]] = {
    "completion": lambda client: client.completions.create(model="model", prompt="text"),
    "completion-stream": lambda client: list(client.completions.create(model="model", prompt="text", stream=True)),
}

_CALLS: dict[str, Callable[[openai.OpenAI], Any]] = {
    "model": lambda client: client.models.retrieve("model"),
    "model-list": lambda client: list(client.models.list()),
    "chat-completion": lambda client: client.post("/chat/completions", body={}, cast_to=ChatCompletion),
    "chat-completion-stream": lambda client: list(
        client.chat.completions.create(model="model", messages=[], stream=True)
    ),
    "chat-completion-stream-helper": lambda client: _final_completion(client),
    "moderation": lambda client: client.moderations.create(input="text"),
    "error": lambda client: client.models.retrieve("model"),
    "response": lambda client: client.post("/responses", body={}, cast_to=ResponseObject),
    "response-stream": lambda client: _final_response(client),
}


def _final_completion(client: openai.OpenAI) -> Any:
    """A chat stream read through the stream helper: every event of chat.completions.stream(), then the chat
    completion it assembled (get_final_completion(), or the completion its LengthFinishReasonError carries)."""
    with client.chat.completions.stream(model="model", messages=[]) as stream:
        for _ in stream:
            pass
        try:
            return stream.get_final_completion()
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as stopped:
            # raised by design for a stream cut by the token cap or the filter; the app still gets what it assembled
            return stopped.completion


def _final_response(client: openai.OpenAI) -> Any:
    """A Responses stream read as user code reads it: every typed event of responses.stream(), then the
    response it assembled (the helper raises on events that do not fit what came before)."""
    with client.responses.stream(model="model", input="text") as stream:
        for _ in stream:
            pass
        return stream.get_final_response()


_MEMO: VerdictMemo[SdkVerdict] = VerdictMemo()


def judge(exchange: Exchange, kind: Kind) -> SdkVerdict:
    """What the SDK makes of this exchange's response when it expects a ``kind`` object."""
    return _MEMO.get(exchange, kind, lambda: _judge(exchange, kind))


def _judge(exchange: Exchange, kind: Kind) -> SdkVerdict:
    if exchange.response is None:
        return SdkVerdict(False, "APIConnectionError", "no response")
    if kind == "error":
        return _judge_error(exchange)
    try:
        if kind == "embedding":
            value = _APP_REPLAYER.run(exchange, _embeddings(exchange))
        elif kind in _APP_CALLS:
            value = _APP_REPLAYER.run(exchange, _APP_CALLS[kind])
            value = _completion_texts(value)
        else:
            value = _REPLAYER.run(exchange, _CALLS[kind])
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
    return SdkVerdict(True, None, "parsed", value)


def _judge_error(exchange: Exchange) -> SdkVerdict:
    """An error response is accepted when the SDK raises the status error with the error object
    as its body (it unwraps body["error"]), so user code finds the message where it looks."""
    try:
        _REPLAYER.run(exchange, _CALLS["error"])
    except openai.APIStatusError as exc:
        name = type(exc).__name__
        body = exc.body
        if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
            return SdkVerdict(True, name, f"{name} with the message {_one_line(body['message'], 80)!r}", body)
        return SdkVerdict(
            False,
            name,
            f"no error message where the SDK looks (body['error']['message']); body {_one_line(repr(body), 100)}",
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
        parsed = _REPLAYER.run(exchange, call)
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
