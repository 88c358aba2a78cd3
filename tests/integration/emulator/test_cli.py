"""``python -m airflow_provider_music.emulator`` starts, reports its ports and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]


def test_cli_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_music.emulator",
            "--port",
            "0",
            "--api-key",
            "cli-secret-key",
            "--generation-seconds",
            "0",
            "--audio-format",
            "mp3",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator listening api=http://127.0.0.1:"), line
        urls = json.loads(ready.read_text())
        assert line == f"emulator listening api={urls['api']} audio={urls['audio']}"
        auth = {"Authorization": "Bearer cli-secret-key"}
        gid = httpx.post(
            f"{urls['api']}/v2/generate/audio",
            json={"model": "elevenlabs/eleven_music", "prompt": "x"},
            headers=auth,
        ).json()["id"]
        done = httpx.get(
            f"{urls['api']}/v2/generate/audio", params={"generation_id": gid}, headers=auth
        ).json()
        assert done["audio_file"]["url"].startswith(urls["audio"] + "/files/")
        assert httpx.get(done["audio_file"]["url"]).content[:2] == b"\xff\xfb"
    finally:
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0
    # Open keep-alive connections (75 s idle timeout) do not hold the shutdown: far less than that.
    assert time.monotonic() - started < 30
    assert "POST /v2/generate/audio -> 200" in stderr
    assert "cli-secret-key" not in stderr
    assert "signature" not in stderr


def test_cli_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airflow_provider_music.emulator", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    ).stdout
    for flag in (
        "--port",
        "--audio-port",
        "--api-key",
        "--generation-seconds",
        "--audio-format",
        "--url-ttl",
    ):
        assert flag in out
