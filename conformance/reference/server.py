"""Running the reference server: in a background thread for tests and runs, or in the foreground
for ``conformance serve-reference``. It listens on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from conformance.reference.app import ReferenceConfig, create_app

START_TIMEOUT = 10.0


class ReferenceServer:
    def __init__(self, config: ReferenceConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.config.base_path.rstrip('/')}"

    def _uvicorn(self) -> uvicorn.Server:
        return uvicorn.Server(
            uvicorn.Config(create_app(self.config), log_level="warning", access_log=False, lifespan="off")
        )

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted connections inherit it: without it, uvicorn's two writes of a response (headers,
        # then body) meet the client's delayed ACK, and every request after a connection's first
        # waits ~40 ms
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        return sock

    def start(self) -> str:
        """Start in a background thread; return the base URL once the server accepts requests."""
        sock = self._bind()
        self._server = self._uvicorn()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="reference-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the reference server did not start")
            time.sleep(0.01)
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        self._server = None
        self._thread = None

    def serve_forever(self, announce: Callable[[str], None] = lambda base_url: None) -> None:
        """Serve in the foreground until interrupted (Ctrl-C); ``announce`` gets the base URL once bound."""
        sock = self._bind()
        announce(self.base_url)
        self._uvicorn().run(sockets=[sock])

    def __enter__(self) -> ReferenceServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
