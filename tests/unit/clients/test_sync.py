"""The sync client (requests): headers, URL encoding, retries by the policy, bounded reads."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests
import urllib3
from airflow.sdk import BaseHook
from helpers import EMULATOR_KEY

from airflow_provider_music import __version__
from airflow_provider_music.clients import ApiSettings, AsyncClient, RetryPolicy, SyncClient
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import MusicSubmitUncertainError, MusicTransientError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.wire import (
    Generation,
    build_status_request,
    build_submit_request,
    parse_generation_response,
    parse_submission,
)

pytestmark = pytest.mark.integration

FAST = RetryPolicy(base_delay_s=0.01)  # the default schedule, a hundred times faster
ONCE = RetryPolicy(max_attempts=1)
LOG = logging.getLogger(__name__)


def _parse_generation(gen_id: str) -> Callable[[int, Mapping[str, str], bytes], Generation]:
    return lambda s, h, c: parse_generation_response(s, h, c, gen_id)


def _stays_pending(emulator: Emulator) -> None:
    """Generations created from now on stay queued until released."""
    emulator.configure(hold=True)


class _Adapter(requests.adapters.BaseAdapter):
    """A requests transport that answers from a function: the mock sits below our code, at HTTP."""

    def __init__(self, handler: Any) -> None:
        super().__init__()
        self.handler = handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
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


def test_id_with_colon_and_slash_is_url_encoded(emulator: Emulator) -> None:
    seen: list[str] = []

    def handler(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        seen.append(request.url or "")
        return 200, {}, b'{"id": "a:b/c", "status": "queued"}'

    hook = MusicGenerationHook()
    _mount(hook, handler)
    hook.get_generation("a:b/c d")
    assert seen
    assert "generation_id=a%3Ab%2Fc+d" in seen[0]


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


def test_transient_get_is_retried_with_backoff(emulator: Emulator) -> None:
    _stays_pending(emulator)
    hook = MusicGenerationHook(retry_policy=FAST)
    gen_id = hook.submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "status", "code": 503, "times": 2}])
    assert hook.get_generation(gen_id).status.is_pending()
    assert emulator.stats()["gets"] == 3


def test_post_429_is_retried_but_post_500_is_not(emulator: Emulator) -> None:
    hook = MusicGenerationHook(retry_policy=FAST)
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


# --- bounded reads: answers no well-behaved server sends (a socket written by hand) --------------


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


def test_a_body_that_never_ends_times_out_on_both_sides(raw_http_server: Callable[..., Any]) -> None:
    # The whole answer must come within connect + read timeout (0.5 + 0.5 s here), not per read.
    # (A slow machine that misses a drip times out per read instead: the same error.)
    server = raw_http_server(_drip, timeout=0.5)
    settings = ApiSettings(base_url=server.url, api_key=EMULATOR_KEY, timeout=0.5)
    sync = SyncClient(settings, retry=ONCE, log=LOG, connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(MusicTransientError, match="while waiting for the answer"):
        sync.call(build_status_request(server.url, "g:m/x"), _parse_generation("g:m/x"))
    with pytest.raises(MusicSubmitUncertainError, match="not resent"):
        sync.call(build_submit_request(server.url, "p"), parse_submission)

    async def async_side() -> None:
        client = AsyncClient(
            "aimlapi_default", BaseHook.aget_connection, retry=ONCE, log=LOG, connect_timeout=0.5
        )
        try:
            await client.call(lambda s: build_status_request(s.base_url, "g:m/x"), _parse_generation("g:m/x"))
        finally:
            await client.aclose()

    with pytest.raises(MusicTransientError, match="while waiting for the answer"):
        asyncio.run(async_side())
    assert time.monotonic() - started < 60  # unbounded, the drip would go on until the server stops


def test_an_endless_fast_body_is_cut_at_the_limit(raw_http_server: Callable[..., Any]) -> None:
    def flood(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        piece = b"[" * 65536
        while not stop.is_set():
            conn.sendall(piece)

    raw_http_server(flood)
    # Read up to the 1 MiB limit only, then reported as garbled: a POST is not resent.
    with pytest.raises(MusicSubmitUncertainError, match="not a JSON object"):
        MusicGenerationHook(max_attempts=1).submit_generation("p")
    with pytest.raises(MusicTransientError, match="not a JSON object"):
        MusicGenerationHook(max_attempts=1).get_generation("g:m/x")
