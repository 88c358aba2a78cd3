"""
Failures below HTTP: which cause an exception chain shows, and the provider error it becomes.

The standard library's exceptions are known here; each transport adds its own types through a cause
table (``requests_causes``, ``aiohttp_causes``), most specific first.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final, Literal

from airflow_provider_music.exceptions import (
    MusicAPIError,
    MusicSubmitUncertainError,
    MusicTransientError,
    MusicUnreachableError,
)
from airflow_provider_music.wire import Operation, redact, redact_url

# Why a request failed below HTTP. The first six mean the request never left this machine.
TransportCause = Literal[
    "proxy", "tls", "dns", "refused", "connect", "connect_timeout",
    "read_timeout", "tls_late", "reset", "other",
]  # fmt: skip
CauseTable = Sequence[tuple[type[BaseException], TransportCause]]

NOT_SENT_CAUSES: frozenset[str] = frozenset({"proxy", "tls", "dns", "refused", "connect", "connect_timeout"})
_RANK: dict[str, int] = {
    c: i
    for i, c in enumerate(
        ("proxy", "tls", "dns", "refused", "connect", "connect_timeout", "read_timeout", "tls_late", "reset")
    )
}
_CAUSE_TEXT: dict[str, str] = {
    "proxy": "the proxy could not be used",
    "tls": "the TLS handshake failed",
    "certificate": "the server's TLS certificate was not accepted",
    "dns": "the host name could not be resolved",
    "refused": "the connection was refused",
    "connect": "no connection could be made",
    "connect_timeout": "no connection within the connect timeout",
    "read_timeout": "no complete answer within the read timeout",
    "tls_late": "the TLS connection failed",
    "reset": "the connection broke off",
    "other": "the transport failed",
}
# Where Python's ssl module performs the handshake (a TLS error raised below these is a handshake one).
_HANDSHAKE_FRAMES = frozenset({"do_handshake", "_validate_conn", "_ssl_wrap_socket_and_match_hostname"})
# OpenSSL reasons that only a handshake produces (when a traceback does not tell).
_HANDSHAKE_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "UNSUPPORTED_PROTOCOL",
        "UNKNOWN_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "NO_SHARED_CIPHER",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_UNRECOGNIZED_NAME",
        "TLSV1_ALERT_INTERNAL_ERROR",
        "CERTIFICATE_VERIFY_FAILED",
    }
)
CHAIN_LIMIT: Final = 64
_TRACEBACK_LIMIT = 200  # frames searched for a handshake
_FOLLOWED_MEMBERS = 8  # of an exception's args and of a group's members
_LINKS = ("__cause__", "__context__", "reason", "os_error", "certificate_error", "original_error")
_QUERY = re.compile(r"\?[^\s'\"()<>?=&]+=[^\s'\"()<>]*")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]*@")


def exception_chain(exc: BaseException, limit: int = CHAIN_LIMIT) -> list[BaseException]:
    """
    ``exc`` and every exception reachable from it (cause, context, ``reason``, ``os_error``, ``args``,
    group members), outermost first, each once. Anything that is not an exception is skipped, as is
    an attribute that raises when read; cycles and endless chains stop at ``limit``.
    """
    seen: set[int] = set()
    out: list[BaseException] = []
    queue: list[object] = [exc]
    while queue and len(out) < limit:
        item = queue.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        out.append(item)
        for name in _LINKS:
            queue.append(_safe_attr(item, name))
        args = _safe_attr(item, "args")
        if isinstance(args, tuple):
            queue.extend(a for a in args[:_FOLLOWED_MEMBERS] if isinstance(a, BaseException))
        members = _safe_attr(item, "exceptions")
        if isinstance(members, (tuple, list)):
            queue.extend(m for m in members[:_FOLLOWED_MEMBERS] if isinstance(m, BaseException))
    return out


def _safe_attr(obj: object, name: str) -> object:
    try:
        return getattr(obj, name, None)
    except Exception:  # a property that raises: nothing to follow
        return None


def _stdlib_cause(exc: BaseException) -> str | None:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls"
    if isinstance(exc, ssl.SSLError):
        reason = _safe_attr(exc, "reason")
        in_handshake = isinstance(reason, str) and reason in _HANDSHAKE_REASONS
        return "tls" if in_handshake or _raised_in_handshake(exc) else "tls_late"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "read_timeout"  # which phase is unknown: assume the request left
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset"
    return None


def _raised_in_handshake(exc: BaseException) -> bool:
    tb = _safe_attr(exc, "__traceback__")
    steps = 0
    while tb is not None and steps < _TRACEBACK_LIMIT:
        code = getattr(getattr(tb, "tb_frame", None), "f_code", None)
        if getattr(code, "co_name", "") in _HANDSHAKE_FRAMES:
            return True
        tb = getattr(tb, "tb_next", None)
        steps += 1
    return False


def classify_transport(exc: BaseException, library_causes: CauseTable = ()) -> tuple[str, BaseException]:
    """
    The cause of a failure below HTTP and the exception that shows it. ``library_causes`` maps a
    transport's own exception types (most specific first); the standard library's (``ssl``,
    ``socket.gaierror``, refused, timeouts, resets) are known here. The most telling cause wins,
    a "never sent" one before any other.
    """
    best: tuple[int, str, BaseException] = (len(_RANK), "other", exc)
    for item in exception_chain(exc):
        cause = next((c for t, c in library_causes if isinstance(item, t)), None) or _stdlib_cause(item)
        if cause is not None and _RANK.get(cause, len(_RANK)) < best[0]:
            best = (_RANK.get(cause, len(_RANK)), cause, item)
    return best[1], best[2]


def exception_text(exc: BaseException, secrets: Iterable[str] = (), limit: int = 200) -> str:
    """``Type: message`` fit for a message: never raises, no key, no query string, no user info."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:  # a __str__ that raises (or returns something else than a str)
        text = ""
    text = " ".join(text.split())
    text = _USERINFO.sub(r"\1", _QUERY.sub("?...", redact(text, secrets)))
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"{name}: {text}" if text else name


def transport_error(
    operation: Operation,
    exc: BaseException,
    *,
    base_url: str,
    library_causes: CauseTable = (),
    scheme_assumed: bool = False,
    secrets: Iterable[str] = (),
) -> MusicAPIError:
    """
    A failure below HTTP as a provider error naming the host and the cause. A request that never
    left (proxy, TLS handshake, DNS, refused, connect timeout) is ``MusicUnreachableError``: safe to
    resend, even a POST. After it left, a POST is ``MusicSubmitUncertainError`` (never resent).
    """
    certificate = False
    try:
        cause, shown = classify_transport(exc, library_causes)
        detail = exception_text(shown, secrets)
        if cause == "tls":
            certificate = any(isinstance(item, ssl.SSLCertVerificationError) for item in exception_chain(exc))
    except Exception:  # the classification itself must never be what fails
        cause, detail = "other", type(exc).__name__
    host = redact_url(base_url)
    what = _CAUSE_TEXT["certificate" if certificate else cause if cause in _CAUSE_TEXT else "other"]
    if cause in NOT_SENT_CAUSES:
        hint = ""
        if cause == "tls" and scheme_assumed and not certificate:
            plain = "http://" + host.split("://", 1)[-1]
            hint = (
                " The connection's host has no scheme, so https:// was assumed; if the server speaks "
                f"plain HTTP (like the local emulator), set the host to {plain}."
            )
        return MusicUnreachableError(
            f"Could not reach the AI/ML API at {host}: {what} ({detail}); the request was not sent.{hint}",
            cause=cause,
        )
    if operation == "submit":
        return MusicSubmitUncertainError(
            f"The POST to the AI/ML API at {host} failed after it was sent: {what} ({detail}). "
            "The generation may have been created (and billed), so it is not resent; "
            "check the AI/ML API dashboard before running the task again."
        )
    return MusicTransientError(
        f"The AI/ML API at {host} failed while waiting for the answer: {what} ({detail})"
    )


# requests, urllib3 and aiohttp are imported on first use only: the hook module that imports this
# one is imported at DAG-parse time, where those libraries are not needed.


@lru_cache(maxsize=1)
def requests_causes() -> tuple[tuple[type[BaseException], TransportCause], ...]:
    """requests' and urllib3's exception types, most specific first (see ``classify_transport``)."""
    import requests
    from urllib3 import exceptions as u3

    pairs: list[tuple[type[BaseException], TransportCause]] = [
        (requests.exceptions.ProxyError, "proxy"),
        (u3.ProxyError, "proxy"),
        (requests.exceptions.ConnectTimeout, "connect_timeout"),
    ]
    name_resolution = getattr(u3, "NameResolutionError", None)  # urllib3 >= 2.0
    if name_resolution is not None:
        pairs.append((name_resolution, "dns"))
    pairs += [
        (u3.NewConnectionError, "connect"),  # a subclass of ConnectTimeoutError: before it
        (u3.ConnectTimeoutError, "connect_timeout"),
        (requests.exceptions.ReadTimeout, "read_timeout"),
        (u3.ReadTimeoutError, "read_timeout"),
        (u3.ProtocolError, "reset"),
    ]
    return tuple(pairs)


@lru_cache(maxsize=1)
def aiohttp_causes() -> tuple[tuple[type[BaseException], TransportCause], ...]:
    """aiohttp's exception types, most specific first: anything from its connector never left."""
    import aiohttp

    pairs: list[tuple[type[BaseException], TransportCause]] = [
        (aiohttp.ClientProxyConnectionError, "proxy"),
        (aiohttp.ClientHttpProxyError, "proxy"),
        (aiohttp.ClientSSLError, "tls"),  # its subclasses are raised by the connector: handshake
    ]
    dns = getattr(aiohttp, "ClientConnectorDNSError", None)  # aiohttp >= 3.10.9
    if dns is not None:
        pairs.append((dns, "dns"))
    pairs.append((aiohttp.ClientConnectorError, "connect"))
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", None)  # aiohttp >= 3.10
    if connect_timeout is not None:
        pairs.append((connect_timeout, "connect_timeout"))
    pairs += [
        (aiohttp.ServerTimeoutError, "read_timeout"),
        (aiohttp.ServerDisconnectedError, "reset"),
        (aiohttp.ClientPayloadError, "reset"),
        (aiohttp.ClientOSError, "reset"),
    ]
    return tuple(pairs)
