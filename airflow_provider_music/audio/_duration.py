"""The duration of an audio stream from its first bytes and its total size.

The duration written to the manifest comes from the bytes the writer already holds, so the
stored object never has to be read back.
"""

from __future__ import annotations

import struct

from airflow_provider_music.audio._formats import FLAC, M4A, MP3, WAV, container_of
from airflow_provider_music.audio._headers import (
    PARSE_ERRORS,
    MpegFrame,
    find_mpeg_frame,
    id3v2_end,
    mpeg_frame,
    same_stream,
)

#: Leading bytes :func:`duration_seconds` may use: enough to pass an ID3v2 tag with small
#: cover art, a WAV ``LIST`` chunk, or an MP4 ``moov`` box written before the media.
HEADER_BYTES = 128 * 1024

_LAME_ENCODERS = (b"LAME", b"Lavc", b"Lavf")


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
        fmt = container_of(data)
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
    except PARSE_ERRORS:
        return None
    if seconds is None or not 0.0 <= seconds < float("inf"):
        return None
    return seconds


# --------------------------------------------------------------------------- MPEG audio


def _vbr_header(data: bytes, pos: int, frame: MpegFrame) -> tuple[int | None, int] | None:
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
    start = id3v2_end(data)
    if start is None:
        return None
    found = find_mpeg_frame(data, start)
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
    first = mpeg_frame(data, pos)
    if first is None:
        return None
    bitrates: set[int] = set()
    scanned_bytes = scanned_samples = 0
    frame: MpegFrame | None = first
    while frame is not None and same_stream(first, frame):
        bitrates.add(frame.bitrate)
        scanned_bytes += frame.length
        scanned_samples += frame.samples
        pos += frame.length
        frame = mpeg_frame(data, pos)
    if len(bitrates) == 1:
        return audio_bytes * 8 / first.bitrate
    return audio_bytes * scanned_samples / (scanned_bytes * first.sample_rate)


# --------------------------------------------------------------------------- other containers


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
    start = id3v2_end(data) if data[:3] == b"ID3" else 0
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
