"""
A scale-out Airflow deployment of separate processes, as a data-platform team runs one across hosts.

PostgreSQL (metadata database) and Redis (Celery broker) from Debian's packages; the api-server,
scheduler (``CeleryExecutor``) and dag-processor; two Celery workers and two triggerers; the emulator
for the music API and the tests' Ceph RGW for S3. Every Airflow process runs from the one Python
environment the provider is installed in (as every container of a deployment runs one image), but
each has an environment of its own, as if on a host of its own:

- its own ``AIRFLOW_HOME`` and working directory (nothing on local disk is shared: task logs stay on
  the worker that ran the try, and the audio goes to S3 through an ``aws`` connection);
- its own host name (``[core] hostname_callable`` reads ``SCALE_OUT_HOSTNAME``), so the metadata
  database records which worker ran a try and which triggerer holds a trigger;
- only the settings its role needs: the server components get the database URL and the keys; the
  workers get no database URL at all (Airflow 3 workers talk to the api-server only), just the
  broker, the execution API URL and the connections (as ``AIRFLOW_CONN_*``, the way a secret is
  mounted into a pod); the triggerers get the music API connection.

Every process is started in its own session (pid == process-group id) and stopped by pid; every
process started here carries ``SCALE_OUT_RUN=<random>`` in its environment, so that after the stop
``leftovers()`` finds anything that escaped (a task process re-parented to init) and can prove that
nothing is left running.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from deployment._deployment import _plain, _start_time, alive, descendants, free_port
from deployment._services import Postgres, Redis

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
DAGS = HERE / "dags"
KEY = "scale-out-test-key-0123456789"
BUNDLE = "scale_out_dags"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
    """Call ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    import psycopg2

    end = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (psycopg2.Error, OSError, ValueError, LookupError) as exc:  # not ready yet
            last_error = exc
        if time.monotonic() > end:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})"
            )
        time.sleep(interval)


# ------------------------------------------------------------------------------------ /proc accounting


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and of its children it has reaped (``/proc/PID/stat``), in seconds."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process tree: the process, its live descendants, and every child they reaped."""
    return sum(cpu_seconds(p) for p in {pid} | descendants(pid))


def tree_rss_mib(pid: int) -> float:
    total = 0
    for p in {pid} | descendants(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _environ_has(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return marker in handle.read().split(b"\0")
    except OSError:
        return False


# ---------------------------------------------------------------------------------------- processes


@dataclass
class Component:
    """One process of the deployment, standing for a host (or pod) of its own."""

    name: str
    role: str
    args: list[str]
    env: dict[str, str]
    home: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    cpu_at_kill: float | None = None
    killed_at: float | None = None
    seen: set[tuple[int, str | None]] = field(default_factory=set)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def tree(self) -> set[int]:
        return {self.pid} | descendants(self.pid) if self.proc is not None else set()


class ScaleOut:
    """The deployment; `start` brings it up, `close` stops every process it started, by pid."""

    def __init__(self, root: Path, s3: Any, *, workers: int = 2, triggerers: int = 2, concurrency: int = 4):
        self.root = root
        self.s3 = s3
        self.marker = uuid.uuid4().hex
        base = self._base_env()
        self.postgres = Postgres(env=base)
        self.redis = Redis(env=base)
        self.api_port = free_port()
        self.fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self.secrets = {name: base64.b64encode(os.urandom(48)).decode() for name in ("api", "jwt")}
        self.components: dict[str, Component] = {}
        self.emulator_api = ""
        self.worker_names = [f"worker-{chr(ord('a') + i)}" for i in range(workers)]
        self.triggerer_names = [f"triggerer-{chr(ord('a') + i)}" for i in range(triggerers)]
        self.concurrency = concurrency
        self.timings: dict[str, float] = {}
        self._token: str | None = None
        self._db: Any = None
        self._closed = False
        self.escaped: list[tuple[int, str]] = []

    # ------------------------------------------------------------------------------ environments

    def _base_env(self) -> dict[str, str]:
        """What every process inherits: this machine's basics, none of the test run's own settings."""
        drop = ("PYTEST_", "AIRFLOW_", "AIRFLOW__", "MUSIC_", "COV_CORE_", "COVERAGE_", "PG", "CEPH_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "PYTHONPATH"}
        env["SCALE_OUT_RUN"] = self.marker
        return env

    def _airflow_env(self, name: str, role: str) -> dict[str, str]:
        """The shared configuration (one config map for the deployment) plus the role's own part."""
        home = self.root / name
        bundles = [
            {
                "name": BUNDLE,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(DAGS)},
            }
        ]
        api = f"http://127.0.0.1:{self.api_port}"
        env = self._base_env()
        env.update(
            {
                "PYTHONPATH": str(HERE),  # _scale_out_host, the hostname callable; the provider is installed
                "PYTHONUNBUFFERED": "1",
                "AIRFLOW_HOME": str(home),
                "SCALE_OUT_HOSTNAME": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "_scale_out_host.hostname",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
                "AIRFLOW__CORE__PARALLELISM": "16",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
                "AIRFLOW__CELERY__BROKER_URL": self.redis.url(0),
                "AIRFLOW__CELERY__RESULT_BACKEND": self.redis.url(1),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
                "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",  # send from the scheduler, no process pool
                "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            }
        )
        if role != "worker":  # the server side: the database and the keys
            env.update(
                {
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url,
                    "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
                    "AIRFLOW__API__HOST": "127.0.0.1",
                    "AIRFLOW__API__PORT": str(self.api_port),
                    "AIRFLOW__API__BASE_URL": f"{api}/",
                    "AIRFLOW__API__WORKERS": "1",
                    "AIRFLOW__API__SECRET_KEY": self.secrets["api"],
                    "AIRFLOW__API_AUTH__JWT_SECRET": self.secrets["jwt"],
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
                    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                    # A worker that dies takes its tasks' heartbeats with it: retried after this long.
                    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "40",
                    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
                    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                    # A triggerer that stops heartbeating this long is dead: its triggers are re-assigned.
                    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
                    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
                    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                    "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "600",
                }
            )
        if role in ("worker", "triggerer"):  # secrets, mounted as environment variables
            env["AIRFLOW_CONN_AIMLAPI_DEFAULT"] = json.dumps(
                {"conn_type": "aimlapi", "password": KEY, "host": self.emulator_api}
            )
        if role == "worker":
            env["AIRFLOW_CONN_MUSIC_S3"] = self.s3.airflow_conn_json()
        return env

    # ---------------------------------------------------------------------------------- processes

    def _spawn(self, name: str, role: str, args: list[str], env: dict[str, str]) -> Component:
        home = Path(env.get("AIRFLOW_HOME", self.root / name))
        home.mkdir(parents=True, exist_ok=True)
        log_path = self.root / "process-logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        component = Component(name, role, args, env, home, log_path)
        with open(log_path, "ab") as log:
            component.proc = subprocess.Popen(
                args,
                cwd=home,  # its own working directory: nothing local is shared
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.components[name] = component
        return component

    def _airflow(self, name: str, role: str, *command: str) -> Component:
        return self._spawn(
            name, role, [sys.executable, "-m", "airflow", *command], self._airflow_env(name, role)
        )

    def note_trees(self) -> None:
        """Remember every live descendant (with its start time), so `close` can kill it by pid."""
        for component in self.components.values():
            if component.proc is not None and component.proc.poll() is None:
                component.seen |= {(p, _start_time(p)) for p in component.tree()}

    def start(self) -> None:
        began = time.monotonic()
        self.postgres.start()
        self.redis.start()
        self.timings["postgres+redis"] = time.monotonic() - began
        self._start_emulator()
        mark = time.monotonic()
        migrate = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            cwd=self.root,
            env=self._airflow_env("migrate", "migrate"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert migrate.returncode == 0, (
            f"airflow db migrate:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}"
        )
        self.timings["db migrate"] = time.monotonic() - mark
        mark = time.monotonic()
        self._airflow("api-server", "api-server", "api-server", "--port", str(self.api_port))
        self._airflow("dag-processor", "dag-processor", "dag-processor")
        self._airflow("scheduler", "scheduler", "scheduler", "--skip-serve-logs")
        for name in self.worker_names:
            self._airflow(
                name, "worker", "celery", "worker", "--concurrency", str(self.concurrency),
                "--celery-hostname", f"{name}@scale-out", "--skip-serve-logs",
                "--without-mingle", "--without-gossip",
            )  # fmt: skip
        for name in self.triggerer_names:
            self._airflow(name, "triggerer", "triggerer", "--skip-serve-logs")
        wait_for(self._api_ready, 180, "the api-server")
        wait_for(self._workers_ready, 180, "both Celery workers to be ready")
        wait_for(self._triggerers_ready, 180, "both triggerers to heartbeat")
        self.timings["airflow components"] = time.monotonic() - mark
        self.timings["startup total"] = time.monotonic() - began
        self.note_trees()

    def _start_emulator(self) -> None:
        ready = self.root / "emulator-ready.json"
        self._spawn(
            "emulator",
            "emulator",
            [sys.executable, "-m", "airflow_provider_music.emulator", "--port", "0",
             "--ready-file", str(ready), "--hold", "--api-key", KEY, "--quiet"],
            {**self._base_env(), "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        urls = wait_for(lambda: ready.exists() and json.loads(ready.read_text()), 60, "the emulator")
        self.emulator_api = urls["api"].rstrip("/")

    def _api_ready(self) -> bool:
        self.check_running()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", timeout=5):
                return True
        except OSError:
            return False

    def _workers_ready(self) -> bool:
        self.check_running()
        return all(
            re.search(rb"\bready\.", self.components[n].log.read_bytes()) is not None
            for n in self.worker_names
        )

    def _triggerers_ready(self) -> bool:
        self.check_running()
        rows = self.query(
            "SELECT hostname FROM job WHERE job_type = 'TriggererJob' AND state = 'running'"
            " AND latest_heartbeat > now() - interval '30 seconds'"
        )
        return {r["hostname"] for r in rows} >= set(self.triggerer_names)

    def check_running(self) -> None:
        for component in self.components.values():
            if (
                component.proc is not None
                and component.killed_at is None
                and component.proc.poll() is not None
            ):
                raise AssertionError(
                    f"{component.name} exited with {component.proc.returncode}:\n"
                    f"{component.log.read_text(errors='replace')[-4000:]}"
                )

    def kill_host(self, name: str) -> set[int]:
        """SIGKILL a component and every process under it, as when its host (or pod) dies; by pid."""
        component = self.components[name]
        component.cpu_at_kill = tree_cpu_seconds(component.pid)
        pids = component.tree()
        component.seen |= {(p, _start_time(p)) for p in pids}
        component.killed_at = time.time()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(component.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert component.proc is not None
        component.proc.wait(timeout=30)
        wait_for(lambda: not any(alive(p) for p in pids), 30, f"every process of {name} to die")
        return pids

    def close(self) -> None:
        """Stop everything: SIGTERM each process group, SIGKILL what is left, then the servers."""
        if self._closed:
            return
        self._closed = True
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()
        self.note_trees()
        order = [
            *self.worker_names,
            *self.triggerer_names,
            "scheduler",
            "dag-processor",
            "api-server",
            "emulator",
        ]
        running = [self.components[n] for n in order if n in self.components]
        for component in running:
            if component.proc is not None and component.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(component.pid, signal.SIGTERM)
        end = time.monotonic() + 15
        for component in running:
            assert component.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.proc.wait(timeout=max(0.1, end - time.monotonic()))
        self.note_trees()
        for component in running:
            assert component.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(component.pid, signal.SIGKILL)  # a group can outlive its leader
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.proc.wait(timeout=10)
            for pid, started in component.seen:
                if _start_time(pid) == started:  # still that process, not a reuse of its pid
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        self.redis.stop()
        self.postgres.stop()
        # Anything that escaped both its process group and the trees noted (a process re-parented to
        # init before it was seen): found by the marker, reported in ``escaped``, killed by pid.
        self.escaped = [(pid, _cmdline(pid)) for pid in self.leftovers()]
        for pid, _ in self.escaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def leftovers(self) -> list[int]:
        """Live processes started by this deployment (found by ``SCALE_OUT_RUN`` in their environment)."""
        marker = f"SCALE_OUT_RUN={self.marker}".encode()
        found = []
        for entry in os.listdir("/proc"):
            if (
                entry.isdigit()
                and int(entry) != os.getpid()
                and alive(int(entry))
                and _environ_has(int(entry), marker)
            ):
                found.append(int(entry))
        return found

    # ----------------------------------------------------------------------------- measurements

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of every component (its whole process tree), the servers and the test."""
        out: dict[str, float] = {}
        for name, component in self.components.items():
            if component.cpu_at_kill is not None:
                out[name] = component.cpu_at_kill
            elif component.proc is not None:
                out[name] = tree_cpu_seconds(component.pid)
        for label, server in (("postgres", self.postgres), ("redis", self.redis)):
            if server.proc is not None:
                out[label] = tree_cpu_seconds(server.proc.pid)
        ceph = [p for p in descendants(os.getpid()) if _comm(p) in ("radosgw", "ceph-osd", "ceph-mon")]
        if ceph:
            out["s3 (ceph mon+osd+rgw)"] = sum(cpu_seconds(p) for p in ceph)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["test driver (pytest)"] = usage.ru_utime + usage.ru_stime
        return out

    def rss_mib(self) -> dict[str, float]:
        out = {n: tree_rss_mib(c.pid) for n, c in self.components.items() if c.killed_at is None and c.proc}
        for label, server in (("postgres", self.postgres), ("redis", self.redis)):
            if server.proc is not None:
                out[label] = tree_rss_mib(server.proc.pid)
        return out

    # ------------------------------------------------------------------------------ the database

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        import psycopg2
        import psycopg2.extras

        for attempt in (1, 2):
            try:
                if self._db is None or self._db.closed:
                    self._db = psycopg2.connect(**self.postgres.dsn(), connect_timeout=10)
                    self._db.autocommit = True
                with self._db.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    cur.execute(sql, params)
                    return [dict(row) for row in cur.fetchall()]
            except psycopg2.OperationalError:
                self._db = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def decrypt(self, raw: Any) -> dict[str, Any]:
        """A trigger row's kwargs, decrypted with the deployment's Fernet key, serde envelopes removed."""
        from cryptography.fernet import Fernet

        if isinstance(raw, dict):
            return dict(_plain(raw))
        text = raw if raw.startswith("{") else Fernet(self.fernet_key.encode()).decrypt(raw.encode()).decode()
        return dict(_plain(json.loads(text)))

    def scheduler_consumed_exits(self, dag_id: str, run_id: str) -> set[tuple[str, int, int]]:
        """
        (task id, map index, try number) of every successful process exit the scheduler has taken in.

        Called once every waiting task has deferred (and none has resumed), these are the exits of the
        deferring processes. Until the scheduler has taken such an exit in, a trigger event that
        re-queues the task can make it fail the task as "killed externally" (Airflow tolerates the race
        only in some states); a real generation takes minutes, so only a test's release could win it,
        and the test releases generations only after this. The "Received executor event" line, not the
        "TaskInstance Finished" one: on PostgreSQL the scheduler skips (and drops) the event of a task
        instance whose row another transaction holds locked at that moment, logging no "Finished".
        """
        log = self.components["scheduler"].log.read_text(errors="replace")
        pattern = re.compile(
            r"Received executor event with state success for task instance TaskInstanceKey\("
            rf"dag_id='{re.escape(dag_id)}', task_id='([^']+)', run_id='{re.escape(run_id)}', "
            r"try_number=(\d+), map_index=(-?\d+)\)"
        )
        return {(m[1], int(m[3]), int(m[2])) for m in pattern.finditer(log)}

    # ---------------------------------------------------------------------------------- REST API

    def rest(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
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

    # ---------------------------------------------------------------------------------- emulator

    def emulator_stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.emulator_api}/_emulator/stats", timeout=60) as resp:
            return dict(json.loads(resp.read()))

    def emulator_post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            f"{self.emulator_api}/_emulator/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())

    def release(self, generation_id: str) -> None:
        self.emulator_post("release", {"generation_id": generation_id, "status": "completed"})

    # -------------------------------------------------------------------------------- diagnostics

    def diagnostics(self, task_logs: Iterable[str] = ()) -> str:
        """Tails of every process log and of the task logs on each worker (printed when the test fails)."""
        parts = [f"----- postgres -----\n{self.postgres.logs()}", f"----- redis -----\n{self.redis.logs()}"]
        for component in self.components.values():
            parts.append(f"----- {component.name} -----\n{component.log.read_text(errors='replace')[-5000:]}")
        for name in [*self.worker_names, *self.triggerer_names]:
            if name not in self.components:
                continue
            logs = sorted(self.components[name].home.glob("logs/dag_id=*/**/attempt=*"))
            wanted = [p for p in logs if not task_logs or any(t in str(p) for t in task_logs)]
            for path in wanted[-12:]:
                text = path.read_text(errors="replace")
                parts.append(f"----- {name}: {path.relative_to(self.root)} -----\n{text[-2500:]}")
        return "\n".join(parts)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return ""
