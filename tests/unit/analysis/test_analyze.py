"""`analyze` end to end: what it decodes (the emulator's MP3, WAV and PCM; FLAC, OGG), from what
sources, the length ratio, the manifest, and its errors."""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers.ebu_signals import FFMPEG, RATE, encode, sequence, tone

from airflow_provider_music.analysis import (
    METHOD,
    METHOD_VERSION,
    AudioAnalysis,
    PcmLayout,
    analyze,
    decodable_formats,
)
from airflow_provider_music.emulator import audio_stream
from airflow_provider_music.exceptions import MusicAudioInvalidError

EMULATOR_RATE = 44_100
MP3_FRAME = 1152  # samples per MPEG-1 Layer III frame


def test_libsndfile_decodes_what_the_service_returns() -> None:
    # MP3 needs libsndfile >= 1.1 (the soundfile wheels bundle 1.2); WAV, FLAC, OGG always.
    assert {"MP3", "WAV", "FLAC", "OGG", "RAW"} <= decodable_formats()


@pytest.mark.parametrize("fmt", ["mp3", "mp3_id3"])
def test_the_emulators_mp3_decodes(fmt: str) -> None:
    data = b"".join(audio_stream(fmt, 10_000))
    result = analyze(data, requested_seconds=10.0)
    assert (result.container, result.sample_rate, result.channels) == ("MP3", EMULATOR_RATE, 2)
    # Whole MP3 frames covering the 10 s asked for: 383 x 1152 samples.
    assert result.frames == math.ceil(10 * EMULATOR_RATE / MP3_FRAME) * MP3_FRAME
    assert result.length_ratio == pytest.approx(1.0, abs=0.001)
    # Its frames carry no audio data: silence, which the figures say plainly.
    assert result.integrated_loudness_lufs == result.true_peak_dbtp == -math.inf
    assert result.leading_silence_seconds == result.duration_seconds


def test_the_emulators_wav_and_pcm_read_the_same() -> None:
    wav = analyze(b"".join(audio_stream("wav", 4_000)), requested_seconds=8.0)
    pcm = analyze(b"".join(audio_stream("pcm", 4_000)), requested_seconds=8.0, pcm=PcmLayout())
    assert (wav.container, pcm.container) == ("WAV", "RAW")
    assert wav.duration_seconds == pcm.duration_seconds == 4.0
    assert wav.length_ratio == pcm.length_ratio == 0.5
    assert wav.integrated_loudness_lufs == pytest.approx(pcm.integrated_loudness_lufs, abs=1e-9)
    assert -40.0 < wav.integrated_loudness_lufs < -20.0
    assert wav.sample_peak_dbfs <= wav.true_peak_dbtp < 0.0
    assert wav.clipped_samples == 0
    assert wav.leading_silence_seconds == wav.trailing_silence_seconds == 0.0


@pytest.mark.parametrize(
    ("fmt", "subtype", "tolerance"),
    [
        ("WAV", "PCM_16", 0.01),
        ("WAV", "PCM_24", 0.01),
        ("FLAC", "PCM_16", 0.01),
        ("OGG", "VORBIS", 0.2),
        ("MP3", "MPEG_LAYER_III", 0.2),
    ],
)
def test_each_format_measures_the_same_signal(fmt: str, subtype: str, tolerance: float) -> None:
    frames = sequence((-23.0, 6.0))
    result = analyze(encode(frames, rate=RATE, fmt=fmt, subtype=subtype))
    assert result.container == fmt
    assert result.duration_seconds == pytest.approx(6.0, abs=0.06)
    assert result.integrated_loudness_lufs == pytest.approx(-23.0, abs=tolerance)


def test_sources_bytes_path_and_open_file(tmp_path: Path) -> None:
    data = encode(tone(-18.0, 2.0))
    path = tmp_path / "track.wav"
    path.write_bytes(data)
    from_bytes = analyze(data)
    assert analyze(bytearray(data)) == from_bytes
    assert analyze(memoryview(data)) == from_bytes
    assert analyze(path) == from_bytes
    assert analyze(str(path)) == from_bytes
    with path.open("rb") as file:
        assert analyze(file) == from_bytes


def test_the_manifest_is_json_with_the_method() -> None:
    result = analyze(encode(np.concatenate((np.zeros((RATE, 2)), tone(-20.0, 3.0)))), requested_seconds=5)
    manifest = result.to_manifest()
    assert json.loads(json.dumps(manifest, allow_nan=False)) == manifest
    assert (manifest["method"], manifest["method_version"]) == (METHOD, METHOD_VERSION)
    assert "ITU-R BS.1770-4" in manifest["standards"]
    assert manifest["requested_seconds"] == 5.0
    assert manifest["length_ratio"] == pytest.approx(0.8)
    assert manifest["leading_silence_seconds"] == pytest.approx(1.0, abs=0.001)
    # The blocks straddling the onset (part silence, part tone) pass the gates and pull it down a little.
    assert manifest["integrated_loudness_lufs"] == pytest.approx(-20.0, abs=0.5)
    figures = {name for name in manifest if name not in ("method", "method_version", "standards")}
    assert figures == set(AudioAnalysis.__dataclass_fields__) - {"waveform"}  # a picture, not a figure
    assert "waveform" not in manifest


def test_silence_has_no_level_in_the_manifest() -> None:
    manifest = analyze(encode(np.zeros((RATE, 2)))).to_manifest()
    assert manifest["integrated_loudness_lufs"] is None
    assert manifest["true_peak_dbtp"] is None
    assert manifest["length_ratio"] is None


def test_the_analysis_is_frozen() -> None:
    result = analyze(encode(tone(-20.0, 1.0)))
    with pytest.raises(AttributeError):
        result.channels = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body>502 Bad Gateway</body></html>",
        b"RIFF\x00\x00\x00\x00WAVEjunk",
        bytes(range(256)) * 8,
    ],
    ids=["empty", "html", "broken-wav", "noise"],
)
def test_what_is_not_audio_is_refused(data: bytes) -> None:
    with pytest.raises(MusicAudioInvalidError, match="cannot be decoded"):
        analyze(data)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MusicAudioInvalidError):
        analyze(tmp_path / "absent.wav")


@pytest.mark.parametrize(
    "kwargs", [{"requested_seconds": 0}, {"requested_seconds": -1.0}, {"block_frames": 0}]
)
def test_bad_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        analyze(io.BytesIO(encode(tone(-20.0, 0.5))), **kwargs)  # type: ignore[arg-type]


def test_audio_that_breaks_part_way_is_refused() -> None:
    # A FLAC whose header is fine but whose frames turn to garbage half way: libsndfile loses sync.
    data = bytearray(encode(tone(-10.0, 5.0), fmt="FLAC", subtype="PCM_16"))
    middle = len(data) // 2
    data[middle : middle + 2000] = b"\xff" * 2000
    with pytest.raises(MusicAudioInvalidError, match="stopped decoding"):
        analyze(bytes(data))


@pytest.mark.parametrize(
    ("head", "named"),
    [
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42", "MP4/M4A (AAC or ALAC)"),
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2mp41", "MP4/M4A (AAC or ALAC)"),
        (bytes([0xFF, 0xF1, 0x50, 0x80, 0x2E, 0x7F, 0xFC]), "AAC (ADTS)"),
        (b"ADIF\x00\x00\x00\x00", "AAC (ADIF)"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "WebM/Matroska"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa", "WMA (ASF)"),
        (b"#!AMR\n", "AMR"),
    ],
    ids=["m4a", "mp4", "adts", "adif", "webm", "wma", "amr"],
)
def test_a_format_libsndfile_cannot_read_is_named(head: bytes, named: str, tmp_path: Path) -> None:
    data = head + bytes(4096)
    for source in (data, tmp_path / "track", io.BytesIO(data)):
        if isinstance(source, Path):
            source.write_bytes(data)
        with pytest.raises(MusicAudioInvalidError, match="cannot be decoded") as refused:
            analyze(source)
        assert f"it is {named}, which libsndfile does not decode" in str(refused.value)
        assert "MP3" in str(refused.value)  # and what it does read


def test_a_real_aac_file_is_refused_by_name(tmp_path: Path) -> None:
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (run scripts/install-ffmpeg.sh as root)")
    for suffix, named in ((".m4a", "MP4/M4A"), (".aac", "AAC (ADTS)")):
        path = tmp_path / f"tone{suffix}"
        tone = ["-f", "lavfi", "-i", "sine=frequency=1000:duration=1"]
        subprocess.run(
            [FFMPEG, "-nostdin", "-v", "error", *tone, "-c:a", "aac", str(path)],
            check=True,
            timeout=60,
        )
        with pytest.raises(MusicAudioInvalidError, match=re.escape(f"it is {named}")):
            analyze(path)
