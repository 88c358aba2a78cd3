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
    "audio_character": "default",
    "url_ttl": 900.0,
    "submit_status": 200,
    "usage": "both",
    "hold": False,
    "polls_to_complete": None,
}


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[Emulator]:
    """One in-thread emulator for the whole test module (the suite-wide ``emulator`` is another)."""
    with Emulator(generation_seconds=0.3) as emu:
        yield emu


@pytest.fixture
def clean_emulator(module_emulator: Emulator) -> Emulator:
    """The module's emulator with no generations, counters or faults and default config."""
    module_emulator.reset()
    module_emulator.configure(**DEFAULTS)
    return module_emulator


@pytest.fixture
def emulator_client(clean_emulator: Emulator) -> Iterator[httpx.Client]:
    """An authenticated client of the clean emulator's API."""
    with httpx.Client(
        base_url=clean_emulator.base_url,
        headers={"Authorization": f"Bearer {clean_emulator.api_key}"},
        timeout=10,
    ) as c:
        yield c
