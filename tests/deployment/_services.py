"""
Throw-away PostgreSQL and Redis servers for the scale-out deployment test, from Debian's packages.

Each runs in the foreground as a child of the test, from a temporary folder, on 127.0.0.1 and a free
port, with nothing persisted (a fresh ``initdb`` cluster with ``fsync=off``; Redis without RDB or AOF),
and is stopped by its pid: SIGINT (PostgreSQL's fast shutdown) or SIGTERM, then SIGKILL on its process
group after a grace period. ``scripts/install-services.sh`` installs the packages.

PostgreSQL refuses to run as root, and CI runs as root: there the cluster is created and run as the
``postgres`` system user that Debian's package creates (the folder is handed over to it); as any
other user it runs as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

HOW_TO_ENABLE = "run `sudo bash scripts/install-services.sh` (Debian/Ubuntu: postgresql, redis-server)"


class ServiceUnavailableError(RuntimeError):
    """This machine cannot run the service at all (package missing, no user to run it as)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<version>/bin, off PATH."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found is None:
        raise ServiceUnavailableError(f"PostgreSQL's {name} not found; {HOW_TO_ENABLE}")
    return found


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no {path.name})"
    return f"--- last {lines} lines of {path} ---\n" + "\n".join(text[-lines:])


def _stop(proc: subprocess.Popen[bytes], first: int, grace: float) -> None:
    """``first`` to the pid, SIGKILL to its process group after ``grace`` seconds; reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: pid == group id (and its children)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


class Postgres:
    """One PostgreSQL cluster with a database ``airflow`` owned by a role ``airflow`` (trust auth)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="scale-out-postgres-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._env = dict(env or os.environ)
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceUnavailableError(
                    f"running as root and there is no `postgres` user to run PostgreSQL as; {HOW_TO_ENABLE}"
                ) from None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL Airflow uses (psycopg2)."""
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    def dsn(self, database: str = "airflow", user: str = "airflow") -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "user": user, "dbname": database}

    def _as_owner(self) -> dict[str, Any]:
        """Popen arguments that run a program as the cluster's owner, in a clean environment."""
        env = {k: v for k, v in self._env.items() if not k.startswith(("PG", "LC_"))}
        env.update({"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": str(self.root), "TZ": "UTC"})
        kwargs: dict[str, Any] = {"env": env, "cwd": self.root, "stdin": subprocess.DEVNULL}
        if self._user is not None:
            kwargs.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        return kwargs

    def start(self, timeout: float = 120) -> None:
        initdb, postgres = _postgres_bin("initdb"), _postgres_bin("postgres")
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        done = subprocess.run(
            [initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, timeout=timeout, **self._as_owner(),
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    postgres, "-D", str(self.data), "-p", str(self.port),
                    "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                    # Throw-away data: no durability, so a 2-core CI machine spends nothing on it.
                    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                    "-c", "max_connections=300", "-c", "shared_buffers=64MB",
                ],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self._as_owner(),
            )  # fmt: skip
        self._wait_ready(timeout)
        self.execute("CREATE ROLE airflow LOGIN", database="postgres", user="postgres")
        self.execute("CREATE DATABASE airflow OWNER airflow", database="postgres", user="postgres")

    def _wait_ready(self, timeout: float) -> None:
        import psycopg2

        end = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited {self.proc.returncode} while starting\n{_tail(self.log)}"
                )
            try:
                psycopg2.connect(**self.dsn("postgres", "postgres"), connect_timeout=5).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > end:
                    raise RuntimeError(
                        f"postgres did not accept connections in {timeout:.0f} s\n{_tail(self.log)}"
                    ) from None
                time.sleep(0.1)

    def execute(self, sql: str, *, database: str = "airflow", user: str = "airflow") -> None:
        import psycopg2

        conn = psycopg2.connect(**self.dsn(database, user), connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def stop(self) -> None:
        """Fast shutdown (SIGINT) by pid, SIGKILL to the group after a grace; the folder is removed."""
        if self.proc is not None:
            _stop(self.proc, signal.SIGINT, 15)
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return _tail(self.log)


class Redis:
    """One redis-server without persistence: the Celery broker."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="scale-out-redis-"))
        self.log = self.root / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._env = dict(env or os.environ)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 60) -> None:
        program = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(program):
            raise ServiceUnavailableError(f"redis-server not found; {HOW_TO_ENABLE}")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    program, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
                    "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
                ],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=self._env, cwd=self.root,
            )  # fmt: skip
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.proc.returncode}\n{_tail(self.log)}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
            if time.monotonic() > end:
                raise RuntimeError(f"redis-server did not answer in {timeout:.0f} s\n{_tail(self.log)}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGTERM, 10)
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return _tail(self.log)
