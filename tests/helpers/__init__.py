"""
What the tests share besides fixtures: a throw-away AIRFLOW_HOME (set before Airflow is imported),
connection JSON for the emulator, ``airflow dags test`` in a subprocess, the metadata database's
XComs and asset events, and a stand-in task context for in-process operator and sensor tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

REPO = Path(__file__).resolve().parents[2]
# One AIRFLOW_HOME for the whole session, also for subprocesses started by the tests.
AIRFLOW_HOME = Path(
    os.environ.get("MUSIC_PROVIDER_TEST_HOME")
    or os.environ.setdefault(
        "MUSIC_PROVIDER_TEST_HOME", tempfile.mkdtemp(prefix="music-provider-airflow-home-")
    )
)
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "example_dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.pop("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", None)

# After the environment above: importing it imports Airflow.
from airflow_provider_music.version_compat import TaskDeferred  # noqa: E402

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = [
    "AIRFLOW_HOME",
    "EMULATOR_KEY",
    "REPO",
    "FakeTI",
    "FakeTaskStateStore",
    "TaskDeferred",
    "airflow_env",
    "asset_events",
    "conn_json",
    "fake_ti",
    "file_size_limit",
    "make_context",
    "run_dag",
    "run_try",
    "xcom_values",
]

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
    db = AIRFLOW_HOME / "airflow.db"
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
    with closing(sqlite3.connect(AIRFLOW_HOME / "airflow.db")) as conn:
        rows = conn.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id"
            " WHERE a.uri = ? ORDER BY e.id",
            (uri,),
        ).fetchall()
    return [json.loads(extra) if isinstance(extra, (str, bytes)) else extra for (extra,) in rows]


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


def make_context(store: FakeTaskStateStore | None = None, **ti_kw: Any) -> Context:
    """A task context with a ``FakeTI`` (read it back with ``fake_ti``) and a ``FakeTaskStateStore``."""
    ti = FakeTI(**ti_kw)
    context = {
        "ti": ti,
        "task_instance": ti,
        "run_id": ti.run_id,
        "task_state_store": store if store is not None else FakeTaskStateStore(),
        "ds": "2026-01-01",
    }
    # The slice of Airflow's Context our operators read, with stand-ins: typed as the real thing.
    return cast("Context", context)


def fake_ti(context: Context) -> FakeTI:
    """The ``FakeTI`` of a context from ``make_context``: what the task pushed, its identity."""
    ti = context["ti"]
    assert isinstance(ti, FakeTI), ti
    return ti


def run_try(op: Any, store: FakeTaskStateStore, max_deferrals: int = 5) -> dict[str, Any]:
    """
    One try of a deferrable task as Airflow runs it: execute; at each deferral the trigger's first
    event, then the resume method (which may defer again, e.g. to wait for a regeneration).
    """

    def first_event(trigger: Any) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            async for event in trigger.run():
                payload: dict[str, Any] = event.payload
                return payload
            raise AssertionError("the trigger ended without an event")

        return asyncio.run(asyncio.wait_for(run(), 60))

    resume: tuple[Any, dict[str, Any]] | None = None
    for _ in range(max_deferrals + 1):
        context = make_context(store, task_id=op.task_id)
        try:
            result: dict[str, Any] = op.execute(context) if resume is None else resume[0](context, resume[1])
            return result
        except TaskDeferred as deferred:
            resume = (getattr(op, deferred.method_name), first_event(deferred.trigger))
    raise AssertionError(f"the task deferred more than {max_deferrals} times")
