"""The async client (aiohttp): one pooled connection per run, the shared connection lookup, retries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from airflow.sdk import BaseHook
from helpers import EMULATOR_KEY, conn_json

from airflow_provider_music.clients import AsyncClient, RetryPolicy
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import (
    MusicAuthError,
    MusicTransientError,
    MusicUnreachableError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.wire import build_status_request, parse_generation_response

pytestmark = pytest.mark.integration

FAST = RetryPolicy(base_delay_s=0.01)  # the default schedule, a hundred times faster
ONCE = RetryPolicy(max_attempts=1)
LOG = logging.getLogger(__name__)


def _stays_pending(emulator: Emulator) -> None:
    """Generations created from now on stay queued until released."""
    emulator.configure(hold=True)


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
    assert first.raw_status == "queued"
    assert first.id == gen_id
    assert stats["generations"][gen_id]["gets"] == 3
    assert stats["api_connections"] - before == 1  # three polls, one kept-alive connection
    assert not hook.async_client.session_open  # closed


def test_async_refused_is_transient_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("http://127.0.0.1:1"))
    with pytest.raises(MusicUnreachableError, match="the connection was refused") as caught:
        _aget(MusicGenerationHook(max_attempts=1), "x")
    assert caught.value.cause == "refused"
    assert "http://127.0.0.1:1" in str(caught.value)
    assert "the request was not sent" in str(caught.value)


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
    emulator: Emulator, rule: dict[str, Any], needle: str
) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "times": -1, **rule}])
    with pytest.raises(MusicTransientError, match=needle) as caught:
        _aget(MusicGenerationHook(max_attempts=2, retry_policy=FAST), gen_id)
    assert EMULATOR_KEY not in str(caught.value)
    # Two attempts (aiohttp itself resends an idempotent GET once on a dropped connection).
    assert emulator.stats()["faults_applied"] in ((2, 3, 4) if rule["action"] == "reset" else (2,))
    emulator.clear_faults()
    # The client is not left stuck: the next poll goes through.
    assert _aget(MusicGenerationHook(max_attempts=1), gen_id)[0].id == gen_id


@pytest.fixture
def connection_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count Airflow's connection lookups (BaseHook.aget_connection, below the hook under test)."""
    seen: list[str] = []
    original = BaseHook.aget_connection.__func__  # type: ignore[attr-defined]

    async def counting(cls: Any, conn_id: str) -> Any:
        seen.append(conn_id)
        return await original(cls, conn_id)

    monkeypatch.setattr(BaseHook, "aget_connection", classmethod(counting))
    return seen


def test_concurrent_runs_share_one_connection_lookup(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, connection_lookups: list[str]
) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")

    async def scenario() -> None:
        first, second = MusicGenerationHook(), MusicGenerationHook()
        await first.aget_generation(gen_id)
        await second.aget_generation(gen_id)  # while the first run is alive: shared
        assert len(connection_lookups) == 1
        await first.aclose()
        await second.aclose()
        # Nobody uses it any more: the next run reads the connection afresh (an edit takes effect).
        monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("http://127.0.0.1:1"))
        third = MusicGenerationHook(max_attempts=1)
        with pytest.raises(MusicUnreachableError, match="the request was not sent"):
            await third.aget_generation(gen_id)
        await third.aclose()
        assert len(connection_lookups) == 2

    asyncio.run(scenario())


def test_shared_lookup_expires(emulator: Emulator, connection_lookups: list[str]) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")

    async def scenario() -> None:
        made = [
            AsyncClient("aimlapi_default", BaseHook.aget_connection, retry=ONCE, log=LOG, settings_ttl_s=0.0)
            for _ in range(3)
        ]
        for client in made:
            await client.call(
                lambda s: build_status_request(s.base_url, gen_id),
                lambda s, h, c: parse_generation_response(s, h, c, gen_id),
            )
        for client in made:
            await client.aclose()

    asyncio.run(scenario())
    assert len(connection_lookups) == 3


def test_rotated_key_is_read_afresh_after_401(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, connection_lookups: list[str]
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
    assert len(connection_lookups) == 2
    assert emulator.stats()["auth_failures"] == 1


def test_bad_key_read_by_this_run_fails_without_a_second_lookup(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, connection_lookups: list[str]
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, key="wrong-key"))
    with pytest.raises(MusicAuthError):
        _aget(MusicGenerationHook(), "x:y/z")
    assert len(connection_lookups) == 1


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


def test_concurrent_runs_share_one_pool_and_the_last_one_closes_it(emulator: Emulator) -> None:
    from airflow_provider_music.clients._async import open_shared_sessions

    _stays_pending(emulator)
    gen_id = MusicGenerationHook().submit_generation("p")
    before = emulator.stats()["api_connections"]

    async def scenario() -> None:
        hooks = [MusicGenerationHook() for _ in range(20)]
        for _ in range(2):  # one poll at a time: one kept-alive connection serves them all
            for hook in hooks:
                await hook.aget_generation(gen_id)
        assert open_shared_sessions() == {emulator.base_url: 20}
        assert hooks[0].async_client._session is hooks[-1].async_client._session
        session = hooks[0].async_client._session
        for hook in hooks[:-1]:
            await hook.aclose()
        assert session is not None
        assert not session.closed  # still in use by the last run
        await hooks[-1].aclose()
        assert session.closed
        assert open_shared_sessions() == {}

    asyncio.run(scenario())
    assert emulator.stats()["api_connections"] - before == 1
    assert emulator.stats()["generations"][gen_id]["gets"] == 40
