"""Audio sniffing and duration from the first bytes, on byte fixtures synthesised here.

No sample files are checked in: every fixture is built from the format specs so the exact
expected duration is known, and so corrupting them byte by byte is cheap.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave

import pytest

from airflow_provider_music._audio import (
    AAC,
    FLAC,
    FORMATS,
    HEADER_BYTES,
    M4A,
    MP3,
    OGG,
    SNIFF_BYTES,
    WAV,
    AudioFormat,
    duration_seconds,
    format_for,
    sniff,
)

# --------------------------------------------------------------------------- fixtures


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


def head_of(stream: bytes) -> bytes:
    return stream[:HEADER_BYTES]


# --------------------------------------------------------------------------- public surface


def test_formats_are_the_documented_ones() -> None:
    assert [(f.name, f.extension, f.content_type) for f in FORMATS] == [
        ("wav", "wav", "audio/wav"),
        ("mp3", "mp3", "audio/mpeg"),
        ("flac", "flac", "audio/flac"),
        ("ogg", "ogg", "audio/ogg"),
        ("aac", "aac", "audio/aac"),
        ("m4a", "m4a", "audio/mp4"),
    ]
    assert SNIFF_BYTES >= 64
    assert HEADER_BYTES >= 64 * 1024
    with pytest.raises(AttributeError):
        WAV.name = "x"  # type: ignore[misc]
    assert AudioFormat("wav", "wav", "audio/wav") == WAV


# --------------------------------------------------------------------------- format_for


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("audio/mpeg", MP3),
        ("audio/mp3", MP3),
        ("Audio/MPEG; charset=binary", MP3),
        ("audio/wav", WAV),
        ("audio/x-wav", WAV),
        ("audio/wave", WAV),
        ("audio/vnd.wave; codec=1", WAV),
        ("audio/flac", FLAC),
        ("audio/ogg", OGG),
        ("audio/aac", AAC),
        ("audio/mp4", M4A),
        ("audio/x-m4a", M4A),
        ("application/octet-stream", None),
        ("text/html; charset=utf-8", None),
        ("application/json", None),
        ("", None),
        (None, None),
    ],
)
def test_format_for_content_type(content_type: str | None, expected: AudioFormat | None) -> None:
    assert format_for(content_type=content_type) is expected


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/files/song.mp3", MP3),
        ("/files/song.WAV", WAV),
        ("track.flac", FLAC),
        ("/a/b.ogg", OGG),
        ("/a/b.aac", AAC),
        ("/a/b.m4a", M4A),
        ("https://cdn.example.com/out/abc.mp3?X-Amz-Signature=1.wav#t=2", MP3),
        ("https://cdn.example.mp3", None),
        ("https://cdn.example.com/download?id=1", None),
        ("/files/song", None),
        ("/files/song.bin", None),
        ("/files.mp3/", MP3),
        ("", None),
    ],
)
def test_format_for_url_path(url_path: str, expected: AudioFormat | None) -> None:
    assert format_for(url_path=url_path) is expected


def test_format_for_prefers_a_known_content_type_and_falls_back_to_the_url() -> None:
    assert format_for("audio/wav", "/x/song.mp3") is WAV
    assert format_for("application/octet-stream", "/x/song.mp3") is MP3
    assert format_for("binary/octet-stream; x=y", "/x/song.flac") is FLAC
    assert format_for() is None


# --------------------------------------------------------------------------- sniff


def test_sniff_recognises_each_container() -> None:
    assert sniff(make_wav(0.1)[:SNIFF_BYTES]) is WAV
    assert sniff(b"".join(mp3_frames(20))[:SNIFF_BYTES]) is MP3
    assert sniff((id3v2_tag() + b"".join(mp3_frames(5)))[:SNIFF_BYTES]) is MP3
    assert sniff(id3v2_tag(body_size=100_000)[:SNIFF_BYTES]) is MP3  # the tag alone says mp3
    assert sniff(xing_frame(100) + b"".join(mp3_frames(3))) is MP3
    assert sniff(flac_stream(44100, 441000)) is FLAC
    assert sniff(id3v2_tag() + flac_stream(44100, 441000)) is FLAC
    assert sniff(ogg_vorbis()) is OGG
    assert sniff(m4a_stream()[:SNIFF_BYTES]) is M4A
    assert sniff(adts_frame() * 5) is AAC
    assert sniff(adts_frame(mpeg2=True) * 5) is AAC
    assert sniff(b"RF64\xff\xff\xff\xffWAVEds64") is WAV
    assert sniff(bytearray(make_wav(0.1))) is WAV  # type: ignore[arg-type]  # any bytes-like works


def test_sniff_accepts_mpeg2_layer3_and_mono() -> None:
    # MPEG-2 Layer III 64 kbit/s 22050 Hz: 72 * 64000 // 22050 = 208 bytes per frame.
    frame = mpeg_header(bitrate_index=8, version=2, mono=True) + bytes(204)
    assert sniff(frame * 4) is MP3


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>",
        b"<html><body>Service unavailable</body></html>",
        b"\xef\xbb\xbf<!doctype html>",
        b'{"message":"Internal server error","status":500}',
        b'{"error": {"code": "rate_limited"}}',
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>',
        b"Not Found",
        b"OK",
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64),  # JPEG: 0xFF but no frame sync
        b"%PDF-1.7\n",
        b"PK\x03\x04" + bytes(64),
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # ISO BMFF, but an image
        b"\xff",
        b"\xff\xfb",  # truncated frame header
        b"\xff\xfb\x90",
        b"\xff\xfb\xf0\x00" + bytes(1000),  # bitrate index 15
        b"\xff\xfb\x0c\x00" + bytes(1000),  # reserved sample rate
        b"\xff\xfb\x90\x00" + bytes(413) + b"<html>",  # sync not confirmed by the next frame
        b"\xff\xff\xff\xff" * 64,
        b"\xff\xf1",  # truncated ADTS
        b"\xff\xf1\x7c\x80\x00\x1f\xfc" + bytes(64),  # ADTS with frame length 0
        b"RIFF\x00\x00",
        b"RIFF\x24\x00\x00\x00AVI LIST",
        b"ID3",
        b"ID3\x04\x00\x00",
        b"ID3\x04\x00\x00\x80\x80\x80\x80",  # not syncsafe
        b"fLa",
        b"OggS",
        b"Ogg",
        b"\x00\x00\x00\x20ftyp",
    ],
)
def test_sniff_rejects_what_is_not_audio(head: bytes) -> None:
    assert sniff(head) is None
    assert duration_seconds(head, 1_000_000) is None


def test_sniff_rejects_random_bytes_with_stray_sync_bytes() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        noise = bytearray(rng.randbytes(SNIFF_BYTES))
        noise[0] = 0xFF
        noise[1] = rng.choice((0xFB, 0xFA, 0xF3, 0xE3, 0xF1))
        # A stray sync byte followed by noise almost never predicts the next header too.
        result = sniff(bytes(noise))
        assert result is None or result in FORMATS
    misses = sum(sniff(bytes((0xFF, 0xFB)) + rng.randbytes(SNIFF_BYTES - 2)) is not None for _ in range(500))
    assert misses <= 2


# --------------------------------------------------------------------------- WAV durations


@pytest.mark.parametrize(
    ("seconds", "rate", "channels", "width"),
    [
        (10, 44100, 2, 2),
        (10, 48000, 1, 2),
        (3, 22050, 2, 1),
        (1.5, 96000, 6, 3),
        (0.25, 8000, 1, 4),
        (0, 44100, 2, 2),
    ],
)
def test_wav_duration_is_exact(seconds: float, rate: int, channels: int, width: int) -> None:
    stream = make_wav(seconds, rate, channels, width)
    assert duration_seconds(head_of(stream), len(stream)) == seconds
    assert duration_seconds(stream[:64], len(stream)) == seconds  # the sizes are in the header
    # A zero data size also marks a streamed WAV, so an empty one needs the total size.
    assert duration_seconds(stream[:64], 0) == (seconds or None)


def test_wav_with_list_chunk_before_data() -> None:
    stream = wav_with_list_chunk(make_wav(10))
    assert stream[36:40] == b"LIST"
    assert duration_seconds(head_of(stream), len(stream)) == 10.0


@pytest.mark.parametrize("size_field", [0, 0xFFFFFFFF])
def test_streamed_wav_uses_the_total_size(size_field: int) -> None:
    stream = streamed_wav(make_wav(10, 48000, 2, 2), size_field)
    assert sniff(stream[:SNIFF_BYTES]) is WAV
    assert duration_seconds(stream[:SNIFF_BYTES], len(stream)) == 10.0
    assert duration_seconds(stream[:SNIFF_BYTES], 0) is None  # nothing says how long it is


def test_wav_cut_short_reports_what_arrived() -> None:
    stream = make_wav(10, 8000, 1, 2)
    cut = stream[: 44 + 8000 * 2 * 4]
    assert duration_seconds(cut, len(cut)) == 4.0


def test_rf64_reads_the_ds64_size() -> None:
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 192000, 4, 16)
    ds64 = b"ds64" + struct.pack("<IQQQI", 28, 0, 192000 * 7, 48000 * 7, 0)
    head = b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + ds64 + fmt + b"data\xff\xff\xff\xff"
    assert duration_seconds(head, len(head) + 192000 * 7) == 7.0


@pytest.mark.parametrize("cut", [12, 20, 30, 36, 40, 43])
def test_truncated_wav_header_has_no_duration(cut: int) -> None:
    stream = make_wav(1)
    assert duration_seconds(stream[:cut], len(stream)) is None


def test_wav_without_fmt_has_no_duration() -> None:
    head = b"RIFF\x00\x00\x00\x00WAVEdata\x10\x00\x00\x00" + bytes(16)
    assert duration_seconds(head, len(head)) is None


# --------------------------------------------------------------------------- MP3 durations


def assert_close(actual: float | None, expected: float, rel: float = 0.01) -> None:
    assert actual is not None
    assert actual == pytest.approx(expected, rel=rel)


def test_cbr_mp3_duration() -> None:
    count = frames_for(10)
    stream = b"".join(mp3_frames(count))
    assert_close(duration_seconds(head_of(stream), len(stream)), 10.0)
    assert_close(duration_seconds(stream[:SNIFF_BYTES], len(stream)), count * 1152 / 44100, rel=0.001)


def test_cbr_mp3_duration_needs_the_total_size() -> None:
    stream = b"".join(mp3_frames(50))
    assert duration_seconds(stream, 0) is None
    assert duration_seconds(stream, -1) is None


@pytest.mark.parametrize("footer", [False, True])
def test_cbr_mp3_after_id3v2_tag(footer: bool) -> None:
    tag = id3v2_tag(body_size=3000, footer=footer)
    stream = tag + b"".join(mp3_frames(frames_for(10)))
    assert sniff(stream[:SNIFF_BYTES]) is MP3
    assert_close(duration_seconds(head_of(stream), len(stream)), 10.0)


def test_mp3_after_id3v2_tag_and_stray_padding() -> None:
    stream = id3v2_tag() + bytes(700) + b"".join(mp3_frames(frames_for(30)))
    assert_close(duration_seconds(head_of(stream), len(stream)), 30.0)


def test_mp3_behind_an_id3v2_tag_bigger_than_the_head() -> None:
    stream = id3v2_tag(body_size=HEADER_BYTES + 10) + b"".join(mp3_frames(20))
    assert sniff(stream[:SNIFF_BYTES]) is MP3
    assert duration_seconds(head_of(stream), len(stream)) is None


def test_xing_frame_count_wins_over_the_size() -> None:
    # A VBR file: the header frame says 1000 frames, whatever the size suggests.
    stream = xing_frame(1000) + b"".join(mp3_frames(100))
    assert duration_seconds(stream, len(stream)) == pytest.approx(1000 * 1152 / 44100)
    assert duration_seconds(stream, 0) == pytest.approx(1000 * 1152 / 44100)


def test_info_header_with_lame_gapless_trim() -> None:
    count = frames_for(10)
    stream = xing_frame(count, tag=b"Info", lame=(576, 1200)) + b"".join(mp3_frames(count))
    assert duration_seconds(head_of(stream), len(stream)) == pytest.approx((count * 1152 - 1776) / 44100)
    assert_close(duration_seconds(head_of(stream), len(stream)), 10.0)


def test_xing_without_frame_count_falls_back_to_the_size() -> None:
    count = frames_for(10)
    stream = id3v2_tag() + xing_frame(None) + b"".join(mp3_frames(count))
    assert_close(duration_seconds(head_of(stream), len(stream)), count * 1152 / 44100)


def test_vbri_frame_count() -> None:
    stream = vbri_frame(2000) + b"".join(mp3_frames(10))
    assert duration_seconds(stream, len(stream)) == pytest.approx(2000 * 1152 / 44100)


def test_mpeg2_layer3_xing_uses_576_samples_per_frame() -> None:
    first = xing_frame(500, version=2, bitrate_index=8, mono=True)
    frame = mpeg_header(bitrate_index=8, version=2, mono=True) + bytes(72 * 64000 // 22050 - 4)
    stream = first + frame * 20
    assert sniff(stream) is MP3
    assert duration_seconds(stream, len(stream)) == pytest.approx(500 * 576 / 22050)


def test_mpeg2_layer3_cbr_estimate() -> None:
    frame = mpeg_header(bitrate_index=8, version=2) + bytes(72 * 64000 // 22050 - 4)  # 64 kbit/s
    stream = frame * frames_for(5, 576, 22050)
    assert_close(duration_seconds(stream, len(stream)), 5.0)


def test_vbr_without_header_uses_the_average_rate_of_the_head() -> None:
    frames = mp3_frames(200, bitrate_index=9) + mp3_frames(200, bitrate_index=11)
    rng = random.Random(7)
    rng.shuffle(frames)
    stream = b"".join(frames)
    assert_close(duration_seconds(stream, len(stream)), 400 * 1152 / 44100)


def test_mp3_head_ending_inside_the_first_frame() -> None:
    stream = b"".join(mp3_frames(frames_for(10)))
    assert sniff(stream[:100]) is MP3
    assert_close(duration_seconds(stream[:100], len(stream)), 10.0)


# --------------------------------------------------------------------------- other containers


def test_flac_streaminfo_duration() -> None:
    assert duration_seconds(flac_stream(44100, 441000), 10_000_000) == 10.0
    assert duration_seconds(flac_stream(96000, 96000 * 3 + 48000), 10_000_000) == 3.5
    assert duration_seconds(id3v2_tag() + flac_stream(48000, 48000 * 60), 0) == 60.0
    assert duration_seconds(flac_stream(44100, 0), 10_000_000) is None  # total samples unknown
    assert duration_seconds(flac_stream(44100, 441000)[:20], 10_000_000) is None


@pytest.mark.parametrize("version", [0, 1])
def test_m4a_duration_from_mvhd(version: int) -> None:
    stream = m4a_stream(timescale=1000, duration=12_345, version=version)
    assert sniff(stream) is M4A
    assert duration_seconds(stream, len(stream)) == 12.345


def test_m4a_with_moov_at_the_end_has_no_duration_from_the_head() -> None:
    stream = m4a_stream(moov_first=False)
    assert sniff(stream) is M4A
    assert duration_seconds(stream[:1024], len(stream)) is None


def test_ogg_and_aac_durations_are_unknown() -> None:
    assert duration_seconds(ogg_vorbis(), 1_000_000) is None
    assert duration_seconds(adts_frame() * 50, 1_000_000) is None


# --------------------------------------------------------------------------- robustness


def fixtures() -> list[bytes]:
    return [
        make_wav(0.5, 8000, 1, 2),
        wav_with_list_chunk(make_wav(0.5, 8000, 1, 2)),
        streamed_wav(make_wav(0.5, 8000, 1, 2), 0xFFFFFFFF),
        b"".join(mp3_frames(5)),
        id3v2_tag(64, footer=True) + xing_frame(10, lame=(576, 100)) + b"".join(mp3_frames(3)),
        vbri_frame(10) + b"".join(mp3_frames(2)),
        flac_stream(44100, 441000),
        ogg_vorbis(),
        m4a_stream(),
        m4a_stream(version=1),
        adts_frame() * 3,
    ]


def check_total(head: bytes, total: int) -> None:
    found = sniff(head)
    assert found is None or found in FORMATS
    seconds = duration_seconds(head, total)
    assert seconds is None or (isinstance(seconds, float) and math.isfinite(seconds) and seconds >= 0)


def test_every_truncation_of_every_fixture_is_safe() -> None:
    for stream in fixtures():
        for cut in range(min(len(stream), 600)):
            check_total(stream[:cut], len(stream))
            check_total(stream[:cut], 0)


def test_corrupted_headers_never_raise() -> None:
    rng = random.Random(42)
    for stream in fixtures():
        head = stream[:1024]
        for _ in range(300):
            mutated = bytearray(head)
            for _ in range(rng.randint(1, 8)):
                mutated[rng.randrange(min(len(mutated), 200))] = rng.randrange(256)
            check_total(bytes(mutated), rng.choice((0, len(stream), 2**40)))


def test_random_bytes_never_raise() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")

    def check(head: bytes, total: int) -> None:
        check_total(head, total)

    heads = strategies.one_of(
        strategies.binary(max_size=600),
        strategies.sampled_from([f[:64] for f in fixtures()]).flatmap(
            lambda prefix: strategies.binary(max_size=400).map(lambda tail: prefix + tail)
        ),
    )
    totals = strategies.integers(min_value=-(2**63), max_value=2**63)
    settings = hypothesis.settings(max_examples=300, deadline=None, database=None)
    settings(hypothesis.given(heads, totals)(check))()
