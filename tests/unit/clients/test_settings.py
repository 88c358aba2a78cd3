"""Settings: the connection read, the lookup concurrent clients share, the proxy, the SSL context."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import requests
from airflow.sdk import Connection

from airflow_provider_music import clients
from airflow_provider_music.clients import ApiSettings, SharedSettings, env_proxy


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
    assert env_proxy(url) == expected
    assert requests.utils.get_environ_proxies(url).get(url.split(":")[0]) == expected


def _connection(key: str = "sk-settings-0001", **extra: Any) -> Connection:
    return Connection(
        conn_id="music", conn_type="aimlapi", password=key, host="http://127.0.0.1:9", extra=json.dumps(extra)
    )


def test_settings_never_show_the_key() -> None:
    settings = ApiSettings.from_connection(_connection(timeout=5))
    assert settings.timeout == 5.0
    assert settings.base_url == "http://127.0.0.1:9"
    assert "sk-settings-0001" not in repr(settings)


def test_concurrent_holders_share_one_lookup_until_the_last_lets_go() -> None:
    reads: list[str] = []

    async def read(conn_id: str) -> Connection:
        reads.append(conn_id)
        return _connection()

    async def scenario() -> None:
        first, second = SharedSettings("music", read), SharedSettings("music", read)
        assert await first.acquire() == await second.acquire()
        assert (first.read_here, second.read_here) == (True, False)
        assert clients.open_shared_settings() == {"music": 2}
        first.release()
        assert clients.open_shared_settings() == {"music": 1}
        second.release()
        assert clients.open_shared_settings() == {}
        third = SharedSettings("music", read)
        await third.acquire()  # nobody held it: read afresh
        third.forget()  # a refused key: not shared any more
        assert clients.open_shared_settings() == {}
        await SharedSettings("music", read).acquire()
        clients.reset_shared_settings()
        third.release()

    asyncio.run(scenario())
    assert reads == ["music", "music", "music"]
    assert clients.open_shared_settings() == {}


def test_expired_lookups_are_not_shared() -> None:
    reads: list[str] = []

    async def read(conn_id: str) -> Connection:
        reads.append(conn_id)
        return _connection()

    async def scenario() -> None:
        holders = [SharedSettings("music", read, ttl_s=0.0) for _ in range(3)]
        for holder in holders:
            await holder.acquire()
        for holder in holders:
            holder.release()

    asyncio.run(scenario())
    assert len(reads) == 3


def test_one_ssl_context_per_process() -> None:
    assert clients.shared_ssl_context() is clients.shared_ssl_context()
