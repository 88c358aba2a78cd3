"""A small HTTP/1.1 server on asyncio streams.

http.server spends a thread per connection; the emulator must hold 1,000 keep-alive clients, so it
speaks just enough HTTP/1.1 itself: request line, headers, Content-Length or chunked bodies,
keep-alive, ``Connection: close``, ``Expect: 100-continue``, streamed responses and abrupt resets.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ._config import DEFAULT_BACKLOG, DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, SERVER_HEADER
from ._messages import (
    TOKEN,
    ErrorFactory,
    Handler,
    HttpError,
    Request,
    Response,
    parse_request_line,
)

if TYPE_CHECKING:
    import logging

MAX_LINE = 64 * 1024
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024
#: RFC 9112: a server should ignore at least one empty line before the request line; we allow a few.
MAX_LEADING_EMPTY_LINES = 4
#: Seconds `HttpServer.close` waits for the listener to finish closing.
CLOSE_WAIT_SECONDS = 5.0
CRLF = b"\r\n"
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_NET_ERRORS = (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


def _plain_error(status: int, message: str) -> Response:
    return Response(status, (message + "\n").encode(), "text/plain; charset=utf-8")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def abort_connection(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0 so the peer sees a TCP reset, not an orderly close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class HttpServer:
    """One listening socket serving ``handler``; tracks connections so `close` can end them all."""

    def __init__(
        self,
        handler: Handler,
        *,
        name: str,
        logger: logging.Logger,
        error_factory: ErrorFactory = _plain_error,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        server_header: str = SERVER_HEADER,
    ) -> None:
        self._handler = handler
        self._name = name
        self._log = logger
        self._error_factory = error_factory
        self._keepalive_timeout = keepalive_timeout
        self._request_timeout = request_timeout
        self._server_header = server_header
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._date_cache: tuple[int, str] = (0, "")
        self.connections_accepted = 0  # lets tests check that clients reuse their connections

    async def start(self, host: str, port: int, backlog: int = DEFAULT_BACKLOG) -> int:
        """Listen and return the bound port (``port=0`` picks a free one)."""
        self._server = await asyncio.start_server(
            self._on_connection, host, port, limit=MAX_LINE, backlog=backlog, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        return int(sockname[1])

    async def close(self) -> None:
        """Stop listening and end every open connection (3.12+ `wait_closed` waits for them)."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.transport.abort()
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), CLOSE_WAIT_SECONDS)
        self._server = None

    # ------------------------------------------------------------------------------ connection loop

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        self.connections_accepted += 1
        try:
            await self._serve(reader, writer)
        except (*_NET_ERRORS, asyncio.TimeoutError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # `close` cancelled us; this is the task's top level, so end quietly
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = True
        while True:
            try:
                request = await self._read_request(reader, writer, first)
            except HttpError as exc:
                response = self._error_factory(exc.status, exc.message)
                response.close = True
                await self._send(writer, response, None, "-", "-")
                return
            if request is None:
                return
            first = False
            try:
                response = await self._handler(request)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("%s: handler failed for %s %s", self._name, request.method, request.path)
                response = self._error_factory(500, "Internal server error")
                response.close = True
            if response.abort:
                self._log.info("%s %s %s -> reset", self._name, request.method, request.path)
                abort_connection(writer)
                return
            if not await self._send(writer, response, request, request.method, request.path):
                return

    # ------------------------------------------------------------------------------------- reading

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bool
    ) -> Request | None:
        idle = self._request_timeout if first else self._keepalive_timeout
        for _ in range(MAX_LEADING_EMPTY_LINES):
            line = await asyncio.wait_for(self._readline(reader), idle)
            if line is None:
                return None
            if line.strip(b"\r\n"):
                break
        else:
            raise HttpError(400, "Malformed request line")
        return await asyncio.wait_for(self._read_rest(reader, writer, line), self._request_timeout)

    @staticmethod
    async def _readline(reader: asyncio.StreamReader) -> bytes | None:
        try:
            line = await reader.readline()
        except ValueError as exc:  # longer than the stream limit
            raise HttpError(431, "Request line or header too long") from exc
        if not line.endswith(b"\n"):
            return None  # EOF (possibly mid-line): nothing to answer
        return line

    async def _read_rest(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes
    ) -> Request | None:
        method, target, version = parse_request_line(line)
        path, _, query_string = target.partition("?")
        query = parse_qs(query_string, keep_blank_values=True)
        read = await self._read_headers(reader)
        if read is None:
            return None
        headers, content_lengths = read
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
        body = await self._read_body(reader, writer, headers, content_lengths, version)
        return Request(method, target, path, query, version, headers, body, keep_alive)

    async def _read_headers(self, reader: asyncio.StreamReader) -> tuple[dict[str, str], list[str]] | None:
        """The headers (repeats joined with ', ') and every Content-Length value; None at EOF."""
        headers: dict[str, str] = {}
        content_lengths: list[str] = []
        count = 0
        while True:
            hline = await self._readline(reader)
            if hline is None:
                return None
            if hline in (b"\r\n", b"\n"):
                return headers, content_lengths
            count += 1
            if count > MAX_HEADERS:
                raise HttpError(431, "Too many headers")
            if hline[:1] in (b" ", b"\t"):
                raise HttpError(400, "Obsolete header line folding")
            name, sep, value = hline.partition(b":")
            if not sep or not TOKEN.fullmatch(name):
                raise HttpError(400, "Malformed header")
            key = name.decode("ascii").lower()
            text = value.strip(b" \t\r\n").decode("latin-1")
            if key == "content-length":
                content_lengths.extend(v.strip() for v in text.split(","))
            headers[key] = f"{headers[key]}, {text}" if key in headers else text

    async def _read_body(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        headers: dict[str, str],
        content_lengths: list[str],
        version: str,
    ) -> bytes:
        transfer_encoding = headers.get("transfer-encoding")
        if transfer_encoding is not None:
            if content_lengths:
                raise HttpError(400, "Both Content-Length and Transfer-Encoding")
            if transfer_encoding.strip().lower() != "chunked":
                raise HttpError(501, "Unsupported Transfer-Encoding")
            self._continue(headers, version, writer)
            return await self._read_chunked(reader)
        if not content_lengths:
            return b""
        if len(set(content_lengths)) != 1 or not content_lengths[0].isdigit():
            raise HttpError(400, "Invalid Content-Length")
        length = int(content_lengths[0])
        if length > MAX_BODY:
            raise HttpError(413, "Request body too large")
        if not length:
            return b""
        self._continue(headers, version, writer)
        return await reader.readexactly(length)

    @staticmethod
    def _continue(headers: dict[str, str], version: str, writer: asyncio.StreamWriter) -> None:
        if version == "HTTP/1.1" and headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        body = bytearray()
        while True:
            line = await self._readline(reader)
            if line is None:
                raise asyncio.IncompleteReadError(bytes(body), None)
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise HttpError(400, "Malformed chunk size")
            size = int(size_text, 16)
            if size == 0:
                while True:  # trailers
                    trailer = await self._readline(reader)
                    if trailer is None or trailer in (b"\r\n", b"\n"):
                        return bytes(body)
            if len(body) + size > MAX_BODY:
                raise HttpError(413, "Request body too large")
            body += await reader.readexactly(size)
            if await reader.readexactly(len(CRLF)) != CRLF:
                raise HttpError(400, "Malformed chunk")

    # ------------------------------------------------------------------------------------- writing

    def _date(self) -> str:
        now = int(asyncio.get_running_loop().time())
        if self._date_cache[0] != now:
            self._date_cache = (now, formatdate(usegmt=True))
        return self._date_cache[1]

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        response: Response,
        request: Request | None,
        method: str,
        path: str,
    ) -> bool:
        """Write ``response``; return whether the connection may serve another request."""
        stream = response.stream
        keep = request is not None and request.keep_alive and not response.close
        length = len(response.body) if stream is None else response.content_length
        if length is None:
            keep = False
        head_only = method == "HEAD"
        lines = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}",
            f"Date: {self._date()}",
            f"Server: {self._server_header}",
        ]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}")
        lines.extend(f"{k}: {v}" for k, v in response.headers)
        if length is not None:
            lines.append(f"Content-Length: {length}")
        lines.append("Connection: keep-alive" if keep else "Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._log.info("%s %s %s -> %d", self._name, method, path, response.status)

        if stream is None or head_only:
            if stream is not None:
                await stream.aclose()
            writer.write(head if head_only else head + response.body)
            await writer.drain()
        else:
            writer.write(head)
            sent = 0
            try:
                async for chunk in stream:
                    if length is not None and sent + len(chunk) > length:
                        chunk = chunk[: length - sent]
                    writer.write(chunk)
                    sent += len(chunk)
                    await writer.drain()
                    if length is not None and sent >= length:
                        break
            finally:
                await stream.aclose()
            if length is not None and sent < length:
                if response.reset_if_short:
                    abort_connection(writer)
                return False
        if response.on_complete is not None and not head_only:
            response.on_complete()
        return keep
