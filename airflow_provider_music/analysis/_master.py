"""Loudness normalisation with a true-peak ceiling: gain only, rendered in blocks, measured after.

`master` measures the source (`analyze`), picks the gain that brings its integrated loudness to the
target unless that would put its true peak above the ceiling (then the gain stops at the ceiling and
the loudness falls short, said in the result), renders the derivative (resampled when asked, in the
chosen format) and measures what it wrote. A lossy codec or a resampler can push the true peak over
the ceiling: the gain is then lowered by the overshoot and the audio rendered again, a bounded number
of passes. No limiter or compressor ever touches the signal.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soundfile

from airflow_provider_music.analysis._analyze import analyze
from airflow_provider_music.analysis._decode import BLOCK_FRAMES, blocks, open_audio
from airflow_provider_music.analysis._resample import PolyphaseResampler
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicInputError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

    from airflow_provider_music.analysis._result import AudioAnalysis

#: Names the method in the manifest; bump the version whenever the output could change for the same input.
MASTERING_METHOD = "gain-to-target-lufs-true-peak-ceiling"
MASTERING_METHOD_VERSION = "1"
#: A true peak this far above the ceiling still counts as meeting it (the meter's rounding, 24-bit steps).
TRUE_PEAK_TOLERANCE_DB = 0.01
#: Below the overshoot a pass measured, so a lossy codec's next render lands under the ceiling.
TRUE_PEAK_MARGIN_DB = 0.05
#: An achieved loudness this close to the target needs no further pass.
LOUDNESS_TOLERANCE_LU = 0.05
DEFAULT_MAX_PASSES = 3


@dataclass(frozen=True)
class Encoding:
    """How libsndfile writes one output format."""

    major: str
    subtype: str
    #: libsndfile's compression level, 0 (best quality / least compression) to 1; None: its default.
    compression_level: float | None = None
    bitrate_mode: str | None = None


#: The formats a master is written in; WAV and FLAC as 24-bit PCM (no dither needed), MP3 at
#: constant 320 kbit/s, Ogg Vorbis at its highest quality.
ENCODINGS: dict[str, Encoding] = {
    "wav": Encoding("WAV", "PCM_24"),
    "flac": Encoding("FLAC", "PCM_24"),
    "ogg": Encoding("OGG", "VORBIS", compression_level=0.0),
    "mp3": Encoding("MP3", "MPEG_LAYER_III", compression_level=0.0, bitrate_mode="CONSTANT"),
}


@dataclass(frozen=True)
class MasteringResult:
    """What a mastering did: the gain, whether the ceiling limited it, and both analyses."""

    target_lufs: float
    true_peak_ceiling_dbtp: float
    gain_db: float
    limited_by_ceiling: bool
    passes: int
    output_format: str
    sample_rate: int
    source: AudioAnalysis
    output: AudioAnalysis

    @property
    def achieved_lufs(self) -> float:
        """The integrated loudness of the written file."""
        return self.output.integrated_loudness_lufs

    @property
    def achieved_true_peak_dbtp(self) -> float:
        """The true peak of the written file (decoded, as a player would)."""
        return self.output.true_peak_dbtp

    @property
    def ceiling_met(self) -> bool:
        """Whether the written file's true peak is at or under the ceiling."""
        return self.achieved_true_peak_dbtp <= self.true_peak_ceiling_dbtp + TRUE_PEAK_TOLERANCE_DB

    def to_manifest(self) -> dict[str, Any]:
        """The ``mastering`` section of the derivative's manifest (JSON-ready)."""
        return {
            "method": MASTERING_METHOD,
            "method_version": MASTERING_METHOD_VERSION,
            "target_lufs": self.target_lufs,
            "true_peak_ceiling_dbtp": self.true_peak_ceiling_dbtp,
            "gain_db": round(self.gain_db, 4),
            "limited_by_ceiling": self.limited_by_ceiling,
            "achieved_lufs": _rounded(self.achieved_lufs),
            "achieved_true_peak_dbtp": _rounded(self.achieved_true_peak_dbtp),
            "ceiling_met": self.ceiling_met,
            "passes": self.passes,
            "format": self.output_format,
            "sample_rate": self.sample_rate,
            "source_lufs": _rounded(self.source.integrated_loudness_lufs),
            "source_true_peak_dbtp": _rounded(self.source.true_peak_dbtp),
            "source_sample_rate": self.source.sample_rate,
        }

    def summary(self) -> str:
        """One line for the task log, saying plainly when the target was not reached."""
        reached = (
            f"the ceiling limited the gain: {self.achieved_lufs:.2f} LUFS instead of {self.target_lufs:.2f}"
            if self.limited_by_ceiling
            else f"{self.achieved_lufs:.2f} LUFS (target {self.target_lufs:.2f})"
        )
        peak = (
            f"true peak {self.achieved_true_peak_dbtp:.2f} dBTP (ceiling {self.true_peak_ceiling_dbtp:.2f})"
        )
        if not self.ceiling_met:
            peak += f", OVER the ceiling after {self.passes} passes"
        return f"gain {self.gain_db:+.2f} dB, {reached}, {peak}"


def _rounded(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def planned_gain(
    loudness_lufs: float, true_peak_dbtp: float, target_lufs: float, ceiling_dbtp: float
) -> tuple[float, bool]:
    """The gain (dB) to the target, or to the ceiling when that is less; and whether it was the ceiling."""
    if not math.isfinite(loudness_lufs):
        raise MusicInputError(
            "The source is silent (no loudness above the BS.1770 gate): there is nothing to normalise"
        )
    to_target = target_lufs - loudness_lufs
    to_ceiling = ceiling_dbtp - true_peak_dbtp
    return (to_ceiling, True) if to_ceiling < to_target else (to_target, False)


def check_sample_rate(output_format: str, sample_rate: int) -> None:
    """Refuse a rate the format cannot carry (MP3: 32/44.1/48 kHz and their halves and quarters)."""
    if output_format not in ENCODINGS:
        raise MusicInputError(f"output_format {output_format!r} is not one of {', '.join(ENCODINGS)}")
    encoding = ENCODINGS[output_format]
    if not soundfile.check_format(encoding.major, encoding.subtype):
        raise MusicInputError(f"this libsndfile cannot write {output_format} ({encoding.major})")
    if output_format == "mp3" and sample_rate not in MP3_SAMPLE_RATES:
        rates = ", ".join(str(r) for r in sorted(MP3_SAMPLE_RATES))
        raise MusicInputError(f"MP3 cannot carry {sample_rate} Hz; choose one of {rates}")


#: What an MPEG-1/2/2.5 Layer III stream can carry.
MP3_SAMPLE_RATES = frozenset({8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000})


def _correction(written: AudioAnalysis, target_lufs: float, ceiling_dbtp: float) -> float | None:
    """
    The gain change (dB) the next pass needs, or None when this render is right: under the ceiling
    (a codec's or resampler's overshoot comes off, with a margin), then as close to the target as
    the remaining headroom allows.
    """
    overshoot = written.true_peak_dbtp - ceiling_dbtp
    if overshoot > TRUE_PEAK_TOLERANCE_DB:
        return -(overshoot + TRUE_PEAK_MARGIN_DB)
    shortfall = target_lufs - written.integrated_loudness_lufs
    if shortfall < -LOUDNESS_TOLERANCE_LU:  # louder than the target: less gain, and lower peaks
        return shortfall
    step = min(shortfall, -overshoot - TRUE_PEAK_MARGIN_DB)
    return step if shortfall > LOUDNESS_TOLERANCE_LU and step > LOUDNESS_TOLERANCE_LU else None


def _better(new: AudioAnalysis, old: AudioAnalysis, target_lufs: float, ceiling_dbtp: float) -> bool:
    """Whether render ``new`` beats ``old``: under the ceiling first, then closer to the target."""
    new_ok = new.true_peak_dbtp <= ceiling_dbtp + TRUE_PEAK_TOLERANCE_DB
    old_ok = old.true_peak_dbtp <= ceiling_dbtp + TRUE_PEAK_TOLERANCE_DB
    if new_ok != old_ok:
        return new_ok
    if not new_ok:
        return new.true_peak_dbtp < old.true_peak_dbtp
    return abs(target_lufs - new.integrated_loudness_lufs) < abs(target_lufs - old.integrated_loudness_lufs)


def render(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    gain_db: float,
    output_format: str,
    sample_rate: int | None = None,
    block_frames: int = BLOCK_FRAMES,
) -> int:
    """
    Write ``source`` times ``gain_db`` (resampled to ``sample_rate`` when it differs) to ``output``.

    Returns the output's sample rate. Memory stays within a few blocks whatever the length.
    """
    encoding = ENCODINGS[output_format]
    factor = 10.0 ** (gain_db / 20.0)
    with open_audio(source) as audio:
        rate_in, channels = int(audio.samplerate), int(audio.channels)
        rate_out = rate_in if sample_rate is None else sample_rate
        check_sample_rate(output_format, rate_out)
        frames: Iterator[NDArray[np.float64]] = blocks(audio, block_frames)
        if rate_out != rate_in:
            frames = PolyphaseResampler(rate_in, rate_out, out_block=block_frames).process(frames)
        try:
            sink = soundfile.SoundFile(
                output,
                "w",
                samplerate=rate_out,
                channels=channels,
                format=encoding.major,
                subtype=encoding.subtype,
                compression_level=encoding.compression_level,
                bitrate_mode=encoding.bitrate_mode,
            )
        except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
            raise MusicInputError(
                f"libsndfile cannot write {output_format} at {rate_out} Hz with {channels} channels: {exc}"
            ) from None
        with sink:
            for block in frames:
                # A safety net only: with a ceiling at or under 0 dBTP the samples are within [-1, 1].
                sink.write(np.clip(block * factor, -1.0, 1.0))
    return rate_out


def master(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    target_lufs: float,
    true_peak_ceiling_dbtp: float,
    output_format: str,
    sample_rate: int | None = None,
    max_passes: int = DEFAULT_MAX_PASSES,
    block_frames: int = BLOCK_FRAMES,
) -> MasteringResult:
    """
    Normalise the local file ``source`` into ``output`` (see the module docstring); both are paths.

    Raises `MusicInputError` for a silent source or a format/rate that cannot be written,
    `MusicAudioInvalidError` when the source cannot be decoded.
    """
    if max_passes < 1:
        raise ValueError("max_passes must be at least 1")
    if output_format not in ENCODINGS:
        raise MusicInputError(f"output_format {output_format!r} is not one of {', '.join(ENCODINGS)}")
    measured = analyze(source, block_frames=block_frames)
    if measured.frames == 0:
        raise MusicAudioInvalidError("The source decodes to no audio at all")
    gain, _ = planned_gain(
        measured.integrated_loudness_lufs, measured.true_peak_dbtp, target_lufs, true_peak_ceiling_dbtp
    )
    best: tuple[AudioAnalysis, float, Path] | None = None  # the render kept so far, its gain, its file
    passes = 0
    try:
        while True:
            passes += 1
            attempt = Path(f"{os.fspath(output)}.pass{passes}")
            rate = render(
                source,
                attempt,
                gain_db=gain,
                output_format=output_format,
                sample_rate=sample_rate,
                block_frames=block_frames,
            )
            written = analyze(attempt, block_frames=block_frames)
            if best is None or _better(written, best[0], target_lufs, true_peak_ceiling_dbtp):
                if best is not None:
                    best[2].unlink()
                best = (written, gain, attempt)
            else:
                attempt.unlink()
            step = _correction(written, target_lufs, true_peak_ceiling_dbtp)
            if step is None or passes >= max_passes:
                break
            gain += step
        written, gain, kept = best
        os.replace(kept, output)
    finally:
        for leftover in Path(os.fspath(output)).parent.glob(f"{Path(os.fspath(output)).name}.pass*"):
            leftover.unlink(missing_ok=True)
    # Gain only: a master quieter than the target is one the ceiling held back (with a lossy codec's
    # peaks, possibly also the pass budget).
    limited = written.integrated_loudness_lufs < target_lufs - LOUDNESS_TOLERANCE_LU
    return MasteringResult(
        target_lufs=float(target_lufs),
        true_peak_ceiling_dbtp=float(true_peak_ceiling_dbtp),
        gain_db=gain,
        limited_by_ceiling=limited,
        passes=passes,
        output_format=output_format,
        sample_rate=rate,
        source=measured,
        output=written,
    )
