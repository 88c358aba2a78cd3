"""The hook as a façade: against the emulator over real HTTP (clients are tested in tests/unit/clients)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath
from helpers import conn_json

from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import (
    MusicAudioInvalidError,
    MusicAuthError,
    MusicCreditsError,
    MusicInputError,
    MusicRejectedError,
)
from airflow_provider_music.hooks import music
from airflow_provider_music.hooks.music import ApiSettings, Generation, MusicGenerationHook, Submission
from airflow_provider_music.version_compat import AirflowNotFoundException

pytestmark = pytest.mark.integration


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
    assert ":" in gen_id
    assert "/" in gen_id
    first = hook.get_generation(gen_id)
    assert first.status.is_pending()
    _finish(emulator, gen_id)
    done = _wait_completed(hook, gen_id)
    assert done.status.is_success()
    assert done.audio_url
    target = ObjectStoragePath(f"file://{tmp_path}/out/track.wav")
    stored = hook.download_audio(done.audio_url, target)
    size, sha = expected_audio("wav", 10_000)
    assert (stored.size_bytes, stored.sha256) == (size, sha)
    assert (tmp_path / "out" / "track.wav").read_bytes()[:4] == b"RIFF"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["track.wav"]  # no temporary left over
    stats = emulator.stats()
    assert stats["posts"] == 1
    assert stats["generations"][gen_id]["music_length_ms"] == 10_000


def test_bad_key_fails_fast_and_test_connection_tells(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = MusicGenerationHook()
    ok, message = good.test_connection()
    assert ok, message
    monkeypatch.setenv("AIRFLOW_CONN_BAD", conn_json(emulator.base_url, key="wrong-key-123456"))
    bad = MusicGenerationHook("bad")
    ok, message = bad.test_connection()
    assert not ok
    assert "401" in message
    assert "wrong-key-123456" not in message
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


def test_ui_field_behaviour_hides_irrelevant_fields() -> None:
    behaviour = MusicGenerationHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["password"] == "API key"
    assert behaviour["placeholders"]["host"] == "https://api.aimlapi.com"
    assert set(behaviour["hidden_fields"]) == {"schema", "login", "port"}


def test_the_public_types_are_importable_from_the_hook_module() -> None:
    names = {
        "ApiSettings",
        "AudioFormat",
        "Generation",
        "GenerationStatus",
        "RetryPolicy",
        "StoredAudio",
        "Submission",
    }
    assert names | {"MusicGenerationHook"} == set(music.__all__)
    assert all(getattr(music, name).__name__ == name for name in names)
    assert (ApiSettings, Generation, Submission) == (music.ApiSettings, music.Generation, music.Submission)


def test_clients_are_built_on_first_use_only() -> None:
    # No connection lookup when the hook is made: operators build hooks at DAG-parse time.
    hook = MusicGenerationHook("no_such_connection_anywhere")
    with pytest.raises(AirflowNotFoundException, match="no_such_connection_anywhere"):
        _ = hook.sync_client
