"""Durations from the first bytes and the total size, and parsers that never raise on any input."""

from __future__ import annotations

import math
import random
import struct

import pytest
from helpers.audio_samples import (
    adts_frame,
    flac_stream,
    frames_for,
    id3v2_tag,
    m4a_stream,
    make_wav,
    mp3_frames,
    mpeg_header,
    ogg_vorbis,
    streamed_wav,
    vbri_frame,
    wav_with_list_chunk,
    xing_frame,
)

from airflow_provider_music.audio import (
    FORMATS,
    HEADER_BYTES,
    M4A,
    MP3,
    SNIFF_BYTES,
    WAV,
    duration_seconds,
    sniff,
)


def head_of(stream: bytes) -> bytes:
    return stream[:HEADER_BYTES]


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
