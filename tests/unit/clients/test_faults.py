"""
Failures below HTTP: whatever a transport raises ends in a provider error that names the host and the
cause, and a request that never left is never reported as a POST that "may have been created".

The shapes here are what requests/urllib3 and aiohttp really raise; the property tests then throw
arbitrary chains (strings and None where exceptions are expected, cycles, attributes that raise) at
the classifier, directly and through each transport of the hook.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import itertools
import json
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import requests
import urllib3
from aiohttp.client_reqrep import ConnectionKey
from airflow.sdk import BaseHook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3 import exceptions as u3

from airflow_provider_music import clients
from airflow_provider_music.clients import AsyncClient, RetryPolicy
from airflow_provider_music.exceptions import (
    MusicProviderError,
    MusicSubmitUncertainError,
    MusicTransientError,
    MusicUnreachableError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.wire import build_status_request, parse_generation_response

BASE = "https://api.example.test:8443"
HOST = "api.example.test:8443"
KEY = "sk-canary-transport-5c1e"
QUERY_SECRET = "sig-0ddba11"
NOISE = f"Bearer {KEY} via http://user:{QUERY_SECRET}@proxy.test:3128/x?generation_id=g&sig={QUERY_SECRET}"


def _classify(exc: BaseException, side: str, operation: str = "submit", **kw: Any) -> MusicProviderError:
    causes = clients.requests_causes() if side == "sync" else clients.aiohttp_causes()
    return clients.transport_error(
        operation,  # type: ignore[arg-type]
        exc,
        base_url=BASE,
        library_causes=causes,
        secrets=(KEY,),
        **kw,
    )


def _raised_in(function_name: str, exc: BaseException) -> BaseException:
    """``exc`` with a traceback through a frame called ``function_name`` (as the ssl module leaves it)."""
    namespace: dict[str, Any] = {}
    exec(f"def {function_name}(e):\n    raise e\n", namespace)
    try:
        namespace[function_name](exc)
    except BaseException as raised:
        return raised
    raise AssertionError("unreachable")


def _with_reason(exc: ssl.SSLError, reason: str) -> ssl.SSLError:
    exc.reason = reason
    return exc


def _wrong_version() -> ssl.SSLError:
    err = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    err.reason = "WRONG_VERSION_NUMBER"  # a str: what crashed the old chain walk
    err.library = "SSL"
    return err


def _requests_ssl(inner: BaseException) -> requests.exceptions.SSLError:
    """requests' SSLError as its adapter raises it: SSLError(MaxRetryError(reason=urllib3 SSLError))."""
    wrapped = u3.SSLError(inner)
    wrapped.__context__ = inner
    retry = u3.MaxRetryError(None, f"/v2/generate/audio?generation_id=g&sig={QUERY_SECRET}", wrapped)  # type: ignore[arg-type]
    return requests.exceptions.SSLError(retry)


def _key(host: str = "api.example.test", port: int = 8443) -> ConnectionKey:
    return ConnectionKey(host, port, True, True, None, None, None)


# --- the shapes the transports really raise --------------------------------------------------------


def test_the_reported_crash_str_reason_is_a_tls_failure_not_an_attribute_error() -> None:
    # SSLError.reason is a str: the old walk called .__cause__ on it (AttributeError in the Test button).
    exc = _requests_ssl(_raised_in("do_handshake", _wrong_version()))
    err = _classify(exc, "sync", scheme_assumed=True)
    assert isinstance(err, MusicUnreachableError)
    assert err.cause == "tls"
    assert not isinstance(err, MusicSubmitUncertainError)
    text = str(err)
    assert HOST in text
    assert "TLS handshake failed" in text
    assert "WRONG_VERSION_NUMBER" in text
    assert "http://api.example.test:8443" in text  # the hint: the host had no scheme
    assert QUERY_SECRET not in text


@pytest.mark.parametrize("side", ["sync", "async"])
def test_certificate_failures_never_left_and_get_no_http_hint(side: str) -> None:
    cert = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate")
    exc: BaseException = (
        _requests_ssl(cert) if side == "sync" else aiohttp.ClientConnectorCertificateError(_key(), cert)
    )
    err = _classify(exc, side, scheme_assumed=True)
    assert isinstance(err, MusicUnreachableError)
    assert err.cause == "tls"
    assert "certificate was not accepted" in str(err)
    assert "http://" not in str(err)


def test_a_tls_error_after_the_handshake_is_uncertain_for_a_post() -> None:
    # Raised while reading the answer (no handshake frame, no handshake-only reason): the POST may exist.
    late = ssl.SSLError(1, "[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] decryption failed")
    late.reason = "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    err = _classify(_requests_ssl(_raised_in("recv_into", late)), "sync")
    assert isinstance(err, MusicSubmitUncertainError)
    assert HOST in str(err)
    get = _classify(_requests_ssl(_raised_in("recv_into", late)), "sync", operation="status")
    assert type(get) is MusicTransientError
    assert "while waiting for the answer" in str(get)


def test_a_handshake_only_reason_is_enough_without_a_traceback() -> None:
    err = _classify(_requests_ssl(_wrong_version()), "sync")
    assert isinstance(err, MusicUnreachableError)
    assert err.cause == "tls"


def _sync_dns() -> BaseException:
    gai = socket.gaierror(-2, "Name or service not known")
    return requests.exceptions.ConnectionError(
        u3.MaxRetryError(None, "/v2/generate/audio?generation_id=g", u3.NameResolutionError(HOST, None, gai))  # type: ignore[arg-type]
    )


def _sync_refused() -> BaseException:
    refused = ConnectionRefusedError(111, "Connection refused")
    new = u3.NewConnectionError(None, f"Failed to establish a new connection: {refused}")  # type: ignore[arg-type]
    new.__context__ = refused
    return requests.exceptions.ConnectionError(u3.MaxRetryError(None, "/v2/generate/audio", new))  # type: ignore[arg-type]


def _sync_proxy() -> BaseException:
    inner = u3.ProxyError("Unable to connect to proxy", OSError(f"Tunnel connection failed: 403 {NOISE}"))
    return requests.exceptions.ProxyError(u3.MaxRetryError(None, "/v2/generate/audio", inner))  # type: ignore[arg-type]


def _sync_connect_timeout() -> BaseException:
    inner = u3.ConnectTimeoutError(None, "Connection to api.example.test timed out. (connect timeout=10)")
    inner.__context__ = TimeoutError("timed out")
    return requests.exceptions.ConnectTimeout(u3.MaxRetryError(None, "/x", inner))  # type: ignore[arg-type]


def _sync_read_timeout() -> BaseException:
    inner = u3.ReadTimeoutError(None, "/x", "Read timed out. (read timeout=60)")  # type: ignore[arg-type]
    return requests.exceptions.ReadTimeout(u3.MaxRetryError(None, "/x", inner))  # type: ignore[arg-type]


def _sync_reset() -> BaseException:
    inner = u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    return requests.exceptions.ConnectionError(inner)


@pytest.mark.parametrize(
    ("make", "side", "cause"),
    [
        (_sync_dns, "sync", "dns"),
        (_sync_refused, "sync", "refused"),
        (_sync_proxy, "sync", "proxy"),
        (_sync_connect_timeout, "sync", "connect_timeout"),
        (
            lambda: aiohttp.ClientConnectorDNSError(_key(), socket.gaierror(-2, "Name unknown")),
            "async",
            "dns",
        ),
        (
            lambda: aiohttp.ClientConnectorError(_key(), ConnectionRefusedError(111, "refused")),
            "async",
            "refused",
        ),
        (
            lambda: aiohttp.ClientConnectorError(_key(), OSError(101, "Network is unreachable")),
            "async",
            "connect",
        ),
        (lambda: aiohttp.ClientProxyConnectionError(_key(), OSError(111, NOISE)), "async", "proxy"),
        (lambda: aiohttp.ClientConnectorSSLError(_key(), _wrong_version()), "async", "tls"),
        (lambda: aiohttp.ConnectionTimeoutError("Connection timeout to host"), "async", "connect_timeout"),
    ],
)
def test_what_never_left_is_unreachable_not_uncertain(
    make: Callable[[], BaseException], side: str, cause: str
) -> None:
    err = _classify(make(), side)
    assert isinstance(err, MusicUnreachableError), err
    assert err.cause == cause, err
    assert isinstance(err, MusicTransientError)  # retried: nothing was created
    text = str(err)
    assert HOST in text
    assert "the request was not sent" in text
    assert KEY not in text
    assert QUERY_SECRET not in text
    assert "generation_id=" not in text
    assert "http://api" not in text  # the http:// hint is for TLS with an assumed scheme only


@pytest.mark.parametrize(
    ("make", "side"),
    [
        (_sync_read_timeout, "sync"),
        (_sync_reset, "sync"),
        (lambda: aiohttp.ServerDisconnectedError(), "async"),
        (lambda: aiohttp.SocketTimeoutError("Timeout on reading data from socket"), "async"),
        (lambda: aiohttp.ClientOSError(104, "Connection reset by peer"), "async"),
        (lambda: aiohttp.ClientPayloadError("Response payload is not completed"), "async"),
        (lambda: asyncio.TimeoutError(), "async"),
        (lambda: ValueError("something odd"), "sync"),
        (lambda: RuntimeError(), "async"),
    ],
)
def test_what_may_have_left_is_uncertain_for_a_post(make: Callable[[], BaseException], side: str) -> None:
    post = _classify(make(), side)
    assert isinstance(post, MusicSubmitUncertainError)
    assert HOST in str(post)
    assert "not resent" in str(post)
    get = _classify(make(), side, operation="status")
    assert type(get) is MusicTransientError
    assert HOST in str(get)


# --- odd chains -----------------------------------------------------------------------------------


class _Odd(Exception):  # noqa: N818  # a stand-in for a library's exception, named as such
    """An exception whose attributes misbehave."""

    def __init__(self, reason: object = None, raise_on: tuple[str, ...] = ()) -> None:
        super().__init__("odd")
        self._reason = reason
        self._raise_on = raise_on

    @property
    def reason(self) -> object:
        if "reason" in self._raise_on:
            raise RuntimeError("reason is not readable")
        return self._reason

    @property
    def os_error(self) -> object:
        raise KeyError("no os_error here")

    def __str__(self) -> str:
        if "str" in self._raise_on:
            raise ValueError("cannot print me")
        return f"odd {NOISE}"


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(_Odd(reason="WRONG_VERSION_NUMBER"), id="reason-str"),
        pytest.param(_Odd(reason=None), id="reason-none"),
        pytest.param(_Odd(reason=42), id="reason-int"),
        pytest.param(_Odd(reason=[ConnectionResetError()]), id="reason-list"),
        pytest.param(_Odd(raise_on=("reason",)), id="reason-raises"),
        pytest.param(_Odd(raise_on=("str",)), id="str-raises"),
        pytest.param(requests.exceptions.ConnectionError(None), id="requests-none"),
        pytest.param(requests.exceptions.ConnectionError("just text"), id="requests-str"),
        pytest.param(u3.MaxRetryError(None, None, None), id="maxretry-no-reason"),  # type: ignore[arg-type]
        pytest.param(aiohttp.ClientConnectorError(None, OSError()), id="aiohttp-no-key"),  # type: ignore[arg-type]
        *(
            [pytest.param(eg("many", [ValueError(), ConnectionResetError()]), id="group")]
            if (eg := getattr(builtins, "ExceptionGroup", None))
            else []
        ),
    ],
)
@pytest.mark.parametrize("side", ["sync", "async"])
def test_odd_chains_end_in_a_provider_error(exc: BaseException, side: str) -> None:
    for operation in ("submit", "status"):
        err = _classify(exc, side, operation=operation)
        assert isinstance(err, (MusicTransientError, MusicSubmitUncertainError))
        assert HOST in str(err)
        assert KEY not in str(err)
        assert QUERY_SECRET not in str(err)


def test_cycles_and_endless_chains_end() -> None:
    a, b, c = ValueError("a"), OSError("b"), RuntimeError("c")
    a.__cause__, b.__context__, c.__context__ = b, c, a
    a.reason = a  # type: ignore[attr-defined]
    assert isinstance(_classify(a, "sync"), MusicSubmitUncertainError)
    head: BaseException = ValueError("0")
    node = head
    for i in range(20_000):  # far deeper than the recursion limit
        nxt = ValueError(str(i))
        node.__context__ = nxt
        node = nxt
    node.__context__ = ConnectionRefusedError()  # beyond the walk's limit: not seen, so not trusted
    assert isinstance(_classify(head, "sync"), MusicSubmitUncertainError)
    assert len(clients.exception_chain(head)) == 64


# --- properties: arbitrary chains -----------------------------------------------------------------

_TEXT = st.sampled_from(["", "x", NOISE, "timed out", "[Errno 111] Connection refused", "\x00\n\t", "é" * 50])


@functools.cache
def _atoms(side: str) -> st.SearchStrategy[tuple[BaseException, bool]]:
    """One exception and whether it proves, on ``side``, that the request never left."""

    def plain(factory: Callable[[str], BaseException], never_sent: bool) -> st.SearchStrategy[Any]:
        return _TEXT.map(lambda t: (factory(t), never_sent))

    common = [
        plain(lambda t: ValueError(t), False),
        plain(lambda t: RuntimeError(t, None, 3), False),
        plain(lambda t: OSError(5, t), False),
        plain(lambda t: ConnectionResetError(104, t), False),
        plain(lambda t: TimeoutError(t), False),
        plain(lambda t: ssl.SSLError(1, t), False),  # no handshake evidence: may be after sending
        plain(lambda t: ssl.SSLCertVerificationError(1, t), True),
        plain(lambda t: socket.gaierror(-2, t), True),
        plain(lambda t: ConnectionRefusedError(111, t), True),
        plain(lambda t: _Odd(reason=t), False),
        plain(lambda t: _Odd(raise_on=("reason", "str")), False),
        plain(lambda t: _raised_in("do_handshake", ssl.SSLError(1, t)), True),
        plain(lambda t: _with_reason(ssl.SSLError(1, t), "WRONG_VERSION_NUMBER"), True),
    ]
    if side == "sync":
        lib = [
            plain(lambda t: requests.exceptions.ConnectionError(t), False),
            plain(lambda t: requests.exceptions.SSLError(t), False),
            plain(lambda t: requests.exceptions.ProxyError(t), True),
            plain(lambda t: requests.exceptions.ConnectTimeout(t), True),
            plain(lambda t: requests.exceptions.ReadTimeout(t), False),
            plain(lambda t: requests.exceptions.ChunkedEncodingError(t), False),
            plain(lambda t: u3.MaxRetryError(None, f"/p?sig={QUERY_SECRET}", None), False),  # type: ignore[arg-type]
            plain(lambda t: u3.NewConnectionError(None, t), True),  # type: ignore[arg-type]
            plain(lambda t: u3.NameResolutionError("h", None, socket.gaierror(t)), True),  # type: ignore[arg-type]
            plain(lambda t: u3.ProtocolError(t), False),
            plain(lambda t: u3.SSLError(t), False),
            plain(lambda t: u3.ProxyError(t, OSError(t)), True),
        ]
    else:
        lib = [
            plain(lambda t: aiohttp.ClientConnectorError(_key(), OSError(t)), True),
            plain(lambda t: aiohttp.ClientConnectorSSLError(_key(), OSError(t)), True),
            plain(lambda t: aiohttp.ClientConnectorCertificateError(_key(), ValueError(t)), True),
            plain(lambda t: aiohttp.ClientProxyConnectionError(_key(), OSError(t)), True),
            plain(lambda t: aiohttp.ClientConnectorDNSError(_key(), OSError(t)), True),
            plain(lambda t: aiohttp.ConnectionTimeoutError(t), True),
            plain(lambda t: aiohttp.ServerDisconnectedError(t), False),
            plain(lambda t: aiohttp.ServerTimeoutError(t), False),
            plain(lambda t: aiohttp.ClientOSError(104, t), False),
            plain(lambda t: aiohttp.ClientPayloadError(t), False),
            plain(lambda t: aiohttp.ClientError(t), False),
            plain(lambda t: aiohttp.ClientConnectorError(None, OSError(t)), True),  # type: ignore[arg-type]
        ]
    return st.one_of(*common, *lib)


@st.composite
def _chains(draw: st.DrawFn, side: str) -> tuple[BaseException, bool]:
    """A chain of 1-6 exceptions linked every way a transport links them, maybe with cycles and junk."""
    atoms = [draw(_atoms(side)) for _ in range(draw(st.integers(1, 6)))]
    excs = [e for e, _ in atoms]
    for outer, inner in itertools.pairwise(excs):
        how = draw(st.sampled_from(["__cause__", "__context__", "reason", "os_error", "args"]))
        if how == "args":
            outer.args = (*outer.args[:2], inner)
            continue
        if how == "reason" and isinstance(outer, ssl.SSLError):
            how = "__context__"  # its reason is OpenSSL's text, never an exception
        try:
            setattr(outer, how, inner)
        except (AttributeError, TypeError):  # a read-only property: link it as the context instead
            outer.__context__ = inner
    # A str reason (what crashed the old walk), but not one that proves a handshake failure.
    junk = draw(st.sampled_from([None, "BAD_RECORD_MAC", 7, b"bytes", excs[0], object()]))
    target = excs[draw(st.integers(0, len(excs) - 1))]
    for name in draw(st.lists(st.sampled_from(["reason", "os_error", "certificate_error"]), max_size=2)):
        with contextlib.suppress(Exception):  # a read-only or raising attribute stays as it is
            if name in ("reason", "os_error") and getattr(target, name, None) in excs:
                continue  # keep the chain's own link
            if name == "reason" and isinstance(target, ssl.SSLError):
                continue  # the ssl module always sets a str reason: that case is drawn above
            setattr(target, name, junk)
    if draw(st.booleans()):
        excs[-1].__context__ = excs[0]  # a cycle
    return excs[0], any(never for _, never in atoms)


_PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _check(err: BaseException, never_sent: bool, operation: str, *, exact: bool = True) -> None:
    assert isinstance(err, MusicProviderError), repr(err)
    assert isinstance(err, (MusicTransientError, MusicSubmitUncertainError))
    text = str(err)
    assert HOST in text
    assert KEY not in text
    assert QUERY_SECRET not in text
    assert "user:" not in text
    if never_sent:
        assert isinstance(err, MusicUnreachableError)
        assert not isinstance(err, MusicSubmitUncertainError)
    elif exact:
        assert not isinstance(err, MusicUnreachableError)
        assert isinstance(err, MusicSubmitUncertainError) == (operation == "submit")


@pytest.mark.parametrize("side", ["sync", "async"])
@pytest.mark.parametrize("operation", ["submit", "status"])
@_PROPERTY
@given(data=st.data())
def test_property_the_classifier_ends_every_chain_in_a_provider_error(
    side: str, operation: str, data: st.DataObject
) -> None:
    exc, never_sent = data.draw(_chains(side))
    _check(_classify(exc, side, operation=operation), never_sent, operation)


# --- properties through the real transports (the hook's sync client, the async client) ----------


class _RaisingAdapter(requests.adapters.BaseAdapter):
    """The requests transport fails with a given exception: below the hook, as a socket would."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise self.exc

    def close(self) -> None:
        pass


class _RaisingConnector(aiohttp.BaseConnector):
    """The aiohttp transport fails with a given exception while connecting."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        raise self.exc


@pytest.fixture
def _conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AIMLAPI_DEFAULT", json.dumps({"conn_type": "aimlapi", "password": KEY, "host": BASE})
    )


@pytest.mark.usefixtures("_conn")
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_property_sync_side_through_requests(data: st.DataObject) -> None:
    exc, never_sent = data.draw(_chains("sync"))
    hook = MusicGenerationHook(max_attempts=1)
    for scheme in ("http://", "https://"):
        hook.session.mount(scheme, _RaisingAdapter(exc))
    with pytest.raises(MusicProviderError) as post:
        hook.submit_generation("p")
    _check(post.value, never_sent, "submit")
    with pytest.raises(MusicProviderError) as get:
        hook.get_generation("g:m/x")
    _check(get.value, never_sent, "status")
    ok, message = hook.test_connection()
    assert ok is False
    assert HOST in message
    assert KEY not in message
    assert QUERY_SECRET not in message


@pytest.mark.usefixtures("_conn")
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_property_async_side_through_aiohttp(data: st.DataObject) -> None:
    exc, never_sent = data.draw(_chains("async"))

    async def scenario() -> BaseException:
        client = AsyncClient(
            "aimlapi_default",
            BaseHook.aget_connection,
            retry=RetryPolicy(max_attempts=1),
            log=logging.getLogger(__name__),
            connector_factory=lambda: _RaisingConnector(exc),
        )
        try:
            await client.call(
                lambda settings: build_status_request(settings.base_url, "g:m/x"),
                lambda s, h, c: parse_generation_response(s, h, c, "g:m/x", client.secrets),
            )
        except MusicProviderError as err:
            return err
        finally:
            await client.aclose()
        raise AssertionError("no error")

    # aiohttp may wrap what the connector raised (a timeout becomes ConnectionTimeoutError): what
    # never left stays unreachable, the rest is only required to be a provider error.
    _check(asyncio.run(scenario()), never_sent, "status", exact=False)


def test_the_cause_tables_are_ordered_most_specific_first() -> None:
    for table in (clients.requests_causes(), clients.aiohttp_causes()):
        for i, (earlier, _) in enumerate(table):
            for later, _ in table[i + 1 :]:
                assert not issubclass(later, earlier) or later is earlier, (earlier, later)
    assert urllib3  # the urllib3 the tables were built against


class _BrokenCheck(type):
    def __instancecheck__(cls, instance: object) -> bool:
        raise RuntimeError("isinstance exploded")


class _Broken(BaseException, metaclass=_BrokenCheck):
    pass


def test_a_classifier_that_fails_still_gives_a_provider_error() -> None:
    err = clients.transport_error(
        "submit", ValueError("x"), base_url=BASE, library_causes=[(_Broken, "tls")], secrets=(KEY,)
    )
    assert isinstance(err, MusicSubmitUncertainError)
    assert HOST in str(err)
    assert "ValueError" in str(err)


class _StrReturnsBytes(Exception):  # noqa: N818  # likewise
    def __str__(self) -> str:
        return b"not a str"  # type: ignore[return-value]


def test_a_str_that_is_not_a_str_is_only_named() -> None:
    assert clients.exception_text(_StrReturnsBytes()) == "_StrReturnsBytes"
