"""
Connections that cannot work fail clearly, before anything is sent: the wrong scheme (TLS to a plain
HTTP server), an untrusted certificate, a proxy that refuses, a name that does not resolve, and a
connection of another service's type. Real sockets throughout; the emulator counts what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import EMULATOR_KEY, conn_json

from airflow_provider_music.clients import RetryPolicy
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import (
    MusicInputError,
    MusicSubmitUncertainError,
    MusicUnreachableError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def _aget(hook: MusicGenerationHook, gen_id: str = "g:elevenlabs/eleven_music") -> Any:
    async def scenario() -> Any:
        try:
            return await hook.aget_generation(gen_id)
        finally:
            await hook.aclose()

    return asyncio.run(scenario())


def _nothing_arrived(emulator: Emulator, connections_before: int | None = None) -> None:
    stats = emulator.stats()
    assert (stats["posts"], stats["gets"], stats["generations"]) == (0, 0, {}), stats
    if connections_before is not None:
        assert stats["api_connections"] == connections_before


# --- TLS to a plain-HTTP server: the host was given without a scheme ------------------------------


@pytest.fixture
def schemeless(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """``aimlapi_default`` with host ``127.0.0.1:PORT``: https is assumed, the emulator speaks HTTP."""
    host = f"127.0.0.1:{emulator.port}"
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(host))
    return host


def _says_tls_and_http_hint(text: str, host: str) -> None:
    assert f"https://{host}" in text, text
    assert "TLS handshake failed" in text, text
    assert f"set the host to http://{host}" in text, text
    assert "the request was not sent" in text
    assert EMULATOR_KEY not in text
    assert "__cause__" not in text


def test_tls_to_plain_http_is_a_clear_error_and_no_post(emulator: Emulator, schemeless: str) -> None:
    hook = MusicGenerationHook(retry_policy=RetryPolicy(max_attempts=2, base_delay_s=0.01))
    ok, message = hook.test_connection()  # raised AttributeError: 'str' object has no attribute ...
    assert ok is False
    _says_tls_and_http_hint(message, schemeless)
    with pytest.raises(MusicUnreachableError) as get:
        hook.get_generation("g:elevenlabs/eleven_music")
    _says_tls_and_http_hint(str(get.value), schemeless)
    with pytest.raises(MusicUnreachableError) as post:
        hook.submit_generation("lofi")  # retried: it never left, so nothing can be billed twice
    assert not isinstance(post.value, MusicSubmitUncertainError)
    assert post.value.cause == "tls"
    _says_tls_and_http_hint(str(post.value), schemeless)
    with pytest.raises(MusicUnreachableError) as aget:
        _aget(MusicGenerationHook(max_attempts=1))
    _says_tls_and_http_hint(str(aget.value), schemeless)
    _nothing_arrived(emulator)


# --- an untrusted certificate ------------------------------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Server:
    """A TCP server answering each connection with ``handle(conn)`` in a thread; records what it read."""

    def __init__(self, handle: Callable[[socket.socket, _Server], None]) -> None:
        self.received: list[bytes] = []
        self.accepted = 0
        self.stop = threading.Event()
        self._handle = handle
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
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
            self.accepted += 1
            with conn, contextlib.suppress(OSError):
                conn.settimeout(10)
                self._handle(conn, self)

    def close(self) -> None:
        self.stop.set()
        self._thread.join(10)
        self._sock.close()


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket, _Server], None]], _Server]]:
    started: list[_Server] = []

    def start(handle: Callable[[socket.socket, _Server], None]) -> _Server:
        started.append(_Server(handle))
        return started[-1]

    yield start
    for s in started:
        s.close()


def test_an_untrusted_certificate_is_not_an_uncertain_post(
    server: Callable[..., _Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def tls(conn: socket.socket, srv: _Server) -> None:
        with context.wrap_socket(conn, server_side=True) as wrapped:  # the client gives up here
            srv.received.append(wrapped.recv(65536))

    srv = server(tls)
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(f"https://127.0.0.1:{srv.port}"))
    hook = MusicGenerationHook(max_attempts=1)
    with pytest.raises(MusicUnreachableError) as post:
        hook.submit_generation("p")
    assert not isinstance(post.value, MusicSubmitUncertainError)
    text = str(post.value)
    assert f"https://127.0.0.1:{srv.port}" in text
    assert "certificate was not accepted" in text
    assert "CERTIFICATE_VERIFY_FAILED" in text
    assert "http://" not in text
    with pytest.raises(MusicUnreachableError, match="certificate was not accepted"):
        _aget(MusicGenerationHook(max_attempts=1))
    ok, message = hook.test_connection()
    assert not ok
    assert "certificate was not accepted" in message
    assert srv.accepted >= 3
    assert srv.received == []


# --- proxies --------------------------------------------------------------------------------------


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.usefixtures("clean_proxy_env")
def test_a_proxy_that_refuses_the_tunnel_is_unreachable(
    server: Callable[..., _Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(conn: socket.socket, srv: _Server) -> None:
        data = b""
        while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
            data += chunk
        srv.received.append(data)
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    proxy = server(refuse)
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:proxy-pw-123@127.0.0.1:{proxy.port}")
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("https://api.music.test"))
    with pytest.raises(MusicUnreachableError) as post:
        MusicGenerationHook(max_attempts=1).submit_generation("p")
    assert post.value.cause == "proxy"
    assert not isinstance(post.value, MusicSubmitUncertainError)
    with pytest.raises(MusicUnreachableError) as aget:
        _aget(MusicGenerationHook(max_attempts=1))
    assert aget.value.cause == "proxy"
    for text in (str(post.value), str(aget.value)):
        assert "https://api.music.test" in text
        assert "proxy" in text
        assert "proxy-pw-123" not in text
        assert EMULATOR_KEY not in text
    # Only CONNECTs reached the proxy: no request (nor the key) for the API went through it.
    assert proxy.received
    assert all(r.startswith(b"CONNECT api.music.test:443") for r in proxy.received)
    assert not any(EMULATOR_KEY.encode() in r for r in proxy.received)


@pytest.mark.usefixtures("clean_proxy_env")
def test_an_unreachable_proxy_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("https://api.music.test"))
    with pytest.raises(MusicUnreachableError) as post:
        MusicGenerationHook(max_attempts=1).submit_generation("p")
    assert post.value.cause == "proxy"
    with pytest.raises(MusicUnreachableError) as aget:
        _aget(MusicGenerationHook(max_attempts=1))
    assert aget.value.cause == "proxy"


# --- a name that does not resolve --------------------------------------------------------------------


def test_a_dns_failure_is_unreachable_on_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "api.music-nowhere.test":  # the system resolver's answer for a missing name
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("https://api.music-nowhere.test"))
    with pytest.raises(MusicUnreachableError) as post:
        MusicGenerationHook(max_attempts=1).submit_generation("p")
    with pytest.raises(MusicUnreachableError) as aget:
        _aget(MusicGenerationHook(max_attempts=1))
    for err in (post.value, aget.value):
        assert err.cause == "dns"
        assert "https://api.music-nowhere.test" in str(err)
        assert "host name could not be resolved" in str(err)
    ok, message = MusicGenerationHook().test_connection()
    assert not ok
    assert "could not be resolved" in message


# --- a connection of another type ----------------------------------------------------------------------

AWS_SECRET = "aws-secret-wJalrXUtnFEMI-K7MDENG"


@pytest.mark.parametrize(
    ("conn", "named"),
    [
        ({"conn_type": "aws", "login": "AKIAEXAMPLE", "password": AWS_SECRET}, "'aws'"),
        ({"conn_type": "http", "password": AWS_SECRET}, "'http'"),
        ({"password": AWS_SECRET}, "no type"),
    ],
)
def test_a_connection_of_another_type_is_refused_before_any_request(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any], named: str
) -> None:
    before = emulator.stats()["api_connections"]
    monkeypatch.setenv("AIRFLOW_CONN_MY_AWS", json.dumps({**conn, "host": emulator.base_url}))
    hook = MusicGenerationHook("my_aws")
    errors = []
    for call in (lambda: hook.submit_generation("p"), lambda: hook.get_generation("g:m/x")):
        with pytest.raises(MusicInputError) as caught:
            call()
        errors.append(str(caught.value))
    ok, message = hook.test_connection()
    assert not ok
    errors.append(message)

    async def async_side() -> list[str]:
        out = []
        for call in (lambda h: h.aget_settings(), lambda h: h.aget_generation("g:m/x")):
            h = MusicGenerationHook("my_aws")
            try:
                await call(h)
            except MusicInputError as err:
                out.append(str(err))
            finally:
                await h.aclose()
        return out

    errors += asyncio.run(async_side())
    assert len(errors) == 5
    for text in errors:
        assert f"Connection 'my_aws' is of type {named}, not 'aimlapi'" in text, text
        assert AWS_SECRET not in text
        assert "AKIAEXAMPLE" not in text
    _nothing_arrived(emulator, before)  # not even a connection: the secret went nowhere


def test_the_type_check_ignores_case_and_spaces(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_ODD_CASE",
        json.dumps({"conn_type": " AIMLAPI ", "password": EMULATOR_KEY, "host": emulator.base_url}),
    )
    assert MusicGenerationHook("odd_case").test_connection()[0] is True


# --- test_connection: never raises; its messages are the documented ones ---------------------------


def test_test_connection_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, message = MusicGenerationHook("no_such_connection_anywhere").test_connection()
    assert ok is False
    assert "no_such_connection_anywhere" in message
    monkeypatch.setenv(
        "AIRFLOW_CONN_BROKEN",
        json.dumps({"conn_type": "aimlapi", "password": "k" * 8, "host": "http://[::1"}),
    )
    ok, message = MusicGenerationHook("broken").test_connection()
    assert ok is False
    assert "not a valid URL" in message


def _documented_messages() -> dict[str, str]:
    """The ``test_connection`` table of docs/connection.md: answer -> the message it promises."""
    text = (REPO / "docs" / "connection.md").read_text()
    section = text.split("## Testing the connection", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for answer, result in re.findall(r"^\| (.+?) \| `\((?:True|False), \"(.+?)\"\)` \|$", section, re.M):
        rows[answer.strip()] = result
    return rows


@pytest.mark.parametrize(
    ("answer", "fault", "ok"),
    [
        ("401", None, False),
        ("403", {"target": "get", "action": "status", "code": 403}, False),
        ("429 or 5xx", {"target": "get", "action": "status", "code": 503}, False),
        ("anything else (typically 404 for the unknown id)", None, True),
    ],
)
def test_test_connection_says_what_the_docs_say(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, answer: str, fault: dict[str, Any] | None, ok: bool
) -> None:
    documented = _documented_messages()
    assert answer in documented, documented
    if answer == "401":
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, key="wrong-key-0000"))
    if fault:
        emulator.add_faults([fault])
    expected = documented[answer].replace("<base URL>", emulator.base_url).replace("<n>", "503")
    assert MusicGenerationHook().test_connection() == (ok, expected)
