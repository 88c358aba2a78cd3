"""Mastering DSP: the gain to a loudness target under a true-peak ceiling, each format, resampling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy import signal

from airflow_provider_music.analysis import (
    ENCODINGS,
    PolyphaseResampler,
    analyze,
    master,
    planned_gain,
    render,
)
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicInputError

RATE = 44_100


def _write(path: Path, frames: np.ndarray, rate: int = RATE) -> Path:
    soundfile.write(path, frames, rate, subtype="FLOAT")
    return path


def _tone(seconds: float = 10.0, amplitude: float = 0.1, hz: float = 997.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = amplitude * np.sin(2 * np.pi * hz * t)
    return np.stack([mono, mono], axis=1)


def _music_like(seconds: float = 8.0, rate: int = RATE) -> np.ndarray:
    """Band-limited noise with a slow envelope: a crest factor like music's, so codecs add peaks."""
    rng = np.random.default_rng(7)
    noise = rng.standard_normal((int(seconds * rate), 2))
    sos = signal.butter(4, [60, 12_000], btype="bandpass", fs=rate, output="sos")
    shaped = signal.sosfilt(sos, noise, axis=0)
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * np.arange(len(shaped)) / rate)[:, None]
    result: np.ndarray = 0.05 * shaped * envelope
    return result


def test_planned_gain_is_the_smaller_of_target_and_ceiling() -> None:
    assert planned_gain(-20.0, -10.0, -14.0, -1.0) == (6.0, False)
    assert planned_gain(-20.0, -3.0, -14.0, -1.0) == (2.0, True)
    assert planned_gain(-10.0, -2.0, -14.0, -1.0) == (-4.0, False)  # louder than the target: turned down
    with pytest.raises(MusicInputError, match="silent"):
        planned_gain(-math.inf, -math.inf, -14.0, -1.0)


def test_a_tone_at_a_known_level_gets_exactly_the_gain_to_the_target(tmp_path: Path) -> None:
    source = _write(tmp_path / "tone.wav", _tone(amplitude=0.1))  # 997 Hz stereo at -20 dBFS: ~-20 LUFS
    measured = analyze(source)
    result = master(
        source, tmp_path / "out.wav", target_lufs=-14.0, true_peak_ceiling_dbtp=-1.0, output_format="wav"
    )
    assert result.gain_db == pytest.approx(-14.0 - measured.integrated_loudness_lufs, abs=0.01)
    assert result.gain_db == pytest.approx(6.0, abs=0.1)
    assert result.achieved_lufs == pytest.approx(-14.0, abs=0.1)
    assert not result.limited_by_ceiling
    assert result.ceiling_met
    assert result.passes == 1
    written = analyze(tmp_path / "out.wav")
    assert written.integrated_loudness_lufs == pytest.approx(-14.0, abs=0.1)
    assert soundfile.info(str(tmp_path / "out.wav")).subtype == "PCM_24"
    assert not list(tmp_path.glob("out.wav.pass*")), "intermediate renders are removed"


def test_a_loud_source_is_turned_down(tmp_path: Path) -> None:
    source = _write(tmp_path / "loud.wav", _tone(amplitude=0.5))  # ~-6 LUFS, peak -6 dBTP
    result = master(
        source, tmp_path / "out.wav", target_lufs=-23.0, true_peak_ceiling_dbtp=-1.0, output_format="wav"
    )
    assert result.gain_db == pytest.approx(-17.0, abs=0.1)
    assert result.achieved_lufs == pytest.approx(-23.0, abs=0.1)
    assert not result.limited_by_ceiling


def test_a_peaky_signal_stops_at_the_ceiling_and_says_so(tmp_path: Path) -> None:
    frames = _tone(amplitude=0.02, hz=440.0)
    frames[::RATE] = 0.9  # one spike a second: quiet overall, peaks near full scale
    source = _write(tmp_path / "peaky.wav", frames)
    result = master(
        source, tmp_path / "out.wav", target_lufs=-14.0, true_peak_ceiling_dbtp=-1.0, output_format="wav"
    )
    assert result.limited_by_ceiling
    assert result.gain_db == pytest.approx(-1.0 - result.source.true_peak_dbtp, abs=0.02)
    assert result.achieved_lufs < -14.0 - 10  # far under the target, and reported
    assert result.achieved_true_peak_dbtp == pytest.approx(-1.0, abs=0.02)
    assert result.ceiling_met
    section = result.to_manifest()
    assert section["limited_by_ceiling"] is True
    assert section["achieved_lufs"] == pytest.approx(result.achieved_lufs, abs=1e-3)
    assert "ceiling limited the gain" in result.summary()


@pytest.mark.parametrize("fmt", sorted(ENCODINGS))
def test_each_format_round_trips_and_decodes_under_the_ceiling(tmp_path: Path, fmt: str) -> None:
    source = _write(tmp_path / "music.wav", _music_like())
    out = tmp_path / f"out.{fmt}"
    result = master(source, out, target_lufs=-9.0, true_peak_ceiling_dbtp=-1.0, output_format=fmt)
    info = soundfile.info(str(out))
    assert info.format == ENCODINGS[fmt].major
    assert info.samplerate == RATE
    assert info.channels == 2
    decoded = analyze(out)  # decodes, and the figures are the written file's
    assert decoded.integrated_loudness_lufs == pytest.approx(result.achieved_lufs, abs=1e-6)
    assert decoded.duration_seconds == pytest.approx(8.0, abs=0.1)
    assert result.ceiling_met, result.summary()
    assert decoded.true_peak_dbtp <= -1.0 + 0.01
    # Gain only: the loudness reached is the target, or less when the ceiling held the gain back.
    assert result.achieved_lufs <= -9.0 + 0.1
    assert result.limited_by_ceiling == (result.achieved_lufs < -9.0 - 0.05)
    assert 1 <= result.passes <= 3


@pytest.mark.parametrize("fmt", ["ogg", "mp3"])
def test_a_lossy_overshoot_is_corrected_by_another_pass(tmp_path: Path, fmt: str) -> None:
    source = _write(tmp_path / "music.wav", _music_like())
    kw = {"target_lufs": -6.0, "true_peak_ceiling_dbtp": -1.0, "output_format": fmt}
    one = master(source, tmp_path / f"one.{fmt}", max_passes=1, **kw)  # type: ignore[arg-type]
    three = master(source, tmp_path / f"three.{fmt}", **kw)  # type: ignore[arg-type]
    assert three.ceiling_met, three.summary()
    assert three.limited_by_ceiling
    if not one.ceiling_met:  # the codec's overshoot was measured and taken off the gain
        assert three.passes > 1
        assert three.gain_db < one.gain_db
        assert "OVER the ceiling" in one.summary()
        assert one.to_manifest()["ceiling_met"] is False


def test_resampling_preserves_the_level(tmp_path: Path) -> None:
    source = _write(tmp_path / "tone.wav", _tone(amplitude=0.1))
    result = master(
        source,
        tmp_path / "out.flac",
        target_lufs=-16.0,
        true_peak_ceiling_dbtp=-1.0,
        output_format="flac",
        sample_rate=48_000,
    )
    assert result.sample_rate == 48_000
    assert soundfile.info(str(tmp_path / "out.flac")).samplerate == 48_000
    assert result.achieved_lufs == pytest.approx(-16.0, abs=0.1)
    assert result.output.duration_seconds == pytest.approx(10.0, abs=1e-3)


@pytest.mark.parametrize(("from_rate", "to_rate"), [(44_100, 48_000), (48_000, 44_100), (48_000, 24_000)])
@pytest.mark.parametrize("block", [1_000, 4_096, 65_536])
def test_the_block_resampler_equals_a_one_shot_resample(from_rate: int, to_rate: int, block: int) -> None:
    rng = np.random.default_rng(3)
    frames = rng.standard_normal((30_011, 2))
    common = math.gcd(from_rate, to_rate)
    one_shot = signal.resample_poly(frames, to_rate // common, from_rate // common, axis=0)
    resampler = PolyphaseResampler(from_rate, to_rate, out_block=2_000)
    blocks = list(resampler.process(frames[i : i + block] for i in range(0, len(frames), block)))
    streamed = np.concatenate(blocks)
    assert streamed.shape == one_shot.shape
    assert np.abs(streamed - one_shot).max() < 1e-9  # no block edge leaves a trace


def test_a_rendered_resample_has_no_click_at_block_edges(tmp_path: Path) -> None:
    frames = _tone(seconds=3.0, amplitude=0.5)
    source = _write(tmp_path / "tone.wav", frames)
    out = tmp_path / "out.wav"
    render(source, out, gain_db=-6.0, output_format="wav", sample_rate=48_000, block_frames=1_000)
    written, rate = soundfile.read(str(out), dtype="float64", always_2d=True)
    assert rate == 48_000
    expected = signal.resample_poly(frames, 160, 147, axis=0) * 10 ** (-6.0 / 20)
    assert written.shape == expected.shape
    assert np.abs(written - expected).max() < 2.0**-22  # 24-bit quantisation, nothing more
    # and the output is a clean tone: no sample-to-sample jump larger than the sine's own slope
    slope = 2 * np.pi * 997.0 / 48_000 * 0.5 * 10 ** (-6.0 / 20)
    inner = written[2_000:-2_000, 0]
    assert np.abs(np.diff(inner)).max() < slope * 1.01


def test_mp3_refuses_a_rate_it_cannot_carry(tmp_path: Path) -> None:
    source = _write(tmp_path / "tone.wav", _tone(seconds=1.0))
    with pytest.raises(MusicInputError, match="MP3 cannot carry 96000 Hz"):
        render(source, tmp_path / "x.mp3", gain_db=0.0, output_format="mp3", sample_rate=96_000)
    assert not (tmp_path / "x.mp3").exists()


def test_a_silent_or_undecodable_source_is_refused(tmp_path: Path) -> None:
    silent = _write(tmp_path / "silent.wav", np.zeros((RATE, 2)))
    with pytest.raises(MusicInputError, match="silent"):
        master(
            silent, tmp_path / "o.wav", target_lufs=-14.0, true_peak_ceiling_dbtp=-1.0, output_format="wav"
        )
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"<html>not audio</html>")
    with pytest.raises(MusicAudioInvalidError):
        master(
            garbage, tmp_path / "o.wav", target_lufs=-14.0, true_peak_ceiling_dbtp=-1.0, output_format="wav"
        )
    assert not (tmp_path / "o.wav").exists()
