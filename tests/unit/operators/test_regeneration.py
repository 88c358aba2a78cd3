"""GenerateMusicOperator regenerating a rejected track within its budget, deferred and on the worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import FakeTaskStateStore, TaskDeferred, make_context, run_try

from airflow_provider_music import GenerateMusicOperator, MusicQualityError, QualityGate
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.integration import STATE_KEY_GENERATION_ID, RecordedGeneration

pytestmark = pytest.mark.integration

GATE = QualityGate(min_loudness_lufs=-24.0, length_tolerance=0.1)


def _operator(tmp_path: Path, **kw: Any) -> GenerateMusicOperator:
    return GenerateMusicOperator(
        task_id="g", prompt="p", music_length_ms=10_000, destination=f"{tmp_path}/", object_name="t",
        poll_interval=0.2, quality=GATE, **kw,
    )  # fmt: skip


def _bad_first(emulator: Emulator, *characters: str) -> None:
    emulator.configure(generation_seconds=0, audio_character="music")
    emulator.add_faults(
        [{"target": "post", "action": "character", "character": c, "times": 1} for c in characters]
    )


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_rejected_track_is_regenerated_and_the_attempt_recorded(
    emulator: Emulator, tmp_path: Path, deferrable: bool
) -> None:
    _bad_first(emulator, "quiet")
    store = FakeTaskStateStore()
    manifest = run_try(_operator(tmp_path, max_regenerations=1, deferrable=deferrable), store)
    stats = emulator.stats()
    assert stats["posts"] == 2
    [attempt] = manifest["attempts"]
    assert attempt["generation_id"] != manifest["generation_id"]
    assert attempt["uri"].startswith(f"file://{tmp_path}/rejected/t--")
    assert "loudness" in attempt["failures"][0]
    assert (
        attempt["usage"]["credits_used"]
        == stats["generations"][attempt["generation_id"]]["usage"]["credits_used"]
    )
    assert manifest["quality"]["passed"] is True
    assert manifest["client_request_id"] == "dag:run1:g:regen-1"
    assert json.loads((tmp_path / "t.json").read_text())["attempts"] == manifest["attempts"]
    assert STATE_KEY_GENERATION_ID not in store.data  # a stored track clears the record


def test_without_a_budget_the_task_fails_once_and_a_rerun_starts_afresh(
    emulator: Emulator, tmp_path: Path
) -> None:
    _bad_first(emulator, "quiet")
    store = FakeTaskStateStore()
    with pytest.raises(
        MusicQualityError, match=r"None of the 1 generation\(s\) passed .*max_regenerations=0"
    ):
        run_try(_operator(tmp_path), store)
    assert emulator.stats()["posts"] == 1
    assert STATE_KEY_GENERATION_ID not in store.data  # clearing the task later asks for new music
    assert not (tmp_path / "t.wav").exists()
    manifest = run_try(_operator(tmp_path), store)  # the rerun: the emulator's next track is fine
    assert manifest["quality"]["passed"] is True
    assert emulator.stats()["posts"] == 2


def test_a_retry_after_a_crash_keeps_counting_the_budget(emulator: Emulator, tmp_path: Path) -> None:
    _bad_first(emulator, "quiet", "quiet", "quiet")
    store = FakeTaskStateStore()
    op = _operator(tmp_path, max_regenerations=1)
    with pytest.raises(TaskDeferred) as first:
        op.execute(make_context(store, task_id="g"))
    # the first generation completes and is rejected; the regeneration's POST is recorded, then the
    # worker dies while deferred
    first_id = first.value.trigger.generation_id
    with pytest.raises(TaskDeferred) as second:
        op.execute_complete(
            make_context(store, task_id="g"), {"status": "success", "generation_id": first_id}
        )
    recorded = RecordedGeneration.parse(store.data[STATE_KEY_GENERATION_ID])
    assert recorded is not None
    assert recorded.generation_id == second.value.trigger.generation_id != first_id
    assert [a["generation_id"] for a in recorded.attempts] == [first_id]
    # the retry reattaches to the regeneration (no new POST) and, when it is rejected too, stops
    with pytest.raises(MusicQualityError, match=r"None of the 2 generation\(s\) passed"):
        run_try(_operator(tmp_path, max_regenerations=1), store)
    assert emulator.stats()["posts"] == 2  # 1 + the budget of 1, across two tries
