"""The cassette file format: one exchange as YAML, and back, byte for byte.

An exchange becomes a mapping (request, response with its chunks and their arrival times, failure)
written by PyYAML's C emitter, without anchors. Text that is UTF-8 is written as text (as a literal
block where that keeps it exactly), anything else as base64; ``dump_exchange`` reads its own output
back and falls back to base64 chunks if the YAML would not give back every byte. Reading refuses
what the suite never writes: files that are not regular, over ``MAX_CASSETTE_BYTES``, or with
anchors and aliases.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from typing import TYPE_CHECKING, Any, get_args

from conformance.exchange import (
    Chunk,
    Exchange,
    FailureKind,
    RecordedRequest,
    Response,
    TransportFailure,
    sendable,
)

if TYPE_CHECKING:
    import yaml

FORMAT = 1
# no cassette the suite writes comes near this: bodies over the cap are kept as their first bytes
MAX_CASSETTE_BYTES = 64 * 1024**2


# characters a YAML literal block keeps as they are; others (CR, NEL, the Unicode line and
# paragraph separators, BOM, C0/C1 controls but tab and LF, non-characters) make PyYAML normalise
# or refuse it, so such a text is written double-quoted with escapes instead
_BLOCK_SAFE = re.compile(r"[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")


class _Pair(list):  # type: ignore[type-arg]
    """A header (name, value): written on one line."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # literal blocks keep stream bodies readable; not a text of many short lines, which the block's
    # indentation would make several times its size (a flood of one-byte events)
    lines = value.count("\n")
    style = "|" if lines and len(value) >= 6 * lines and _BLOCK_SAFE.fullmatch(value) else None
    if style is None and (lines or not _BLOCK_SAFE.fullmatch(value)):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_pair(dumper: yaml.SafeDumper, value: _Pair) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


@cache
def _dumper() -> type[yaml.SafeDumper]:
    """PyYAML's C emitter, without anchors (PyYAML is imported only when a cassette is written or
    parsed: a replay of a set read before takes its parsed form from conformance.cassette_cache)."""
    import yaml

    class Dumper(yaml.CSafeDumper if hasattr(yaml, "CSafeDumper") else yaml.SafeDumper):  # type: ignore[misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True  # never anchors and aliases: every value is written where it is

    Dumper.add_representer(str, _represent_str)
    Dumper.add_representer(_Pair, _represent_pair)
    return Dumper


def dump_yaml(data: Any) -> str:
    import yaml

    try:
        return yaml.dump(data, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=2**31 - 1)
    except UnicodeEncodeError:  # a lone surrogate somewhere (a message quoting a target): its escape
        return yaml.dump(_sendable(data), Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=2**31 - 1)


def _sendable(value: Any) -> Any:
    if isinstance(value, str):
        return sendable(value)
    if isinstance(value, _Pair):
        return _Pair(_sendable(item) for item in value)
    if isinstance(value, dict):
        return {_sendable(key): _sendable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sendable(item) for item in value]
    return value


def load_yaml(text: str) -> Any:
    """YAML as the suite writes it, built straight from the parser's events: no anchors or aliases
    (an alias bomb is refused, not expanded), no tags but the core schema's, and no node graph, so
    loading costs a small multiple of the text whatever its shape (a graph of PyYAML nodes costs
    hundreds of bytes for each ``[]``). What cannot be read is a ValueError with the reason."""
    import yaml

    stack: list[Any] = []
    keys: list[Any] = []
    documents: list[Any] = []
    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ValueError("it uses YAML anchors or aliases, which the suite never writes")
            if isinstance(event, yaml.ScalarEvent):
                _add(stack, keys, documents, _scalar(event))
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                if len(stack) >= MAX_YAML_DEPTH:
                    raise ValueError(f"it nests deeper than {MAX_YAML_DEPTH} levels, more than the suite ever writes")
                _tag(event, "seq" if isinstance(event, yaml.SequenceStartEvent) else "map")
                stack.append([] if isinstance(event, yaml.SequenceStartEvent) else {})
                keys.append(_NO_KEY)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                keys.pop()
                _add(stack, keys, documents, stack.pop())
    except yaml.YAMLError as exc:
        # PyYAML's message quotes the text around the problem: only its kind and place are said
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ValueError(f"not YAML ({getattr(exc, 'problem', None) or type(exc).__name__}{where})") from exc
    if len(documents) > 1:
        raise ValueError("it holds more than one YAML document")
    return documents[0] if documents else None


_NO_KEY = object()
# deeper than any cassette the suite writes (a request's JSON is kept to jsonparse's depth)
MAX_YAML_DEPTH = 200
_CORE = "tag:yaml.org,2002:"


@cache
def _constructor() -> Any:
    import yaml

    return yaml.SafeLoader("")


def _tag(event: Any, kind: str) -> None:
    if event.tag not in (None, "!", _CORE + kind):
        raise ValueError(f"it uses the YAML tag {event.tag[:40]!r}, which the suite never writes")


def _scalar(event: Any) -> Any:
    import yaml

    loader = _constructor()
    tag = event.tag
    if tag in (None, "!"):
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TAGS:
        raise ValueError(f"it uses the YAML tag {str(tag)[:40]!r}, which the suite never writes")
    if tag == _CORE + "str":
        return event.value
    return loader.yaml_constructors[tag](loader, yaml.ScalarNode(tag, event.value))


_SCALAR_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp")}


def _add(stack: list[Any], keys: list[Any], documents: list[Any], value: Any) -> None:
    if not stack:
        documents.append(value)
        return
    top = stack[-1]
    if isinstance(top, list):
        top.append(value)
    elif keys[-1] is _NO_KEY:
        if isinstance(value, dict | list):
            raise ValueError("it uses a mapping or a sequence as a key, which the suite never writes")
        keys[-1] = value
    else:
        top[keys[-1]] = value
        keys[-1] = _NO_KEY


def _encode_bytes(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def _decode_bytes(node: dict[str, Any], where: str) -> bytes:
    if "text" in node:
        if not isinstance(node["text"], str):
            raise ValueError(f"{where}: text is not a string")
        return node["text"].encode("utf-8")
    if "base64" in node:
        return base64.b64decode(node["base64"], validate=True)
    raise ValueError(f"{where} has neither text nor base64")


def exchange_to_dict(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    req: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "auth": request.auth,
        "headers": dict(request.headers),
    }
    if request.body is not None:
        if request.json is not None and sendable(json.dumps(request.json, ensure_ascii=False)) == json.dumps(
            request.json, ensure_ascii=False
        ):
            req["json"] = request.json
        else:
            req.update(_encode_bytes(request.body))
    data: dict[str, Any] = {
        "cassette": FORMAT,
        "id": exchange.id,
        "purpose": exchange.purpose,
        "started_at": exchange.started_at,
        "elapsed": exchange.elapsed,
        "ttfb": exchange.ttfb,
        "request": req,
        "response": None,
        "failure": None,
    }
    if exchange.response is not None:
        response = exchange.response
        data["response"] = {
            "status": response.status,
            "reason": response.reason,
            "http_version": response.http_version,
            "decoded_from": response.decoded_from,
            "headers": [_Pair((name, value)) for name, value in response.headers],
            "chunks": [{"t": chunk.t, **_encode_bytes(chunk.data)} for chunk in response.chunks],
        }
        if response.body_size is not None:
            # only the first bytes of a body too large to keep
            data["response"]["body_size"] = response.body_size
            data["response"]["body_sha256"] = response.body_sha256
    if exchange.failure is not None:
        data["failure"] = {"kind": exchange.failure.kind, "message": exchange.failure.message}
    if exchange.earlier:
        # the attempts retried before this one, oldest first (without the request, which is this one's)
        data["earlier"] = [_attempt_to_dict(attempt) for attempt in exchange.earlier]
    return data


def _attempt_to_dict(attempt: Exchange) -> dict[str, Any]:
    data = exchange_to_dict(attempt)
    return {key: data[key] for key in ("started_at", "elapsed", "ttfb", "response", "failure")}


def exchange_from_dict(data: dict[str, Any]) -> Exchange:
    if data.get("cassette") != FORMAT:
        raise ValueError(f"unknown cassette format {data.get('cassette')!r} (this suite reads format {FORMAT})")
    req = data["request"]
    body: bytes | None = None
    if "json" in req:
        body = json.dumps(req["json"], ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    elif "text" in req or "base64" in req:
        body = _decode_bytes(req, "request body")
    request = RecordedRequest(
        method=str(req["method"]),
        url=str(req["url"]),
        headers=tuple((str(k), str(v)) for k, v in (req.get("headers") or {}).items()),
        auth=req.get("auth", "key"),
        body=body,
    )
    response = None
    if data.get("response") is not None:
        resp = data["response"]
        response = Response(
            status=int(resp["status"]),
            reason=str(resp.get("reason") or ""),
            http_version=str(resp.get("http_version") or "HTTP/1.1"),
            headers=tuple((str(name), str(value)) for name, value in resp.get("headers") or []),
            chunks=tuple(
                Chunk(float(chunk["t"]), _decode_bytes(chunk, f"chunk {index}"))
                for index, chunk in enumerate(resp.get("chunks") or [])
            ),
            decoded_from=resp.get("decoded_from"),
            body_size=None if resp.get("body_size") is None else int(resp["body_size"]),
            body_sha256=None if resp.get("body_sha256") is None else str(resp["body_sha256"]),
        )
    failure = None
    if data.get("failure") is not None:
        kind = data["failure"]["kind"]
        if kind not in get_args(FailureKind) or kind == "stopped":
            raise ValueError(f"unknown failure kind {kind!r}")
        failure = TransportFailure(kind=kind, message=str(data["failure"]["message"]))
    return Exchange(
        id=str(data["id"]),
        purpose=str(data.get("purpose") or ""),
        request=request,
        response=response,
        failure=failure,
        started_at=str(data.get("started_at") or ""),
        elapsed=float(data.get("elapsed") or 0.0),
        ttfb=None if data.get("ttfb") is None else float(data["ttfb"]),
        replayed=True,
        earlier=tuple(
            exchange_from_dict({**data, **attempt, "earlier": None}) for attempt in data.get("earlier") or []
        ),
    )


def dump_exchange(exchange: Exchange) -> str:
    """The cassette text of an exchange, checked to give back every byte of every chunk; where the
    YAML emitter would change a text chunk (it may normalise line breaks), the chunks go as base64."""
    data = exchange_to_dict(exchange)
    text = dump_yaml(data)
    if _chunks_of(text) == _all_chunks(exchange):
        return text
    for part, attempt in [(data, exchange), *zip(data.get("earlier") or [], exchange.earlier, strict=True)]:
        if attempt.response is not None:
            part["response"]["chunks"] = [
                {"t": chunk.t, "base64": base64.b64encode(chunk.data).decode("ascii")}
                for chunk in attempt.response.chunks
            ]
    return dump_yaml(data)


def _all_chunks(exchange: Exchange) -> list[tuple[Chunk, ...] | None]:
    return [None if e.response is None else e.response.chunks for e in (exchange, *exchange.earlier)]


def _chunks_of(text: str) -> list[tuple[Chunk, ...] | None] | None:
    try:
        return _all_chunks(exchange_from_dict(load_yaml(text)))
    except (ValueError, KeyError, TypeError):
        return None
