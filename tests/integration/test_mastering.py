"""
Mastering end to end: through ``airflow dags test`` after a generation (the emulator's audio, the
manifest handed over XCom natively and as rendered text), and on a real S3 server (Ceph RGW) with
the source and the master both in a bucket.
"""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import soundfile
from airflow.sdk import ObjectStoragePath
from helpers import EMULATOR_KEY, conn_json, make_context, run_dag, xcom_values

from airflow_provider_music.analysis import analyze
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.operators.mastering import MasterAudioOperator

if TYPE_CHECKING:
    from helpers.s3_server import S3Server

pytestmark = pytest.mark.integration

CONN_ID = "music_s3_masters"
DAG_ID = "test_mastering_e2e"


def _dag_file(folder: Path, out: Path) -> None:
    folder.mkdir()
    (folder / "mastering_e2e.py").write_text(
        textwrap.dedent(
            f"""
            from datetime import datetime

            from airflow.sdk import DAG

            from airflow_provider_music.operators.mastering import MasterAudioOperator
            from airflow_provider_music.operators.music import GenerateMusicOperator

            with DAG(dag_id="{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1)):
                generate = GenerateMusicOperator(
                    task_id="generate",
                    prompt="calm piano",
                    music_length_ms=10_000,
                    destination="{out}/daily/",
                    object_name="{{{{ ds }}}}",
                    poll_interval=0.5,
                )
                streaming = MasterAudioOperator(
                    task_id="master",
                    source=generate.output,
                    destination="{out}/masters/",
                    target_lufs=-16,
                    output_format="mp3",
                    sample_rate=48_000,
                )
                broadcast = MasterAudioOperator(
                    task_id="master_text",
                    source="{{{{ ti.xcom_pull('generate') }}}}",
                    destination="{out}/masters/",
                    object_name="{{{{ ds }}}}-broadcast",
                    target_lufs="{{{{ params.broadcast_lufs }}}}",
                    output_format="flac",
                    params={{"broadcast_lufs": -23}},
                )
                generate >> [streaming, broadcast]
            """
        ),
        encoding="utf-8",
    )


def test_a_generated_track_is_mastered_through_airflow(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _dag_file(tmp_path / "dags", out)
    env = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW_CONN_AIMLAPI_DEFAULT": conn_json(emulator.base_url, EMULATOR_KEY),
    }
    result = run_dag(DAG_ID, "2026-05-06", env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    generated = xcom_values(DAG_ID, "generate")[-1]
    streaming = xcom_values(DAG_ID, "master")[-1]
    broadcast = xcom_values(DAG_ID, "master_text")[-1]
    assert generated["uri"] == f"file://{out}/daily/2026-05-06.wav"
    assert streaming["uri"] == f"file://{out}/masters/2026-05-06-master.mp3"
    assert broadcast["uri"] == f"file://{out}/masters/2026-05-06-broadcast.flac"
    for manifest, target, rate in ((streaming, -16.0, 48_000), (broadcast, -23.0, 44_100)):
        assert manifest["source"]["uri"] == generated["uri"]
        assert manifest["source"]["sha256"] == generated["sha256"]
        assert manifest["source"]["sha256_verified"] is True
        assert manifest["generation_id"] == generated["generation_id"]
        assert manifest["task_id"] in ("master", "master_text")
        assert manifest["dag_id"] == DAG_ID
        figures = manifest["mastering"]
        assert figures["target_lufs"] == target
        assert figures["achieved_lufs"] == pytest.approx(target, abs=0.2)
        assert figures["ceiling_met"] is True
        path = Path(manifest["uri"][len("file://") :])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest["sha256"]
        measured = analyze(path)
        assert measured.sample_rate == manifest["sample_rate"] == rate
        assert measured.integrated_loudness_lufs == pytest.approx(figures["achieved_lufs"], abs=1e-3)
        assert json.loads(path.with_suffix(".json").read_text()) == manifest
    assert "Mastered file://" in result.stdout + result.stderr  # the figures are in the task log


# --- S3 ---------------------------------------------------------------------------------------------


def _wav_bytes(seconds: float = 3.0, amplitude: float = 0.05) -> bytes:
    t = np.arange(int(seconds * 44_100)) / 44_100
    mono = amplitude * np.sin(2 * np.pi * 440 * t)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([mono, mono], axis=1), 44_100, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.airflow_conn_json())
    return s3_server.make_bucket(f"masters-{uuid.uuid4().hex[:12]}")


def _objects(s3_server: S3Server, bucket: str) -> dict[str, bytes]:
    client = s3_server.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _source(s3_server: S3Server, bucket: str) -> dict[str, Any]:
    body = _wav_bytes()
    s3_server.client().put_object(Bucket=bucket, Key="daily/track.wav", Body=body)
    return {"uri": f"s3://{bucket}/daily/track.wav", "sha256": hashlib.sha256(body).hexdigest()}


def _master(source: Any, destination: str, **kw: Any) -> dict[str, Any]:
    op = MasterAudioOperator(
        task_id="m", source=source, destination=destination, storage_conn_id=CONN_ID, **kw
    )
    manifest: dict[str, Any] = op.execute(make_context(task_id="m"))
    return manifest


@pytest.mark.s3
def test_an_s3_track_is_mastered_into_s3(s3_server: S3Server, bucket: str) -> None:
    source = _source(s3_server, bucket)
    manifest = _master(source, f"s3://{bucket}/masters/", output_format="flac", sample_rate=48_000)
    assert manifest["uri"] == f"s3://{bucket}/masters/track-master.flac"
    assert manifest["sidecar_uri"] == f"s3://{bucket}/masters/track-master.json"
    objects = _objects(s3_server, bucket)
    assert sorted(objects) == ["daily/track.wav", "masters/track-master.flac", "masters/track-master.json"]
    body = objects["masters/track-master.flac"]
    assert hashlib.sha256(body).hexdigest() == manifest["sha256"]
    assert len(body) == manifest["size_bytes"]
    assert json.loads(objects["masters/track-master.json"]) == manifest
    measured = analyze(body)
    assert measured.sample_rate == 48_000
    assert measured.integrated_loudness_lufs == pytest.approx(-14.0, abs=0.1)
    assert manifest["source"]["uri"] == source["uri"]
    assert manifest["source"]["sha256_verified"] is True
    assert s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    # if_exists on S3: 'skip' keeps the master (its sidecar is its manifest), 'fail' refuses
    kept = _master(source, f"s3://{bucket}/masters/", output_format="flac", if_exists="skip", target_lufs=-20)
    assert kept["skipped"] is True
    assert kept["sha256"] == manifest["sha256"]
    assert _objects(s3_server, bucket)["masters/track-master.flac"] == body


@pytest.mark.s3
def test_an_s3_source_that_changed_is_refused_and_nothing_is_written(
    s3_server: S3Server, bucket: str
) -> None:
    source = _source(s3_server, bucket)
    s3_server.client().put_object(Bucket=bucket, Key="daily/track.wav", Body=_wav_bytes(amplitude=0.2))
    with pytest.raises(MusicInputError, match="its manifest records"):
        _master(source, f"s3://{bucket}/masters/")
    assert sorted(_objects(s3_server, bucket)) == ["daily/track.wav"]
    assert s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.s3
def test_an_unreachable_bucket_is_refused_before_the_source_is_read(s3_server: S3Server, bucket: str) -> None:
    source = _source(s3_server, bucket)
    with pytest.raises(MusicInputError, match="does not exist"):
        _master(source, f"s3://{bucket}-missing/masters/")
    assert ObjectStoragePath(f"s3://{bucket}/", conn_id=CONN_ID).exists()
    assert sorted(_objects(s3_server, bucket)) == ["daily/track.wav"]
