"""What the listening page may serve: object ids, recorded URIs, byte ranges, what the bytes are."""

from __future__ import annotations

import pytest

from airflow_provider_music.ui._objects import (
    OBJECT_ID,
    RefusedObjectError,
    check_uri,
    object_entries,
    parse_range,
    resolve_object,
    sniff_kind,
)

MANIFEST = {
    "uri": "s3://bucket/music/track.mp3",
    "size_bytes": 1000,
    "storage_conn_id": "aws_music",
    "waveform": {"png_uri": "s3://bucket/music/track.png", "peaks_uri": "s3://bucket/music/track.peaks.json"},
    "source": {"uri": "file:///data/music/raw.wav", "sha256": "ab"},
    "attempts": [{"generation_id": "g1", "uri": "s3://bucket/rejected/g1.mp3"}, {"generation_id": "g2"}],
}


def test_object_ids_of_a_manifest() -> None:
    assert sorted(object_entries(MANIFEST)) == ["attempt-0", "source", "track", "waveform"]
    served = resolve_object(MANIFEST, "track")
    assert (served.uri, served.kind, served.size_bytes, served.storage_conn_id) == (
        "s3://bucket/music/track.mp3",
        "audio",
        1000,
        "aws_music",
    )
    assert resolve_object(MANIFEST, "waveform").kind == "image"
    assert resolve_object(MANIFEST, "attempt-0").uri == "s3://bucket/rejected/g1.mp3"
    assert resolve_object(MANIFEST, "source").storage_conn_id == "aws_music"


@pytest.mark.parametrize(
    "object_id",
    [
        "attempt-1",
        "attempt-01",
        "attempt-1000",
        "peaks",
        "uri",
        "../track",
        "track/..",
        "TRACK",
        "track ",
        "",
    ],
)
def test_unknown_or_unrecorded_ids_are_refused(object_id: str) -> None:
    with pytest.raises(RefusedObjectError):
        resolve_object(MANIFEST, object_id)


def test_no_manifest_nothing_served() -> None:
    for manifest in (None, "file:///etc/passwd", ["file:///etc/passwd"], {}, {"uri": None}):
        with pytest.raises(RefusedObjectError):
            resolve_object(manifest, "track")


def test_object_id_grammar() -> None:
    assert OBJECT_ID.fullmatch("attempt-0")
    assert OBJECT_ID.fullmatch("attempt-999")
    assert not OBJECT_ID.fullmatch("attempt-0\n")


@pytest.mark.parametrize(
    "uri",
    [
        "file:///data/music/a.wav",
        "s3://bucket/a/b.mp3",
        "gs://bucket/a.flac",
        "file:///data/music/a b (1).wav",
    ],
)
def test_plain_object_uris_pass(uri: str) -> None:
    assert check_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "/etc/passwd",
        "etc/passwd",
        "file://localhost/etc/passwd",
        "file://host/etc/passwd",
        "file:///data/../etc/passwd",
        "file:///data/./a.wav",
        "file:///data//a.wav",
        "file:///data/music/",
        "file:///data/%2e%2e/etc/passwd",
        "file:///data/a.wav?x=1",
        "file:///data/a.wav#frag",
        "file:///data/a\x00.wav",
        "file:///data/a\\..\\b.wav",
        "s3://user:secret@bucket/a.wav",
        "s3://aws_default@bucket/a.wav",
        "s3://bucket:9000/a.wav",
        "s3:///a.wav",
        "s3://bucket",
        "http://127.0.0.1/a.wav",
        "https://cdn.example/a.wav?X-Amz-Signature=x",
        "ftp://host/a.wav",
        "memory:///a.wav",
        "sftp://host/a.wav",
        "",
        None,
        42,
        "file:///" + "a" * 5000,
    ],
)
def test_refused_uris(uri: object) -> None:
    with pytest.raises(RefusedObjectError):
        check_uri(uri)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-", (0, 99)),
        ("bytes=10-19", (10, 19)),
        ("bytes=90-500", (90, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-500", (0, 99)),
        ("BYTES = 5-6", (5, 6)),
        ("bytes=5-4", None),  # invalid: ignored
        ("bytes=0-1,5-6", None),  # several ranges: the whole object
        ("items=0-1", None),
        ("bytes=a-b", None),
        ("bytes=-", None),
        ("bytes=1-x", None),
        ("bytes=--1", None),
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(ValueError, match="range"):
        parse_range(header, 100)


def test_sniff_kind() -> None:
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)
    assert sniff_kind(wav, "audio") == "audio/wav"
    assert sniff_kind(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100), "audio") == "audio/mpeg"
    assert sniff_kind(b"root:x:0:0:root:/root:/bin/bash\n", "audio") is None
    assert sniff_kind(b"\x89PNG\r\n\x1a\n" + bytes(20), "image") == "image/png"
    assert sniff_kind(wav, "image") is None
    assert sniff_kind(b"\x89PNG\r\n\x1a\n", "audio") is None
