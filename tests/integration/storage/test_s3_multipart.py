"""
Writing a download into a real S3 server (Ceph RGW) through the multipart writer: straight to the
final key, invisible until complete; the emulator's audio over real HTTP. Failures are real too:
downloads broken off by the emulator, uploads aborted or refused by S3. Each failure must propagate
with its message, leave nothing at the final name (a previous object untouched), no temporary object,
no unfinished upload and no thread behind.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk import ObjectStoragePath
from helpers.downloads import emulator_audio_url, no_new_threads

from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicDeliveryError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.storage import StoredAudio, finalize, find_by_stem, store_stream, write_stream

if TYPE_CHECKING:
    from helpers.s3_server import S3Server

pytestmark = pytest.mark.integration

CONN_ID = "music_s3_storage"
MiB = 1024 * 1024


def _write(url: str, folder: ObjectStoragePath, **kw: Any) -> StoredAudio:
    with MusicGenerationHook().open_audio(url) as stream:
        return write_stream(stream, folder, **kw)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def no_new_s3_threads() -> Iterator[None]:
    """Whatever happens in the test, every thread it started has ended when it returns or raises."""
    with no_new_threads():
        yield


@pytest.fixture
def storage_bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.airflow_conn_json())
    name = s3_server.make_bucket(f"storage-{uuid.uuid4().hex[:12]}")
    ObjectStoragePath(f"s3://{name}/", conn_id=CONN_ID).exists()  # the storage client, started once
    return name


def _s3(bucket: str, key: str = "") -> ObjectStoragePath:
    return ObjectStoragePath(f"s3://{bucket}/{key}", conn_id=CONN_ID)


def _objects(s3_server: S3Server, bucket: str) -> dict[str, bytes]:
    client = s3_server.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _unfinished_uploads(s3_server: S3Server, bucket: str) -> list[str]:
    return sorted(
        u["Key"] for u in s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    )


@pytest.mark.s3
@pytest.mark.parametrize("length_ms", [120_000, 10_000], ids=["multipart", "single-put"])
def test_s3_write_goes_straight_to_the_final_key(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, length_ms: int, no_new_s3_threads: None
) -> None:
    url = emulator_audio_url(emulator, length_ms)
    target = _s3(storage_bucket, "music/t.wav")
    stored = _write(url, target.parent, name="t.wav", target=target)
    assert stored.in_place
    assert stored.path == target
    assert finalize(stored, target) is stored  # nothing to move
    size, sha = expected_audio("wav", length_ms)
    assert (stored.size_bytes, stored.sha256) == (size, sha)
    objects = _objects(s3_server, storage_bucket)
    assert list(objects) == ["music/t.wav"]
    assert _sha256(objects["music/t.wav"]) == sha
    assert _unfinished_uploads(s3_server, storage_bucket) == []


@pytest.mark.s3
def test_s3_write_of_unknown_length_starts_its_upload_when_a_part_is_full(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, no_new_s3_threads: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    emulator.add_faults([{"target": "audio", "action": "oversize", "extra_bytes": 1}])  # no Content-Length
    target = _s3(storage_bucket, "t.wav")
    stored = _write(url, target.parent, name="t.wav", target=target)
    served = _objects(s3_server, storage_bucket)["t.wav"]
    assert len(served) == expected_audio("wav", 60_000)[0] + 1 == stored.size_bytes
    assert _sha256(served) == stored.sha256
    assert _unfinished_uploads(s3_server, storage_bucket) == []


@pytest.mark.s3
@pytest.mark.parametrize("cut_at", [7_000_000, 1_000_000], ids=["after-parts", "within-first-part"])
def test_s3_download_broken_off_leaves_the_previous_object_and_no_upload(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, cut_at: int, no_new_s3_threads: None
) -> None:
    url = emulator_audio_url(emulator, 120_000)
    s3_server.client().put_object(Bucket=storage_bucket, Key="t.wav", Body=b"RIFF-previous")
    emulator.add_faults([{"target": "audio", "action": "truncate", "bytes": cut_at}])
    target = _s3(storage_bucket, "t.wav")
    with pytest.raises(MusicDeliveryError, match=r"broke off|truncated"):
        _write(url, target.parent, name="t.wav", target=target)
    assert _objects(s3_server, storage_bucket) == {"t.wav": b"RIFF-previous"}
    assert _unfinished_uploads(s3_server, storage_bucket) == []


@pytest.mark.s3
def test_s3_size_limit_stops_the_upload(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, no_new_s3_threads: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    emulator.add_faults([{"target": "audio", "action": "oversize", "extra_bytes": 20_000_000}])
    target = _s3(storage_bucket, "t.wav")
    with pytest.raises(MusicAudioInvalidError, match="exceeded the limit of 12000000 bytes"):
        _write(url, target.parent, name="t.wav", target=target, max_bytes=12_000_000)
    assert _objects(s3_server, storage_bucket) == {}
    assert _unfinished_uploads(s3_server, storage_bucket) == []


@pytest.mark.s3
def test_s3_storage_failure_mid_upload_propagates_and_leaves_nothing(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, no_new_s3_threads: None
) -> None:
    """The store drops the upload half way (aborted by someone else): the next part fails for real."""
    url = emulator_audio_url(emulator, 120_000)
    s3_server.client().put_object(Bucket=storage_bucket, Key="t.wav", Body=b"RIFF-previous")
    # The download stops for 15 s after 12 MiB: two 5 MiB parts are uploaded by then, so the upload
    # exists and cannot complete until the rest arrives; the saboteur (looking every 10 ms) aborts it
    # in that pause, and the next part then fails for real.
    emulator.add_faults([{"target": "audio", "action": "stall", "bytes": 12 * MiB, "seconds": 15}])
    aborted: list[str] = []

    def abort_it() -> None:
        client = s3_server.client()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for upload in client.list_multipart_uploads(Bucket=storage_bucket).get("Uploads", []):
                client.abort_multipart_upload(
                    Bucket=storage_bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted.append(upload["Key"])
                return
            time.sleep(0.01)

    saboteur = threading.Thread(target=abort_it)
    saboteur.start()
    target = _s3(storage_bucket, "t.wav")
    try:
        with pytest.raises(MusicDeliveryError, match="NoSuchUpload") as info:
            _write(url, target.parent, name="t.wav", target=target)
    finally:
        saboteur.join()
    assert aborted == ["t.wav"]
    assert "any previous object is untouched" in str(info.value)
    assert _objects(s3_server, storage_bucket) == {"t.wav": b"RIFF-previous"}
    assert _unfinished_uploads(s3_server, storage_bucket) == []


@pytest.mark.s3
def test_s3_storage_refusing_the_upload_propagates(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, no_new_s3_threads: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    target = _s3(f"{storage_bucket}-missing", "t.wav")  # a bucket that does not exist
    with pytest.raises(MusicDeliveryError, match=r"Writing the audio into .* failed after \d+ bytes"):
        _write(url, target.parent, name="t.wav", target=target)


@pytest.mark.s3
def test_s3_without_a_known_name_writes_a_temporary_upload_then_renames(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, no_new_s3_threads: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    stored = _write(url, _s3(storage_bucket, "music/"), name="t")
    assert not stored.in_place
    assert stored.path.name.startswith(".partial-t-")
    final = finalize(stored, _s3(storage_bucket, "music/t.wav"))
    assert _sha256(_objects(s3_server, storage_bucket)["music/t.wav"]) == final.sha256
    assert list(_objects(s3_server, storage_bucket)) == ["music/t.wav"]
    assert _unfinished_uploads(s3_server, storage_bucket) == []


@pytest.mark.s3
def test_s3_write_clears_what_a_killed_try_left_of_the_same_object_only(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str
) -> None:
    """A SIGKILLed worker leaves unfinished uploads (invisible, billed) and maybe a temporary object."""
    client = s3_server.client()
    for key in ("m/t.wav", "m/.partial-t.wav-0123", "m/other.wav", "m/.partial-other.wav-0123", "t.wav"):
        upload = client.create_multipart_upload(Bucket=storage_bucket, Key=key)
        client.upload_part(
            Bucket=storage_bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"half a track"
        )
    client.put_object(Bucket=storage_bucket, Key="m/.partial-t.wav-4567", Body=b"RIFF a whole temporary")
    client.put_object(Bucket=storage_bucket, Key="m/.partial-other.wav-4567", Body=b"someone else's")
    url = emulator_audio_url(emulator, 60_000)
    target = _s3(storage_bucket, "m/t.wav")
    stored = _write(url, target.parent, name="t.wav", target=target)
    assert sorted(_objects(s3_server, storage_bucket)) == ["m/.partial-other.wav-4567", "m/t.wav"]
    assert _sha256(_objects(s3_server, storage_bucket)["m/t.wav"]) == stored.sha256
    assert _unfinished_uploads(s3_server, storage_bucket) == [
        "m/.partial-other.wav-0123",
        "m/other.wav",
        "t.wav",
    ]


@pytest.mark.s3
def test_s3_store_stream_writes_in_place_without_asking_and_finds_it_by_stem(
    emulator: Emulator, s3_server: S3Server, storage_bucket: str, no_new_s3_threads: None
) -> None:
    """The one entry of the hook and delivery: in place on S3, so ``keep_existing`` is never asked."""
    url = emulator_audio_url(emulator, 10_000)
    target = _s3(storage_bucket, "music/t.wav")
    asked: list[ObjectStoragePath] = []

    def keep(final: ObjectStoragePath) -> bool:
        asked.append(final)
        return True

    with MusicGenerationHook().open_audio(url) as stream:
        stored = store_stream(stream, target, keep_existing=keep)
    assert stored is not None
    assert stored.in_place
    assert stored.path == target
    assert asked == []
    assert (stored.size_bytes, stored.sha256) == expected_audio("wav", 10_000)
    assert find_by_stem(_s3(storage_bucket, "music/"), "t", ("mp3", "wav")) == target
    assert find_by_stem(_s3(storage_bucket, "music/"), "u", ("mp3", "wav")) is None
    assert list(_objects(s3_server, storage_bucket)) == ["music/t.wav"]
