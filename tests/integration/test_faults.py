"""
The fault-injection suite: every failure users meet in production, injected by the emulator over
real HTTP and met through the public operators (run the way Airflow runs them: execute, defer, the
trigger's run() in an event loop, execute_complete). Each test asserts the outcome, the number of
POSTs the service received, and that no partial object is left behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    EMULATOR_KEY,
    FakeTaskStateStore,
    conn_json,
    file_size_limit,
    run_try,
)

from airflow_provider_music.clients import RetryPolicy
from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import (
    AirflowFailException,
    MusicAudioInvalidError,
    MusicAuthError,
    MusicCreditsError,
    MusicDeliveryError,
    MusicGenerationFailed,
    MusicInputError,
    MusicSubmitUncertainError,
    MusicTimeoutError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.operators.music import GenerateMusicOperator

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def faults_fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same retries, with short delays: the default policy of every hook (and so of the trigger)."""
    monkeypatch.setattr(MusicGenerationHook, "retry_policy", RetryPolicy(base_delay_s=0.01, max_delay_s=0.05))


def _run(op: GenerateMusicOperator, store: FakeTaskStateStore) -> dict[str, Any]:
    """One try of the task as Airflow runs it; the key must never surface in what it returns or raises."""
    try:
        manifest = run_try(op, store)
    except Exception as exc:
        _assert_no_key_in(exc)
        raise
    assert EMULATOR_KEY not in json.dumps(manifest)
    assert not [name for name in _files_anywhere(op) if EMULATOR_KEY.encode() in Path(name).read_bytes()]
    return manifest


def _assert_no_key_in(exc: BaseException) -> None:
    assert EMULATOR_KEY not in f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}"


def _files_anywhere(op: GenerateMusicOperator) -> list[str]:
    root = Path(str(op.destination).removeprefix("file://"))
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _op(tmp_path: Path, **kw: Any) -> GenerateMusicOperator:
    args: dict[str, Any] = {
        "task_id": "generate",
        "prompt": "lofi",
        "music_length_ms": 10_000,
        "destination": f"file://{tmp_path}/out/",
        "object_name": "track",
        "poll_interval": 0.1,
        "timeout": 30,
    }
    args.update(kw)
    return GenerateMusicOperator(**args)


def _files(tmp_path: Path) -> list[str]:
    folder = tmp_path / "out"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _assert_clean_failure(tmp_path: Path) -> None:
    assert _files(tmp_path) == [], "a failed delivery must leave nothing behind"


def _assert_delivered(tmp_path: Path, manifest: dict[str, Any], emulator: Emulator) -> None:
    size, sha = expected_audio("wav", 10_000)
    assert (manifest["size_bytes"], manifest["sha256"]) == (size, sha)
    assert _files(tmp_path) == ["track.json", "track.wav"]


# --- transient faults: the task succeeds after retries inside the hook or the trigger ---------------


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(
            [{"target": "get", "action": "status", "code": 429, "headers": {"Retry-After": "1"}}],
            id="429-retry-after",
        ),
        pytest.param([{"target": "get", "action": "status", "code": 429}], id="429-no-retry-after"),
        pytest.param(
            [{"target": "get", "action": "status", "code": c} for c in (500, 502, 503, 504)], id="5xx-burst"
        ),
        pytest.param([{"target": "get", "action": "reset", "times": 2}], id="connection-reset"),
        pytest.param([{"target": "get", "action": "html", "times": 2}], id="html-200"),
        pytest.param([{"target": "get", "action": "bad_json"}], id="garbled-json-200"),
        pytest.param([{"target": "get", "action": "waiting", "times": 2}], id="legacy-waiting-status"),
    ],
)
def test_transient_faults_on_polling_end_in_success(
    emulator: Emulator, tmp_path: Path, rules: list[dict[str, Any]]
) -> None:
    emulator.add_faults(rules)
    started = time.monotonic()
    manifest = _run(_op(tmp_path), FakeTaskStateStore())
    _assert_delivered(tmp_path, manifest, emulator)
    assert emulator.stats()["posts"] == 1
    if "Retry-After" in json.dumps(rules):
        assert time.monotonic() - started >= 1.0, "Retry-After must be honoured"


def test_a_response_slower_than_the_client_timeout_is_retried(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AIMLAPI_DEFAULT",
        json.dumps(
            {
                "conn_type": "aimlapi",
                "password": EMULATOR_KEY,
                "host": emulator.base_url,
                "extra": {"timeout": 0.5},
            }
        ),
    )
    emulator.add_faults([{"target": "get", "action": "delay", "seconds": 1.5}])
    manifest = _run(_op(tmp_path), FakeTaskStateStore())
    _assert_delivered(tmp_path, manifest, emulator)
    assert emulator.stats()["posts"] == 1


def test_429_on_the_post_is_retried_and_creates_one_generation(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults(
        [{"target": "post", "action": "status", "code": 429, "headers": {"Retry-After": "0"}, "times": 2}]
    )
    manifest = _run(_op(tmp_path), FakeTaskStateStore())
    _assert_delivered(tmp_path, manifest, emulator)
    stats = emulator.stats()
    assert stats["posts"] == 3
    assert stats["posts_created"] == 1


def test_an_expired_audio_url_is_refreshed_by_a_get_never_a_post(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults([{"target": "audio", "action": "expired", "code": 410, "times": 2}])
    manifest = _run(_op(tmp_path), FakeTaskStateStore())
    _assert_delivered(tmp_path, manifest, emulator)
    stats = emulator.stats()
    assert stats["posts"] == 1
    assert stats["generations"][manifest["generation_id"]]["downloads"] == 3


# --- failures: a clear error, the right retry semantics, nothing billed twice, nothing left ---------


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"name": "GenerationError", "message": "model overloaded"}, "model overloaded"),
        (
            {"detail": [{"loc": ["body", "prompt"], "msg": "prompt flagged", "type": "value_error"}]},
            "prompt flagged",
        ),
        ("raw failure text", "raw failure text"),
    ],
)
def test_error_status_fails_without_retry_and_carries_the_message(
    emulator: Emulator, tmp_path: Path, payload: object, needle: str
) -> None:
    emulator.add_faults([{"target": "get", "action": "generation_error", "payload": payload, "times": -1}])
    with pytest.raises(MusicGenerationFailed, match=needle) as info:
        _run(_op(tmp_path), FakeTaskStateStore())
    assert isinstance(info.value, AirflowFailException)
    assert emulator.stats()["posts"] == 1
    _assert_clean_failure(tmp_path)


def test_unknown_status_ends_the_wait(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults([{"target": "get", "action": "unknown_status", "status": "cancelled", "times": -1}])
    with pytest.raises(MusicGenerationFailed, match="unknown status 'cancelled'"):
        _run(_op(tmp_path), FakeTaskStateStore())
    assert emulator.stats()["posts"] == 1
    _assert_clean_failure(tmp_path)


def test_a_generation_that_never_completes_times_out_naming_the_id(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_faults([{"target": "get", "action": "never_complete", "times": -1}])
    store = FakeTaskStateStore()
    with pytest.raises(MusicTimeoutError, match="still pending after waiting 1s") as info:
        _run(_op(tmp_path, timeout=1.2), store)
    assert next(iter(emulator.stats()["generations"])) in str(info.value)
    assert not isinstance(info.value, AirflowFailException)  # a retry may wait again...
    with pytest.raises(MusicTimeoutError):
        _run(_op(tmp_path, timeout=0.5), store)
    assert emulator.stats()["posts"] == 1  # ...on the same generation, never a new one
    _assert_clean_failure(tmp_path)


def test_completed_without_audio_url(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults([{"target": "get", "action": "no_audio_url", "times": -1}])
    with pytest.raises(MusicGenerationFailed, match="no audio URL"):
        _run(_op(tmp_path), FakeTaskStateStore())
    assert emulator.stats()["posts"] == 1
    _assert_clean_failure(tmp_path)


def test_a_truncated_download_leaves_nothing_and_the_retry_reattaches(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_faults([{"target": "audio", "action": "truncate", "bytes": 200_000}])
    store = FakeTaskStateStore()
    with pytest.raises(MusicDeliveryError, match=r"truncated|broke off"):
        _run(_op(tmp_path), store)
    _assert_clean_failure(tmp_path)
    manifest = _run(_op(tmp_path), store)  # the task's retry
    _assert_delivered(tmp_path, manifest, emulator)
    assert emulator.stats()["posts"] == 1


@pytest.mark.parametrize("action", ["html", "json"])
def test_an_error_page_instead_of_audio_is_refused(emulator: Emulator, tmp_path: Path, action: str) -> None:
    emulator.add_faults([{"target": "audio", "action": action, "times": -1}])
    with pytest.raises(MusicAudioInvalidError, match="not audio"):
        _run(_op(tmp_path), FakeTaskStateStore())
    assert emulator.stats()["posts"] == 1
    _assert_clean_failure(tmp_path)


def test_a_runaway_download_is_stopped_at_max_bytes(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults([{"target": "audio", "action": "oversize", "extra_bytes": 3_000_000}])
    with pytest.raises(MusicAudioInvalidError, match="limit of 2000000 bytes"):
        _run(_op(tmp_path, max_bytes=2_000_000), FakeTaskStateStore())
    _assert_clean_failure(tmp_path)


@pytest.fixture(name="file_size_limit")
def _file_size_limit() -> Iterator[int]:
    """A real storage failure half way: the kernel refuses writes past 1 MB (EFBIG), like a full disk."""
    with file_size_limit(1_000_000):
        yield 1_000_000


def test_a_storage_write_failing_half_way_keeps_the_previous_object(
    emulator: Emulator, tmp_path: Path, file_size_limit: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "track.wav").write_bytes(b"RIFF-previous-version")
    with pytest.raises(MusicDeliveryError):
        _run(_op(tmp_path), FakeTaskStateStore())
    assert _files(tmp_path) == ["track.wav"]
    assert (out / "track.wav").read_bytes() == b"RIFF-previous-version"
    assert emulator.stats()["posts"] == 1


def test_403_out_of_credits_fails_without_retry(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults([{"target": "post", "action": "status", "code": 403}])
    with pytest.raises(MusicCreditsError, match="HTTP 403") as info:
        _run(_op(tmp_path), FakeTaskStateStore())
    assert isinstance(info.value, AirflowFailException)
    assert "Insufficient credits" in str(info.value)
    assert emulator.stats()["posts"] == 1
    assert emulator.stats()["posts_created"] == 0
    _assert_clean_failure(tmp_path)


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_an_ambiguous_post_failure_is_reported_not_resent(
    emulator: Emulator, tmp_path: Path, code: int
) -> None:
    emulator.add_faults([{"target": "post", "action": "status", "code": code, "create": True}])
    with pytest.raises(MusicSubmitUncertainError, match="not resent") as info:
        _run(_op(tmp_path), FakeTaskStateStore())
    assert isinstance(info.value, AirflowFailException)
    assert emulator.stats()["posts"] == 1
    _assert_clean_failure(tmp_path)


def test_a_reset_after_the_post_was_sent_is_not_resent(emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_faults([{"target": "post", "action": "reset", "create": True}])
    with pytest.raises(MusicSubmitUncertainError):
        _run(_op(tmp_path), FakeTaskStateStore())
    assert emulator.stats()["posts"] == 1


def test_a_bad_key_fails_fast(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator.base_url, key="sk-wrong-key-42"))
    with pytest.raises(MusicAuthError, match="HTTP 401") as info:
        _run(_op(tmp_path), FakeTaskStateStore())
    assert isinstance(info.value, AirflowFailException)
    assert "sk-wrong-key-42" not in str(info.value)
    assert emulator.stats()["posts_created"] == 0


def test_a_prompt_of_2001_characters_is_refused_before_any_request(
    emulator: Emulator, tmp_path: Path
) -> None:
    from airflow.sdk import DAG

    with pytest.raises(MusicInputError, match="2001 characters long; the limit is 2000"):
        _op(tmp_path, prompt="x" * 2001)  # a literal: refused when the DAG file is parsed
    with DAG("faults", schedule=None):
        op = _op(tmp_path, prompt="{{ params.p }}")
    op.render_template_fields({"params": {"p": "x" * 2001}})
    with pytest.raises(MusicInputError, match="2001 characters long; the limit is 2000"):
        _run(op, FakeTaskStateStore())  # a template: refused once rendered, before any request
    assert emulator.stats()["posts"] == 0
    _assert_clean_failure(tmp_path)


def test_leftovers_of_a_killed_worker_are_removed_by_the_next_try(emulator: Emulator, tmp_path: Path) -> None:
    """SIGKILL leaves no chance to clean up: the retry removes the dead try's temporary object."""
    out = tmp_path / "out"
    out.mkdir()
    (out / ".partial-track-0123456789abcdef").write_bytes(b"RIFF half of a track")
    (out / ".partial-other-0123456789abcdef").write_bytes(b"someone else's")
    manifest = _run(_op(tmp_path), FakeTaskStateStore())
    assert sorted(p.name for p in out.iterdir()) == [
        ".partial-other-0123456789abcdef",
        "track.json",
        "track.wav",
    ]
    assert manifest["size_bytes"] == expected_audio("wav", 10_000)[0]
