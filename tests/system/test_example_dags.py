"""Every example DAG imports cleanly and runs end to end through a real ``airflow dags test``."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import EMULATOR_KEY, REPO, airflow_env, asset_events, conn_json, run_dag, xcom_values

from airflow_provider_music.emulator import Emulator

pytestmark = pytest.mark.integration

EXAMPLES = sorted(p.stem for p in (REPO / "example_dags").glob("example_*.py"))


def test_every_example_dag_imports_without_errors() -> None:
    folder = str(REPO / "example_dags")
    module = "airflow.dag_processing.dagbag"
    try:
        import airflow.dag_processing.dagbag  # noqa: F401
    except ImportError:  # Airflow 3.1 keeps DagBag in airflow.models
        module = "airflow.models.dagbag"
    code = (
        f"import json; from {module} import DagBag\n"
        f"bag = DagBag(dag_folder={folder!r})\n"
        "errors = {k: str(v) for k, v in bag.import_errors.items()}\n"
        "print(json.dumps({'errors': errors, 'dags': sorted(bag.dag_ids)}))"
    )
    # Airflow puts the DAGs folder on sys.path (the examples share a settings module from it).
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=airflow_env({})
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert {
        "example_music_daily",
        "example_music_batch",
        "example_music_one_task",
        "example_music_consumer",
        "example_music_models",
    } <= set(result["dags"])
    assert len(EXAMPLES) >= 3


class _Event:
    def __init__(self, extra: dict[str, object]) -> None:
        self.extra = extra


def _consumer_task() -> Any:
    spec = importlib.util.spec_from_file_location(
        "consumer", REPO / "example_dags" / "example_music_consumer.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(REPO / "example_dags"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "example_dags"))
    return module.describe_new_tracks


def _env(emulator: Emulator, out: Path) -> dict[str, str]:
    # Every generation is pending at its first poll and complete at its second, however fast or slow
    # this machine is: each run takes the same path (the sensor defers, the trigger completes it).
    emulator.configure(polls_to_complete=2)
    return {
        "AIRFLOW_CONN_AIMLAPI_DEFAULT": conn_json(emulator.base_url, EMULATOR_KEY),
        "MUSIC_STORAGE_BASE": f"file://{out}",
        "MUSIC_POLL_INTERVAL": "0.5",
    }


def _check_track(path: Path, manifest: dict[str, object], emulator: Emulator) -> None:
    data = path.read_bytes()
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    served = emulator.stats()["generations"][manifest["generation_id"]]
    assert manifest["size_bytes"] == served["size_bytes"] == len(data)
    assert manifest["sha256"] == served["sha256"]
    assert manifest["uri"] == f"file://{path}"


def test_daily_dag_stores_a_real_track(emulator: Emulator, airflow_home: Path, tmp_path: Path) -> None:
    result = run_dag("example_music_daily", "2026-03-04", _env(emulator, tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    track = tmp_path / "daily" / "2026-03-04.wav"
    manifest = xcom_values("example_music_daily", "wait_and_store")[-1]
    _check_track(track, manifest, emulator)
    assert manifest["duration_seconds"] == 30.0
    assert "Wednesday 04 March 2026" in manifest["prompt"]
    assert manifest["request"] == {
        "model": "elevenlabs/eleven_music",
        "prompt": manifest["prompt"],
        "music_length_ms": 30_000,
    }
    assert json.loads((tmp_path / "daily" / "2026-03-04.json").read_text())["sha256"] == manifest["sha256"]
    assert xcom_values("example_music_daily", "submit", "generation_id")[-1] == manifest["generation_id"]
    assert emulator.stats()["posts"] == 1

    # the track was emitted as an asset event through the alias, URI without connection id
    events = asset_events(f"file://{track}")
    assert events
    assert events[-1]["sha256"] == manifest["sha256"]
    assert events[-1]["sidecar_uri"] == f"file://{tmp_path}/daily/2026-03-04.json"

    # and the consumer DAG, scheduled on that alias, reads the manifest it points to
    described = _consumer_task()(triggering_asset_events={"alias": [_Event(events[-1])]})
    assert described == [{"uri": manifest["uri"], "duration_seconds": 30.0}]


def test_batch_dag_maps_over_prompts(emulator: Emulator, airflow_home: Path, tmp_path: Path) -> None:
    result = run_dag("example_music_batch", "2026-03-05", _env(emulator, tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = emulator.stats()
    assert stats["posts"] == 3
    tracks = sorted((tmp_path / "batch" / "2026-03-05").glob("*.wav"))
    assert len(tracks) == 3
    manifests = [json.loads(t.with_suffix(".json").read_text()) for t in tracks]
    assert {m["generation_id"] for m in manifests} == set(stats["generations"])
    for track, manifest in zip(tracks, manifests, strict=True):
        _check_track(track, manifest, emulator)
    assert sorted(m["map_index"] for m in manifests) == [0, 1, 2]


def test_one_task_dag(emulator: Emulator, airflow_home: Path, tmp_path: Path) -> None:
    result = run_dag("example_music_one_task", "2026-03-06", _env(emulator, tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = xcom_values("example_music_one_task", "generate")[-1]
    _check_track(tmp_path / "one_task" / "2026-03-06.wav", manifest, emulator)
    assert manifest["duration_seconds"] == 20.0
    assert emulator.stats()["posts"] == 1


def test_models_dag_runs_two_models_side_by_side(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    """One mapped task per model: each sent by its own rules, each stored in its model's format."""
    env = _env(emulator, tmp_path)
    emulator.configure(audio_format="mp3")  # what eleven_music answers with at the real service
    result = run_dag("example_music_models", "2026-03-07", env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = emulator.stats()
    assert stats["posts"] == 2
    folder = tmp_path / "models" / "2026-03-07"
    manifests = {m["model"]: m for m in xcom_values("example_music_models", "generate")}
    assert set(manifests) == {"elevenlabs/eleven_music", "minimax/music-2.0"}

    instrumental = manifests["elevenlabs/eleven_music"]
    data = (folder / "instrumental.mp3").read_bytes()
    assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)  # an MP3 frame or tag
    assert instrumental["format"] == "mp3"
    assert instrumental["uri"] == f"file://{folder}/instrumental.mp3"
    assert instrumental["request"] == {
        "model": "elevenlabs/eleven_music",
        "prompt": instrumental["prompt"],
        "music_length_ms": 30_000,
    }
    assert "2026-03-07" in instrumental["prompt"]

    song = manifests["minimax/music-2.0"]
    _check_track(folder / "song.wav", song, emulator)  # audio_setting asked for WAV
    assert song["format"] == "wav"
    request = song["request"]
    assert request["model"] == "minimax/music-2.0"
    assert request["prompt"] == instrumental["prompt"]  # the same daily job
    assert request["lyrics"].startswith("[Verse]\nCoffee on the windowsill")  # as given
    assert request["audio_setting"] == {"format": "wav", "sample_rate": 44100}
    assert "music_length_ms" not in request  # minimax/music-2.0 has no length field
    assert EMULATOR_KEY not in json.dumps(manifests)

    for manifest in manifests.values():
        served = stats["generations"][manifest["generation_id"]]
        assert (served["model"], served["size_bytes"], served["sha256"]) == (
            manifest["model"],
            manifest["size_bytes"],
            manifest["sha256"],
        )
        sidecar = json.loads(Path(manifest["sidecar_uri"].removeprefix("file://")).read_text())
        assert sidecar["request"] == manifest["request"]
    assert sorted(m["map_index"] for m in manifests.values()) == [0, 1]


def test_daily_dag_runs_without_a_logical_date(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    """
    A run with no logical date (triggered from the REST API or the UI without one, or by an asset):
    the templates have no ``ds``; the daily example still names its track after the run's date.
    """
    module = "airflow.dag_processing.dagbag"
    try:
        import airflow.dag_processing.dagbag  # noqa: F401
    except ImportError:  # Airflow 3.1 keeps DagBag in airflow.models
        module = "airflow.models.dagbag"
    folder = str(REPO / "example_dags")
    code = (
        f"import json; from {module} import DagBag\n"
        f"bag = DagBag(dag_folder={folder!r})\n"
        "run = bag.get_dag('example_music_daily').test(logical_date=None)\n"
        "print(json.dumps({'state': str(run.state), 'logical_date': str(run.logical_date),"
        " 'day': run.run_after.strftime('%Y-%m-%d')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=airflow_env(_env(emulator, tmp_path)),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run = json.loads(result.stdout.strip().splitlines()[-1])
    assert run["logical_date"] == "None", run
    assert run["state"].endswith("success"), result.stdout[-3000:] + result.stderr[-3000:]
    track = tmp_path / "daily" / f"{run['day']}.wav"
    manifest = json.loads(track.with_suffix(".json").read_text())
    _check_track(track, manifest, emulator)
    day = datetime.strptime(run["day"], "%Y-%m-%d").strftime("%A %d %B %Y")
    assert day in manifest["prompt"]
