"""A hostile front for the reference server: every answer the reference server gives passes through
it and comes out misbehaving in one or more chosen ways, on the raw socket, where a well-behaved
server framework could not misbehave (a key in the reason phrase, headers trickled a byte at a time,
a gzip bomb).

Echo behaviours put the caller's key back into the answer in one encoding each, so that a run can be
searched for every one of them; the others bound time, size, depth and types.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import re
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from hostile_bodies import (
    MARKER,
    deep_text,
    injected,
    map_json,
    nested_everywhere,
    with_marker,
    with_nel,
    with_surrogate,
    wrong_types,
)

# every way a server might echo the key, each in a place of its own
ECHOES = {
    "echo-reason": "the reason phrase",
    "echo-header-name": "a response header's name",
    "echo-header-value": "a response header's value, as Bearer <key>",
    "echo-base64": "base64 of 'Bearer <key>' in a header and the body",
    "echo-base64url": "base64url of the key in the body, at another alignment",
    "echo-json-escapes": "JSON \\u escapes of the key in the body",
    "echo-percent": "the key percent-encoded in the body",
    "echo-upper": "the key upper-cased in the body",
    "echo-hex": "the key as hex in the body",
    "echo-html": "the key as HTML character references in the body",
    "echo-model-id": "the key as a model id (JSON escapes) in the model list",
    "echo-split": "the key split across two chunks of a stream",
}
OTHERS = (
    "trickle-headers",
    "endless-headers",
    "trickle-body",
    "huge-body",
    "gzip-bomb",
    "deep-json",
    "wrong-types",
    "nel-in-text",
    "markdown-injection",
    "lone-surrogate",
    "invalid-utf8",
    "event-flood",
    "stacked-encodings",
    "many-headers",
    "nested-just-under",
    "deep-json-text",
    "deep-events",
    "drops-often",
)
# events of one field and no value each, sent one write at a time before a stream's own events
FLOOD = 100_000
# the codings a stacked Content-Encoding lists, and the header lines of many-headers
STACKED = 3_000


def _unicode_escapes(text: str) -> str:
    return "".join(f"\\u{ord(ch):04x}" for ch in text)


def _html_refs(text: str) -> str:
    return "".join(f"&#x{ord(ch):x};" if i % 2 else f"&#{ord(ch)};" for i, ch in enumerate(text))


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(10)
        # the head and the body go in separate writes: without it each answer waits for a delayed ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            request = _read_request(sock)
            if request is None:
                return
            method, path, headers, body = request
            key = headers.get("authorization", "").partition(" ")[2]
            if "drops-often" in self.server.behaviours and next(self.server.counter) % 4:
                return  # three connections in four closed before an answer: each is worth a retry
            status, reason, upstream_headers, payload = self.server.forward(method, path, headers, body)
            if not self.server.where(method, path, body):
                _plain(sock, status, reason, upstream_headers, payload)
                return
            self._answer(sock, key, path, status, reason, upstream_headers, payload)
        except OSError:
            return

    def _answer(
        self, sock: socket.socket, key: str, path: str, status: int, reason: str, headers: list, payload: bytes
    ) -> None:
        behaviours = self.server.behaviours
        stop = self.server.stopping
        media = next((v for k, v in headers if k.lower() == "content-type"), "")
        streaming = media.startswith("text/event-stream")
        extra_headers: list[tuple[str, str]] = []
        if key:
            if "echo-reason" in behaviours:
                reason = f"{reason} {key}"
            if "echo-header-name" in behaviours:
                extra_headers.append((f"x-{key}", "1"))
            if "echo-header-value" in behaviours:
                extra_headers.append(("x-echo", f"Bearer {key}"))
            if "echo-base64" in behaviours:
                extra_headers.append(("x-auth-b64", base64.b64encode(f"Bearer {key}".encode()).decode()))
            payload = self._echo_in_body(payload, key, streaming, path_is_models=path.endswith("/models"))
        payload = self._mutate_body(payload, streaming)
        head = [f"HTTP/1.1 {status} {reason}"]
        head += [f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "transfer-encoding")]
        head += [f"{k}: {v}" for k, v in extra_headers]
        head.append("connection: close")
        if "gzip-bomb" in behaviours:
            sock.sendall(("\r\n".join([*head, "content-encoding: gzip"]) + "\r\n\r\n").encode())
            sock.sendall(gzip_bomb())
            return
        if "huge-body" in behaviours:
            sock.sendall(("\r\n".join([*head, f"content-length: {300 * 1024**2}"]) + "\r\n\r\n").encode())
            block = b" " * 65536
            for _ in range(300 * 16):
                if stop.is_set():
                    return
                sock.sendall(block)
            return
        if "stacked-encodings" in behaviours:
            body = zlib.compress(payload, 6, wbits=zlib.MAX_WBITS | 16)
            codings = ", ".join(["gzip"] * STACKED)
            fields = f"content-encoding: {codings}\r\ncontent-length: {len(body)}"
            sock.sendall(("\r\n".join(head) + f"\r\n{fields}\r\n\r\n").encode())
            sock.sendall(body)
            return
        if "many-headers" in behaviours:
            head += [f"x-filler-{number}: {number}" for number in range(STACKED)]
        if "event-flood" in behaviours and streaming:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            for _ in range(FLOOD):
                if stop.is_set():
                    return
                sock.sendall(b"d\n\n")
            sock.sendall(payload)
            return
        if "endless-headers" in behaviours:
            sock.sendall((head[0] + "\r\n").encode())
            number = 0
            while not stop.is_set():
                sock.sendall(f"x-more-{number}: {'y' * 40}\r\n".encode())
                number += 1
                stop.wait(0.05)
            return
        pieces = _split_events(payload) if streaming else [payload]
        if streaming and "echo-split" in behaviours and key:
            pieces = _split_at_key(pieces, key)
        payload = b"".join(pieces)
        text = ("\r\n".join(head) + f"\r\ncontent-length: {len(payload)}\r\n\r\n").encode()
        if "trickle-headers" in behaviours:
            for byte in text:
                if stop.wait(0.1):
                    return
                sock.sendall(bytes([byte]))
            sock.sendall(payload)
            return
        sock.sendall(text)
        if "trickle-body" in behaviours:
            for byte in payload:
                if stop.wait(0.1):
                    return
                sock.sendall(bytes([byte]))
            return
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.002)

    def _echo_in_body(self, payload: bytes, key: str, streaming: bool, *, path_is_models: bool) -> bytes:
        behaviours = self.server.behaviours
        fields: dict[str, str] = {}
        raw_fields: dict[str, str] = {}
        if "echo-base64" in behaviours:
            fields["echo_b64"] = base64.b64encode(f"Bearer {key}".encode()).decode()
        if "echo-base64url" in behaviours:
            fields["echo_b64url"] = base64.urlsafe_b64encode(f"k:{key}".encode()).decode()
        if "echo-percent" in behaviours:
            fields["echo_pct"] = "".join(f"%{ord(ch):02X}" for ch in key) + " " + quote(key, safe="")
        if "echo-upper" in behaviours:
            fields["echo_upper"] = key.upper()
        if "echo-hex" in behaviours:
            fields["echo_hex"] = key.encode().hex()
        if "echo-html" in behaviours:
            fields["echo_html"] = _html_refs(key)
        if "echo-json-escapes" in behaviours:
            raw_fields["echo_json"] = _unicode_escapes(key)
        if "echo-split" in behaviours and not streaming:
            fields["echo_plain"] = key
        if not fields and not raw_fields and "echo-model-id" not in behaviours:
            return payload
        if streaming:
            # an SSE comment before the events carries the echoes
            comment = " ".join([*fields.values(), *raw_fields.values()])
            return (f": {comment}\n\n".encode() if comment else b"") + payload
        try:
            data = json.loads(payload)
        except ValueError:
            return payload
        if not isinstance(data, dict):
            return payload
        data.update(fields)
        if "echo-model-id" in behaviours and path_is_models and isinstance(data.get("data"), list):
            data["data"].append({"id": "@@MODEL@@", "object": "model", "created": 1735718400, "owned_by": "echo"})
            raw_fields["@@model@@"] = _unicode_escapes(key)
        text = json.dumps(data)
        text = text.replace('"@@MODEL@@"', '"' + _unicode_escapes(key) + '"')
        for name, value in raw_fields.items():
            if not name.startswith("@@"):
                text = text[:-1] + f', "{name}": "{value}"' + "}"
        return text.encode()

    def _mutate_body(self, payload: bytes, streaming: bool) -> bytes:
        behaviours = self.server.behaviours
        if "deep-json" in behaviours and not streaming:
            return b'{"object": "list", "data": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
        if "wrong-types" in behaviours:
            return map_json(payload, streaming, wrong_types)
        if "nel-in-text" in behaviours:
            return map_json(payload, streaming, with_nel)
        if "markdown-injection" in behaviours:
            return map_json(payload, streaming, injected)
        if "nested-just-under" in behaviours:
            # 62 levels: under the parse limit of 64, so every check and both clients meet it
            return map_json(payload, streaming, nested_everywhere)
        if "deep-events" in behaviours and streaming:
            # every event of a stream nested 10,000 deep, its type kept where a client looks first
            deep = b"[" * 10_000 + b"]" * 10_000
            return b"\n".join(
                b'data: {"type": "response.output_text.delta", "x": ' + deep + b"}"
                if line.startswith(b"data: {")
                else line
                for line in payload.split(b"\n")
            )
        if "deep-json-text" in behaviours:
            # every string is JSON text nested 5,000 deep: what reads arguments or content as JSON meets it
            return map_json(payload, streaming, deep_text)
        if "lone-surrogate" in behaviours:
            # json.dumps writes a lone surrogate as the escape \ud800, which is valid JSON text
            return map_json(payload, streaming, with_surrogate, ascii_only=True)
        if "invalid-utf8" in behaviours:
            return map_json(payload, streaming, with_marker).replace(MARKER.encode(), b"\xc3\x28\xff")
        return payload


def _split_events(payload: bytes) -> list[bytes]:
    pieces = re.split(rb"(?<=\n\n)", payload)
    return [piece for piece in pieces if piece]


def _split_at_key(pieces: list[bytes], key: str) -> list[bytes]:
    """Put the key in the middle of the stream, cut in two between chunks (inside an SSE comment)."""
    middle = len(pieces) // 2
    half = len(key) // 2
    return [*pieces[:middle], f": {key[:half]}".encode(), f"{key[half:]}\n\n".encode(), *pieces[middle:]]


def _compressed_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 1024**2
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """300 MiB of zeros, gzip-compressed to about 300 KiB (made once)."""
    if not _BOMB:
        _BOMB.append(_compressed_zeros(300 * 1024**2))
    return _BOMB[0]


def _plain(sock: socket.socket, status: int, reason: str, headers: list, payload: bytes) -> None:
    """The reference server's answer as it was."""
    head = [f"HTTP/1.1 {status} {reason}"]
    head += [f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")]
    sock.sendall(("\r\n".join(head) + f"\r\nconnection: close\r\ncontent-length: {len(payload)}\r\n\r\n").encode())
    sock.sendall(payload)


def _read_request(sock: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            return None
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return method, path, headers, body


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    behaviours: frozenset[str]
    counter: Any
    stopping: threading.Event
    upstream: Any
    where: Any

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, list, bytes]:
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        sent = {k: v for k, v in headers.items() if k in ("authorization", "content-type", "accept")}
        upstream_path = parts.path.rstrip("/") + path.removeprefix("/v1")
        connection.request(method, upstream_path, body=body or None, headers=sent)
        reply = connection.getresponse()
        payload = reply.read()
        connection.close()
        return reply.status, reply.reason, reply.getheaders(), payload


class HostileFront:
    """``with HostileFront(upstream_base_url, {"echo-reason", ...}) as front: front.base_url``; ``where``
    chooses the requests (method, path, body) that get the behaviours, the others pass unchanged."""

    def __init__(
        self,
        upstream: str,
        behaviours: set[str] | frozenset[str],
        where: Callable[[str, str, bytes], bool] = lambda method, path, body: True,
    ) -> None:
        unknown = set(behaviours) - set(ECHOES) - set(OTHERS)
        if unknown:
            raise ValueError(f"unknown behaviours {unknown}")
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.behaviours = frozenset(behaviours)
        self._server.counter = itertools.count()
        self._server.stopping = threading.Event()
        self._server.upstream = upstream
        self._server.where = where
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> HostileFront:
        if "gzip-bomb" in self._server.behaviours:
            gzip_bomb()  # compress it before serving: on a slow machine it takes longer than the read timeout
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
