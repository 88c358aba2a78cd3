"""Test-wide fixtures: the shared emulator, the Airflow metadata database, leak checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# helpers first: it sets AIRFLOW_HOME before anything imports Airflow.
from helpers import AIRFLOW_HOME, EMULATOR_KEY, airflow_env, conn_json

from airflow_provider_music.clients import open_shared_settings, reset_shared_settings
from airflow_provider_music.emulator import Emulator

pytest_plugins = ["helpers.s3_server"]


@pytest.fixture(autouse=True)
def _async_hooks_let_go_of_shared_connections() -> Iterator[None]:
    """Every async hook a test (or the code under test) opened was closed: no connection lookup leaks."""
    yield
    leaked = open_shared_settings()
    reset_shared_settings()
    assert not leaked, f"async hooks left open (conn_id: users): {leaked}"


#: The shared emulator's settings at the start of every test (`emulator` fixture).
EMULATOR_DEFAULTS: dict[str, Any] = {
    "generation_seconds": 0.5,
    "queued_seconds": 0.1,
    "audio_format": "wav",
    "audio_character": "default",
    "url_ttl": 900.0,
    "submit_status": 200,
    "usage": "both",
    "hold": False,
    "polls_to_complete": None,
}


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator(api_key=EMULATOR_KEY, generation_seconds=0.5) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """
    A clean emulator and ``aimlapi_default`` pointing at it.

    Generations complete 0.5 s after their POST: enough for tests that only need them to complete.
    A test that must see a generation pending (or see it complete at a given point) never relies on
    that time: it uses ``emulator.configure(hold=True)`` and ``emulator.release(...)``, or
    ``configure(polls_to_complete=N)``, and waits with ``emulator.wait_for_polls(...)``.
    """
    emulator_server.reset()
    emulator_server.configure(**EMULATOR_DEFAULTS)
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(emulator_server.base_url))
    yield emulator_server
    emulator_server.reset()


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """An Airflow metadata database for ``airflow dags test`` (migrated once per session)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=airflow_env({}),
        timeout=300,
    )
    return AIRFLOW_HOME


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
    os.environ.pop("MUSIC_PROVIDER_TEST_HOME", None)
