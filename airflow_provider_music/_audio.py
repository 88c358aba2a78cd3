"""Recognise audio streams and read their duration from the first bytes.

The provider streams generated music from a URL straight into storage. Services sometimes
answer a failure with ``200 OK`` and an HTML, JSON or XML body, so the first bytes are
checked before anything is kept; and the duration written to the manifest comes from the
same bytes plus the total size, so the stored object never has to be read back.

Standard library only and no heavy imports: this runs in workers and the triggerer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "AAC",
    "AUDIO_EXTENSIONS",
    "FLAC",
    "FORMATS",
    "HEADER_BYTES",
    "M4A",
    "MP3",
    "OGG",
    "SNIFF_BYTES",
    "WAV",
    "AudioFormat",
    "duration_seconds",
    "format_for",
    "has_audio_extension",
    "sniff",
]


@dataclass(frozen=True)
class AudioFormat:
    """A container the provider accepts, with the names storage needs to label and serve it."""

    name: str
    extension: str
    content_type: str


WAV = AudioFormat("wav", "wav", "audio/wav")
MP3 = AudioFormat("mp3", "mp3", "audio/mpeg")
FLAC = AudioFormat("flac", "flac", "audio/flac")
OGG = AudioFormat("ogg", "ogg", "audio/ogg")
AAC = AudioFormat("aac", "aac", "audio/aac")
M4A = AudioFormat("m4a", "m4a", "audio/mp4")
FORMATS: tuple[AudioFormat, ...] = (WAV, MP3, FLAC, OGG, AAC, M4A)

#: Leading bytes :func:`sniff` wants; it also works, less surely, with fewer.
SNIFF_BYTES = 4096
#: Leading bytes :func:`duration_seconds` may use: enough to pass an ID3v2 tag with small
#: cover art, a WAV ``LIST`` chunk, or an MP4 ``moov`` box written before the media.
HEADER_BYTES = 128 * 1024

# Everything a malformed header can make the parsers raise; callers only ever see None.
_PARSE_ERRORS = (struct.error, IndexError, ValueError, ZeroDivisionError, OverflowError)

_CONTENT_TYPES: dict[str, AudioFormat] = {
    "audio/mpeg": MP3,
    "audio/mp3": MP3,
    "audio/mpeg3": MP3,
    "audio/x-mpeg": MP3,
    "audio/x-mp3": MP3,
    "audio/x-mpeg-3": MP3,
    "audio/wav": WAV,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "audio/x-pn-wav": WAV,
    "audio/flac": FLAC,
    "audio/x-flac": FLAC,
    "audio/ogg": OGG,
    "audio/x-ogg": OGG,
    "audio/vorbis": OGG,
    "audio/opus": OGG,
    "application/ogg": OGG,
    "audio/aac": AAC,
    "audio/x-aac": AAC,
    "audio/aacp": AAC,
    "audio/mp4": M4A,
    "audio/x-m4a": M4A,
    "audio/m4a": M4A,
}

_EXTENSIONS: dict[str, AudioFormat] = {
    "mp3": MP3,
    "wav": WAV,
    "wave": WAV,
    "flac": FLAC,
    "ogg": OGG,
    "oga": OGG,
    "opus": OGG,
    "aac": AAC,
    "m4a": M4A,
}

#: Every file extension taken for audio (lower case): the stored formats' own first, then aliases.
#: A destination whose name ends in one of them names the object in full; any other name is taken
#: as the name without its extension, which then follows the audio's format.
AUDIO_EXTENSIONS: tuple[str, ...] = tuple(dict.fromkeys([f.extension for f in FORMATS] + sorted(_EXTENSIONS)))


def has_audio_extension(name: str) -> bool:
    """Whether ``name`` ends in an extension of :data:`AUDIO_EXTENSIONS` (any case)."""
    return "." in name and name.rsplit(".", 1)[1].lower() in _EXTENSIONS


# ISO base media brands that carry (or commonly carry) audio-only MP4 files.
_MP4_BRANDS = frozenset(
    {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"mp41", b"mp42", b"isom", b"iso2", b"iso3"}
    | {b"iso4", b"iso5", b"iso6", b"dash", b"MSNV", b"mp71"}
)


def format_for(content_type: str | None = None, url_path: str | None = None) -> AudioFormat | None:
    """Best guess from a ``Content-Type`` header, else from the URL's file extension.

    Used to name the stored object when the body itself is ambiguous; a generic type such as
    ``application/octet-stream`` says nothing, so the URL is consulted next.
    """
    if content_type:
        found = _CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower())
        if found is not None:
            return found
    if url_path:
        path = url_path.split("#", 1)[0].split("?", 1)[0]
        if "://" in path:  # a whole URL: drop scheme and host so "host.mp3" is not an extension
            rest = path.split("://", 1)[1]
            path = rest[rest.find("/") :] if "/" in rest else ""
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if "." in name:
            return _EXTENSIONS.get(name.rsplit(".", 1)[1].lower())
    return None


def sniff(head: bytes) -> AudioFormat | None:
    """Identify the audio container from the first bytes, or None when it is not audio.

    Errors served with ``200 OK`` (HTML, JSON, XML, text) must never be stored as music, so
    this only answers for a recognised magic number or a valid MPEG/ADTS frame header.
    """
    try:
        return _sniff(bytes(head))
    except _PARSE_ERRORS:
        return None


def duration_seconds(head: bytes, total_size: int) -> float | None:
    """Duration in seconds from the first bytes of a stream and its total size in bytes.

    Lets the manifest record the real length without reading the stored object back. WAV,
    MP3, FLAC and MP4 with ``moov`` up front are supported; anything else, or anything that
    does not parse, gives None. Pass ``total_size <= 0`` when unknown: only durations the
    header states outright (WAV data size, Xing/VBRI frame count, FLAC, MP4) are returned then.
    """
    try:
        data = bytes(head)
        total = max(total_size, len(data)) if total_size > 0 else 0
        fmt = _sniff(data)
        if fmt is WAV:
            seconds = _wav_duration(data, total)
        elif fmt is MP3:
            seconds = _mp3_duration(data, total)
        elif fmt is FLAC:
            seconds = _flac_duration(data)
        elif fmt is M4A:
            seconds = _mp4_duration(data)
        else:
            seconds = None
    except _PARSE_ERRORS:
        return None
    if seconds is None or not 0.0 <= seconds < float("inf"):
        return None
    return seconds


# --------------------------------------------------------------------------- sniffing


def _sniff(data: bytes) -> AudioFormat | None:
    if data[:3] == b"ID3":
        end = _id3v2_end(data)
        if end is None:
            return None
        # Some FLAC and ADTS files carry an ID3v2 tag too; anything else behind a tag is MP3.
        inner = _sniff_bare(data[end:])
        return inner if inner in (FLAC, AAC) else MP3
    return _sniff_bare(data)


def _sniff_bare(data: bytes) -> AudioFormat | None:
    magic = data[:4]
    if magic in (b"RIFF", b"RF64", b"BW64") and data[8:12] == b"WAVE":
        return WAV
    if magic == b"fLaC":
        return FLAC
    if magic == b"OggS" and len(data) > 4 and data[4] == 0:
        return OGG
    if data[4:8] == b"ftyp" and _is_audio_mp4(data):
        return M4A
    frame = _mpeg_frame(data, 0)
    if frame is not None and frame.layer == 3 and _next_frame_agrees(data, 0, frame):
        return MP3
    length = _adts_frame_length(data, 0)
    if length is not None and (length + 7 > len(data) or _adts_frame_length(data, length) is not None):
        return AAC
    return None


def _is_audio_mp4(data: bytes) -> bool:
    size = struct.unpack_from(">I", data, 0)[0]
    if size < 16 or size % 4:
        return False
    end = min(size, len(data))
    # The major brand at 8, then the minor version, then the compatible brands.
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, end - 3, 4)]
    return any(brand in _MP4_BRANDS for brand in brands)


def _id3v2_end(data: bytes) -> int | None:
    """Offset just past the ID3v2 tag(s) at the start, or None if a tag header is malformed."""
    pos = 0
    while data[pos : pos + 3] == b"ID3":
        header = data[pos : pos + 10]
        if len(header) < 10 or header[3] == 0xFF or header[4] == 0xFF or any(b & 0x80 for b in header[6:]):
            return None
        size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]  # syncsafe
        pos += 10 + size + (10 if header[5] & 0x10 else 0)  # 0x10: a footer follows the tag
    return pos


# --------------------------------------------------------------------------- MPEG audio

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
_LAME_ENCODERS = (b"LAME", b"Lavc", b"Lavf")


class _MpegFrame:
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


def _mpeg_frame(data: bytes, pos: int) -> _MpegFrame | None:
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
    return _MpegFrame(version, layer, bitrate, sample_rate, samples, length, b3 >> 6 == 3, not b1 & 1)


def _same_stream(first: _MpegFrame, other: _MpegFrame | None) -> bool:
    return (
        other is not None
        and other.version == first.version
        and other.layer == first.layer
        and other.sample_rate == first.sample_rate
    )


def _next_frame_agrees(data: bytes, pos: int, frame: _MpegFrame) -> bool:
    """Confirm a frame sync by the header that should follow it, when the data reaches that far.

    A lone ``0xFFE`` pattern is common in random data; two consistent headers a frame apart
    are not.
    """
    following = pos + frame.length
    return following + 4 > len(data) or _same_stream(frame, _mpeg_frame(data, following))


def _find_mpeg_frame(data: bytes, start: int) -> tuple[int, _MpegFrame] | None:
    """First confirmed frame at or after ``start`` (encoders may pad past the ID3 tag)."""
    pos = start
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 4 > len(data):
            return None
        frame = _mpeg_frame(data, pos)
        if frame is not None:
            following = pos + frame.length
            if following + 4 <= len(data):
                if _same_stream(frame, _mpeg_frame(data, following)):
                    return pos, frame
            elif pos == start:  # the head ends inside the first frame: trust it where expected
                return pos, frame
        pos += 1


def _vbr_header(data: bytes, pos: int, frame: _MpegFrame) -> tuple[int | None, int] | None:
    """``(frame count or None, gapless samples)`` from a Xing/Info or VBRI header, else None.

    Those headers sit in the first frame, which then holds no audio; the frame count is the
    only exact duration for VBR files, and the LAME tag's encoder delay and padding trim it.
    """
    side_info = (32 if not frame.mono else 17) if frame.version == 3 else (17 if not frame.mono else 9)
    offsets = [pos + 4 + side_info]
    if frame.crc:
        offsets.append(offsets[0] + 2)
    for offset in offsets:
        if data[offset : offset + 4] not in (b"Xing", b"Info"):
            continue
        flags = struct.unpack_from(">I", data, offset + 4)[0]
        cursor = offset + 8
        frames = None
        if flags & 1:
            frames = struct.unpack_from(">I", data, cursor)[0]
            cursor += 4
        cursor += (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
        gapless = 0
        if data[cursor : cursor + 4] in _LAME_ENCODERS and cursor + 24 <= len(data):
            d0, d1, d2 = data[cursor + 21], data[cursor + 22], data[cursor + 23]
            gapless = ((d0 << 4) | (d1 >> 4)) + (((d1 & 0x0F) << 8) | d2)  # delay + padding
        return frames, gapless
    vbri = pos + 4 + 32  # VBRI always follows 32 bytes of side information
    if data[vbri : vbri + 4] == b"VBRI":
        return struct.unpack_from(">I", data, vbri + 14)[0], 0
    return None


def _mp3_duration(data: bytes, total: int) -> float | None:
    start = _id3v2_end(data)
    if start is None:
        return None
    found = _find_mpeg_frame(data, start)
    if found is None:
        return None
    pos, frame = found
    vbr = _vbr_header(data, pos, frame)
    if vbr is not None:
        frames, gapless = vbr
        if frames:
            samples = frames * frame.samples
            if 0 < gapless < samples:
                samples -= gapless
            return samples / frame.sample_rate
        pos += frame.length  # no count: estimate from the audio frames after the header frame
    return _mp3_estimate(data, pos, total)


def _mp3_estimate(data: bytes, pos: int, total: int) -> float | None:
    """Duration from the bytes left after ``pos`` and the bitrate seen in the head.

    Constant bitrate: the nominal rate. If the rate varies (VBR without a Xing header), the
    average over the frames in the head, which is the best the first bytes can tell. A
    trailing ID3v1 tag (128 bytes) cannot be seen from the head and is ignored.
    """
    audio_bytes = total - pos
    if audio_bytes <= 0:
        return None
    first = _mpeg_frame(data, pos)
    if first is None:
        return None
    bitrates: set[int] = set()
    scanned_bytes = scanned_samples = 0
    frame: _MpegFrame | None = first
    while frame is not None and _same_stream(first, frame):
        bitrates.add(frame.bitrate)
        scanned_bytes += frame.length
        scanned_samples += frame.samples
        pos += frame.length
        frame = _mpeg_frame(data, pos)
    if len(bitrates) == 1:
        return audio_bytes * 8 / first.bitrate
    return audio_bytes * scanned_samples / (scanned_bytes * first.sample_rate)


# --------------------------------------------------------------------------- other containers


def _adts_frame_length(data: bytes, pos: int) -> int | None:
    """Length of the AAC ADTS frame at ``pos`` (header included), None if the header is invalid."""
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:  # sync, layer 0
        return None
    if (data[pos + 2] >> 2) & 0x0F > 12:  # sampling frequency index
        return None
    length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    header = 7 if data[pos + 1] & 1 else 9  # protection_absent, else a CRC follows
    return length if length > header else None


def _wav_duration(data: bytes, total: int) -> float | None:
    """Data bytes over byte rate, walking RIFF chunks (``LIST``, ``fact`` ... are skipped).

    A streamed WAV has a data size of 0 or 0xFFFFFFFF (written before the length was known);
    then the data runs to the end of the stream. RF64/BW64 keep the real size in ``ds64``.
    """
    riff = data[:4]
    pos, byte_rate = 12, 0
    ds64_size: int | None = None
    data_offset: int | None = None
    data_size = 0
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"ds64" and size >= 16 and body + 16 <= len(data):
            ds64_size = struct.unpack_from("<Q", data, body + 8)[0]
        elif chunk_id == b"fmt " and size >= 16 and body + 16 <= len(data):
            _, _, rate, byte_rate, block_align = struct.unpack_from("<HHIIH", data, body)
            byte_rate = byte_rate or rate * block_align
        elif chunk_id == b"data":
            data_offset, data_size = body, size
            if byte_rate:
                break
        pos = body + size + (size & 1)  # chunks are padded to an even length
    if not byte_rate or data_offset is None:
        return None
    if riff != b"RIFF" and data_size == 0xFFFFFFFF and ds64_size is not None:
        data_size = ds64_size
    elif data_size in (0, 0xFFFFFFFF):
        if not total or total < data_offset:
            return None
        data_size = total - data_offset
    if total:  # a header promising more than arrived: the stream was cut short
        data_size = min(data_size, max(total - data_offset, 0))
    return data_size / byte_rate


def _flac_duration(data: bytes) -> float | None:
    """Total samples over sample rate from STREAMINFO, which must be the first metadata block."""
    start = _id3v2_end(data) if data[:3] == b"ID3" else 0
    if start is None or data[start : start + 4] != b"fLaC":
        return None
    block = start + 4
    if len(data) < block + 4 + 18 or data[block] & 0x7F != 0:
        return None
    if int.from_bytes(data[block + 1 : block + 4], "big") < 34:
        return None
    # 20 bits sample rate, 3 bits channels, 5 bits bits-per-sample, 36 bits total samples.
    packed = int.from_bytes(data[block + 14 : block + 22], "big")
    rate, samples = packed >> 44, packed & ((1 << 36) - 1)
    return samples / rate if rate and samples else None


def _mp4_box(data: bytes, start: int, end: int, wanted: bytes) -> tuple[int, int] | None:
    """``(body start, body end)`` of the first ``wanted`` box among siblings in ``[start, end)``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:  # runs to the end of the enclosing box / file
            size = end - pos
        if size < header:
            return None
        if kind == wanted:
            return pos + header, min(pos + size, end)
        pos += size
    return None


def _mp4_duration(data: bytes) -> float | None:
    """``mvhd`` duration over timescale, when ``moov`` precedes the media ("fast start")."""
    moov = _mp4_box(data, 0, len(data), b"moov")
    if moov is None:
        return None
    mvhd = _mp4_box(data, moov[0], moov[1], b"mvhd")
    if mvhd is None:
        return None
    body = mvhd[0]
    timescale: int
    duration: int
    if data[body] == 1:  # version 1: 64-bit times
        timescale, duration = struct.unpack_from(">IQ", data, body + 20)
        unknown = 0xFFFFFFFFFFFFFFFF
    else:
        timescale, duration = struct.unpack_from(">II", data, body + 12)
        unknown = 0xFFFFFFFF
    if not timescale or not duration or duration == unknown:
        return None
    return duration / timescale
