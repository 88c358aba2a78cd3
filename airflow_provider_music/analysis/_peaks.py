"""Sample peak, true peak (ITU-R BS.1770-4 Annex 2), clipped samples and leading/trailing silence.

The true peak is the largest magnitude of the signal oversampled by a polyphase FIR interpolator:
4x below 96 kHz (BS.1770-4 asks for at least 4x at 48 kHz), 2x below 192 kHz, none above. Blocks are
filtered with a history of the previous block's last frames, so the result does not depend on the
block size.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import signal

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: Taps per polyphase branch of the interpolation filter, and its Kaiser window's beta: flat (< 0.01
#: dB) to 0.4 of the sample rate, so Tech 3341's true-peak signals (up to fs/4) are measured exactly.
TAPS_PER_PHASE = 24
KAISER_BETA = 6.0
_RATE_FOR_4X, _RATE_FOR_2X = 96_000, 192_000


def oversampling_factor(sample_rate: int) -> int:
    """How many times the signal is oversampled for the true peak at ``sample_rate``."""
    if sample_rate < _RATE_FOR_4X:
        return 4
    return 2 if sample_rate < _RATE_FOR_2X else 1


@functools.lru_cache(maxsize=4)
def interpolation_filter(factor: int) -> NDArray[np.float32]:
    """The low-pass FIR of the ``factor``-times interpolator (gain ``factor`` in its pass band).

    An odd length makes its delay a whole number of output samples, so every input sample is among
    the outputs exactly (a true peak is never below the sample peak) and the others fall at k/factor.
    """
    taps = TAPS_PER_PHASE * factor + 1
    window = ("kaiser", KAISER_BETA)
    design = signal.firwin(taps, 1.0 / factor, window=window) * factor
    result: NDArray[np.float32] = design.astype(np.float32)
    return result


def amplitude_to_db(amplitude: float) -> float:
    """A linear magnitude to dB (``-inf`` for 0)."""
    return 20.0 * math.log10(amplitude) if amplitude > 0.0 else -math.inf


class TruePeakMeter:
    """Feed blocks of frames (``frames x channels``); `finish` flushes the filter and gives the peak."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self._factor = oversampling_factor(sample_rate)
        self._filter = interpolation_filter(self._factor) if self._factor > 1 else None
        self._history_len = TAPS_PER_PHASE + 2
        # Leading zeros: the signal is zero before its first sample, as for any FIR at the start.
        self._history = np.zeros((self._history_len, channels), dtype=np.float32)
        self._peak = 0.0

    @property
    def factor(self) -> int:
        """The oversampling factor in use."""
        return self._factor

    def add(self, frames: NDArray[np.floating]) -> None:
        """Oversample ``frames`` (with the previous block's tail) and keep the largest magnitude."""
        if not len(frames):
            return
        if self._filter is None:
            self._peak = max(self._peak, float(np.abs(frames).max()))
            return
        data = np.concatenate((self._history, frames.astype(np.float32, copy=False)))
        self._history = data[-self._history_len :]
        upsampled = signal.upfirdn(self._filter, data, up=self._factor, axis=0)
        # Only outputs that all their taps' inputs contributed to: no edge effect at a block boundary.
        first = len(self._filter) - 1
        last = self._factor * (len(data) - 1)
        if last >= first:
            self._peak = max(self._peak, float(np.abs(upsampled[first : last + 1]).max()))

    def finish(self) -> float:
        """Flush the filter with the zeros after the end; the true peak as a linear magnitude."""
        if self._filter is not None:
            self.add(np.zeros_like(self._history))
        return self._peak


class SampleStats:
    """Sample peak, clipped-sample count and the first and last frame above the silence threshold."""

    def __init__(self, silence_threshold: float, clip_level: float) -> None:
        self._silence = silence_threshold
        self._clip = clip_level
        self.peak = 0.0
        self.clipped = 0
        self.frames = 0
        self.first_sound: int | None = None  # index of the first frame at or above the threshold
        self.last_sound: int | None = None

    def add(self, frames: NDArray[np.floating]) -> None:
        """Count ``frames`` (``frames x channels``) in."""
        if not len(frames):
            return
        absolute = np.abs(frames)
        magnitude = absolute.max(axis=1)
        self.peak = max(self.peak, float(magnitude.max()))
        self.clipped += int(np.count_nonzero(absolute >= self._clip))
        loud = np.flatnonzero(magnitude >= self._silence)
        if len(loud):
            if self.first_sound is None:
                self.first_sound = self.frames + int(loud[0])
            self.last_sound = self.frames + int(loud[-1])
        self.frames += len(frames)

    def leading_silence_frames(self) -> int:
        """Frames before the first one at or above the threshold (all of them for a silent track)."""
        return self.frames if self.first_sound is None else self.first_sound

    def trailing_silence_frames(self) -> int:
        """Frames after the last one at or above the threshold (all of them for a silent track)."""
        return self.frames if self.last_sound is None else self.frames - 1 - self.last_sound
