"""
Test-wide set-up: a throw-away AIRFLOW_HOME (set before Airflow is imported), the emulator, and a
helper to run example DAGs through the real ``airflow dags test``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Test files also `import conftest` (a second module object): both must share one AIRFLOW_HOME.
_HOME = Path(
    os.environ.get("MUSIC_PROVIDER_TEST_HOME")
    or os.environ.setdefault(
        "MUSIC_PROVIDER_TEST_HOME", tempfile.mkdtemp(prefix="music-provider-airflow-home-")
    )
)
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "example_dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.pop("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", None)

import pytest  # noqa: E402

from airflow_provider_music.emulator import Emulator  # noqa: E402

try:  # where Airflow raises deferrals from: the Task SDK on 3.2+, airflow.exceptions on 3.1
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # pragma: no cover
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined]

__all__ = ["TaskDeferred"]

pytest_plugins = ["s3_server"]

EMULATOR_KEY = "emu-test-key-0123456789"


def conn_json(base_url: str, key: str = EMULATOR_KEY, extra: dict[str, Any] | None = None) -> str:
    conn: dict[str, Any] = {"conn_type": "aimlapi", "password": key, "host": base_url}
    if extra is not None:
        conn["extra"] = extra
    return json.dumps(conn)


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """A real storage failure half way: the kernel refuses writes past ``limit`` (EFBIG), like a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@pytest.fixture(autouse=True)
def _async_hooks_let_go_of_shared_connections() -> Iterator[None]:
    """Every async hook a test (or the code under test) opened was closed: no connection lookup leaks."""
    yield
    from airflow_provider_music.hooks import music

    leaked = {conn_id: entry.users for conn_id, entry in music._SHARED_SETTINGS.items() if entry.users > 0}
    music._SHARED_SETTINGS.clear()
    assert not leaked, f"async hooks left open (conn_id: users): {leaked}"


#: The shared emulator's settings at the start of every test (`emulator` fixture).
EMULATOR_DEFAULTS: dict[str, Any] = {
    "generation_seconds": 0.5,
    "queued_seconds": 0.1,
    "audio_format": "wav",
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
    return _HOME


def airflow_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "example_dags"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def run_dag(
    dag_id: str, logical_date: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``airflow dags test`` in a subprocess: a real Airflow, triggers run inline."""
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date],
        capture_output=True,
        text=True,
        env=airflow_env(env),
        timeout=timeout,
    )


def xcom_values(dag_id: str, task_id: str, key: str = "return_value") -> list[Any]:
    """Every XCom value of a task in the session's metadata database (newest run last)."""
    db = _HOME / "airflow.db"
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = ? ORDER BY timestamp",
            (dag_id, task_id, key),
        ).fetchall()
    out = []
    for (value,) in rows:
        out.append(json.loads(value) if isinstance(value, (str, bytes)) else value)
    return out


def asset_events(uri: str) -> list[dict[str, Any]]:
    """The extras of every asset event recorded for ``uri`` (oldest first)."""
    with closing(sqlite3.connect(_HOME / "airflow.db")) as conn:
        rows = conn.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id"
            " WHERE a.uri = ? ORDER BY e.id",
            (uri,),
        ).fetchall()
    return [json.loads(extra) if isinstance(extra, (str, bytes)) else extra for (extra,) in rows]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)
    os.environ.pop("MUSIC_PROVIDER_TEST_HOME", None)


class FakeTaskStateStore:
    """Stands in for Airflow 3.3's ``task_state_store`` (Airflow's part, not ours) in in-process tests."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


class FakeTI:
    """The slice of a task instance our operators touch: identity and XCom pushes."""

    def __init__(self, task_id: str = "task", dag_id: str = "dag", run_id: str = "run1", map_index: int = -1):
        self.task_id, self.dag_id, self.run_id, self.map_index = task_id, dag_id, run_id, map_index
        self.try_number = 1
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def get_first_reschedule_date(self, context: Any) -> None:
        return None  # reschedule-mode sensors: this is the first poke


def make_context(store: FakeTaskStateStore | None = None, **ti_kw: Any) -> dict[str, Any]:
    ti = FakeTI(**ti_kw)
    return {
        "ti": ti,
        "task_instance": ti,
        "run_id": ti.run_id,
        "task_state_store": store if store is not None else FakeTaskStateStore(),
        "ds": "2026-01-01",
    }
