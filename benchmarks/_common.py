"""Shared plumbing: a throw-away Airflow home, the emulator in its own process, machine facts, medians.

Only the standard library and psutil, so the parent (orchestrating) process stays light and never
imports Airflow: every measured thing runs in a fresh child interpreter.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
EMULATOR_KEY = "bench-emulator-key"


def median(values: Sequence[float]) -> float:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else float("nan")


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def pct(values: Sequence[float], q: float) -> float:
    vals = sorted(values)
    if not vals:
        return float("nan")
    k = min(len(vals) - 1, max(0, round(q / 100 * (len(vals) - 1))))
    return vals[k]


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def header(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def line(text: str) -> None:
    print(text, flush=True)


@contextlib.contextmanager
def airflow_home() -> Iterator[dict[str, str]]:
    """An environment for child processes: a private AIRFLOW_HOME, no example DAGs, the repo importable."""
    home = Path(tempfile.mkdtemp(prefix="music-bench-home-"))
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            "PYTHONDONTWRITEBYTECODE": "",
        }
    )
    env.pop("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", None)
    try:
        yield env
    finally:
        shutil.rmtree(home, ignore_errors=True)


def aimlapi_conn(base_url: str, key: str = EMULATOR_KEY) -> str:
    return json.dumps({"conn_type": "aimlapi", "password": key, "host": base_url})


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


class EmulatorProcess:
    """``python -m airflow_provider_music.emulator`` in its own process (so its CPU is not ours)."""

    def __init__(
        self, env: dict[str, str], generation_seconds: float = 3.0, audio_format: str = "wav"
    ) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="music-bench-emu-"))
        ready = self._dir / "ready.json"
        self._log = (self._dir / "emulator.log").open("wb")
        self.proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "airflow_provider_music.emulator",
                "--port",
                "0",
                "--quiet",
                "--api-key",
                EMULATOR_KEY,
                "--generation-seconds",
                str(generation_seconds),
                "--audio-format",
                audio_format,
                "--ready-file",
                str(ready),
            ],
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"emulator did not start: {(self._dir / 'emulator.log').read_text()}")
            time.sleep(0.05)
        urls = json.loads(ready.read_text())
        self.base_url: str = urls["api"]
        self.audio_url: str = urls["audio"]
        self.port = int(self.base_url.rsplit(":", 1)[1])
        self.auth = {"Authorization": f"Bearer {EMULATOR_KEY}"}

    # admin API
    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = http_json("GET", f"{self.base_url}/_emulator/stats")
        return stats

    def config(self, **changes: Any) -> dict[str, Any]:
        config: dict[str, Any] = http_json("POST", f"{self.base_url}/_emulator/config", changes)
        return config

    def reset(self) -> None:
        http_json("POST", f"{self.base_url}/_emulator/reset", {})

    def update_generation(self, gid: str, **changes: Any) -> Any:
        return http_json("POST", f"{self.base_url}/_emulator/generations/{quote(gid, safe='')}", changes)

    def cpu_seconds(self) -> float:
        import psutil

        t = psutil.Process(self.proc.pid).cpu_times()
        return float(t.user + t.system)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version()}
    with contextlib.suppress(Exception):
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    with contextlib.suppress(Exception):
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                info["cpu_model"] = row.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        info["free_h"] = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    with contextlib.suppress(Exception):
        info["loadavg"] = os.getloadavg()
    info["kernel"] = platform.release()
    with contextlib.suppress(Exception):
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "airflow_provider_music"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        info["commit"] = rev.stdout.strip() + (" (package modified)" if dirty.stdout.strip() else "")
    with contextlib.suppress(Exception):
        out = subprocess.run(
            [PYTHON, "-c", "import airflow, aiohttp, sys; print(airflow.__version__, aiohttp.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout.split()
        info["airflow"], info["aiohttp"] = out[0], out[1]
    return info


def save_results(name: str, data: dict[str, Any]) -> Path:
    """Keep the last run's raw figures: benchmarks/results/<name>.json (or $MUSIC_BENCH_RESULTS/)."""
    out = Path(os.environ.get("MUSIC_BENCH_RESULTS") or REPO / "benchmarks" / "results")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return path
