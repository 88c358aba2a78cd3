"""A generation's status machine: pinned, then polls, then time since the POST."""

from __future__ import annotations

from airflow_provider_music.emulator import Config
from airflow_provider_music.emulator._state import ELEVEN_MUSIC, State


def test_status_is_a_function_of_time_since_the_post() -> None:
    state = State(Config(generation_seconds=8, queued_seconds=3))
    gen = state.create(ELEVEN_MUSIC, "calm piano", 10_000)
    start = gen.started
    assert [gen.status(start + t) for t in (0, 2.99, 3, 7.99, 8, 1e6)] == [
        "queued",
        "queued",
        "generating",
        "generating",
        "completed",
        "completed",
    ]
    state.config.update({"generation_seconds": 4, "queued_seconds": None})  # queued: 25% of the generation
    later = state.create(ELEVEN_MUSIC, "calm piano", 10_000)
    assert [later.status(later.started + t) for t in (0.99, 1, 4)] == ["queued", "generating", "completed"]
