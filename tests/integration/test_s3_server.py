"""The Ceph RGW test server is real S3 for what the provider does, seen through Airflow's ObjectStoragePath.

The provider streams audio into ``ObjectStoragePath("s3://...", conn_id=...)``: it writes to a temporary
key and then moves the object into place. These tests exercise exactly those calls against the server
from ``tests/helpers/s3_server.py``, with the connection set the way deployments set it
(``AIRFLOW_CONN_<ID>``),
and count the S3 requests each step costs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk import ObjectStoragePath

if TYPE_CHECKING:
    from collections.abc import Iterator

    from helpers.s3_server import S3Server

pytestmark = pytest.mark.s3

CONN_ID = "music_s3_rgw"
MiB = 1024 * 1024
BLOCK = 5 * MiB  # the smallest part S3 accepts, hence the smallest s3fs write block


@pytest.fixture
def root(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> ObjectStoragePath:
    """A fresh bucket per test, addressed through an ``aws`` connection from the environment."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", s3_server.airflow_conn_json())
    bucket = s3_server.make_bucket(f"music-{uuid.uuid4().hex[:16]}")
    return ObjectStoragePath(f"s3://{bucket}/", conn_id=CONN_ID)


@contextlib.contextmanager
def s3_requests(path: ObjectStoragePath) -> Iterator[Counter[str]]:
    """Count the S3 API operations made through the path's filesystem: the cost of each step."""
    calls: Counter[str] = Counter()

    def _count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    events = path.fs.s3.meta.events
    events.register("before-call.s3", _count, unique_id="test-s3-server-count")
    try:
        yield calls
    finally:
        events.unregister("before-call.s3", unique_id="test-s3-server-count")


def write_streamed(path: ObjectStoragePath, data: bytes, chunk: int = MiB) -> None:
    """Write as the provider does: in chunks through a file object with a 5 MiB block (multipart)."""
    with path.open("wb", block_size=BLOCK) as f:
        for start in range(0, len(data), chunk):
            f.write(data[start : start + chunk])


def sha256_streamed(path: ObjectStoragePath) -> str:
    digest = hashlib.sha256()
    with path.open("rb", block_size=BLOCK) as f:
        while block := f.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def test_connection_json_is_an_airflow_aws_connection(s3_server: S3Server) -> None:
    conn = json.loads(s3_server.airflow_conn_json())
    assert conn["conn_type"] == "aws"
    assert (conn["login"], conn["password"]) == (s3_server.access_key, s3_server.secret_key)
    assert conn["extra"] == {
        "endpoint_url": s3_server.endpoint_url,
        "region_name": "us-east-1",
        "config_kwargs": {"s3": {"addressing_style": "path"}},
    }


def test_small_object_write_exists_stat_read(root: ObjectStoragePath) -> None:
    path = root / "prompts" / "hello.txt"
    assert not path.exists()
    with s3_requests(root) as calls:
        path.write_bytes(b"hello music")
    assert calls["PutObject"] == 1, calls  # below one block: a single PUT on close, no multipart
    assert path.exists()
    assert path.is_file()
    assert path.stat().st_size == len(b"hello music")
    assert path.read_bytes() == b"hello music"


def test_multipart_write_read_back_and_ranged_read(root: ObjectStoragePath) -> None:
    data = os.urandom(12 * MiB)
    path = root / "audio" / "track.mp3"
    with s3_requests(root) as calls:
        write_streamed(path, data)
    assert calls["CreateMultipartUpload"] == 1, calls
    assert calls["UploadPart"] == 3, calls  # 5 + 5 + 2 MiB
    assert calls["CompleteMultipartUpload"] == 1, calls
    assert calls["PutObject"] == 0, calls

    assert path.exists()
    info = path.stat()
    assert info.st_size == len(data)
    assert info["ETag"].strip('"').endswith("-3")  # S3's multipart ETag: md5 of part md5s, "-parts"
    assert sha256_streamed(path) == hashlib.sha256(data).hexdigest()
    with path.open("rb", block_size=BLOCK) as f:  # ranged GETs, which botocore checksum-validates
        f.seek(BLOCK - 10)
        assert f.read(20) == data[BLOCK - 10 : BLOCK + 10]


def test_rename_moves_temporary_key_into_place_server_side(
    root: ObjectStoragePath, record_property: Any
) -> None:
    data = os.urandom(12 * MiB)
    temporary = root / ".tmp" / f"{uuid.uuid4().hex}.part"
    final = root / "audio" / "final.mp3"
    write_streamed(temporary, data)

    with s3_requests(root) as calls:
        moved = temporary.rename(final)
    record_property("rename_requests", dict(calls))

    assert isinstance(moved, ObjectStoragePath)
    # Same connection and key (str() carries both); ``.conn_id`` itself only exists on Airflow >= 3.2.
    assert moved.samestore(final)
    assert str(moved) == str(final)
    assert moved.key == "audio/final.mp3"
    assert not temporary.exists()
    assert final.stat().st_size == len(data)
    assert sha256_streamed(final) == hashlib.sha256(data).hexdigest()
    # The cost: a server-side CopyObject plus a delete and a few look-ups; the bytes never pass
    # through the worker (no GET, no PUT/UploadPart).
    assert calls["CopyObject"] == 1, calls
    assert calls["DeleteObjects"] + calls["DeleteObject"] == 1, calls
    assert not {"GetObject", "PutObject", "UploadPart", "UploadPartCopy"} & set(calls), calls
    assert sum(calls.values()) <= 6, calls  # measured: 2 ListObjectsV2, HeadObject, CopyObject, DeleteObjects


def test_rename_replaces_an_existing_object(root: ObjectStoragePath) -> None:
    """A re-run task moves its new file over the old one: rename must overwrite, like replace()."""
    final = root / "audio" / "again.mp3"
    final.write_bytes(b"old take")
    temporary = root / ".tmp" / "again.part"
    temporary.write_bytes(b"new take")
    temporary.rename(final)
    assert final.read_bytes() == b"new take"
    assert not temporary.exists()


def test_airflow_move_within_the_bucket(root: ObjectStoragePath) -> None:
    source = root / ".tmp" / "move.part"
    source.write_bytes(b"x" * 1000)
    target = root / "audio" / "moved.mp3"
    with s3_requests(root) as calls:
        source.move(target)
    assert not source.exists()
    assert target.read_bytes() == b"x" * 1000
    assert calls["CopyObject"] == 1, calls


def test_unlink(root: ObjectStoragePath) -> None:
    path = root / "audio" / "gone.mp3"
    path.write_bytes(b"bye")
    path.unlink()
    assert not path.exists()
    with pytest.raises(FileNotFoundError):
        path.unlink()
    path.unlink(missing_ok=True)


def test_iterdir_lists_objects_and_prefixes(root: ObjectStoragePath) -> None:
    for key in ("album/one.mp3", "album/two.mp3", "album/stems/bass.wav", "other.txt"):
        (root / key).write_bytes(key.encode())
    album = root / "album"
    entries = {p.name: p for p in album.iterdir()}
    assert set(entries) == {"one.mp3", "two.mp3", "stems"}
    assert entries["stems"].is_dir()
    assert entries["one.mp3"].is_file()
    assert entries["one.mp3"].samestore(root)  # children keep the connection
    assert entries["two.mp3"].read_bytes() == b"album/two.mp3"
    assert {p.name for p in root.iterdir()} == {"album", "other.txt"}


def test_wrong_secret_is_refused(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real server checks signatures (moto does not): a wrong secret must not write anything."""
    bucket = s3_server.make_bucket(f"music-{uuid.uuid4().hex[:16]}")
    conn = s3_server.airflow_conn()
    conn["password"] = "x" * len(s3_server.secret_key)
    monkeypatch.setenv("AIRFLOW_CONN_MUSIC_S3_RGW_BAD_SECRET", json.dumps(conn))
    path = ObjectStoragePath(f"s3://{bucket}/denied.txt", conn_id="music_s3_rgw_bad_secret")
    with pytest.raises(PermissionError):
        path.write_bytes(b"nope")
    listing = s3_server.client().list_objects_v2(Bucket=bucket)
    assert listing.get("KeyCount", 0) == 0
