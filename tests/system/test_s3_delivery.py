"""
S3 end to end on a real S3 server (Ceph RGW): the daily example DAG through ``airflow dags test``
with an ``s3://`` destination and an ``aws`` connection, then the object read back and compared
with what the emulator served; plus the sensor's delivery semantics on S3 in-process.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import soundfile
from airflow.sdk import ObjectStoragePath
from helpers import EMULATOR_KEY, conn_json, make_context, run_dag, xcom_values

from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import MusicDeliveryError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.sensors.music import MusicGenerationSensor

if TYPE_CHECKING:
    from helpers.s3_server import S3Server

pytestmark = [pytest.mark.s3, pytest.mark.integration]

CONN_ID = "music_s3"


@pytest.fixture
def delivery_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.airflow_conn_json())
    return s3_server.make_bucket(f"music-{uuid.uuid4().hex[:12]}")


def _sha256(path: ObjectStoragePath) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def test_daily_dag_stores_to_s3(
    emulator: Emulator, s3_server: S3Server, delivery_bucket: str, airflow_home: Path
) -> None:
    env = {
        "AIRFLOW_CONN_AIMLAPI_DEFAULT": conn_json(emulator.base_url, EMULATOR_KEY),
        f"AIRFLOW_CONN_{CONN_ID.upper()}": s3_server.airflow_conn_json(),
        "MUSIC_STORAGE_BASE": f"s3://{delivery_bucket}/music",
        "MUSIC_STORAGE_CONN_ID": CONN_ID,
        "MUSIC_POLL_INTERVAL": "0.5",
    }
    result = run_dag("example_music_daily", "2026-05-06", env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    manifest = xcom_values("example_music_daily", "wait_and_store")[-1]
    assert manifest["uri"] == f"s3://{delivery_bucket}/music/daily/2026-05-06.wav"  # no connection id in it
    stored = ObjectStoragePath(manifest["uri"], conn_id=CONN_ID)
    served = emulator.stats()["generations"][manifest["generation_id"]]
    assert (
        _sha256(stored)
        == (served["size_bytes"], served["sha256"])
        == (manifest["size_bytes"], manifest["sha256"])
    )
    sidecar = json.loads(ObjectStoragePath(manifest["sidecar_uri"], conn_id=CONN_ID).read_text())
    assert sidecar["sha256"] == manifest["sha256"]
    assert sidecar["duration_seconds"] == 30.0
    names = sorted(
        p.name for p in ObjectStoragePath(f"s3://{delivery_bucket}/music/daily/", conn_id=CONN_ID).iterdir()
    )
    # no temporary object left; the waveform beside the track, the master in its folder
    assert names == [
        "2026-05-06.json",
        "2026-05-06.peaks.json",
        "2026-05-06.png",
        "2026-05-06.wav",
        "mastered",
    ]
    mastered = xcom_values("example_music_daily", "master")[-1]
    assert mastered["uri"] == f"s3://{delivery_bucket}/music/daily/mastered/2026-05-06.mp3"
    assert mastered["source"]["sha256"] == manifest["sha256"]
    master_bytes = ObjectStoragePath(mastered["uri"], conn_id=CONN_ID).read_bytes()
    assert soundfile.info(io.BytesIO(master_bytes)).format == "MP3"
    assert hashlib.sha256(master_bytes).hexdigest() == mastered["sha256"]
    # The connection the task stored through is recorded (its id only): the Listen page opens the
    # track with it, and only as the manifest describes it (docs/listen.md).
    assert manifest["storage_conn_id"] == CONN_ID
    from airflow_provider_music.ui._app import _checked, _read
    from airflow_provider_music.ui._objects import resolve_object

    path, size, content_type = _checked(resolve_object(manifest, "track"))
    assert (size, content_type) == (manifest["size_bytes"], "audio/wav")
    assert b"".join(_read(path, 0, 4)) == b"RIFF"


def test_large_track_streams_in_multipart_blocks(emulator: Emulator, delivery_bucket: str) -> None:
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("long", music_length_ms=120_000)  # ~21 MB WAV
    sensor = MusicGenerationSensor(
        task_id="store",
        generation_id=gen_id,
        destination=f"s3://{delivery_bucket}/long/",
        storage_conn_id=CONN_ID,
        chunk_size=5 * 1024 * 1024,
    )
    manifest = sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    served = emulator.stats()["generations"][gen_id]
    assert _sha256(ObjectStoragePath(manifest["uri"], conn_id=CONN_ID)) == (
        served["size_bytes"],
        served["sha256"],
    )
    assert manifest["duration_seconds"] == 120.0


def test_truncated_download_leaves_no_object_in_the_bucket(
    emulator: Emulator, s3_server: S3Server, delivery_bucket: str
) -> None:
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p", music_length_ms=60_000)
    emulator.add_faults([{"target": "audio", "action": "truncate", "bytes": 7_000_000}])
    sensor = MusicGenerationSensor(
        task_id="store",
        generation_id=gen_id,
        destination=f"s3://{delivery_bucket}/t.wav",
        storage_conn_id=CONN_ID,
    )
    with pytest.raises(MusicDeliveryError):
        sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    assert list(ObjectStoragePath(f"s3://{delivery_bucket}/", conn_id=CONN_ID).iterdir()) == []
    # The audio went straight to its key as a multipart upload: aborted, not merely invisible.
    assert s3_server.client().list_multipart_uploads(Bucket=delivery_bucket).get("Uploads", []) == []


def test_a_retry_after_a_killed_worker_clears_its_unfinished_upload(
    emulator: Emulator, s3_server: S3Server, delivery_bucket: str
) -> None:
    """SIGKILL mid-upload leaves an unfinished multipart upload (invisible, billed): the retry aborts it."""
    client = s3_server.client()
    for key in ("daily/t.wav", "daily/other.wav"):
        upload = client.create_multipart_upload(Bucket=delivery_bucket, Key=key)
        client.upload_part(
            Bucket=delivery_bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"RIFF"
        )
    client.put_object(Bucket=delivery_bucket, Key="daily/t.wav", Body=b"RIFF-previous")
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p", music_length_ms=60_000)
    sensor = MusicGenerationSensor(
        task_id="store",
        generation_id=gen_id,
        destination=f"s3://{delivery_bucket}/daily/t.wav",
        storage_conn_id=CONN_ID,
    )
    manifest = sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    served = emulator.stats()["generations"][gen_id]
    assert _sha256(ObjectStoragePath(manifest["uri"], conn_id=CONN_ID)) == (
        served["size_bytes"],
        served["sha256"],
    )
    uploads = client.list_multipart_uploads(Bucket=delivery_bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads] == ["daily/other.wav"]  # another object's upload is not ours
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=delivery_bucket)["Contents"]]
    assert keys == ["daily/t.json", "daily/t.wav"]  # the sidecar is one PUT: no temporary object
    assert (
        json.loads(client.get_object(Bucket=delivery_bucket, Key="daily/t.json")["Body"].read()) == manifest
    )


def test_an_object_storage_path_destination_gets_the_storage_connection(
    emulator: Emulator, delivery_bucket: str
) -> None:
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p")
    bucket_path = ObjectStoragePath(f"s3://{delivery_bucket}/", conn_id=CONN_ID)
    (bucket_path / "objects" / ".keep").write_text("")  # an existing "folder"
    sensor = MusicGenerationSensor(
        task_id="store",
        generation_id=gen_id,
        destination=ObjectStoragePath(
            f"s3://{delivery_bucket}/objects"
        ),  # a path object without a connection
        storage_conn_id=CONN_ID,
    )
    manifest = sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    assert manifest["uri"].startswith(f"s3://{delivery_bucket}/objects/")
    assert "@" not in manifest["uri"]
    assert ObjectStoragePath(manifest["uri"], conn_id=CONN_ID).exists()
