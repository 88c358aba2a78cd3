"""What each audio character sounds like, decoded with soundfile from the bytes the emulator serves.

Levels are measured twice: with `airflow_provider_music.analysis.analyze` (BS.1770-4 loudness, true
peak) and with plain RMS and peak sums here, so a drift in either shows.
"""

from __future__ import annotations

import functools
import hashlib
import io
import sys

import numpy as np
import pytest
import soundfile as sf

from airflow_provider_music.analysis import analyze
from airflow_provider_music.emulator import AudioCharacter, _mp3, audio_size, audio_stream, expected_audio

RATE = 44_100
LENGTH_MS = 12_000
FRAMES = LENGTH_MS * RATE // 1000
FORMATS = ("wav", "pcm", "mp3", "mp3_id3")
LOSSLESS = ("wav", "pcm")
FULL_SCALE = 32767
#: The ``default`` character's bytes as they were before characters existed (they must never change).
DEFAULT_10S = {
    "wav": (1_764_044, "c922b7722b644f744478fc509ba2ccdec065c9a341593b1b5c660c341364a2a8"),
    "mp3": (160_078, "6047b4471de2274129b967b9de76a4c763e42acd124e96955812d383c2df2597"),
    "mp3_id3": (160_159, "21dcda2ada25feba8a2acbd34b8bdc7a80b6e1c6c581ceaf10c752ff0adcd887"),
    "pcm": (1_764_000, "1daba9314275b5df033564c086bdde0d5b617060b71d1fa83355a4d4efbfea84"),
}


@functools.cache
def served(fmt: str, character: str, length_ms: int = LENGTH_MS) -> bytes:
    data = b"".join(audio_stream(fmt, length_ms, character=character))
    assert len(data) == audio_size(fmt, length_ms, character)
    return data


@functools.cache
def decoded(fmt: str, character: str) -> np.ndarray:
    """The served file as float samples (frames x 2); int16 scale for the lossless formats."""
    data = served(fmt, character)
    if fmt == "pcm":
        samples, rate = sf.read(
            io.BytesIO(data), samplerate=RATE, channels=2, format="RAW", subtype="PCM_16", dtype="int16"
        )
        out: np.ndarray = samples.astype(np.float64)
        return out
    samples, rate = sf.read(io.BytesIO(data), dtype="int16" if fmt == "wav" else "float64", always_2d=True)
    assert rate == RATE
    assert samples.shape[1] == 2
    out = samples.astype(np.float64) if fmt == "wav" else samples * 32768.0
    return out


@functools.cache
def measured(fmt: str, character: str) -> dict[str, float]:
    data = served(fmt, character)
    pcm = None
    if fmt == "pcm":
        from airflow_provider_music.analysis import PcmLayout

        pcm = PcmLayout(sample_rate=RATE, channels=2)
    return dict(analyze(data, requested_seconds=LENGTH_MS / 1000, pcm=pcm).to_manifest())


def rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples / 32768.0)))))


def test_default_is_todays_audio_byte_for_byte() -> None:
    for fmt, pinned in DEFAULT_10S.items():
        assert expected_audio(fmt, 10_000) == pinned
        assert expected_audio(fmt, 10_000, "default") == pinned
        assert expected_audio(fmt, 10_000, AudioCharacter()) == pinned


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("character", "lufs"), [("music", -14.0), ("quiet", -35.0), ("loud", -6.0), ("clipping", None)]
)
def test_levels(fmt: str, character: str, lufs: float | None) -> None:
    m = measured(fmt, character)
    assert m["duration_seconds"] == pytest.approx(LENGTH_MS / 1000, abs=1e-3)
    assert (m["sample_rate"], m["channels"]) == (RATE, 2)
    if lufs is not None:
        assert m["integrated_loudness_lufs"] == pytest.approx(lufs, abs=0.5)
    assert m["leading_silence_seconds"] < 0.01
    assert m["trailing_silence_seconds"] < 0.01
    samples = decoded(fmt, character)
    assert rms_db(samples[: RATE // 100]) > -50  # audible from the first 10 ms ...
    assert rms_db(samples[-RATE // 100 :]) > -50  # ... to the last
    if character == "music":
        assert -3.0 < m["true_peak_dbtp"] <= (-1.0 if fmt in LOSSLESS else -0.5)
        assert m["clipped_samples"] == 0
    if character == "quiet":  # the same music, 21 dB down
        assert rms_db(samples) - rms_db(decoded(fmt, "music")) == pytest.approx(-21.0, abs=0.2)
    if character == "loud":
        assert m["true_peak_dbtp"] > 0.3  # inter-sample peaks over full scale ...
        if fmt in LOSSLESS:  # ... from samples that never reach it
            assert np.abs(samples).max() < FULL_SCALE
            assert m["clipped_samples"] == 0
    if character == "clipping":
        if fmt in LOSSLESS:
            at_full_scale = np.count_nonzero(np.abs(samples) >= FULL_SCALE)
            assert at_full_scale > 0.05 * samples.size
            assert m["clipped_samples"] == at_full_scale
        else:
            assert m["sample_peak_dbfs"] >= 0.0
            assert m["clipped_samples"] > 0.01 * samples.size


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("character", "seconds"),
    [("lead_silence:seconds=2", 2.0), ("lead_silence", 5.0), ("trail_silence:seconds=3.5", 3.5)],
)
def test_silence_at_one_end(fmt: str, character: str, seconds: float) -> None:
    m = measured(fmt, character)
    lead = character.startswith("lead")
    silent_end, other_end = (
        ("leading_silence_seconds", "trailing_silence_seconds")
        if lead
        else ("trailing_silence_seconds", "leading_silence_seconds")
    )
    assert m[silent_end] == pytest.approx(seconds, abs=0.02)
    assert m[other_end] < 0.01
    assert m["duration_seconds"] == pytest.approx(LENGTH_MS / 1000, abs=1e-3)
    assert m["integrated_loudness_lufs"] == pytest.approx(-14.0, abs=0.5)  # the rest is music
    samples = decoded(fmt, character)
    cut = round(seconds * RATE)
    silence, music = (samples[:cut], samples[cut:]) if lead else (samples[-cut:], samples[:-cut])
    if fmt in LOSSLESS:
        assert not silence.any()  # digital silence
        edge = music[: RATE // 100] if lead else music[-RATE // 100 :]
        assert np.abs(edge).max() > 300  # music right after (before) it
    assert rms_db(music) > -25


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("character", "ratio"), [("short", 0.5), ("short:ratio=0.25", 0.25)])
def test_short(fmt: str, character: str, ratio: float) -> None:
    samples = decoded(fmt, character)
    frames = round(FRAMES * ratio)
    if fmt in LOSSLESS:
        assert len(samples) == frames
    else:  # the encoder's delay and padding are undone on decoding, to within a frame
        assert abs(len(samples) - frames) < 1152
    m = measured(fmt, character)
    assert m["length_ratio"] == pytest.approx(ratio, abs=0.01)
    assert m["integrated_loudness_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert m["trailing_silence_seconds"] < 0.01


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("character", ["music", "lead_silence:seconds=1", "short:ratio=0.3"])
def test_expected_audio_matches_the_stream_for_any_chunk_size(fmt: str, character: str) -> None:
    size, sha = expected_audio(fmt, LENGTH_MS, character)
    assert size == audio_size(fmt, LENGTH_MS, character)
    for chunk_size in (1_000, 65_536, 3_000_000):
        chunks = list(audio_stream(fmt, LENGTH_MS, chunk_size, character))
        assert all(0 < len(c) <= chunk_size for c in chunks)
        data = b"".join(chunks)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha)


def test_mp3_is_really_encoded_and_wav_and_pcm_share_samples() -> None:
    mp3 = served("mp3", "music")
    assert mp3 != served("mp3", "default")
    assert mp3[:2] == b"\xff\xfb"  # an MPEG-1 Layer III frame sync
    tagged = served("mp3_id3", "music")
    assert tagged.startswith(b"ID3")
    assert tagged.endswith(mp3)
    assert served("wav", "music")[44:] == served("pcm", "music")
    assert served("wav", "music") != served("wav", "default")


def test_characters_differ_and_are_deterministic() -> None:
    hashes = {name: expected_audio("wav", 10_000, name) for name in ("music", "quiet", "loud", "clipping")}
    assert len({sha for _, sha in hashes.values()}) == 4
    data = b"".join(audio_stream("wav", 10_000, character="loud"))
    assert hashlib.sha256(data).hexdigest() == hashes["loud"][1]


def test_a_long_track_is_tiled_not_synthesised() -> None:
    size, _ = expected_audio("pcm", 300_000, "music")
    assert size == 300 * RATE * 4
    assert audio_size("wav", 300_000, "lead_silence:seconds=299") == 44 + 300 * RATE * 4


def test_an_mp3_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = served("mp3", "quiet", 10_010)

    def refuse(chunks: object) -> bytes:
        raise AssertionError("encoded twice")

    monkeypatch.setattr(_mp3, "encode_mp3", refuse)
    assert audio_size("mp3", 10_010, "quiet") == len(first)
    assert b"".join(audio_stream("mp3_id3", 10_010, character="quiet")).endswith(first)
    with pytest.raises(AssertionError, match="encoded twice"):
        audio_size("mp3", 10_020, "quiet")


def test_mp3_without_the_audio_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_music.emulator._synthesis import audio_problem

    monkeypatch.setitem(sys.modules, "soundfile", None)  # `import soundfile` now fails
    problem = audio_problem("mp3", "music")
    assert problem is not None
    assert "pip install 'airflow-provider-music[audio]'" in problem
    assert audio_problem("mp3_id3", "short") == problem
    assert audio_problem("mp3", "default") is None  # silent frames need no encoder
    assert audio_problem("wav", "music") is None  # nor do WAV and PCM
    assert audio_problem("pcm", "clipping") is None
    with pytest.raises(_mp3.Mp3EncoderMissingError, match=r"airflow-provider-music\[audio\]"):
        audio_size("mp3", 10_030, "music")
    assert len(b"".join(audio_stream("wav", 10_030, character="music"))) == 44 + 10_030 * RATE // 1000 * 4
