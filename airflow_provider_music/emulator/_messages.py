"""The values the HTTP server passes around: `Request`, `Response`, `HttpError`, and request-line parsing."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: An HTTP token (a method, a header name).
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
REQUEST_LINE_PARTS = 3  # method, target, version


class HttpError(Exception):
    """A malformed request: answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """A parsed request; header names are lower-case, repeated headers joined with ', '."""

    method: str
    target: str
    path: str
    query: dict[str, list[str]]
    version: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool

    def header(self, name: str, default: str | None = None) -> str | None:
        """One header by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    def query_one(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """What a handler returns. ``stream`` + ``content_length=None`` means a close-delimited body."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncGenerator[bytes, None] | None = None
    content_length: int | None = None
    close: bool = False
    abort: bool = False  # send nothing; reset the TCP connection
    reset_if_short: bool = False  # a stream that ends before content_length: RST instead of FIN
    on_complete: Callable[[], None] | None = None  # called once the whole body was written


Handler = Callable[[Request], Awaitable[Response]]
ErrorFactory = Callable[[int, str], Response]


def _parse_target(raw_target: bytes) -> str:
    """The origin-form target (``/path?query``); an absolute-form one loses its scheme and host."""
    try:
        target = raw_target.decode("ascii")
    except UnicodeDecodeError as exc:
        raise HttpError(400, "Malformed request target") from exc
    if any(c <= " " or c == "\x7f" for c in target):
        raise HttpError(400, "Malformed request target")
    if target.startswith(("http://", "https://")):  # absolute-form
        split = urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    if not target.startswith("/"):
        raise HttpError(400, "Malformed request target")
    return target


def parse_request_line(line: bytes) -> tuple[str, str, str]:
    """``(method, target, version)`` of an HTTP/1.x request line; HttpError when malformed."""
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != REQUEST_LINE_PARTS or not TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise HttpError(400, "Malformed request line")
    raw_method, raw_target, raw_version = parts
    version_match = VERSION.fullmatch(raw_version)
    if version_match is None:
        raise HttpError(400, "Malformed HTTP version")
    if version_match.group(1) != b"1":
        raise HttpError(505, "HTTP version not supported")
    target = _parse_target(raw_target)
    return raw_method.decode("ascii"), target, raw_version.decode("ascii")
