"""Frame and tag headers shared by sniffing and duration: MPEG audio, AAC ADTS, ID3v2."""

from __future__ import annotations

import struct

#: Everything a malformed header can make the parsers raise; callers only ever see None.
PARSE_ERRORS = (struct.error, IndexError, ValueError, ZeroDivisionError, OverflowError)

# kbit/s by (is MPEG-1, layer) and the 4-bit bitrate index; 0 ("free") and 15 are rejected.
_BITRATES: dict[tuple[bool, int], tuple[int, ...]] = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Hz by the 2-bit version field (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5) and the rate index.
_SAMPLE_RATES: dict[int, tuple[int, int, int]] = {
    3: (44100, 48000, 32000),
    2: (22050, 24000, 16000),
    0: (11025, 12000, 8000),
}


def id3v2_end(data: bytes) -> int | None:
    """Offset just past the ID3v2 tag(s) at the start, or None if a tag header is malformed."""
    pos = 0
    while data[pos : pos + 3] == b"ID3":
        header = data[pos : pos + 10]
        if len(header) < 10 or header[3] == 0xFF or header[4] == 0xFF or any(b & 0x80 for b in header[6:]):
            return None
        size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]  # syncsafe
        pos += 10 + size + (10 if header[5] & 0x10 else 0)  # 0x10: a footer follows the tag
    return pos


class MpegFrame:
    """One parsed MPEG audio frame header (a plain class: ``typing`` would cost import time)."""

    __slots__ = ("bitrate", "crc", "layer", "length", "mono", "sample_rate", "samples", "version")

    def __init__(
        self,
        version: int,  # raw 2-bit field: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
        layer: int,  # 1, 2 or 3
        bitrate: int,  # bit/s
        sample_rate: int,  # Hz
        samples: int,  # per frame
        length: int,  # bytes, header included
        mono: bool,
        crc: bool,
    ) -> None:
        self.version = version
        self.layer = layer
        self.bitrate = bitrate
        self.sample_rate = sample_rate
        self.samples = samples
        self.length = length
        self.mono = mono
        self.crc = crc


def mpeg_frame(data: bytes, pos: int) -> MpegFrame | None:
    """Parse the MPEG audio frame header at ``pos``; None unless every field is valid."""
    if pos < 0 or pos + 4 > len(data) or data[pos] != 0xFF:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if (
        b1 & 0xE0 != 0xE0  # 11-bit frame sync
        or version == 1  # reserved
        or layer_bits == 0  # reserved (ADTS uses it)
        or bitrate_index in (0, 15)  # free format cannot be sized; 15 is invalid
        or rate_index == 3  # reserved
        or b3 & 3 == 2  # reserved emphasis
    ):
        return None
    mpeg1 = version == 3
    layer = 4 - layer_bits
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if layer == 1:
        samples = 384
        length = (12 * bitrate // sample_rate + padding) * 4
    else:
        samples = 1152 if mpeg1 or layer == 2 else 576
        length = samples // 8 * bitrate // sample_rate + padding
    return MpegFrame(version, layer, bitrate, sample_rate, samples, length, b3 >> 6 == 3, not b1 & 1)


def same_stream(first: MpegFrame, other: MpegFrame | None) -> bool:
    """Whether ``other`` continues the stream of ``first`` (same version, layer and sample rate)."""
    return (
        other is not None
        and other.version == first.version
        and other.layer == first.layer
        and other.sample_rate == first.sample_rate
    )


def next_frame_agrees(data: bytes, pos: int, frame: MpegFrame) -> bool:
    """Confirm a frame sync by the header that should follow it, when the data reaches that far.

    A lone ``0xFFE`` pattern is common in random data; two consistent headers a frame apart
    are not.
    """
    following = pos + frame.length
    return following + 4 > len(data) or same_stream(frame, mpeg_frame(data, following))


def find_mpeg_frame(data: bytes, start: int) -> tuple[int, MpegFrame] | None:
    """First confirmed frame at or after ``start`` (encoders may pad past the ID3 tag)."""
    pos = start
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 4 > len(data):
            return None
        frame = mpeg_frame(data, pos)
        if frame is not None:
            following = pos + frame.length
            if following + 4 <= len(data):
                if same_stream(frame, mpeg_frame(data, following)):
                    return pos, frame
            elif pos == start:  # the head ends inside the first frame: trust it where expected
                return pos, frame
        pos += 1


def adts_frame_length(data: bytes, pos: int) -> int | None:
    """Length of the AAC ADTS frame at ``pos`` (header included), None if the header is invalid."""
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:  # sync, layer 0
        return None
    if (data[pos + 2] >> 2) & 0x0F > 12:  # sampling frequency index
        return None
    length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    header = 7 if data[pos + 1] & 1 else 9  # protection_absent, else a CRC follows
    return length if length > header else None
