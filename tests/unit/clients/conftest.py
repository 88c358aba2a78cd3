"""Fixtures of the clients' tests: a server that writes its answers by hand, byte by byte."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from helpers import conn_json


class RawServer:
    """Answers every connection with ``answer(conn)``, written by hand; keeps the raw requests."""

    def __init__(self, answer: Callable[[socket.socket, threading.Event], None]) -> None:
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self._answer = answer
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                self.requests.append(data)
                with contextlib.suppress(OSError):
                    self._answer(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self._thread.join(10)
        self._sock.close()


@pytest.fixture
def raw_http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., RawServer]]:
    """Start a ``RawServer`` and point ``aimlapi_default`` at it (read timeout ``timeout``)."""
    servers: list[RawServer] = []

    def start(answer: Callable[[socket.socket, threading.Event], None], timeout: float = 10.0) -> RawServer:
        server = RawServer(answer)
        servers.append(server)
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(server.url, extra={"timeout": timeout}))
        return server

    yield start
    for server in servers:
        server.close()
