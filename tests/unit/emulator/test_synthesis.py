"""The generated audio is valid, deterministic and matches `expected_audio` and `audio_size`."""

from __future__ import annotations

import hashlib
import io
import struct
import wave

import pytest

from airflow_provider_music.emulator import audio_size, audio_stream, expected_audio, mp3_stream, wav_stream

MP3_BITRATES_KBPS = {9: 128}


def walk_mp3_frames(data: bytes) -> int:
    """Count MPEG-1 Layer III frames, checking each header; returns the frame count."""
    pos = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        pos = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    frames = 0
    while pos < len(data):
        b0, b1, b2, _ = data[pos : pos + 4]
        assert b0 == 0xFF, f"no frame sync at {pos}"
        assert b1 == 0xFB, f"no frame sync at {pos}"
        assert b2 >> 4 in MP3_BITRATES_KBPS
        assert (b2 >> 2) & 3 == 0  # 128 kbit/s, 44.1 kHz
        padding = (b2 >> 1) & 1
        pos += 144 * 128_000 // 44_100 + padding
        frames += 1
    assert pos == len(data)
    return frames


@pytest.mark.parametrize("length_ms", [10_000, 12_340, 300_000])
def test_wav_header_consistent_with_length(length_ms: int) -> None:
    head = next(wav_stream(length_ms))
    assert head[:4] == b"RIFF"
    assert head[8:16] == b"WAVEfmt "
    (riff_size,) = struct.unpack("<I", head[4:8])
    (data_size,) = struct.unpack("<I", head[40:44])
    frames = length_ms * 44_100 // 1000
    assert data_size == frames * 4
    assert riff_size == 36 + data_size == audio_size("wav", length_ms) - 8


def test_wav_parses_and_is_audible() -> None:
    data = b"".join(wav_stream(10_000, chunk_size=7_000))
    with wave.open(io.BytesIO(data)) as w:
        params = (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes())
        assert params == (2, 2, 44_100, 441_000)
        pcm = w.readframes(4410)
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    assert 1000 < max(abs(s) for s in samples) < 16_000  # quiet but not silent


@pytest.mark.parametrize("fmt", ["wav", "mp3", "mp3_id3"])
@pytest.mark.parametrize("length_ms", [10_000, 61_001])
def test_expected_audio_matches_stream_for_any_chunk_size(fmt: str, length_ms: int) -> None:
    size, sha = expected_audio(fmt, length_ms)
    assert size == audio_size(fmt, length_ms)
    for chunk_size in (1_000, 65_536, 500_000):
        data = b"".join(audio_stream(fmt, length_ms, chunk_size))
        assert all(len(c) <= chunk_size for c in audio_stream(fmt, length_ms, chunk_size))
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha)


def test_mp3_frames_valid_and_cover_length() -> None:
    data = b"".join(mp3_stream(10_000))
    frames = walk_mp3_frames(data)
    duration = frames * 1152 / 44_100
    assert 10.0 <= duration < 10.0 + 1152 / 44_100
    assert data[:2] == b"\xff\xfb"


def test_mp3_with_id3_tag() -> None:
    data = b"".join(mp3_stream(10_000, id3=True))
    assert data[:3] == b"ID3"
    assert walk_mp3_frames(data) == walk_mp3_frames(b"".join(mp3_stream(10_000)))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown audio format 'flac'"):
        expected_audio("flac", 10_000)
    with pytest.raises(ValueError, match="length_ms must be a non-negative integer"):
        list(wav_stream(-1))
