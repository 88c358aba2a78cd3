"""The hook against the emulator over real HTTP, plus transport-level mocks for what HTTP cannot show."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
from airflow.sdk import ObjectStoragePath
from helpers import EMULATOR_KEY, conn_json

from airflow_provider_music import __version__
from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import (
    MusicAudioInvalidError,
    MusicAuthError,
    MusicCreditsError,
    MusicInputError,
    MusicRejectedError,
    MusicSubmitUncertainError,
    MusicTransientError,
    MusicUnreachableError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook, _env_proxy

pytestmark = pytest.mark.integration


# Timing: a test that needs a pending generation holds it (`_stays_pending`), and one that needs it
# done releases it (`_finish`): emulator controls, so nothing races the clock.


def _stays_pending(emulator: Emulator) -> None:
    """Generations created from now on stay queued until released."""
    emulator.configure(hold=True)


def _finish(emulator: Emulator, gen_id: str) -> None:
    emulator.release(gen_id)


def _wait_completed(hook: MusicGenerationHook, gen_id: str, deadline_s: float = 60.0) -> Any:
    """Poll until terminal, with a deadline far beyond any machine's speed."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        gen = hook.get_generation(gen_id)
        if gen.status.is_terminal():
            return gen
        time.sleep(0.05)
    raise AssertionError(f"not completed within {deadline_s} s")


def test_submit_poll_download(emulator: Emulator, tmp_path: Path) -> None:
    _stays_pending(emulator)
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("lofi piano", music_length_ms=10_000)
    assert ":" in gen_id and "/" in gen_id
    first = hook.get_generation(gen_id)
    assert first.status.is_pending()
    _finish(emulator, gen_id)
    done = _wait_completed(hook, gen_id)
    assert done.status.is_success() and done.audio_url
    target = ObjectStoragePath(f"file://{tmp_path}/out/track.wav")
    stored = hook.download_audio(done.audio_url, target)
    size, sha = expected_audio("wav", 10_000)
    assert (stored.size_bytes, stored.sha256) == (size, sha)
    assert (tmp_path / "out" / "track.wav").read_bytes()[:4] == b"RIFF"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["track.wav"]  # no temporary left over
    stats = emulator.stats()
    assert stats["posts"] == 1 and stats["generations"][gen_id]["music_length_ms"] == 10_000


def test_id_with_colon_and_slash_is_url_encoded(emulator: Emulator) -> None:
    seen: list[str] = []

    def handler(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        seen.append(request.url or "")
        return 200, {}, b'{"id": "a:b/c", "status": "queued"}'

    hook = MusicGenerationHook()
    _mount(hook, handler)
    hook.get_generation("a:b/c d")
    assert seen and "generation_id=a%3Ab%2Fc+d" in seen[0]


def test_every_request_has_user_agent_timeout_and_bearer(emulator: Emulator) -> None:
    seen: list[requests.PreparedRequest] = []
    timeouts: list[Any] = []

    def handler(request: requests.PreparedRequest, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        seen.append(request)
        timeouts.append(kw.get("timeout"))
        return 200, {}, b'{"id": "x:elevenlabs/eleven_music", "status": "queued"}'

    hook = MusicGenerationHook()
    _mount(hook, handler)
    hook.submit_generation("p")
    assert seen[0].headers["User-Agent"] == f"airflow-provider-music/{__version__}"
    assert seen[0].headers["Authorization"] == f"Bearer {EMULATOR_KEY}"
    assert json.loads(seen[0].body or b"{}") == {"model": "elevenlabs/eleven_music", "prompt": "p"}
    assert timeouts[0] is not None


def test_bad_key_fails_fast_and_test_connection_tells(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = MusicGenerationHook()
    ok, message = good.test_connection()
    assert ok, message
    monkeypatch.setenv("AIRFLOW_CONN_BAD", conn_json(emulator.base_url, key="wrong-key-123456"))
    bad = MusicGenerationHook("bad")
    ok, message = bad.test_connection()
    assert not ok and "401" in message and "wrong-key-123456" not in message
    with pytest.raises(MusicAuthError, match="HTTP 401") as info:
        bad.submit_generation("p")
    assert "wrong-key-123456" not in str(info.value)
    assert emulator.stats()["posts_created"] == 0


def test_missing_key_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_NOKEY", json.dumps({"conn_type": "aimlapi", "host": "http://127.0.0.1:1"})
    )
    with pytest.raises(MusicInputError, match="password field"):
        MusicGenerationHook("nokey").submit_generation("p")


def test_invalid_prompt_is_refused_before_any_request(emulator: Emulator) -> None:
    with pytest.raises(MusicInputError, match="2001 characters"):
        MusicGenerationHook().submit_generation("x" * 2001)
    assert emulator.stats()["posts"] == 0


def test_transient_get_is_retried_with_backoff(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_provider_music._wire.BACKOFF_BASE_S", 0.01)
    _stays_pending(emulator)
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "status", "code": 503, "times": 2}])
    assert hook.get_generation(gen_id).status.is_pending()
    assert emulator.stats()["gets"] == 3


def test_post_429_is_retried_but_post_500_is_not(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_provider_music._wire.BACKOFF_BASE_S", 0.01)
    hook = MusicGenerationHook()
    emulator.add_faults(
        [{"target": "post", "action": "status", "code": 429, "headers": {"Retry-After": "0"}}]
    )
    assert hook.submit_generation("p")
    assert emulator.stats()["posts"] == 2
    emulator.reset()
    emulator.add_faults([{"target": "post", "action": "status", "code": 500, "create": True}])
    with pytest.raises(MusicSubmitUncertainError, match="not resent"):
        hook.submit_generation("p")
    assert emulator.stats()["posts"] == 1


def test_403_and_400_fail_fast(emulator: Emulator) -> None:
    hook = MusicGenerationHook()
    emulator.add_faults([{"target": "post", "action": "status", "code": 403}])
    with pytest.raises(MusicCreditsError):
        hook.submit_generation("p")
    emulator.add_faults([{"target": "post", "action": "status", "code": 400}])
    with pytest.raises(MusicRejectedError):
        hook.submit_generation("p")
    assert emulator.stats()["posts"] == 2


def test_download_refuses_html_and_leaves_nothing(emulator: Emulator, tmp_path: Path) -> None:
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("p")
    done = _wait_completed(hook, gen_id)
    emulator.add_faults([{"target": "audio", "action": "html"}])
    with pytest.raises(MusicAudioInvalidError, match="not audio"):
        hook.download_audio(done.audio_url, ObjectStoragePath(f"file://{tmp_path}/t.wav"))
    assert list(tmp_path.iterdir()) == []


def test_only_http_urls_are_fetched(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(MusicAudioInvalidError, match="only http"):
        MusicGenerationHook().download_audio("file:///etc/passwd", ObjectStoragePath(f"file://{tmp_path}/x"))


def _aget(hook: MusicGenerationHook, gen_id: str, times: int = 1) -> list[Any]:
    async def scenario() -> list[Any]:
        try:
            return [await hook.aget_generation(gen_id) for _ in range(times)]
        finally:
            await hook.aclose()

    return asyncio.run(scenario())


def test_async_side_uses_one_client_and_one_connection(emulator: Emulator) -> None:
    _stays_pending(emulator)  # three polls of a pending generation, however slow the machine
    gen_id = MusicGenerationHook().submit_generation("p")
    before = emulator.stats()["api_connections"]
    hook = MusicGenerationHook()
    first, *_ = _aget(hook, gen_id, times=3)
    stats = emulator.stats()
    assert first.raw_status == "queued" and first.id == gen_id
    assert stats["generations"][gen_id]["gets"] == 3
    assert stats["api_connections"] - before == 1  # three polls, one kept-alive connection
    assert hook._async_client is None  # closed


def test_async_refused_is_transient_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("http://127.0.0.1:1"))
    with pytest.raises(MusicUnreachableError, match="the connection was refused") as caught:
        _aget(MusicGenerationHook(max_attempts=1), "x")
    assert caught.value.cause == "refused"
    assert "http://127.0.0.1:1" in str(caught.value) and "the request was not sent" in str(caught.value)


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        pytest.param({"action": "reset"}, "while waiting for the answer", id="reset-after-send"),
        pytest.param({"action": "html"}, "not a JSON object", id="html-200"),
        pytest.param({"action": "bad_json"}, "not a JSON object", id="garbled-json"),
        pytest.param(
            {"action": "status", "code": 200, "body": "{" + " " * 1_200_000 + "}"},
            "not a JSON object",
            id="endless-body-cut-at-1MiB",
        ),
    ],
)
def test_async_faults_are_retried_then_reported(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, rule: dict[str, Any], needle: str
) -> None:
    monkeypatch.setattr("airflow_provider_music._wire.BACKOFF_BASE_S", 0.01)
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "times": -1, **rule}])
    with pytest.raises(MusicTransientError, match=needle) as caught:
        _aget(MusicGenerationHook(max_attempts=2), gen_id)
    assert EMULATOR_KEY not in str(caught.value)
    # Two attempts (aiohttp itself resends an idempotent GET once on a dropped connection).
    assert emulator.stats()["faults_applied"] in ((2, 3, 4) if rule["action"] == "reset" else (2,))
    emulator.clear_faults()
    # The client is not left stuck: the next poll goes through.
    assert _aget(MusicGenerationHook(max_attempts=1), gen_id)[0].id == gen_id


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count Airflow's connection lookups (BaseHook.aget_connection, below the hook under test)."""
    from airflow.sdk import BaseHook

    seen: list[str] = []
    original = BaseHook.aget_connection.__func__  # type: ignore[attr-defined]

    async def counting(cls: Any, conn_id: str) -> Any:
        seen.append(conn_id)
        return await original(cls, conn_id)

    monkeypatch.setattr(BaseHook, "aget_connection", classmethod(counting))
    return seen


def test_concurrent_runs_share_one_connection_lookup(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, lookups: list[str]
) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")

    async def scenario() -> None:
        first, second = MusicGenerationHook(), MusicGenerationHook()
        await first.aget_generation(gen_id)
        await second.aget_generation(gen_id)  # while the first run is alive: shared
        assert len(lookups) == 1
        await first.aclose()
        await second.aclose()
        # Nobody uses it any more: the next run reads the connection afresh (an edit takes effect).
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("http://127.0.0.1:1"))
        third = MusicGenerationHook(max_attempts=1)
        with pytest.raises(MusicUnreachableError, match="the request was not sent"):
            await third.aget_generation(gen_id)
        await third.aclose()
        assert len(lookups) == 2

    asyncio.run(scenario())


def test_shared_lookup_expires(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, lookups: list[str]
) -> None:
    monkeypatch.setattr("airflow_provider_music.hooks.music.SHARED_CONNECTION_TTL_S", 0.0)
    gen_id = MusicGenerationHook().submit_generation("p")

    async def scenario() -> None:
        hooks = [MusicGenerationHook() for _ in range(3)]
        for hook in hooks:
            await hook.aget_generation(gen_id)
        for hook in hooks:
            await hook.aclose()

    asyncio.run(scenario())
    assert len(lookups) == 3


def test_rotated_key_is_read_afresh_after_401(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, lookups: list[str]
) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")

    async def scenario() -> str:
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, key="old-key"))
        old = MusicGenerationHook()
        await old.aget_settings()  # a long-running trigger that read the key before it was rotated
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url))
        new = MusicGenerationHook()
        try:
            return (await new.aget_generation(gen_id)).id
        finally:
            await new.aclose()
            await old.aclose()

    assert asyncio.run(scenario()) == gen_id
    assert len(lookups) == 2 and emulator.stats()["auth_failures"] == 1


def test_bad_key_read_by_this_run_fails_without_a_second_lookup(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, lookups: list[str]
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, key="wrong-key"))
    with pytest.raises(MusicAuthError):
        _aget(MusicGenerationHook(), "x:y/z")
    assert len(lookups) == 1


def test_async_read_timeout_from_connection_extra(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, extra={"timeout": 0.3}))
    gen_id = MusicGenerationHook().submit_generation("p")
    # The answer comes 30 s late: far beyond the 0.3 s read timeout on any machine.
    emulator.add_faults([{"target": "get", "action": "delay", "seconds": 30, "times": 1}])
    with pytest.raises(MusicTransientError, match="while waiting for the answer"):
        _aget(MusicGenerationHook(max_attempts=1), gen_id)


def test_async_bad_key_is_not_retried(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, key="wrong-key"))
    with pytest.raises(MusicAuthError) as caught:
        _aget(MusicGenerationHook(max_attempts=5), "x:y/z")
    assert "wrong-key" not in str(caught.value)
    assert emulator.stats()["auth_failures"] == 1


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, "https://api.aimlapi.com", None),
        (
            {"HTTPS_PROXY": "http://proxy.internal:3128"},
            "https://api.aimlapi.com",
            "http://proxy.internal:3128",
        ),
        ({"HTTP_PROXY": "http://p:1"}, "https://api.aimlapi.com", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "aimlapi.com"}, "https://api.aimlapi.com", None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "localhost"}, "http://127.0.0.1:9", "http://p:1"),
    ],
)
def test_async_proxy_follows_the_environment_like_requests(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, expected: str | None
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _env_proxy(url) == expected
    assert requests.utils.get_environ_proxies(url).get(url.split(":")[0]) == expected


def test_ui_field_behaviour_hides_irrelevant_fields() -> None:
    behaviour = MusicGenerationHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["password"] == "API key"
    assert behaviour["placeholders"]["host"] == "https://api.aimlapi.com"
    assert set(behaviour["hidden_fields"]) == {"schema", "login", "port"}


class _Adapter(requests.adapters.BaseAdapter):
    """A requests transport that answers from a function: the mock sits below our code, at HTTP."""

    def __init__(self, handler: Any) -> None:
        super().__init__()
        self.handler = handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        try:
            status, headers, body = self.handler(request, **kwargs)
        except TypeError:
            status, headers, body = self.handler(request)
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        # read as a stream, as requests' own adapter hands it over
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(body), headers=headers, status=status, preload_content=False
        )
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def _mount(hook: MusicGenerationHook, handler: Any) -> None:
    adapter = _Adapter(handler)
    hook.session.mount("http://", adapter)
    hook.session.mount("https://", adapter)


# --- answers no well-behaved server sends (a socket written by hand) ----------------------------


class _RawServer:
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
def raw_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., _RawServer]]:
    servers: list[_RawServer] = []

    def start(answer: Callable[[socket.socket, threading.Event], None], timeout: float = 10.0) -> _RawServer:
        server = _RawServer(answer)
        servers.append(server)
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(server.url, extra={"timeout": timeout}))
        return server

    yield start
    for server in servers:
        server.close()


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    """A 200 whose body never ends: a byte every 0.1 s, each read well within the read timeout."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    while not stop.wait(0.1):
        conn.sendall(b" ")


def test_sync_calls_read_bounded_and_still_reuse_one_connection(emulator: Emulator) -> None:
    before = emulator.stats()["api_connections"]
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("p")
    statuses = [hook.get_generation(gen_id).status for _ in range(4)]
    assert all(s.is_pending() or s.is_success() for s in statuses)
    assert emulator.stats()["api_connections"] - before == 1  # a POST and four GETs, one connection


def test_a_body_that_never_ends_times_out_on_both_sides(
    raw_server: Callable[..., _RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole answer must come within connect + read timeout (0.5 + 0.5 s here), not per read.
    # (A slow machine that misses a drip times out per read instead: the same error.)
    monkeypatch.setattr("airflow_provider_music.hooks.music.CONNECT_TIMEOUT_S", 0.5)
    raw_server(_drip, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(MusicTransientError, match="while waiting for the answer"):
        MusicGenerationHook(max_attempts=1).get_generation("g:m/x")
    with pytest.raises(MusicSubmitUncertainError, match="not resent"):
        MusicGenerationHook(max_attempts=1).submit_generation("p")
    with pytest.raises(MusicTransientError, match="while waiting for the answer"):
        _aget(MusicGenerationHook(max_attempts=1), "g:m/x")
    assert time.monotonic() - started < 60  # unbounded, the drip would go on until the server stops


def test_an_endless_fast_body_is_cut_at_the_limit(raw_server: Callable[..., _RawServer]) -> None:
    def flood(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        piece = b"[" * 65536
        while not stop.is_set():
            conn.sendall(piece)

    raw_server(flood)
    # Read up to the 1 MiB limit only, then reported as garbled: a POST is not resent.
    with pytest.raises(MusicSubmitUncertainError, match="not a JSON object"):
        MusicGenerationHook(max_attempts=1).submit_generation("p")
    with pytest.raises(MusicTransientError, match="not a JSON object"):
        MusicGenerationHook(max_attempts=1).get_generation("g:m/x")


def _wav(length_ms: int = 1000) -> bytes:
    from airflow_provider_music.emulator._audio import audio_stream

    return b"".join(audio_stream("wav", length_ms))


def test_gzip_encoded_audio_is_stored_decoded(raw_server: Callable[..., _RawServer], tmp_path: Path) -> None:
    import gzip
    import hashlib

    wav = _wav()
    packed = gzip.compress(wav)

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(packed)}\r\nConnection: close\r\n\r\n".encode()
            + packed
        )

    server = raw_server(answer)
    stored = MusicGenerationHook().download_audio(
        f"{server.url}/a.wav?sig=1", ObjectStoragePath(f"file://{tmp_path}/a.wav")
    )
    assert (stored.size_bytes, stored.sha256) == (len(wav), hashlib.sha256(wav).hexdigest())
    assert (tmp_path / "a.wav").read_bytes() == wav
    assert b"accept-encoding: identity" in server.requests[0].lower()  # asked for plain bytes


def test_an_unreadable_content_length_is_ignored(
    raw_server: Callable[..., _RawServer], tmp_path: Path
) -> None:
    wav = _wav()

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        # "²" is a digit to str.isdigit() but not to int()
        head = "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: \u00b2\r\n"
        conn.sendall(head.encode("utf-8") + b"Connection: close\r\n\r\n" + wav)

    server = raw_server(answer)
    stored = MusicGenerationHook().download_audio(
        f"{server.url}/a.wav", ObjectStoragePath(f"file://{tmp_path}/a.wav")
    )
    assert stored.size_bytes == len(wav)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://cdn:99999/x.wav", "cannot be parsed"),
        ("https://cdn:abc/x.wav", "cannot be parsed"),
        ("https://[cdn/x.wav", "cannot be parsed"),
        ("http:///x.wav", "has no host"),
    ],
)
def test_a_malformed_audio_url_is_an_audio_error(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(MusicAudioInvalidError, match=message):
        MusicGenerationHook().download_audio(url, ObjectStoragePath(f"file://{tmp_path}/x.wav"))
    assert list(tmp_path.iterdir()) == []
