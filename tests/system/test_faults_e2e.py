"""
Failure semantics end to end through a real ``airflow dags test``: faults injected while the example
DAGs run, a canary API key searched for in everything Airflow and the provider wrote, and a
non-retryable error failing the task on its first try.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from helpers import airflow_env, conn_json, run_dag, xcom_values

from airflow_provider_music.emulator import Emulator

pytestmark = pytest.mark.integration

CANARY = "sk-canary-7f3a9c21e4b8d605"


@pytest.fixture(scope="module")
def canary_emulator() -> Iterator[Emulator]:
    # Pending at the first poll, complete at the second (faulted polls count): the same path every run.
    with Emulator(api_key=CANARY, polls_to_complete=2) as emu:
        yield emu


def _env(emu: Emulator, out: Path) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_AIMLAPI_DEFAULT": conn_json(emu.base_url, CANARY),
        "MUSIC_STORAGE_BASE": f"file://{out}",
        "MUSIC_POLL_INTERVAL": "0.5",
    }


def _ti_rows(home: Path, dag_id: str) -> list[tuple[str, str, int]]:
    with closing(sqlite3.connect(home / "airflow.db")) as conn:
        return conn.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ?", (dag_id,)
        ).fetchall()


def test_faults_during_real_runs_and_the_canary_key_never_leaks(
    canary_emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    canary_emulator.reset()
    canary_emulator.add_faults(
        [
            {"target": "post", "action": "status", "code": 429, "headers": {"Retry-After": "1"}},
            {"target": "get", "action": "status", "code": 503, "times": 2},
            {"target": "get", "action": "reset"},
            {"target": "audio", "action": "expired", "code": 403},
        ]
    )
    outputs = []
    for dag_id, date in (("example_music_daily", "2026-04-01"), ("example_music_one_task", "2026-04-02")):
        result = run_dag(dag_id, date, _env(canary_emulator, tmp_path))
        outputs.append(result.stdout + result.stderr)
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    stats = canary_emulator.stats()
    assert stats["posts_created"] == 2
    assert stats["posts"] == 3
    assert (tmp_path / "daily" / "2026-04-01.wav").exists()
    assert (tmp_path / "one_task" / "2026-04-02.wav").exists()

    leaks = [f"output of run {i}" for i, text in enumerate(outputs) if CANARY in text]
    for root in (airflow_home, tmp_path):
        for path in root.rglob("*"):
            if path.is_file() and CANARY.encode() in path.read_bytes():
                leaks.append(str(path))
    for dag_id, task_id in (
        ("example_music_daily", "wait_and_store"),
        ("example_music_one_task", "generate"),
    ):
        if CANARY in json.dumps(xcom_values(dag_id, task_id)):
            leaks.append(f"xcom {dag_id}.{task_id}")
    assert leaks == []
    # signed audio URLs are credentials too: never logged with their query string
    assert not any("signature=" in text for text in outputs)


def test_out_of_credits_fails_the_task_on_its_first_try(
    canary_emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    canary_emulator.reset()
    canary_emulator.add_faults([{"target": "post", "action": "status", "code": 403, "times": -1}])
    result = run_dag("example_music_one_task", "2026-04-03", _env(canary_emulator, tmp_path))
    assert result.returncode != 0
    assert "HTTP 403" in result.stdout + result.stderr
    rows = [r for r in _ti_rows(airflow_home, "example_music_one_task") if r[0] == "generate"]
    assert ("generate", "failed", 1) in rows  # retries=2 in the DAG, yet no second try
    assert canary_emulator.stats()["posts"] == 1
    assert not (tmp_path / "one_task").exists() or not any((tmp_path / "one_task").iterdir())
    assert airflow_env({})  # the helper stays importable for other suites
