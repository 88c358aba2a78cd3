"""A picture of a track: min/max peaks per pixel, as audiowaveform's JSON and as a PNG.

`WaveformBuilder` is fed the same blocks as the meters and keeps at most ``points`` min/max pairs: it
starts from a bucket size that fits the expected length, and when the audio runs longer it merges
neighbouring buckets pairwise (doubling the samples per pixel), so memory does not grow with the
length. Every channel counts: a bucket's min and max are over all the channels' samples in it. The
PNG is written with zlib and struct only (no imaging library).
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: audiowaveform's JSON "version 2" with 8-bit values: what peaks.js and wavesurfer.js read.
JSON_VERSION = 2
BITS = 8
#: The picture's default size in pixels, and the largest accepted (a side; all pixels: 16 MiB of RGBA).
PNG_WIDTH, PNG_HEIGHT = 1800, 280
MAX_PNG_SIDE = 8192
MAX_PNG_PIXELS = 4 * 1024 * 1024
#: Bars drawn in this RGBA colour on a transparent background.
BAR_RGBA = (46, 98, 170, 255)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SCALE = 1 << (BITS - 1)  # a full-scale sample is 128: the 8-bit value is floor(sample * 128)


@dataclass(frozen=True)
class Waveform:
    """Interleaved 8-bit ``min, max`` per point (values -128..127), each over ``samples_per_pixel`` frames."""

    sample_rate: int
    samples_per_pixel: int
    data: tuple[int, ...]

    @property
    def length(self) -> int:
        """The number of points (min/max pairs)."""
        return len(self.data) // 2

    def to_json(self) -> dict[str, Any]:
        """audiowaveform's JSON (version 2, one channel, 8 bits), ready for ``json.dumps``."""
        return {
            "version": JSON_VERSION,
            "channels": 1,
            "sample_rate": self.sample_rate,
            "samples_per_pixel": self.samples_per_pixel,
            "bits": BITS,
            "length": self.length,
            "data": list(self.data),
        }

    def to_png(self, width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> bytes:
        """An RGBA PNG of ``width x height`` pixels: a bar from each column's min to its max."""
        for name, side in (("width", width), ("height", height)):
            if not isinstance(side, int) or not 1 <= side <= MAX_PNG_SIDE:
                raise ValueError(f"{name} must be an integer from 1 to {MAX_PNG_SIDE}, got {side!r}")
        if width * height > MAX_PNG_PIXELS:
            raise ValueError(f"{width} x {height} is more than {MAX_PNG_PIXELS} pixels")
        image = np.zeros((height, width, 4), dtype=np.uint8)
        if self.length:
            lows, highs = _columns(np.asarray(self.data, dtype=np.int16).reshape(-1, 2), width)
            # Row 0 is the top: +127 maps near it, -128 to the bottom row.
            top = _row(highs, height)
            bottom = _row(lows, height)
            rows = np.arange(height, dtype=np.int32)[:, None]
            image[(rows >= top) & (rows <= bottom)] = BAR_RGBA
        return _png(image)


def _columns(pairs: NDArray[np.int16], width: int) -> tuple[NDArray[np.int16], NDArray[np.int16]]:
    """Each column's min and max over the points it covers (one point spans columns when fewer)."""
    count = len(pairs)
    starts = np.arange(width, dtype=np.int64) * count // width
    if count >= width:  # every column covers at least one point
        return np.minimum.reduceat(pairs[:, 0], starts), np.maximum.reduceat(pairs[:, 1], starts)
    return pairs[starts, 0], pairs[starts, 1]


def _row(values: NDArray[np.int16], height: int) -> NDArray[np.int32]:
    """The pixel row of 8-bit levels: +128 at the top edge, -128 at the bottom one."""
    rows = np.floor((_SCALE - values.astype(np.float64)) * (height - 1) / (2 * _SCALE) + 0.5)
    return rows.astype(np.int32)


def _png(image: NDArray[np.uint8]) -> bytes:
    """``height x width x 4`` RGBA bytes as a PNG: IHDR, one zlib IDAT (filter 0 rows), IEND."""
    height, width, _ = image.shape
    raw = np.zeros((height, 1 + width * 4), dtype=np.uint8)  # each row starts with filter type 0
    raw[:, 1:] = image.reshape(height, width * 4)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, no interlace
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _to_8_bit(values: NDArray[np.floating]) -> list[int]:
    """Samples to audiowaveform's 8-bit levels: floor(x * 128), held within -128..127."""
    levels = np.clip(np.floor(values.astype(np.float64) * _SCALE), -_SCALE, _SCALE - 1)
    return [int(v) for v in levels]


class WaveformBuilder:
    """Feed blocks of frames in order; `finish` gives at most ``points`` min/max pairs."""

    def __init__(self, points: int, sample_rate: int, expected_frames: int | None = None) -> None:
        if points < 1:
            raise ValueError(f"waveform_points must be positive, got {points!r}")
        self._points = points
        self._rate = sample_rate
        expected = expected_frames if expected_frames and expected_frames > 0 else points
        self._spp = max(1, math.ceil(expected / points))
        self._mins = np.empty(0, dtype=np.float32)
        self._maxs = np.empty(0, dtype=np.float32)
        self._partial_frames = 0  # frames in the bucket being filled
        self._partial_min = math.inf
        self._partial_max = -math.inf

    def add(self, frames: NDArray[np.floating]) -> None:
        """Fold ``frames`` (``frames x channels``) into the buckets."""
        flat = np.ravel(frames)
        width = frames.shape[1]
        count = len(frames)
        done = 0
        while done < count:
            spp = self._spp  # a merge while pushing doubles it
            if self._partial_frames or count - done < spp:
                take = min(spp - self._partial_frames, count - done)
                self._fill(flat[done * width : (done + take) * width], take)
                done += take
            else:
                whole = (count - done) // spp
                span = flat[done * width : (done + whole * spp) * width].reshape(whole, spp * width)
                self._push(span.min(axis=1), span.max(axis=1))
                done += whole * spp

    def _fill(self, samples: NDArray[np.floating], frames: int) -> None:
        """Add ``frames`` to the partial bucket, pushing it when it is full."""
        self._partial_min = min(self._partial_min, float(samples.min()))
        self._partial_max = max(self._partial_max, float(samples.max()))
        self._partial_frames += frames
        if self._partial_frames == self._spp:
            low, high = self._partial_min, self._partial_max
            self._partial_frames, self._partial_min, self._partial_max = 0, math.inf, -math.inf
            self._push(np.array([low], np.float32), np.array([high], np.float32))

    def _push(self, mins: NDArray[np.floating], maxs: NDArray[np.floating]) -> None:
        """Append complete buckets, merging while there are more than ``points`` in all."""
        self._mins = np.concatenate((self._mins, mins.astype(np.float32, copy=False)))
        self._maxs = np.concatenate((self._maxs, maxs.astype(np.float32, copy=False)))
        while len(self._mins) + (1 if self._partial_frames else 0) > self._points:
            self._merge()

    def _merge(self) -> None:
        """Double the samples per pixel: neighbouring buckets become one (an odd last joins the partial)."""
        if len(self._mins) % 2:
            self._partial_min = min(self._partial_min, float(self._mins[-1]))
            self._partial_max = max(self._partial_max, float(self._maxs[-1]))
            self._partial_frames += self._spp
            self._mins, self._maxs = self._mins[:-1], self._maxs[:-1]
        self._mins = self._mins.reshape(-1, 2).min(axis=1)
        self._maxs = self._maxs.reshape(-1, 2).max(axis=1)
        self._spp *= 2

    def finish(self) -> Waveform:
        """The waveform so far, its last (partial) bucket included."""
        mins, maxs = self._mins, self._maxs
        if self._partial_frames:
            mins = np.append(mins, np.float32(self._partial_min))
            maxs = np.append(maxs, np.float32(self._partial_max))
        data = np.empty(2 * len(mins), dtype=np.float32)
        data[0::2], data[1::2] = mins, maxs
        return Waveform(self._rate, self._spp, tuple(_to_8_bit(data)))
