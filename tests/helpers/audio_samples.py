"""
Byte builders for audio tests: WAV, MP3 (ID3v2, Xing/Info/VBRI, LAME), FLAC, Ogg, M4A and ADTS heads
synthesised from the format specs, so each expected duration is known exactly and corrupting them
byte by byte is cheap (no sample files are checked in).
"""

from __future__ import annotations

import io
import math
import struct
import wave


def make_wav(seconds: float, rate: int = 44100, channels: int = 2, sample_width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(sample_width)
        out.setframerate(rate)
        out.writeframes(b"\x00" * (round(seconds * rate) * channels * sample_width))
    return buffer.getvalue()


def wav_with_list_chunk(wav: bytes) -> bytes:
    """Put an odd-sized ``LIST`` chunk (plus its pad byte) between ``fmt `` and ``data``."""
    assert wav[36:40] == b"data"
    body = b"INFO" + b"ISFT" + struct.pack("<I", 5) + b"abcd\x00"  # 17 bytes: padded to 18
    chunk = b"LIST" + struct.pack("<I", len(body)) + body + b"\x00"
    out = wav[:36] + chunk + wav[36:]
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


def streamed_wav(wav: bytes, size_field: int) -> bytes:
    """What a writer that cannot seek back leaves: unknown RIFF and data sizes."""
    assert wav[36:40] == b"data"
    return wav[:4] + struct.pack("<I", size_field) + wav[8:40] + struct.pack("<I", size_field) + wav[44:]


def mpeg_header(
    bitrate_index: int = 9,  # 128 kbit/s for MPEG-1 Layer III
    rate_index: int = 0,  # 44100 Hz for MPEG-1
    padding: int = 0,
    version: int = 3,  # 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    layer_bits: int = 1,  # 1 Layer III
    mono: bool = False,
) -> bytes:
    b1 = 0xE0 | (version << 3) | (layer_bits << 1) | 1  # protection bit set: no CRC
    b2 = (bitrate_index << 4) | (rate_index << 2) | (padding << 1)
    b3 = 0xC0 if mono else 0x40  # mono, or joint stereo
    return bytes((0xFF, b1, b2, b3))


MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


def mp3_frames(count: int, bitrate_index: int = 9, rate: int = 44100, rate_index: int = 0) -> list[bytes]:
    """MPEG-1 Layer III frames with zeroed bodies, padded the way encoders keep the rate exact."""
    bitrate = MPEG1_L3_KBPS[bitrate_index] * 1000
    frames, rest = [], 0
    for _ in range(count):
        rest += 144 * bitrate % rate
        padding = 1 if rest >= rate else 0
        rest -= rate * padding
        length = 144 * bitrate // rate + padding
        header = mpeg_header(bitrate_index, rate_index, padding)
        frames.append(header + bytes(length - 4))
    return frames


def frames_for(seconds: float, samples_per_frame: int = 1152, rate: int = 44100) -> int:
    return math.ceil(seconds * rate / samples_per_frame)


def id3v2_tag(body_size: int = 2048, footer: bool = False) -> bytes:
    frame_text = b"\x03Generated song"
    frame = b"TIT2" + struct.pack(">I", len(frame_text)) + b"\x00\x00" + frame_text
    body = frame + bytes(body_size - len(frame))
    syncsafe = bytes(
        (body_size >> 21 & 0x7F, body_size >> 14 & 0x7F, body_size >> 7 & 0x7F, body_size & 0x7F)
    )
    flags = 0x10 if footer else 0x00
    tag = b"ID3\x04\x00" + bytes((flags,)) + syncsafe + body
    return tag + (b"3DI\x04\x00" + bytes((flags,)) + syncsafe if footer else b"")


def xing_frame(
    frames: int | None,
    *,
    tag: bytes = b"Xing",
    lame: tuple[int, int] | None = None,
    version: int = 3,
    bitrate_index: int = 9,
    mono: bool = False,
) -> bytes:
    """A first frame carrying a Xing/Info header (and optionally a LAME tag with delay, padding)."""
    header = mpeg_header(bitrate_index=bitrate_index, version=version, mono=mono)
    if version == 3:
        side_info, length, bitrate = (17 if mono else 32), None, MPEG1_L3_KBPS[bitrate_index] * 1000
        length = 144 * bitrate // 44100
    else:  # MPEG-2 Layer III, rate index 0 = 22050 Hz
        mpeg2_kbps = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
        side_info, bitrate = (9 if mono else 17), mpeg2_kbps[bitrate_index] * 1000
        length = 72 * bitrate // 22050
    flags = (1 if frames is not None else 0) | 2 | 4 | 8
    xing = tag + struct.pack(">I", flags)
    if frames is not None:
        xing += struct.pack(">I", frames)
    xing += struct.pack(">I", 123456) + bytes(range(100)) + struct.pack(">I", 50)
    if lame is not None:
        delay, pad = lame
        xing += b"LAME3.100" + bytes(12) + bytes((delay >> 4, (delay & 0x0F) << 4 | pad >> 8, pad & 0xFF))
    body = bytes(side_info) + xing
    return header + body + bytes(length - 4 - len(body))


def vbri_frame(frames: int) -> bytes:
    header = mpeg_header()
    vbri = b"VBRI" + struct.pack(">HHHII", 1, 1105, 75, 123456, frames)
    body = bytes(32) + vbri
    return header + body + bytes(417 - 4 - len(body))


def flac_stream(rate: int, samples: int, channels: int = 2, bits: int = 16) -> bytes:
    packed = rate << 44 | (channels - 1) << 41 | (bits - 1) << 36 | samples
    streaminfo = struct.pack(">HH", 4096, 4096) + bytes(6) + packed.to_bytes(8, "big") + bytes(16)
    assert len(streaminfo) == 34
    return b"fLaC" + bytes((0x80,)) + len(streaminfo).to_bytes(3, "big") + streaminfo + bytes(256)


def ogg_vorbis() -> bytes:
    identification = b"\x01vorbis" + struct.pack("<IBIiii", 0, 2, 44100, 0, 128000, 0) + b"\xb8\x01"
    page = b"OggS\x00\x02" + bytes(8) + struct.pack("<III", 1, 0, 0) + b"\x01" + bytes((len(identification),))
    return page + identification


def mp4_box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def m4a_stream(
    timescale: int = 44100, duration: int = 441000, version: int = 0, moov_first: bool = True
) -> bytes:
    ftyp = mp4_box(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom")
    if version == 1:
        mvhd_body = b"\x01\x00\x00\x00" + bytes(16) + struct.pack(">IQ", timescale, duration)
    else:
        mvhd_body = b"\x00\x00\x00\x00" + bytes(8) + struct.pack(">II", timescale, duration)
    moov = mp4_box(b"moov", mp4_box(b"mvhd", mvhd_body + bytes(80)) + mp4_box(b"trak", bytes(64)))
    mdat = mp4_box(b"mdat", bytes(4096))
    return ftyp + moov + mdat if moov_first else ftyp + mdat + moov


def adts_frame(length: int = 372, mpeg2: bool = False) -> bytes:
    b1 = 0xF9 if mpeg2 else 0xF1  # protection absent
    b2 = (1 << 6) | (4 << 2)  # AAC LC, 44100 Hz, channel config high bit 0
    b3 = (2 << 6) | (length >> 11 & 0x03)  # channel config 2
    header = bytes((0xFF, b1, b2, b3, length >> 3 & 0xFF, (length & 0x07) << 5 | 0x1F, 0xFC))
    return header + bytes(length - 7)
