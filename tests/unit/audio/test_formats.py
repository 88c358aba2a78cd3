"""The accepted formats, their names, and sniffing audio from its first bytes (byte fixtures from helpers)."""

from __future__ import annotations

import random

import pytest
from helpers.audio_samples import (
    adts_frame,
    flac_stream,
    id3v2_tag,
    m4a_stream,
    make_wav,
    mp3_frames,
    mpeg_header,
    ogg_vorbis,
    xing_frame,
)

from airflow_provider_music.audio import (
    AAC,
    FLAC,
    FORMATS,
    HEADER_BYTES,
    M4A,
    MP3,
    OGG,
    SNIFF_BYTES,
    WAV,
    AudioFormat,
    duration_seconds,
    format_for,
    sniff,
)

# --------------------------------------------------------------------------- public surface


def test_formats_are_the_documented_ones() -> None:
    assert [(f.name, f.extension, f.content_type) for f in FORMATS] == [
        ("wav", "wav", "audio/wav"),
        ("mp3", "mp3", "audio/mpeg"),
        ("flac", "flac", "audio/flac"),
        ("ogg", "ogg", "audio/ogg"),
        ("aac", "aac", "audio/aac"),
        ("m4a", "m4a", "audio/mp4"),
    ]
    assert SNIFF_BYTES >= 64
    assert HEADER_BYTES >= 64 * 1024
    with pytest.raises(AttributeError):
        WAV.name = "x"  # type: ignore[misc]
    assert AudioFormat("wav", "wav", "audio/wav") == WAV


# --------------------------------------------------------------------------- format_for


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("audio/mpeg", MP3),
        ("audio/mp3", MP3),
        ("Audio/MPEG; charset=binary", MP3),
        ("audio/wav", WAV),
        ("audio/x-wav", WAV),
        ("audio/wave", WAV),
        ("audio/vnd.wave; codec=1", WAV),
        ("audio/flac", FLAC),
        ("audio/ogg", OGG),
        ("audio/aac", AAC),
        ("audio/mp4", M4A),
        ("audio/x-m4a", M4A),
        ("application/octet-stream", None),
        ("text/html; charset=utf-8", None),
        ("application/json", None),
        ("", None),
        (None, None),
    ],
)
def test_format_for_content_type(content_type: str | None, expected: AudioFormat | None) -> None:
    assert format_for(content_type=content_type) is expected


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/files/song.mp3", MP3),
        ("/files/song.WAV", WAV),
        ("track.flac", FLAC),
        ("/a/b.ogg", OGG),
        ("/a/b.aac", AAC),
        ("/a/b.m4a", M4A),
        ("https://cdn.example.com/out/abc.mp3?X-Amz-Signature=1.wav#t=2", MP3),
        ("https://cdn.example.mp3", None),
        ("https://cdn.example.com/download?id=1", None),
        ("/files/song", None),
        ("/files/song.bin", None),
        ("/files.mp3/", MP3),
        ("", None),
    ],
)
def test_format_for_url_path(url_path: str, expected: AudioFormat | None) -> None:
    assert format_for(url_path=url_path) is expected


def test_format_for_prefers_a_known_content_type_and_falls_back_to_the_url() -> None:
    assert format_for("audio/wav", "/x/song.mp3") is WAV
    assert format_for("application/octet-stream", "/x/song.mp3") is MP3
    assert format_for("binary/octet-stream; x=y", "/x/song.flac") is FLAC
    assert format_for() is None


# --------------------------------------------------------------------------- sniff


def test_sniff_recognises_each_container() -> None:
    assert sniff(make_wav(0.1)[:SNIFF_BYTES]) is WAV
    assert sniff(b"".join(mp3_frames(20))[:SNIFF_BYTES]) is MP3
    assert sniff((id3v2_tag() + b"".join(mp3_frames(5)))[:SNIFF_BYTES]) is MP3
    assert sniff(id3v2_tag(body_size=100_000)[:SNIFF_BYTES]) is MP3  # the tag alone says mp3
    assert sniff(xing_frame(100) + b"".join(mp3_frames(3))) is MP3
    assert sniff(flac_stream(44100, 441000)) is FLAC
    assert sniff(id3v2_tag() + flac_stream(44100, 441000)) is FLAC
    assert sniff(ogg_vorbis()) is OGG
    assert sniff(m4a_stream()[:SNIFF_BYTES]) is M4A
    assert sniff(adts_frame() * 5) is AAC
    assert sniff(adts_frame(mpeg2=True) * 5) is AAC
    assert sniff(b"RF64\xff\xff\xff\xffWAVEds64") is WAV
    assert sniff(bytearray(make_wav(0.1))) is WAV  # type: ignore[arg-type]  # any bytes-like works


def test_sniff_accepts_mpeg2_layer3_and_mono() -> None:
    # MPEG-2 Layer III 64 kbit/s 22050 Hz: 72 * 64000 // 22050 = 208 bytes per frame.
    frame = mpeg_header(bitrate_index=8, version=2, mono=True) + bytes(204)
    assert sniff(frame * 4) is MP3


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>",
        b"<html><body>Service unavailable</body></html>",
        b"\xef\xbb\xbf<!doctype html>",
        b'{"message":"Internal server error","status":500}',
        b'{"error": {"code": "rate_limited"}}',
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>',
        b"Not Found",
        b"OK",
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64),  # JPEG: 0xFF but no frame sync
        b"%PDF-1.7\n",
        b"PK\x03\x04" + bytes(64),
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # ISO BMFF, but an image
        b"\xff",
        b"\xff\xfb",  # truncated frame header
        b"\xff\xfb\x90",
        b"\xff\xfb\xf0\x00" + bytes(1000),  # bitrate index 15
        b"\xff\xfb\x0c\x00" + bytes(1000),  # reserved sample rate
        b"\xff\xfb\x90\x00" + bytes(413) + b"<html>",  # sync not confirmed by the next frame
        b"\xff\xff\xff\xff" * 64,
        b"\xff\xf1",  # truncated ADTS
        b"\xff\xf1\x7c\x80\x00\x1f\xfc" + bytes(64),  # ADTS with frame length 0
        b"RIFF\x00\x00",
        b"RIFF\x24\x00\x00\x00AVI LIST",
        b"ID3",
        b"ID3\x04\x00\x00",
        b"ID3\x04\x00\x00\x80\x80\x80\x80",  # not syncsafe
        b"fLa",
        b"OggS",
        b"Ogg",
        b"\x00\x00\x00\x20ftyp",
    ],
)
def test_sniff_rejects_what_is_not_audio(head: bytes) -> None:
    assert sniff(head) is None
    assert duration_seconds(head, 1_000_000) is None


def test_sniff_rejects_random_bytes_with_stray_sync_bytes() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        noise = bytearray(rng.randbytes(SNIFF_BYTES))
        noise[0] = 0xFF
        noise[1] = rng.choice((0xFB, 0xFA, 0xF3, 0xE3, 0xF1))
        # A stray sync byte followed by noise almost never predicts the next header too.
        result = sniff(bytes(noise))
        assert result is None or result in FORMATS
    misses = sum(sniff(bytes((0xFF, 0xFB)) + rng.randbytes(SNIFF_BYTES - 2)) is not None for _ in range(500))
    assert misses <= 2
