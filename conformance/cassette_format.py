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
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from conformance.exchange import Chunk, Exchange, FailureKind, RecordedRequest, Response, TransportFailure

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
    # literal blocks keep stream bodies readable
    style = "|" if "\n" in value and _BLOCK_SAFE.fullmatch(value) else None
    if style is None and not _BLOCK_SAFE.fullmatch(value):
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

    return yaml.dump(data, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=2**31 - 1)


def load_yaml(text: str) -> Any:
    """YAML as the suite writes it: no anchors or aliases (an alias bomb is refused, not expanded).
    What PyYAML cannot read is a ValueError, with PyYAML's reason."""
    import yaml

    try:
        if "*" in text or "&" in text:
            for event in yaml.parse(text, Loader=yaml.CSafeLoader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    raise ValueError("it uses YAML anchors or aliases, which the suite never writes")
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


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
        if request.json is not None:
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
        body = json.dumps(req["json"], ensure_ascii=False, separators=(",", ":")).encode()
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


def read_text(path: Path) -> str:
    """A cassette's text: a regular file (not a device, a FIFO or a link to one) of bounded size."""
    if not path.is_file():
        raise ValueError("it is not a regular file")
    if path.stat().st_size > MAX_CASSETTE_BYTES:
        raise ValueError(f"it is larger than {MAX_CASSETTE_BYTES // 1024**2} MiB, more than the suite ever writes")
    with path.open("rb") as file:
        data = file.read(MAX_CASSETTE_BYTES + 1)
    if len(data) > MAX_CASSETTE_BYTES:
        raise ValueError(f"it is larger than {MAX_CASSETTE_BYTES // 1024**2} MiB, more than the suite ever writes")
    return data.decode("utf-8")
