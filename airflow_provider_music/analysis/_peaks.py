"""Sample peak, true peak (ITU-R BS.1770-4 Annex 2), clipped samples and leading/trailing silence.

The true peak is the largest magnitude of the signal oversampled by a polyphase FIR interpolator:
4x below 96 kHz (BS.1770-4 asks for at least 4x at 48 kHz), 2x below 192 kHz, none above. Each phase
is a 24-tap FIR run in float32 over the interleaved frames; phase 0 passes the samples through, and
the filter's symmetry lets phases p and factor-p share their products. Blocks carry the previous
block's last frames, so the result does not depend on the block size. A chunk whose outputs provably
cannot exceed the peak found so far (sum of |taps| times its largest input) is not filtered at all:
loudest chunks first, so quiet passages cost only a max.
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
#: Frames filtered at a time: the working arrays (a few of chunk x channels float32) stay in cache.
CHUNK_FRAMES = 16384
#: Headroom on the skip bound for float32 rounding in the filtered outputs.
_BOUND_MARGIN = 1.0 + 1e-5


def oversampling_factor(sample_rate: int) -> int:
    """How many times the signal is oversampled for the true peak at ``sample_rate``."""
    if sample_rate < _RATE_FOR_4X:
        return 4
    return 2 if sample_rate < _RATE_FOR_2X else 1


@functools.lru_cache(maxsize=4)
def interpolation_filter(factor: int) -> NDArray[np.float32]:
    """The low-pass FIR of the ``factor``-times interpolator (gain ``factor`` in its pass band).

    An odd length makes its delay a whole number of output samples, so every input sample is among
    the outputs (a true peak is never below the sample peak) and the others fall at k/factor. The taps
    of phase 0 other than the centre are zeros of the sinc, set exactly: that phase is the input.
    """
    taps = TAPS_PER_PHASE * factor + 1
    window = ("kaiser", KAISER_BETA)
    design = signal.firwin(taps, 1.0 / factor, window=window) * factor
    centre = taps // 2
    centre_tap = design[centre]
    design[centre % factor :: factor] = 0.0
    design[centre] = centre_tap
    result: NDArray[np.float32] = design.astype(np.float32)
    result.flags.writeable = False
    return result


def amplitude_to_db(amplitude: float) -> float:
    """A linear magnitude to dB (``-inf`` for 0)."""
    return 20.0 * math.log10(amplitude) if amplitude > 0.0 else -math.inf


def _magnitude(values: NDArray[np.floating]) -> float:
    """The largest magnitude in ``values`` (0.0 when empty), without an array of absolute values."""
    if not values.size:
        return 0.0
    return max(float(values.max()), -float(values.min()))


class _PolyphaseKernel:
    """The ``factor - 1`` interpolating phases of the filter, paired by symmetry, over flat frames."""

    def __init__(self, factor: int, channels: int) -> None:
        taps = interpolation_filter(factor)
        if not np.array_equal(taps, taps[::-1]):  # pragma: no cover - firwin designs linear phase
            raise AssertionError("the interpolation filter must be symmetric")
        self.centre_tap = float(taps[len(taps) // 2])
        self.channels = channels
        # Phase p's taps are taps[p::factor]; phase factor-p's are the same reversed.
        self.pairs = [taps[p::factor].copy() for p in range(1, (factor + 1) // 2)]
        self.middle = taps[factor // 2 :: factor].copy() if factor % 2 == 0 else None
        phases = [*self.pairs, *([] if self.middle is None else [self.middle])]
        self.gain = max(float(np.abs(p.astype(np.float64)).sum()) for p in phases) * _BOUND_MARGIN
        length = CHUNK_FRAMES * channels
        self._out = np.empty((2, length), dtype=np.float32)
        self._product = np.empty(length + (TAPS_PER_PHASE - 1) * channels, dtype=np.float32)

    def peak(self, data: NDArray[np.float32]) -> float:
        """Largest magnitude of the interpolated outputs of flat ``data`` (history + chunk frames)."""
        width = self.channels
        history = (TAPS_PER_PHASE - 1) * width
        count = len(data) - history
        first, second = self._out[0, :count], self._out[1, :count]
        product = self._product[: len(data)]
        peak = 0.0
        for phase in self.pairs:
            # y_p[s] = sum_k h[k] x[s - k];  y_(factor-p)[s] = sum_k h[k] x[s - 23 + k].
            for k, tap in enumerate(phase):
                np.multiply(data, tap, out=product)
                late, early = product[history - k * width :][:count], product[k * width :][:count]
                if k:
                    first += late
                    second += early
                else:
                    first[:] = late
                    second[:] = early
            peak = max(peak, _magnitude(first), _magnitude(second))
        if self.middle is not None:
            # Symmetric: y[s] = sum_{k < 12} h[k] (x[s - k] + x[s - 23 + k]).
            for k in range(TAPS_PER_PHASE // 2):
                late, early = data[history - k * width :][:count], data[k * width :][:count]
                if k:
                    np.add(late, early, out=second)
                    second *= self.middle[k]
                    first += second
                else:
                    np.add(late, early, out=first)
                    first *= self.middle[k]
            peak = max(peak, _magnitude(first))
        return peak


class TruePeakMeter:
    """Feed blocks of frames (``frames x channels``); `finish` flushes the filter and gives the peak."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self._factor = oversampling_factor(sample_rate)
        self._channels = channels
        self._kernel = _PolyphaseKernel(self._factor, channels) if self._factor > 1 else None
        self._history_len = TAPS_PER_PHASE - 1
        # Leading zeros: the signal is zero before its first sample, as for any FIR at the start.
        self._history = np.zeros(self._history_len * channels, dtype=np.float32)
        self._peak = 0.0

    @property
    def factor(self) -> int:
        """The oversampling factor in use."""
        return self._factor

    def add(self, frames: NDArray[np.floating]) -> None:
        """Oversample ``frames`` (with the previous block's tail) and keep the largest magnitude."""
        if not len(frames):
            return
        kernel = self._kernel
        if kernel is None:
            self._peak = max(self._peak, _magnitude(frames))
            return
        width = self._channels
        data = np.concatenate((self._history, np.ravel(frames).astype(np.float32, copy=False)))
        self._history = data[-self._history_len * width :].copy()
        # Phase 0 is the input times the centre tap.
        self._peak = max(self._peak, kernel.centre_tap * _magnitude(data))
        count = len(frames)
        starts = range(0, count, CHUNK_FRAMES)
        history = self._history_len * width
        bounds = [
            kernel.gain * _magnitude(data[s * width : (s + CHUNK_FRAMES) * width + history]) for s in starts
        ]
        for bound, start in sorted(zip(bounds, starts, strict=True), reverse=True):
            if bound <= self._peak:
                break  # this chunk and every one after it in this order cannot raise the peak
            end = min(start + CHUNK_FRAMES, count)
            self._peak = max(self._peak, kernel.peak(data[start * width : end * width + history]))

    def finish(self) -> float:
        """Flush the filter with the zeros after the end; the true peak as a linear magnitude."""
        if self._kernel is not None:
            self.add(np.zeros((self._history_len, self._channels), dtype=np.float32))
        return self._peak


def _float32_at_least(threshold: float) -> np.float32:
    """The least float32 >= ``threshold``: ``x >= it`` in float32 is ``x >= threshold`` exactly."""
    value = np.float32(threshold)
    if float(value) < threshold:
        value = np.float32(np.nextafter(value, np.float32(np.inf)))
    result: np.float32 = value
    return result


class SampleStats:
    """Sample peak, clipped-sample count and the first and last frame above the silence threshold."""

    _SEARCH = 4096  # samples examined at a time when looking for the first or last loud frame

    def __init__(self, silence_threshold: float, clip_level: float) -> None:
        self._silence = silence_threshold
        self._clip = clip_level
        self._silence32 = _float32_at_least(silence_threshold)
        self._clip32 = _float32_at_least(clip_level)
        self.peak = 0.0
        self.clipped = 0
        self.frames = 0
        self.first_sound: int | None = None  # index of the first frame at or above the threshold
        self.last_sound: int | None = None

    def add(self, frames: NDArray[np.floating]) -> None:
        """Count ``frames`` (``frames x channels``) in."""
        count = len(frames)
        if not count:
            return
        width = frames.shape[1]
        flat = np.ravel(frames)
        exact = flat.dtype != np.float32
        silence = self._silence if exact else self._silence32
        clip = self._clip if exact else self._clip32
        peak = _magnitude(flat)
        self.peak = max(self.peak, peak)
        if peak >= clip:
            self.clipped += int(np.count_nonzero(flat >= clip)) + int(np.count_nonzero(flat <= -clip))
        if peak >= silence:
            if self.first_sound is None:
                self.first_sound = self.frames + self._find(flat, silence, last=False) // width
            self.last_sound = self.frames + self._find(flat, silence, last=True) // width
        self.frames += count

    def _find(self, flat: NDArray[np.floating], level: float | np.float32, *, last: bool) -> int:
        """Index of the first (or last) sample of ``flat`` whose magnitude is at least ``level``."""
        size = len(flat)
        starts = range(0, size, self._SEARCH)
        for start in reversed(starts) if last else starts:
            piece = flat[start : start + self._SEARCH]
            loud = np.flatnonzero((piece >= level) | (piece <= -level))
            if len(loud):
                return start + int(loud[-1] if last else loud[0])
        raise AssertionError("no sample reaches the level")  # pragma: no cover - the peak said one did

    def leading_silence_frames(self) -> int:
        """Frames before the first one at or above the threshold (all of them for a silent track)."""
        return self.frames if self.first_sound is None else self.first_sound

    def trailing_silence_frames(self) -> int:
        """Frames after the last one at or above the threshold (all of them for a silent track)."""
        return self.frames if self.last_sound is None else self.frames - 1 - self.last_sound
