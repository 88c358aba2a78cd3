"""
The listening page's streaming from a real S3 server (Ceph RGW) through ``ObjectStoragePath`` and the
task's storage connection: exact ranges, the object checked before it is sent, bounded memory.
"""

from __future__ import annotations

import os
import struct
import tracemalloc
import uuid
from typing import TYPE_CHECKING

import pytest
from fastapi import HTTPException

from airflow_provider_music.ui._app import READ_BLOCK, STREAM_CHUNK, _checked, _read
from airflow_provider_music.ui._objects import resolve_object

if TYPE_CHECKING:
    from helpers.s3_server import S3Server

pytestmark = [pytest.mark.s3, pytest.mark.integration]

CONN_ID = "music_listen_s3"
SIZE = 24 * 1024 * 1024


def _wav(data_bytes: int) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
    return header + b"data" + struct.pack("<I", data_bytes)


@pytest.fixture
def s3_track(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> tuple[str, bytes, str]:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.airflow_conn_json())
    bucket = s3_server.make_bucket(f"listen-{uuid.uuid4().hex[:12]}")
    body = _wav(SIZE - 44) + os.urandom(SIZE - 44)
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="tracks/night.wav", Body=body)
    client.put_object(Bucket=bucket, Key="tracks/notes.txt", Body=b"root:x:0:0:" + b"x" * (SIZE - 11))
    return bucket, body, f"s3://{bucket}/tracks/night.wav"


def _join(path: object, start: int, length: int) -> bytes:
    chunks = list(_read(path, start, length))  # type: ignore[arg-type]
    assert all(len(chunk) <= STREAM_CHUNK for chunk in chunks)
    return b"".join(chunks)


def test_ranges_from_s3_through_the_connection(s3_track: tuple[str, bytes, str]) -> None:
    _, body, uri = s3_track
    manifest = {"uri": uri, "size_bytes": SIZE, "storage_conn_id": CONN_ID}
    path, size, content_type = _checked(resolve_object(manifest, "track"))
    assert (size, content_type) == (SIZE, "audio/wav")
    for start, length in ((0, 44), (1000, 1), (SIZE - 100, 100), (SIZE // 3, 3 * STREAM_CHUNK + 17)):
        assert _join(path, start, length) == body[start : start + length], (start, length)


def test_memory_stays_bounded_for_a_long_range(s3_track: tuple[str, bytes, str]) -> None:
    _, _, uri = s3_track
    path, _, _ = _checked(resolve_object({"uri": uri, "storage_conn_id": CONN_ID}, "track"))
    tracemalloc.start()
    try:
        seen = 0
        for chunk in _read(path, 10, SIZE - 10):
            seen += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == SIZE - 10
    # The whole range is 24 MiB; what is held at once is the read block and a chunk or two.
    assert peak < 4 * READ_BLOCK + 4 * STREAM_CHUNK + 2 * 1024 * 1024, peak


def test_s3_objects_that_are_not_what_the_manifest_says_are_refused(s3_track: tuple[str, bytes, str]) -> None:
    bucket, _, uri = s3_track
    cases = [
        {
            "uri": f"s3://{bucket}/tracks/notes.txt",
            "size_bytes": SIZE,
            "storage_conn_id": CONN_ID,
        },  # not audio
        {"uri": uri, "size_bytes": SIZE - 1, "storage_conn_id": CONN_ID},  # another size
        {"uri": f"s3://{bucket}/tracks/missing.wav", "storage_conn_id": CONN_ID},
        {"uri": uri, "storage_conn_id": "no_such_connection"},
    ]
    for manifest in cases:
        with pytest.raises(HTTPException) as caught:
            _checked(resolve_object(manifest, "track"))
        assert caught.value.status_code == 404, manifest
