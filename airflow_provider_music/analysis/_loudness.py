"""Loudness per ITU-R BS.1770-4 / EBU R128 and loudness range per EBU Tech 3342, measured in blocks.

The signal is K-weighted (the two biquads of BS.1770-4, derived for the actual sample rate), squared,
weighted per channel (G = 1.0 for L, R, C; 1.41 for the surrounds; 0 for LFE) and summed over the
channels, then summed over 100 ms sub-blocks. Everything after is computed from those sub-block
energies: a 400 ms gating block (75 % overlap) is 4 consecutive sub-blocks, a 3 s short-term window
is 30. Memory is one float per 100 ms of audio, whatever the length of the track.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import signal

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: BS.1770-4: loudness = -0.691 + 10 log10(sum of G_i * z_i).
LOUDNESS_OFFSET = -0.691
#: BS.1770-4 gating: absolute -70 LUFS, relative -10 LU below the absolutely-gated loudness.
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
#: EBU Tech 3342: the relative gate of the loudness range is -20 LU, its range the 10th to 95th percentile.
LRA_RELATIVE_GATE_LU = -20.0
LRA_LOW_PERCENTILE, LRA_HIGH_PERCENTILE = 0.10, 0.95
SUB_BLOCKS_PER_SECOND = 10  # 100 ms steps: the 75 % overlap of 400 ms blocks, and >= 10 Hz short-term
MOMENTARY_SUB_BLOCKS = 4  # 400 ms
SHORT_TERM_SUB_BLOCKS = 30  # 3 s

# The K-weighting filter's analogue prototype (the form libebur128 and others use to derive the
# BS.1770-4 48 kHz coefficients for any rate): a high shelf (stage 1) and a high pass (stage 2).
_SHELF_HZ, _SHELF_GAIN_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_SHELF_VB_EXPONENT = 0.4996667741545416
_HIGHPASS_HZ, _HIGHPASS_Q = 38.13547087602444, 0.5003270373238773
_SURROUND_WEIGHT = 1.41
_FIVE_ONE_CHANNELS, _FIVE_CHANNELS = 6, 5
_LFE_INDEX = 3  # in the L, R, C, LFE, Ls, Rs order of WAV/FLAC 5.1


def k_weighting_sos(sample_rate: int) -> NDArray[np.float64]:
    """The K-weighting filter for ``sample_rate`` as second-order sections (stage 1, stage 2)."""
    k = math.tan(math.pi * _SHELF_HZ / sample_rate)
    vh = 10.0 ** (_SHELF_GAIN_DB / 20.0)
    vb = vh**_SHELF_VB_EXPONENT
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf = [
        (vh + vb * k / _SHELF_Q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / _SHELF_Q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / _SHELF_Q + k * k) / a0,
    ]
    k = math.tan(math.pi * _HIGHPASS_HZ / sample_rate)
    a0 = 1.0 + k / _HIGHPASS_Q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HIGHPASS_Q + k * k) / a0]
    return np.array([shelf, highpass], dtype=np.float64)


def channel_weights(channels: int) -> NDArray[np.float64]:
    """BS.1770-4 channel weights: 1.0 each; 5.0 and 5.1 surrounds 1.41, the 5.1 LFE left out."""
    weights = np.ones(channels, dtype=np.float64)
    if channels == _FIVE_CHANNELS:
        weights[3:] = _SURROUND_WEIGHT
    elif channels == _FIVE_ONE_CHANNELS:
        weights[_LFE_INDEX] = 0.0
        weights[4:] = _SURROUND_WEIGHT
    return weights


def energy_to_loudness(energy: float) -> float:
    """Mean weighted power to LUFS (``-inf`` for silence)."""
    return LOUDNESS_OFFSET + 10.0 * math.log10(energy) if energy > 0.0 else -math.inf


class LoudnessMeter:
    """Feed blocks of frames (``frames x channels`` floats) in order; read the figures at the end."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self._rate = sample_rate
        self._sos = k_weighting_sos(sample_rate)
        self._weights = channel_weights(channels)
        # Filter state per section and channel: shape (sections, channels, 2) for sosfilt along the
        # last axis of ``channels x frames``.
        self._zi = np.zeros((self._sos.shape[0], channels, 2), dtype=np.float64)
        self._position = 0  # frames seen
        self._next_boundary_index = 1  # sub-block k ends at frame round(k * rate / 10)
        self._partial = 0.0  # energy since the last sub-block boundary
        self._sums: list[float] = []  # energy of each complete sub-block
        self._lengths: list[int] = []  # its length in frames

    def _boundary(self, index: int) -> int:
        return (index * self._rate * 2 + SUB_BLOCKS_PER_SECOND) // (2 * SUB_BLOCKS_PER_SECOND)

    def add(self, frames: NDArray[np.floating]) -> None:
        """K-weight ``frames`` (float32 or float64) and add their energy to the 100 ms sub-blocks."""
        if not len(frames):
            return
        # sosfilt works in float64 on a planar copy (channels x frames) whatever it is given.
        filtered, self._zi = signal.sosfilt(self._sos, frames.T, axis=-1, zi=self._zi)
        np.multiply(filtered, filtered, out=filtered)
        power = self._weights @ filtered
        start, end = self._position, self._position + len(frames)
        cuts = [0]
        while (boundary := self._boundary(self._next_boundary_index + len(cuts) - 1)) <= end:
            cuts.append(boundary - start)
        count = len(power)
        tail = cuts[-1] < count  # frames after the last boundary, part of the next sub-block
        sums = np.add.reduceat(power, cuts if tail else cuts[:-1])
        for index in range(len(cuts) - 1):  # each sub-block completed in this block
            number = self._next_boundary_index
            self._sums.append(self._partial + float(sums[index]))
            self._lengths.append(self._boundary(number) - self._boundary(number - 1))
            self._partial = 0.0
            self._next_boundary_index += 1
        if tail:
            self._partial += float(sums[-1])
        self._position = end

    def _windows(self, size: int) -> NDArray[np.float64]:
        """Mean power of each window of ``size`` sub-blocks, one per 100 ms step (complete windows only)."""
        if len(self._sums) < size:
            return np.empty(0, dtype=np.float64)
        sums = np.concatenate(([0.0], np.cumsum(self._sums)))
        lengths = np.concatenate(([0], np.cumsum(self._lengths)))
        powers: NDArray[np.float64] = (sums[size:] - sums[:-size]) / (lengths[size:] - lengths[:-size])
        return powers

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS (BS.1770-4); ``-inf`` when no block passes the gates."""
        powers = self._windows(MOMENTARY_SUB_BLOCKS)
        return _gated_loudness(powers, RELATIVE_GATE_LU)[0]

    def loudness_range(self) -> float:
        """Loudness range in LU (EBU Tech 3342); 0.0 when fewer than two short-term values pass."""
        powers = self._windows(SHORT_TERM_SUB_BLOCKS)
        _, gated = _gated_loudness(powers, LRA_RELATIVE_GATE_LU)
        if len(gated) < 2:  # a range needs two values
            return 0.0
        loudness = np.sort(LOUDNESS_OFFSET + 10.0 * np.log10(gated))
        last = len(loudness) - 1
        low = loudness[int(last * LRA_LOW_PERCENTILE + 0.5)]
        high = loudness[int(last * LRA_HIGH_PERCENTILE + 0.5)]
        return float(high - low)

    def max_short_term(self) -> float:
        """The loudest 3 s window in LUFS (``-inf`` for under 3 s of audio)."""
        powers = self._windows(SHORT_TERM_SUB_BLOCKS)
        return energy_to_loudness(float(powers.max())) if len(powers) else -math.inf


def _gated_loudness(powers: NDArray[np.float64], relative_gate: float) -> tuple[float, NDArray[np.float64]]:
    """Apply the absolute gate, then the relative one; the loudness of what passed, and those powers."""
    absolute_power = 10.0 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET) / 10.0)
    passed = powers[powers > absolute_power]
    if not len(passed):
        return -math.inf, passed
    relative_power = float(passed.mean()) * 10.0 ** (relative_gate / 10.0)
    passed = passed[passed > relative_power]
    return energy_to_loudness(float(passed.mean())), passed
