"""Sample-rate conversion in blocks: scipy's polyphase filter, streamed with exact overlap.

`PolyphaseResampler` gives the same samples as ``scipy.signal.resample_poly`` on the whole signal
(same Kaiser-windowed FIR, same alignment, zeros beyond both ends), but reads and writes blocks, so
memory does not grow with the length of the track and no block edge leaves a trace in the output.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import signal

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from numpy.typing import NDArray

#: resample_poly's default window and filter half-length factor (taps = 2 * 10 * max(up, down) + 1).
WINDOW = ("kaiser", 5.0)
_HALF_LEN_FACTOR = 10


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


class PolyphaseResampler:
    """Resample ``frames x channels`` blocks from ``from_rate`` to ``to_rate`` (whole-signal result)."""

    def __init__(self, from_rate: int, to_rate: int, *, out_block: int = 1 << 16) -> None:
        if from_rate <= 0 or to_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {from_rate} and {to_rate}")
        common = math.gcd(from_rate, to_rate)
        self.up, self.down = to_rate // common, from_rate // common
        widest = max(self.up, self.down)
        self._half = _HALF_LEN_FACTOR * widest
        taps = signal.firwin(2 * self._half + 1, 1.0 / widest, window=WINDOW) * self.up
        self._taps: NDArray[np.float64] = np.asarray(taps, dtype=np.float64)
        # Output chunks of a whole number of `up`: the filter's phase at a chunk start never changes.
        self._out_block = max(self.up, out_block - out_block % self.up)
        self._shifted: dict[int, NDArray[np.float64]] = {}

    def output_frames(self, input_frames: int) -> int:
        """How many frames ``input_frames`` become (as ``resample_poly``: rounded up)."""
        return _ceil_div(input_frames * self.up, self.down)

    def process(self, blocks: Iterable[NDArray[np.float64]]) -> Iterator[NDArray[np.float64]]:
        """The resampled signal of ``blocks`` (in order, to the end), in blocks of about ``out_block``."""
        buffer: NDArray[np.float64] | None = None
        start = 0  # the input index of buffer[0]
        produced = 0  # output frames given so far
        for block in blocks:
            if not len(block):
                continue
            buffer = block if buffer is None else np.concatenate((buffer, block))
            while True:
                end = produced + self._out_block
                if self._last_input(end) >= start + len(buffer):
                    break  # not enough input yet for the whole chunk
                yield self._chunk(buffer, start, produced, end, total=None)
                produced = end
                drop = self._first_input(produced) - start
                if drop > 0:
                    buffer, start = buffer[drop:], start + drop
        if buffer is None:
            return
        total = self.output_frames(start + len(buffer))
        while produced < total:
            end = min(produced + self._out_block, total)
            yield self._chunk(buffer, start, produced, end, total=start + len(buffer))
            produced = end

    def _first_input(self, first_out: int) -> int:
        return _ceil_div(first_out * self.down - self._half, self.up)

    def _last_input(self, end_out: int) -> int:
        return ((end_out - 1) * self.down + self._half) // self.up

    def _chunk(
        self, buffer: NDArray[np.float64], start: int, first: int, end: int, total: int | None
    ) -> NDArray[np.float64]:
        """Outputs ``first .. end-1``: the inputs they need (zeros outside the signal) through the FIR."""
        lo, hi = self._first_input(first), self._last_input(end) + 1
        available_hi = start + len(buffer) if total is None else total
        segment = np.zeros((hi - lo, buffer.shape[1]), dtype=np.float64)
        src_lo, src_hi = max(lo, start), min(hi, available_hi)
        if src_hi > src_lo:
            segment[src_lo - lo : src_hi - lo] = buffer[src_lo - start : src_hi - start]
        # Output `first` is the FIR's output at upsampled position first*down + half, which is index
        # `offset` of the segment's own convolution; leading zero taps put it on the decimation grid.
        offset = first * self.down + self._half - lo * self.up
        shift = (-offset) % self.down
        taps = self._shifted.get(shift)
        if taps is None:
            taps = self._shifted[shift] = np.concatenate((np.zeros(shift), self._taps))
        out = signal.upfirdn(taps, segment, up=self.up, down=self.down, axis=0)
        skip = (offset + shift) // self.down
        result: NDArray[np.float64] = out[skip : skip + (end - first)]
        return result
