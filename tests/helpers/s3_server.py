"""A real S3 server for the tests: a throw-away single-node Ceph cluster with a RADOS Gateway.

Emulators (moto, rclone) accept requests that real S3 refuses, so the storage tests run against Ceph
RGW: one monitor, one in-memory OSD (memstore) and one ``radosgw``, all on 127.0.0.1 in a temporary
folder, with authentication between the daemons switched off.

Use it as a pytest plugin (``pytest_plugins = ["helpers.s3_server"]``) for the session fixture
``s3_server``, or run ``python tests/helpers/s3_server.py`` for a server to use by hand or in
benchmarks until Ctrl-C / SIGTERM.
Needs Linux, root and the Debian packages that ``scripts/install-ceph.sh`` installs.

Environment: ``CI=true`` turns "cannot start" from a skip into a failure; ``S3_SERVER_KEEP_DIR=1`` keeps
the temporary folder (config and daemon logs) after the stop; ``S3_SERVER_START_TIMEOUT`` (seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO

REGION = "us-east-1"
REQUIRED_BINARIES = ("monmaptool", "ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph")
HOW_TO_ENABLE = "run the tests as root after `sudo bash scripts/install-ceph.sh` (Debian/Ubuntu)"
#: Generous: a cold start takes about a second here, but CI machines can be slow and loaded.
START_TIMEOUT = float(os.environ.get("S3_SERVER_START_TIMEOUT", "120"))
MEMSTORE_BYTES = 2 * 1024**3
#: Stop order (gateway, then OSD, then monitor: the OSD tells the monitor it goes) and the grace before
#: SIGKILL. The data is thrown away, so there is nothing to wait for; radosgw lingers ~5 s on SIGTERM.
STOP_GRACE = {"client.rgw.a": 1.0, "osd.0": 3.0, "mon.a": 3.0}

try:  # resolved in the parent: the child between fork and exec should only make the system call
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not glibc/Linux: check_environment() refuses to start anyway
    _prctl = None
_PR_SET_PDEATHSIG = 1


class S3ServerUnavailableError(RuntimeError):
    """This machine cannot run the server at all (not root, packages missing)."""


class S3ServerError(RuntimeError):
    """The server should have started but did not; the message carries the relevant daemon log tail."""


@dataclass(frozen=True)
class S3Server:
    """Where the running gateway answers, and the credentials of its only user."""

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    root: Path
    region: str = REGION

    def airflow_conn(self) -> dict[str, Any]:
        """The Airflow ``aws`` connection; path-style because nothing resolves bucket host names here."""
        return {
            "conn_type": "aws",
            "login": self.access_key,
            "password": self.secret_key,
            "extra": {
                "endpoint_url": self.endpoint_url,
                "region_name": self.region,
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
        }

    def airflow_conn_json(self) -> str:
        """The connection as JSON, the form ``AIRFLOW_CONN_<ID>`` environment variables accept."""
        return json.dumps(self.airflow_conn())

    def client(self) -> Any:
        """A plain boto3 S3 client, for set-up and checks that should not depend on Airflow."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )

    def make_bucket(self, name: str) -> str:
        """Create a bucket if missing; no LocationConstraint, which RGW (like AWS) refuses for us-east-1."""
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=name)
        return name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child before exec: if the test process is killed outright, its daemons die too."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _tail(path: Path, lines: int) -> str:
    """The last log lines, without the multi-line JSON dumps (memstore's) that would crowd out the rest."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no {path.name})"
    text = [line for line in text if line.strip() and not line[0].isspace() and line[0] not in "{}[]"]
    return f"--- last {lines} lines of {path} ---\n" + "\n".join(text[-lines:])


def _random_key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class CephCluster:
    """Starts and stops the three daemons; ``stop()`` is safe at any point, and twice."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="ceph-s3-")) if root is None else root
        self.conf = self.root / "ceph.conf"
        self.log_dir = self.root / "log"
        self.run_dir = self.root / "run"
        self.fsid = str(uuid.uuid4())
        self.mon_port = _free_port()
        self.rgw_port = _free_port()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._outputs: list[IO[bytes]] = []
        self.server: S3Server | None = None

    def _write_conf(self) -> None:
        r = self.root
        self.conf.write_text(
            f"""[global]
fsid = {self.fsid}
# v1 only, with the address given explicitly: with msgr2 the `ceph` tool hangs against this monitor.
mon host = [v1:127.0.0.1:{self.mon_port}]
public addr = 127.0.0.1
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = {self.run_dir}
pid file = {self.run_dir}/$name.pid
admin socket = {self.run_dir}/$name.asok
log file = {self.log_dir}/$name.log
mon cluster log file = {self.log_dir}/cluster.log
crash dir = {r}/crash
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon data avail warn = 2
mon data avail crit = 1

[mon]
mon data = {r}/mon/$id
# Commit map changes at once instead of batching them for a second: RGW creates its pools one by one
# and waits for each new OSD map, so the default interval alone adds about ten seconds to the start.
paxos propose interval = 0.01
paxos min wait = 0.001

[osd]
osd data = {r}/osd/$id
osd objectstore = memstore
memstore device bytes = {MEMSTORE_BYTES}
# No monitor commands from the OSD (start() puts it into the CRUSH map itself): without cephx a new
# client may send its first command before the monitor map, and with it the fsid, has arrived; the
# monitor refuses it as "wrong fsid" and the OSD exits, in about a third of the starts.
osd class update on start = false
osd crush update on start = false

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:{self.rgw_port}
rgw data = {r}/rgw
rgw init timeout = {max(30, int(START_TIMEOUT))}
"""
        )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CEPH_")}
        env["CEPH_CONF"] = str(self.conf)
        return env

    def logs(self, name: str) -> str:
        """The tails of a daemon's log and console output, for error messages."""
        return f"{_tail(self.log_dir / f'{name}.log', 30)}\n{_tail(self.log_dir / f'{name}.out', 10)}"

    def _run(self, name: str, argv: list[str], timeout: float = 60) -> str:
        """Run a one-shot tool; on failure raise with its output and the log of daemon ``name``."""
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self._env(),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise S3ServerError(
                f"`{' '.join(argv)}` timed out after {timeout:.0f} s\n{self.logs(name)}"
            ) from exc
        if done.returncode != 0:
            raise S3ServerError(
                f"`{' '.join(argv)}` exited {done.returncode}: {done.stdout}{done.stderr}\n{self.logs(name)}"
            )
        return done.stdout

    def _ceph(self, *args: str) -> str:
        """Run a ``ceph`` command, retrying the start-up race in which the monitor refuses it.

        Without cephx the tool may send its command before the monitor map, and so the fsid, arrived;
        the monitor answers EPERM ("wrong fsid"). The commands used here are idempotent.
        """
        argv = ["ceph", "-c", str(self.conf), "--connect-timeout", "30", *args]
        for attempt in range(10):
            try:
                return self._run("mon.a", argv, timeout=40)
            except S3ServerError as exc:
                if "EPERM" not in str(exc) or attempt == 9:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _spawn(self, name: str, *argv: str) -> None:
        """Start a daemon in the foreground (``-f``): it stays our child, so a crash shows in ``poll()``."""
        out = (self.log_dir / f"{name}.out").open("wb")
        self._outputs.append(out)
        self._procs[name] = subprocess.Popen(
            [argv[0], "-c", str(self.conf), "-f", "--setuser", "root", "--setgroup", "root", *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self._env(),
            start_new_session=True,  # Ctrl-C in a terminal must reach only us; we stop them in order
            preexec_fn=_die_with_parent,
        )

    def _check_alive(self) -> None:
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise S3ServerError(
                    f"{name} exited with {proc.returncode} during the start\n{self.logs(name)}"
                )

    def _wait_for_gateway(self, deadline: float) -> None:
        url = f"http://127.0.0.1:{self.rgw_port}/"
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer means the gateway serves requests
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = f"{self.logs('client.rgw.a')}\n{_tail(self.log_dir / 'osd.0.log', 15)}"
                raise S3ServerError(f"radosgw did not answer on {url} within {START_TIMEOUT:g} s\n{logs}")
            time.sleep(0.05)

    @staticmethod
    def check_environment() -> None:
        """Raise S3ServerUnavailableError when this machine cannot run the cluster at all."""
        if not sys.platform.startswith("linux"):
            raise S3ServerUnavailableError(f"Ceph RGW needs Linux, not {sys.platform}")
        if os.geteuid() != 0:
            raise S3ServerUnavailableError("the Ceph daemons must run as root")
        missing = [b for b in REQUIRED_BINARIES if shutil.which(b) is None]
        if missing:
            raise S3ServerUnavailableError(f"Ceph programs missing: {', '.join(missing)}")

    def start(self) -> S3Server:
        """Bring up monitor, OSD and gateway and create a user; on any failure stop what was started."""
        self.check_environment()
        deadline = time.monotonic() + START_TIMEOUT
        try:
            for sub in ("log", "run", "crash", "mon/a", "osd/0", "rgw"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            self._write_conf()
            monmap = str(self.root / "monmap")
            mon_addr = f"[v1:127.0.0.1:{self.mon_port}]"
            self._run(
                "mon.a", ["monmaptool", "--create", "--fsid", self.fsid, "--addv", "a", mon_addr, monmap]
            )
            self._run("mon.a", ["ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", monmap])
            self._spawn("mon.a", "ceph-mon", "-i", "a")

            osd_uuid = str(uuid.uuid4())
            osd_id = self._ceph("osd", "new", osd_uuid).strip()
            if osd_id != "0":
                raise S3ServerError(f"expected OSD id 0 from `ceph osd new`, got {osd_id!r}")
            self._ceph("osd", "crush", "add", "osd.0", "1.0", "root=default")
            self._run(
                "osd.0", ["ceph-osd", "-c", str(self.conf), "-i", "0", "--mkfs", "--osd-uuid", osd_uuid]
            )
            self._spawn("osd.0", "ceph-osd", "-i", "0")
            self._spawn("client.rgw.a", "radosgw", "-n", "client.rgw.a")
            self._wait_for_gateway(deadline)

            access_key = _random_key(20, string.ascii_uppercase + string.digits)
            secret_key = _random_key(40, string.ascii_letters + string.digits)
            self._run(
                "client.rgw.a",
                ["radosgw-admin", "-c", str(self.conf), "user", "create", "--uid", "tests",
                 "--display-name", "airflow-provider-music tests",
                 "--access-key", access_key, "--secret-key", secret_key],
            )  # fmt: skip
        except BaseException:
            self.stop()
            raise
        self.server = S3Server(f"http://127.0.0.1:{self.rgw_port}", access_key, secret_key, self.root)
        return self.server

    def _pid(self, name: str) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.run_dir / f"{name}.pid").read_text().strip())
        return None

    def stop(self) -> None:
        """Signal each daemon by the pid in its pid file, SIGKILL after a grace, reap, remove the folder.

        radosgw run in the foreground writes no pid file; like a daemon that died before writing one,
        it is signalled by the pid of our own child process. Never by name.
        """
        for name, grace in STOP_GRACE.items():
            proc = self._procs.pop(name, None)
            if proc is None:
                continue
            pid = self._pid(name)
            if pid != proc.pid:  # a stale or foreign pid file must not make us signal someone else
                pid = proc.pid
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
                if proc.poll() is not None:
                    break
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=wait)
        for out in self._outputs:
            out.close()
        self._outputs.clear()
        if self._own_root and os.environ.get("S3_SERVER_KEEP_DIR", "") not in ("1", "true"):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM (a cancelled CI job, ``timeout``) unwind like Ctrl-C, so the teardown still runs.

    By default SIGTERM kills Python at once: the daemons then die with it (PR_SET_PDEATHSIG) but the
    folder stays. Only when nobody else handles SIGTERM, and only from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A running gateway for the whole session; skips where it cannot run, but fails in CI."""
    in_ci = os.environ.get("CI", "").strip().lower() in ("true", "1")
    cluster = CephCluster()
    try:
        server = cluster.start()
    except S3ServerUnavailableError as exc:
        problem = f"S3 server (Ceph RGW) unavailable: {exc}"
    except Exception as exc:  # whatever the cause, the policy is the same: skip here, fail in CI
        problem = f"S3 server (Ceph RGW) failed to start: {type(exc).__name__}: {exc}"
    else:
        with _sigterm_as_interrupt():
            try:
                yield server
            finally:
                cluster.stop()
        return
    cluster.stop()
    # Outside the except blocks, so that the report is the message and not a chain of tracebacks.
    if in_ci:
        pytest.fail(f"{problem}\nCI=true, so this fails instead of skipping; {HOW_TO_ENABLE}", pytrace=False)
    pytest.skip(f"{problem}\nTo enable: {HOW_TO_ENABLE}")


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM: the connection JSON goes to stdout, everything else to stderr."""
    parser = argparse.ArgumentParser(description="Run the tests' Ceph RGW S3 server until Ctrl-C / SIGTERM.")
    parser.add_argument("--bucket", action="append", default=[], help="create this bucket (repeatable)")
    args = parser.parse_args(argv)

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and then Python would not stop.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    started = time.monotonic()
    cluster = CephCluster()
    try:
        server = cluster.start()
        for bucket in args.bucket:
            server.make_bucket(bucket)
        print(server.airflow_conn_json(), flush=True)
        print(
            f"S3 server up in {time.monotonic() - started:.1f} s at {server.endpoint_url} "
            f"(folder {cluster.root}); e.g. export AIRFLOW_CONN_S3_TEST='<the JSON above>'. Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    except (S3ServerUnavailableError, S3ServerError) as exc:
        print(f"cannot start the S3 server: {exc}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
