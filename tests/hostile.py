"""Small misbehaving HTTP servers on 127.0.0.1, each answering every request in one bad way."""

from __future__ import annotations

import gzip
import os
import socketserver
import threading
import time
import zlib

BEHAVIOURS = (
    "hang",
    "not-json",
    "drop-mid-body",
    "drop-mid-stream",
    "endless",
    "huge",
    "invalid-utf8",
    "slow-drip",
    "close",
    "trickle-headers",
    "endless-headers",
    "gzip-bomb",
    "huge-gzip",
)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                return
            data += piece
        stop = self.server.stopping
        behaviour = self.server.behaviour
        try:
            if behaviour == "hang":
                stop.wait(30)
            elif behaviour == "close":
                return
            elif behaviour == "not-json":
                body = b"<html><body>Welcome to nginx!</body></html>"
                sock.sendall(_head(200, "text/html", len(body)) + body)
            elif behaviour == "invalid-utf8":
                body = b'{"object": "list", "data": "\xff\xfe"}'
                sock.sendall(_head(200, "application/json", len(body)) + body)
            elif behaviour == "drop-mid-stream":
                head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                event = b'data: {"id": "c", "object": "chat.completion.chunk", "choices": []}\n\n'
                sock.sendall(head.encode() + f"{len(event):x}\r\n".encode() + event + b"\r\n")
                sock.sendall(f"{len(event):x}\r\n".encode() + event[:20])
                return
            elif behaviour == "drop-mid-body":
                sock.sendall(_head(200, "application/json", 1000) + b'{"object": "li')
            elif behaviour == "huge":
                sock.sendall(_head(200, "application/json", 50 * 1024 * 1024))
                chunk = b" " * 65536
                while not stop.is_set():
                    sock.sendall(chunk)
            elif behaviour == "endless":
                sock.sendall(_head(200, "text/event-stream", None))
                while not stop.is_set():
                    sock.sendall(b'data: {"choices": []}\n\n')
                    time.sleep(0.02)
            elif behaviour == "trickle-headers":
                for byte in _head(200, "application/json", 2) + b"{}":
                    if stop.wait(0.3):
                        return
                    sock.sendall(bytes([byte]))
            elif behaviour == "endless-headers":
                sock.sendall(b"HTTP/1.1 200 OK\r\n")
                number = 0
                while not stop.wait(0.05):
                    sock.sendall(f"x-more-{number}: y\r\n".encode())
                    number += 1
            elif behaviour in ("gzip-bomb", "huge-gzip"):
                # 100 MiB of zeros in about 100 KiB, or 4 MiB of noise compressed as it is
                body = _BOMB if behaviour == "gzip-bomb" else gzip.compress(os.urandom(4 * 1024 * 1024), 1)
                head = _head(200, "application/json", len(body)).replace(
                    b"\r\n\r\n", b"\r\ncontent-encoding: gzip\r\n\r\n"
                )
                sock.sendall(head + body)
            elif behaviour == "slow-drip":
                sock.sendall(_head(200, "application/json", 10_000))
                while not stop.is_set():
                    sock.sendall(b" ")
                    stop.wait(0.3)
        except OSError:
            return


def _zeros_gzip(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 1024**2
    return b"".join(compressor.compress(block) for _ in range(size // len(block))) + compressor.flush()


_BOMB = _zeros_gzip(100 * 1024**2)


def _head(status: int, content_type: str, length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} OK", f"content-type: {content_type}", "connection: close"]
    lines.append(f"content-length: {length}" if length is not None else "cache-control: no-cache")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    behaviour: str
    stopping: threading.Event


class HostileServer:
    def __init__(self, behaviour: str) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(behaviour)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.behaviour = behaviour
        self._server.stopping = threading.Event()
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
