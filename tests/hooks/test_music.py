"""The hook against the emulator over real HTTP, plus transport-level mocks for what HTTP cannot show."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from airflow.sdk import ObjectStoragePath
from conftest import EMULATOR_KEY, conn_json

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
)
from airflow_provider_music.hooks.music import MusicGenerationHook

pytestmark = pytest.mark.integration


def _wait_completed(hook: MusicGenerationHook, gen_id: str) -> Any:
    for _ in range(100):
        gen = hook.get_generation(gen_id)
        if gen.status.is_terminal():
            return gen
        asyncio.run(asyncio.sleep(0.05))
    raise AssertionError("never completed")


def test_submit_poll_download(emulator: Emulator, tmp_path: Path) -> None:
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("lofi piano", music_length_ms=10_000)
    assert ":" in gen_id and "/" in gen_id
    first = hook.get_generation(gen_id)
    assert first.status.is_pending()
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


def test_async_side_uses_one_client(emulator: Emulator) -> None:
    async def scenario() -> tuple[str, int]:
        hook = MusicGenerationHook()
        gen_id = await asyncio.to_thread(MusicGenerationHook().submit_generation, "p")
        first = await hook.aget_generation(gen_id)
        client = hook._async_client
        await hook.aget_generation(gen_id)
        assert hook._async_client is client
        await hook.aclose()
        return first.raw_status, emulator.stats()["gets"]

    status, gets = asyncio.run(scenario())
    assert status in ("queued", "generating") and gets == 2


def test_async_transport_errors_are_classified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("http://127.0.0.1:1"))

    async def scenario() -> None:
        hook = MusicGenerationHook(max_attempts=1)
        try:
            await hook.aget_generation("x")
        finally:
            await hook.aclose()

    with pytest.raises(MusicTransientError, match="before the request was sent"):
        asyncio.run(scenario())


def test_async_mock_transport_html_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 200 with HTML on a status read is transient: retried, then reported with a preview."""
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json("http://api.test"))
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, text="<html>Bad Gateway</html>")

    async def scenario() -> None:
        hook = MusicGenerationHook(max_attempts=2)
        monkeypatch.setattr("airflow_provider_music._wire.BACKOFF_BASE_S", 0.01)
        hook._async_client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        hook._async_settings = await hook.aget_settings()
        try:
            await hook.aget_generation("x:y/z")
        finally:
            await hook.aclose()

    with pytest.raises(MusicTransientError, match="Bad Gateway"):
        asyncio.run(scenario())
    assert len(calls) == 2 and calls[0].url.params["generation_id"] == "x:y/z"


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
        response._content = body
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def _mount(hook: MusicGenerationHook, handler: Any) -> None:
    adapter = _Adapter(handler)
    hook.session.mount("http://", adapter)
    hook.session.mount("https://", adapter)
