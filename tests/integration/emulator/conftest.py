"""Shared fixtures: one in-thread emulator per module, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_music.emulator import Emulator

DEFAULTS = {
    "generation_seconds": 0.3,
    "queued_seconds": None,
    "audio_format": "wav",
    "url_ttl": 900.0,
    "submit_status": 200,
    "usage": "both",
    "hold": False,
    "polls_to_complete": None,
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(generation_seconds=0.3) as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    """The module's emulator with no generations, counters or faults and default config."""
    emulator.reset()
    emulator.configure(**DEFAULTS)
    return emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=10
    ) as c:
        yield c
