"""The EBU conformance signals, generated from their published definitions, and ffmpeg's reading.

EBU Tech 3341 (loudness metering, v4 2016) and Tech 3342 (loudness range, v4 2016) define their test
signals as sequences of 1 kHz sines at given levels in dBFS (the sine's peak relative to full scale)
and durations, and the true-peak cases as sines at a fraction of the sample rate with a given phase.
Writing them as 32-bit float WAV keeps them exact (no quantisation); ffmpeg's ``ebur128`` filter,
run on the same file, is the independent reference (Debian's ffmpeg, scripts/install-ffmpeg.sh).
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import soundfile

if TYPE_CHECKING:
    from numpy.typing import NDArray

RATE = 48_000
TONE_HZ = 1000.0
#: Tech 3341 5.0 case: L, R, C, Ls, Rs in WAV order.
FIVE_CHANNEL_LEVELS_DBFS = (-28.0, -28.0, -24.0, -30.0, -30.0)


def tone(level_dbfs: float, seconds: float, channels: int = 2, rate: int = RATE) -> NDArray[np.float64]:
    """A 1 kHz sine whose peak is ``level_dbfs``, the same on every channel (``frames x channels``)."""
    t = np.arange(round(seconds * rate)) / rate
    wave = 10.0 ** (level_dbfs / 20.0) * np.sin(2.0 * math.pi * TONE_HZ * t)
    return np.repeat(wave[:, None], channels, axis=1)


def sequence(*parts: tuple[float, float], rate: int = RATE) -> NDArray[np.float64]:
    """Stereo 1 kHz tones ``(level_dbfs, seconds)`` one after the other, as the EBU cases list them."""
    return np.concatenate([tone(level, seconds, rate=rate) for level, seconds in parts])


def five_channel(seconds: float = 20.0) -> NDArray[np.float64]:
    """Tech 3341 case 6: 5.0 channels of 1 kHz at L, R -28, C -24, Ls, Rs -30 dBFS -> -23.0 LUFS."""
    mono = tone(0.0, seconds, channels=1)[:, 0]
    return np.stack([10.0 ** (level / 20.0) * mono for level in FIVE_CHANNEL_LEVELS_DBFS], axis=1)


def true_peak_sine(
    fraction_of_rate: float, phase_degrees: float, peak_dbfs: float, seconds: float = 1.0, fade: float = 0.05
) -> NDArray[np.float64]:
    """Stereo sine at ``fraction_of_rate`` x fs, starting at ``phase_degrees``, true peak ``peak_dbfs``.

    A raised-cosine fade of ``fade`` seconds at both ends: a sine switched on at a non-zero value is a
    step, whose own inter-sample overshoot (Gibbs) is not what the case measures.
    """
    n = np.arange(round(seconds * RATE))
    wave = 10.0 ** (peak_dbfs / 20.0) * np.sin(
        2.0 * math.pi * fraction_of_rate * n + math.radians(phase_degrees)
    )
    ramp = round(fade * RATE)
    if ramp:
        window = 0.5 - 0.5 * np.cos(math.pi * np.arange(ramp) / ramp)
        wave[:ramp] *= window
        wave[-ramp:] *= window[::-1]
    return np.repeat(wave[:, None], 2, axis=1)


def encode(frames: NDArray[np.float64], rate: int = RATE, fmt: str = "WAV", subtype: str = "FLOAT") -> bytes:
    """The frames as a file in memory (32-bit float WAV by default: exact)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, frames, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ ffmpeg

FFMPEG = shutil.which("ffmpeg")


def in_ci() -> bool:
    """True under CI (``CI=true``), where a missing reference fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Ebur128:
    """ffmpeg's summary: integrated loudness, loudness range, true peak (each printed to 0.1)."""

    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float


_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+(?P<i>-?[\d.]+|-inf|nan) LUFS.*?"
    r"Loudness range:\s+LRA:\s+(?P<lra>-?[\d.]+) LU.*?"
    r"True peak:\s+Peak:\s+(?P<tp>-?[\d.]+|-inf) dBFS",
    re.DOTALL,
)


def ffmpeg_ebur128(path: str | os.PathLike[str]) -> Ebur128:
    """Run ``ffmpeg -af ebur128=peak=true`` on ``path`` and read its summary."""
    assert FFMPEG is not None
    run = subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            os.fspath(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    match = _SUMMARY.search(run.stderr[run.stderr.rfind("Summary:") :])
    assert match, run.stderr[-2000:]
    return Ebur128(float(match["i"]), float(match["lra"]), float(match["tp"]))


def music_like(seconds: float = 40.0, rate: int = 44_100, seed: int = 7) -> NDArray[np.float64]:
    """A deterministic stand-in for music: decaying notes of random pitch and level over a noise bed,
    under a slow level envelope (so the loudness range is not zero), stereo, a few samples clipped."""
    rng = np.random.default_rng(seed)
    total = round(seconds * rate)
    out = np.zeros((total, 2))
    position = 0
    while position < total:
        length = min(round(rate * rng.uniform(0.1, 0.6)), total - position)
        t = np.arange(length) / rate
        level = 10.0 ** (rng.uniform(-30.0, -6.0) / 20.0)
        note = (
            level * np.sin(2.0 * math.pi * rng.uniform(80.0, 4000.0) * t) * np.exp(-t * rng.uniform(1.0, 8.0))
        )
        out[position : position + length, 0] += note
        out[position : position + length, 1] += note * rng.uniform(0.5, 1.0)
        position += length
    out += 0.01 * rng.standard_normal((total, 2))
    envelope = np.interp(
        np.arange(total) / rate, [0, seconds / 3, 2 * seconds / 3, seconds], [0.3, 1.0, 0.5, 0.8]
    )
    return np.asarray(np.clip(1.5 * out * envelope[:, None], -1.0, 1.0))
