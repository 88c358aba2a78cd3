"""The waveform: audiowaveform's JSON against known envelopes, bounded points, and the PNG decoded back."""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np
import pytest
from helpers.ebu_signals import RATE, encode, tone

from airflow_provider_music.analysis import Waveform, analyze
from airflow_provider_music.analysis._waveform import BAR_RGBA, PNG_HEIGHT, PNG_WIDTH, WaveformBuilder

JSON_KEYS = {"version", "channels", "sample_rate", "samples_per_pixel", "bits", "length", "data"}


def half_silent(seconds: float = 4.0, level_dbfs: float = -6.0) -> np.ndarray:
    """Silence for the first half, then a 1 kHz tone whose peak is ``level_dbfs``."""
    half = round(seconds / 2 * RATE)
    return np.concatenate((np.zeros((half, 2)), tone(level_dbfs, seconds / 2)))


def decode_png(data: bytes) -> tuple[int, int, np.ndarray]:
    """Width, height and ``height x width x 4`` pixels of the RGBA PNGs `Waveform.to_png` writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, payload = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + payload), kind
        chunks.append((kind, payload))
        position += 12 + length
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert b"IDAT" in kinds
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 6, 0)  # 8-bit RGBA, not interlaced
    raw = zlib.decompress(b"".join(payload for kind, payload in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * 4)
    assert not rows[:, 0].any()  # filter type 0 (None) on every row: the bytes are the pixels
    return width, height, rows[:, 1:].reshape(height, width, 4)


def test_no_waveform_unless_asked() -> None:
    assert analyze(encode(tone(-20.0, 0.5))).waveform is None


def test_json_is_audiowaveform_version_2_with_the_signals_envelope() -> None:
    found = analyze(encode(half_silent()), waveform_points=100).waveform
    assert found is not None
    peaks = found.to_json()
    assert json.loads(json.dumps(peaks)) == peaks
    assert set(peaks) == JSON_KEYS
    assert (peaks["version"], peaks["channels"], peaks["bits"], peaks["sample_rate"]) == (2, 1, 8, RATE)
    assert peaks["samples_per_pixel"] == 4 * RATE // 100  # 1920: 100 points over 4 s
    assert peaks["length"] == 100
    data = peaks["data"]
    assert len(data) == 2 * peaks["length"]
    assert all(isinstance(value, int) for value in data)
    # The silent half is (0, 0); the -6 dBFS tone (0.501) is floor(-0.501*128), floor(0.501*128).
    assert data[:100] == [0] * 100
    assert data[100:] == [-65, 64] * 50


def test_every_channel_counts() -> None:
    frames = np.zeros((RATE, 2))
    frames[RATE // 2 :, 1] = 0.25  # only the right channel, only in the second half, positive only
    found = analyze(encode(frames), waveform_points=2).waveform
    assert found is not None
    assert found.data == (0, 0, 0, 32)


@pytest.mark.parametrize(
    ("frames", "points"), [(1, 1), (10, 1800), (999, 1000), (1000, 1000), (1001, 1000), (48_000, 1800)]
)
def test_length_follows_the_points_asked(frames: int, points: int) -> None:
    found = analyze(encode(tone(-6.0, frames / RATE)), waveform_points=points).waveform
    assert found is not None
    assert found.samples_per_pixel == max(1, math.ceil(frames / points))
    assert found.length == math.ceil(frames / found.samples_per_pixel)
    assert found.length <= points
    assert found.length >= min(frames, points / 2)


def test_a_very_short_track_has_a_point_per_frame() -> None:
    frames = np.array([[0.5, -0.25], [0.0, 0.0], [-1.0, 1.0]])
    found = analyze(encode(frames), waveform_points=1800).waveform
    assert found is not None
    assert (found.samples_per_pixel, found.length) == (1, 3)
    assert found.data == (-32, 64, 0, 0, -128, 127)  # +1.0 is held at 127


@pytest.mark.parametrize("expected", [None, 1000, 10**6])
def test_buckets_merge_to_stay_within_the_points(expected: int | None) -> None:
    # Unknown, too short or too long an expected length: the result is the exact min/max of each
    # samples_per_pixel frames, whatever block sizes the audio came in.
    rng = np.random.default_rng(5)
    frames = (rng.uniform(-1.0, 1.0, (50_000, 2)) * np.linspace(0.0, 1.0, 50_000)[:, None]).astype(np.float32)
    builder = WaveformBuilder(300, RATE, expected)
    for start in range(0, len(frames), 777):
        builder.add(frames[start : start + 777])
    found = builder.finish()
    spp = found.samples_per_pixel
    assert found.length == math.ceil(len(frames) / spp) <= 300
    if expected != 10**6:  # begun at too coarse a scale (a wrong header), it stays there
        assert found.length > 150
    padded = np.concatenate((frames, np.repeat(frames[-1:], found.length * spp - len(frames), axis=0)))
    buckets = padded.reshape(found.length, -1)
    expected_data = np.empty(2 * found.length)
    expected_data[0::2] = np.clip(np.floor(buckets.min(axis=1).astype(np.float64) * 128), -128, 127)
    expected_data[1::2] = np.clip(np.floor(buckets.max(axis=1).astype(np.float64) * 128), -128, 127)
    assert list(found.data) == [int(v) for v in expected_data]


def test_a_very_long_track_keeps_memory_bounded() -> None:
    # 2 h of 44.1 kHz stereo fed in 1.5 s blocks to a builder that was not told the length.
    block = np.tile(np.array([[0.5, -0.5], [-0.25, 0.25]], dtype=np.float32), (32_768, 1))
    builder = WaveformBuilder(1800, 44_100)
    blocks = 2 * 3600 * 44_100 // len(block)
    for _ in range(blocks):
        builder.add(block)
        assert len(builder._mins) <= 1800
    found = builder.finish()
    assert 900 < found.length <= 1800
    assert found.length * found.samples_per_pixel >= blocks * len(block)
    assert set(found.data[0::2]) == {-64}
    assert set(found.data[1::2]) == {64}


def test_png_draws_the_loud_half_and_not_above_the_quiet_one() -> None:
    found = analyze(encode(half_silent()), waveform_points=PNG_WIDTH).waveform
    assert found is not None
    width, height, pixels = decode_png(found.to_png())
    assert (width, height) == (PNG_WIDTH, PNG_HEIGHT)
    centre = height // 2
    quiet, loud = width // 4, 3 * width // 4
    assert tuple(pixels[centre, quiet]) == BAR_RGBA  # silence is a line at the centre
    assert pixels[centre - 3, quiet, 3] == 0  # and nothing above it: transparent
    assert tuple(pixels[centre - 60, loud]) == BAR_RGBA  # the -6 dBFS tone reaches half way up
    assert tuple(pixels[centre + 60, loud]) == BAR_RGBA  # and down
    assert pixels[5, loud, 3] == 0
    assert pixels[height - 5, loud, 3] == 0
    assert not pixels[:, :, 3].all()


@pytest.mark.parametrize(("width", "height"), [(1, 1), (40, 10), (3000, 50)])
def test_png_size_is_what_was_asked(width: int, height: int) -> None:
    found = analyze(encode(half_silent(1.0)), waveform_points=500).waveform
    assert found is not None
    decoded_width, decoded_height, pixels = decode_png(found.to_png(width=width, height=height))
    assert (decoded_width, decoded_height) == (width, height)
    assert pixels[:, :, 3].any()  # something is drawn


def test_an_empty_waveform_is_a_blank_picture() -> None:
    empty = Waveform(sample_rate=RATE, samples_per_pixel=1, data=())
    assert empty.to_json()["length"] == 0
    assert empty.to_json()["data"] == []
    _, _, pixels = decode_png(empty.to_png(width=20, height=10))
    assert not pixels.any()


@pytest.mark.parametrize("size", [{"width": 0}, {"height": -1}, {"width": 100_000}, {"height": 2.5}])
def test_png_refuses_a_bad_size(size: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        Waveform(RATE, 1, (0, 0)).to_png(**size)  # type: ignore[arg-type]


def test_png_refuses_too_many_pixels() -> None:
    with pytest.raises(ValueError, match="more than 4194304 pixels"):
        Waveform(RATE, 1, (0, 0)).to_png(width=8192, height=8192)


@pytest.mark.parametrize("points", [0, -5])
def test_waveform_points_must_be_positive(points: int) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        analyze(encode(tone(-20.0, 0.5)), waveform_points=points)


def test_the_analysis_repr_leaves_the_waveform_out() -> None:
    result = analyze(encode(tone(-20.0, 0.5)), waveform_points=50)
    assert result.waveform is not None
    assert "waveform" not in repr(result)
    assert "waveform" not in result.to_manifest()
