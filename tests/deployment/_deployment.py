"""
A throw-away Airflow deployment made of real, separate processes, for the deployment tests.

One ``AIRFLOW_HOME`` and SQLite metadata database per deployment, ``LocalExecutor``, and one
``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` process each, plus the
emulator. Every process is started in its own session (so its pid is its process-group id) and is
stopped by that id: ``close()`` kills every group this object started, and every descendant of
those processes (task processes get process groups of their own), whatever happened before.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from helpers import REPO

T = TypeVar("T")

DEPLOYMENT_DAGS = Path(__file__).resolve().parent / "dags"
EXAMPLE_DAGS = REPO / "example_dags"
KEY = "deployment-test-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
    """Call ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (sqlite3.OperationalError, OSError, ValueError, LookupError) as exc:  # busy db, partial file
            last_error = exc
        if time.monotonic() > end:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})"
            )
        time.sleep(interval)


def alive(pid: int) -> bool:
    """A live process (zombies count as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a process from a later reuse of its pid)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def pids_connected_to(port: int) -> set[int]:
    """Processes holding an established TCP connection to 127.0.0.1:``port`` (from /proc/net/tcp)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(fields[9])
    owners: set[int] = set()
    if not inodes:
        return owners
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{entry}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{entry}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        owners.add(int(entry))
    return owners


class Deployment:
    """
    Separate Airflow processes sharing one AIRFLOW_HOME, and the emulator they talk to.

    The emulator holds every generation ("queued") until the test releases it (`release`), so no
    scenario depends on how fast this machine is: a test releases a generation once what it wants to
    prove has happened (a triggerer killed, the scheduler done with the deferring process).
    """

    def __init__(self, root: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.home = root / "airflow-home"
        self.logs = root / "process-logs"
        self.storage = root / "storage"
        for folder in (self.home, self.logs, self.storage):
            folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "airflow.db"
        self.api_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started: list[subprocess.Popen[bytes]] = []
        self.emulator_api = ""
        self.emulator_audio = ""
        self.fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self.env = self._environment()
        self.env.update(extra_env or {})
        self._token: str | None = None

    # ------------------------------------------------------------------------------ environment

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "AIRFLOW_", "AIRFLOW__", "MUSIC_", "COV_CORE_"))
        }
        bundles = [
            {
                "name": "music_examples",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(EXAMPLE_DAGS)},
            },
            {
                "name": "deployment_dags",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(DEPLOYMENT_DAGS)},
            },
        ]
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(REPO), str(EXAMPLE_DAGS)]),
                "PYTHONUNBUFFERED": "1",
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
                "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
                "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "3",
                "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "5",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db_path}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.api_port}/",
                "AIRFLOW__API__SECRET_KEY": base64.b64encode(os.urandom(16)).decode(),
                "AIRFLOW__API_AUTH__JWT_SECRET": base64.b64encode(os.urandom(64)).decode(),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "5",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "300",
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                "MUSIC_STORAGE_BASE": f"file://{self.storage}",
                "MUSIC_POLL_INTERVAL": "2",
                # Opt-in since it changes a process shared with other providers: proven here in a
                # real triggerer process (the default, off, is covered by the unit tests).
                "AIRFLOW__AIMLAPI__TRIGGERER_GC_FREEZE": "True",
            }
        )
        return env

    # -------------------------------------------------------------------------------- processes

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """Start a process in its own session (pid == process-group id), output to ``<name>.log``."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it from here on
        try:
            proc = subprocess.Popen(
                args,
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.processes[name] = proc
        self.started.append(proc)
        return proc

    def start_airflow(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        return self.start(name, [sys.executable, "-m", "airflow", *command])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signal the whole process group of ``name`` (the process and its children); return its pid."""
        proc = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        if sig == signal.SIGKILL:
            proc.wait(timeout=30)
        return proc.pid

    def close(self) -> None:
        """
        Stop everything this deployment started: SIGTERM each process group, then SIGKILL what is left.

        Task processes run in process groups of their own (the Task SDK's supervisor puts them
        there), so the descendants of every started process are noted first and killed by pid too.
        """
        tree = self._descendant_tree()
        for proc in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + 10
        for proc in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, end - time.monotonic()))
        tree |= self._descendant_tree()
        for proc in self.started:
            # A group can outlive its leader (a forked worker): kill the group regardless.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        for pid, started_at in tree:
            if _start_time(pid) == started_at:  # still the same process, not a reused pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def _descendant_tree(self) -> set[tuple[int, str | None]]:
        pids: set[int] = set()
        for proc in self.started:
            pids |= descendants(proc.pid)
        return {(pid, _start_time(pid)) for pid in pids}

    def diagnostics(self) -> str:
        """The tail of every process log and task log: printed when a deployment test fails."""
        parts = []
        task_logs = sorted((self.home / "logs").glob("dag_id=*/run_id=*/task_id=*/attempt=*"))
        for path in [*sorted(self.logs.glob("*.log")), *task_logs]:
            text = path.read_text(errors="replace")
            parts.append(f"----- {path.relative_to(self.root)} -----\n{text[-4000:]}")
        return "\n".join(parts)

    # ---------------------------------------------------------------------------------- startup

    def migrate(self) -> None:
        self.airflow("db", "migrate", timeout=300)

    def start_emulator(self) -> None:
        ready = self.root / "emulator-ready.json"
        self.start(
            "emulator",
            [
                sys.executable,
                "-m",
                "airflow_provider_music.emulator",
                "--port",
                "0",
                "--ready-file",
                str(ready),
                "--hold",
                "--api-key",
                KEY,
                "--quiet",
            ],
        )
        urls = wait_for(lambda: ready.exists() and json.loads(ready.read_text()), 30, "the emulator")
        self.emulator_api, self.emulator_audio = urls["api"].rstrip("/"), urls["audio"].rstrip("/")
        # A read timeout of an hour: a test stalls a download on purpose and kills the worker mid-way.
        self.env["AIRFLOW_CONN_AIMLAPI_DEFAULT"] = json.dumps(
            {"conn_type": "aimlapi", "password": KEY, "host": self.emulator_api, "extra": {"timeout": 3600}}
        )

    def start_all(self) -> None:
        self.start_emulator()
        self.migrate()
        self.start_airflow("api-server", "api-server", "--port", str(self.api_port))
        self.start_airflow("dag-processor", "dag-processor")
        self.start_airflow("scheduler", "scheduler", "--skip-serve-logs")
        self.start_triggerer("triggerer-1")
        wait_for(self._api_ready, 120, "the api-server")

    def start_triggerer(self, name: str) -> subprocess.Popen[bytes]:
        return self.start_airflow(name, "triggerer", "--skip-serve-logs")

    def _api_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", timeout=5):
                return True
        except OSError:
            return False

    # -------------------------------------------------------------------------------- REST API

    def rest(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the api-server's public REST API (``/api/v2/...``) with a token from ``/auth/token``."""
        base = f"http://127.0.0.1:{self.api_port}"
        if self._token is None:
            with urllib.request.urlopen(f"{base}/auth/token", timeout=30) as resp:
                self._token = str(json.loads(resp.read())["access_token"])
        request = urllib.request.Request(
            base + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path} -> {exc.code}: {exc.read()[:2000]!r}") from None

    def unpause(self, dag_id: str) -> None:
        assert self.rest("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})["is_paused"] is False

    def trigger(self, dag_id: str, run_id: str, logical_date: str) -> dict[str, Any]:
        body = {"dag_run_id": run_id, "logical_date": logical_date}
        return dict(self.rest("POST", f"/api/v2/dags/{dag_id}/dagRuns", body))

    # ------------------------------------------------------------------------------------- CLI

    def airflow(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    # ----------------------------------------------------------------------- metadata database

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self._db() as conn:
            return [dict(row) for row in conn.execute(sql, params).fetchall()]

    def wait_for_dags(self, *dag_ids: str, timeout: float = 120) -> None:
        def parsed() -> bool:
            rows = self.query(
                f"SELECT dag_id FROM serialized_dag WHERE dag_id IN ({','.join('?' * len(dag_ids))})",
                *dag_ids,
            )
            return {r["dag_id"] for r in rows} == set(dag_ids)

        wait_for(parsed, timeout, f"the dag-processor to parse {dag_ids}")

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT * FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = -1",
            dag_id,
            run_id,
            task_id,
        )
        return rows[0] if rows else None

    def existing_task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """The task instance row, which must exist by now."""
        row = self.task_instance(dag_id, run_id, task_id)
        assert row is not None, f"no task instance {dag_id}.{task_id} ({run_id})"
        return row

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, run_id)
        return rows[0]["state"] if rows else None

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        def finished() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        return wait_for(finished, timeout, f"run {run_id} of {dag_id} to finish", interval=1)

    def trigger_kwargs(self, trigger_id: int) -> dict[str, Any]:
        """A trigger row's kwargs, decrypted with the deployment's Fernet key (serde envelope removed)."""
        from cryptography.fernet import Fernet

        row = self.query("SELECT kwargs FROM trigger WHERE id = ?", trigger_id)[0]
        raw = row["kwargs"]
        text = raw if raw.startswith("{") else Fernet(self.fernet_key.encode()).decrypt(raw.encode()).decode()
        kwargs: dict[str, Any] = _plain(json.loads(text))
        return kwargs

    # ---------------------------------------------------------------------------------- emulator

    def emulator_stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.emulator_api}/_emulator/stats", timeout=30) as resp:
            return dict(json.loads(resp.read()))

    def _emulator_post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            f"{self.emulator_api}/_emulator/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read())

    def release(self, generation_id: str | None = None, status: str = "completed") -> list[str]:
        """Complete a held generation now (or move it to another pending ``status``); all held: no id."""
        body: dict[str, Any] = {"status": status}
        if generation_id is not None:
            body["generation_id"] = generation_id
        return list(self._emulator_post("release", body)["released"])

    def generation_ids(self, marker: str) -> list[str]:
        """The ids of the generations whose prompt contains ``marker`` (oldest first)."""
        return [gid for gid, g in self.emulator_stats()["generations"].items() if marker in g["prompt"]]

    def scheduler_processed_deferral(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> bool:
        """
        Whether the scheduler has handled the exit of the process that deferred this task.

        Until it has, a trigger event that re-queues the task makes Airflow 3.3.2's scheduler fail it
        as "killed externally" (it only tolerates the race while the task is still "scheduled"); real
        generations take minutes, so only a test's release can win that race. A test releases a
        generation after this returns True, never after some time.
        """
        log = (self.logs / "scheduler.log").read_text(errors="replace")
        finished = re.compile(
            rf"TaskInstance Finished: dag_id={re.escape(dag_id)}, task_id={re.escape(task_id)}, "
            rf"run_id={re.escape(run_id)}, .*?state=deferred, .*?try_number={try_number}\b"
        )
        return finished.search(log) is not None

    def release_once_deferred(
        self, dag_id: str, run_id: str, task_id: str, generation_id: str, timeout: float = 150
    ) -> dict[str, Any]:
        """Release ``generation_id`` once its task has deferred and the scheduler is done with its process."""
        ti = wait_for(
            lambda: (
                (row := self.task_instance(dag_id, run_id, task_id)) is not None
                and row["state"] == "deferred"
                and row
            ),
            timeout,
            f"{dag_id}.{task_id} ({run_id}) to defer",
        )
        wait_for(
            lambda: self.scheduler_processed_deferral(dag_id, run_id, task_id, ti["try_number"]),
            timeout,
            f"the scheduler to process the exit of {dag_id}.{task_id} ({run_id}) after deferring",
        )
        self.release(generation_id)
        deferred: dict[str, Any] = ti
        return deferred

    def add_faults(self, *rules: dict[str, Any]) -> None:
        self._emulator_post("faults", {"faults": list(rules)})

    def configure_emulator(self, **changes: Any) -> None:
        """Change the emulator's settings for generations created from now on."""
        self._emulator_post("config", changes)


def _plain(value: Any) -> Any:
    """Strip Airflow's serde / BaseSerialization envelopes down to plain JSON values."""
    if isinstance(value, dict):
        if "__data__" in value and ("__classname__" in value or "__type" in value):
            return _plain(value["__data__"])
        if "__var" in value and "__type" in value:
            return _plain(value["__var"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
