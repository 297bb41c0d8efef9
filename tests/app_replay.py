"""Every recorded answer handed to both official clients the way an app calls them, independently of the checks.

This is the tests' own replay: plain SDK calls on a client built as an app builds it (``OpenAI()``'s defaults, no
strict validation; ``new OpenAI()`` in Node, ``js/app_replay.mjs``), each followed by the first read an app makes of
what it got. Each (exchange, call) gives one *outcome* in a form both languages write alike, so that the two can be
compared: what the call returned (a few values an app reads) or what it raised (its class, status, code, and
whether the server's own words reach the error's message).
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx2 as httpx
import openai
from pydantic import BaseModel

from conformance.exchange import Exchange

ROOT = Path(__file__).resolve().parent.parent
APP_REPLAY_JS = ROOT / "js" / "app_replay.mjs"
SKIPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
PARSE_PROBE = "structured-output/sdk-parse"


class Forecast(BaseModel):
    """The parse() probe's model (the suite's own, restated here so this replay owes nothing to the checks)."""

    city: Literal["Paris", "Rome", "Oslo"]
    sunny: bool


def calls_for(exchange: Exchange) -> list[str]:
    """The SDK calls an app makes that this recorded answer would be the answer to."""
    if exchange.response is None or exchange.response.body_size is not None:
        return []  # no answer, or only the head of one too large to keep (no app was handed it)
    method, path = exchange.request.method, exchange.request.url.split("?", 1)[0]
    body = exchange.request.json if isinstance(exchange.request.json, dict) else {}
    streamed = body.get("stream") is True
    if method == "GET" and path.endswith("/models"):
        return ["models.list"]
    if method == "GET" and "/models/" in path:
        return ["models.retrieve"]
    if method != "POST":
        return ["models.retrieve"] if exchange.response.status >= 400 else []
    if path.endswith("/chat/completions"):
        if streamed:
            return ["chat.iterate", "chat.stream_helper"]
        return ["chat.create", "chat.parse"] if exchange.id == PARSE_PROBE else ["chat.create"]
    if path.endswith("/responses"):
        return ["responses.iterate", "responses.stream_helper"] if streamed else ["responses.create"]
    if path.endswith("/moderations"):
        return ["moderations.create"]
    if path.endswith("/embeddings"):
        return ["embeddings.create"]
    if path.endswith("/completions"):
        return ["completions.iterate"] if streamed else ["completions.create"]
    return ["models.retrieve"] if exchange.response.status >= 400 else []


def server_words(exchange: Exchange) -> list[str]:
    """The server's own words in an error answer: its error's message; else every string of three characters or
    more in the body; the whole text of a body that is not JSON."""
    assert exchange.response is not None
    text = exchange.response.body.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return [text] if text else []
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"].strip():
        return [error["message"]]
    found: list[str] = []
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and len(value.strip()) >= 3:
            found.append(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def says(message: str, words: list[str]) -> bool:
    """The message carries one of the server's words (the first hundred characters, spaces squeezed)."""
    flat = " ".join(message.split())
    return any(" ".join(word.split())[:100] in flat for word in words)


def _client(exchange: Exchange) -> openai.OpenAI:
    response = exchange.response
    assert response is not None
    headers = [(k, v) for k, v in response.headers if k.lower() not in SKIPPED_HEADERS]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(response.status, headers=headers, content=response.body)

    return openai.OpenAI(
        api_key="sk-app",
        base_url="http://app.invalid/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
        max_retries=0,
    )


def _chat_read(completion: Any) -> dict[str, Any]:
    choice = completion.choices[0]
    message = choice.message
    calls = [[call.function.name, call.function.arguments] for call in message.tool_calls or []]
    return {"content": message.content, "finish_reason": choice.finish_reason, "tool_calls": calls}


def _chat_iterate(client: openai.OpenAI) -> dict[str, Any]:
    count, content = 0, ""
    for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
        count += 1
        for choice in chunk.choices:
            if choice.index == 0 and choice.delta.content:
                content += choice.delta.content
    return {"chunks": count, "content": content}


def _chat_helper(client: openai.OpenAI) -> dict[str, Any]:
    with client.chat.completions.stream(model="m", messages=[]) as stream:
        for _ in stream:
            pass
        return _chat_read(stream.get_final_completion())


def _responses_iterate(client: openai.OpenAI) -> dict[str, Any]:
    count = 0
    for event in client.responses.create(model="m", input="text", stream=True):
        count += 1
        _ = event.type
    return {"events": count}


def _responses_helper(client: openai.OpenAI) -> dict[str, Any]:
    with client.responses.stream(model="m", input="text") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    return {"status": final.status, "output_text": final.output_text}


def _embeddings(exchange: Exchange) -> Callable[[openai.OpenAI], Any]:
    body = exchange.request.json if isinstance(exchange.request.json, dict) else {}
    encoding = body.get("encoding_format")

    def call(client: openai.OpenAI) -> Any:
        if encoding == "base64":  # what the SDK asks for when the app names no encoding
            result = client.embeddings.create(model="m", input="text")
        else:
            result = client.embeddings.create(model="m", input="text", encoding_format=encoding or "float")
        return {"vectors": len(result.data), "length": len(result.data[0].embedding) if result.data else None}

    return call


def _completions_texts(items: Iterator[Any] | list[Any]) -> dict[str, Any]:
    texts: dict[str, str] = {}
    for item in items:
        for choice in item.choices:
            texts[str(choice.index)] = texts.get(str(choice.index), "") + choice.text
    return {"texts": texts}


def _call(exchange: Exchange, name: str) -> Callable[[openai.OpenAI], Any]:
    calls: dict[str, Callable[[openai.OpenAI], Any]] = {
        "models.list": lambda c: {"ids": [model.id for model in c.models.list()]},
        "models.retrieve": lambda c: {"id": c.models.retrieve("m").id},
        "chat.create": lambda c: _chat_read(c.chat.completions.create(model="m", messages=[])),
        "chat.parse": lambda c: {
            "parsed": _dump(c.chat.completions.parse(model="m", messages=[], response_format=Forecast))
        },
        "chat.iterate": _chat_iterate,
        "chat.stream_helper": _chat_helper,
        "responses.create": lambda c: {
            "status": (r := c.responses.create(model="m", input="text")).status,
            "output_text": r.output_text,
        },
        "responses.iterate": _responses_iterate,
        "responses.stream_helper": _responses_helper,
        "moderations.create": lambda c: {"flagged": c.moderations.create(input="text").results[0].flagged},
        "embeddings.create": _embeddings(exchange),
        "completions.create": lambda c: _completions_texts([c.completions.create(model="m", prompt="text")]),
        "completions.iterate": lambda c: _completions_texts(
            c.completions.create(model="m", prompt="text", stream=True)
        ),
    }
    return calls[name]


def _dump(completion: Any) -> Any:
    parsed = completion.choices[0].message.parsed
    return parsed.model_dump() if isinstance(parsed, BaseModel) else parsed


def python_outcome(exchange: Exchange, name: str) -> dict[str, Any]:
    """What the Python client hands an app for this call: {"returns": values} or {"raises": class, ...}."""
    try:
        return {"returns": _jsonable(_call(exchange, name)(_client(exchange)))}
    except openai.APIStatusError as exc:
        return {
            "raises": type(exc).__name__,
            "status": exc.status_code,
            "code": exc.code,
            "message_has_detail": says(str(exc.message), server_words(exchange)),
        }
    except Exception as exc:  # whatever else reaches the app, SDK errors and reading errors alike
        return {"raises": type(exc).__name__}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def typescript_outcomes(
    jobs: list[tuple[str, Exchange, str]], package: str = "openai"
) -> tuple[str, dict[str, dict[str, Any]]]:
    """What the npm client (``package``, as installed in js/node_modules) hands an app for each (key, exchange,
    call): its version and the outcome by key."""
    lines = []
    for key, exchange, name in jobs:
        response = exchange.response
        assert response is not None
        body = exchange.request.json if isinstance(exchange.request.json, dict) else {}
        lines.append(
            json.dumps(
                {
                    "key": key,
                    "call": name,
                    "status": response.status,
                    "headers": [[k, v] for k, v in response.headers if k.lower() not in SKIPPED_HEADERS],
                    "chunks": [base64.b64encode(chunk.data).decode() for chunk in response.chunks],
                    "encoding_format": body.get("encoding_format"),
                    "words": server_words(exchange) if response.status >= 400 else [],
                }
            )
        )
    done = subprocess.run(
        ["node", str(APP_REPLAY_JS), package],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    version = answers[0]["version"]
    return version, {answer["key"]: answer["outcome"] for answer in answers[1:]}


# what the report calls each call (conformance.client_differences), for an answer that is not an error
REPORT_CALLS = {
    "models.list": "models.list(), iterated",
    "models.retrieve": "models.retrieve()",
    "chat.create": "chat.completions.create()",
    "chat.parse": "chat.completions.parse()",
    "chat.iterate": "chat.completions.create(stream=True), iterated",
    "chat.stream_helper": "chat.completions.stream() to its final completion",
    "responses.create": "responses.create()",
    "responses.iterate": "responses.create(stream=True), iterated",
    "responses.stream_helper": "responses.stream() to its final response",
    "moderations.create": "moderations.create()",
    "embeddings.create": "embeddings.create()",
    "completions.create": "completions.create()",
    "completions.iterate": "completions.create(stream=True), its texts joined",
}
ERROR_CALL = "any call answered with this error"


def disagreements(status: int, call: str, python: dict[str, Any], typescript: dict[str, Any]) -> list[tuple[str, str]]:
    """How the two outcomes of one call differ, as (the report's call, kind) pairs; none where they agree."""
    named = ERROR_CALL if status >= 400 else REPORT_CALLS[call]
    if ("raises" in python) != ("raises" in typescript):
        return [(named, "one-raises")]
    if "raises" not in python:
        if python["returns"] == typescript["returns"]:
            return []
        return [(named, "assembled-value" if call == "chat.stream_helper" else "values")]
    if status < 400 and not python["raises"] == typescript["raises"] == "APIError":  # an error event reaches both
        return [(named, "both-raise")]  # no disagreement, but both fail the app: the report must say so too
    if "status" not in python or "status" not in typescript:
        return [] if "status" not in python and "status" not in typescript else [(named, "error-class")]
    if python["raises"] != typescript["raises"]:
        return [(named, "error-class")]
    found = []
    if python["code"] != typescript["code"]:
        found.append((named, "error-code"))
    if python["message_has_detail"] != typescript["message_has_detail"]:
        found.append((named, "error-message"))
    return found


def reads(status: int, outcome: dict[str, Any]) -> bool:
    """The client hands the app what the answer says: a success returns (or raises only by design, the completion
    riding on the exception); an error raises the status error with the server's words in its message."""
    if status >= 400:
        return "status" in outcome and outcome["status"] == status and bool(outcome["message_has_detail"])
    return "returns" in outcome or outcome.get("raises") in BY_DESIGN


BY_DESIGN = ("LengthFinishReasonError", "ContentFilterFinishReasonError")
