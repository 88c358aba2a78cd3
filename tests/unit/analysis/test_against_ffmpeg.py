"""The analysis against an independent implementation: ffmpeg's ``ebur128`` filter on the same files.

ffmpeg prints its summary to 0.1 (LUFS, LU, dBTP), so a difference of up to 0.05 is its rounding. The
reference is Debian's ``ffmpeg`` (scripts/install-ffmpeg.sh, run by scripts/test.sh as root). Without
it these tests skip with a hint, except in CI (``CI=true``), where they must run and so fail instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from helpers.ebu_signals import FFMPEG, encode, ffmpeg_ebur128, in_ci, music_like, sequence, true_peak_sine

from airflow_provider_music.analysis import analyze
from airflow_provider_music.emulator import audio_stream

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

LOUDNESS_LU = 0.1  # integrated loudness: Tech 3341's ±0.1 LU, which includes ffmpeg's rounding
RANGE_LU = 0.3  # loudness range: ffmpeg bins short-term values in 0.1 LU steps before its percentiles
TRUE_PEAK_DB = 0.3  # true peak: two different interpolators, and ffmpeg's rounding


# Each file is made only for its own test (the music-like ones take a second or two).
FILES: dict[str, Callable[[], bytes]] = {
    "emulator-wav": lambda: b"".join(audio_stream("wav", 30_000)),
    "music-float-44k": lambda: encode(music_like(), 44_100),
    "music-pcm16-44k": lambda: encode(music_like(seed=8), 44_100, subtype="PCM_16"),
    "music-mp3-44k": lambda: encode(music_like(seed=9), 44_100, fmt="MP3", subtype="MPEG_LAYER_III"),
    "music-flac-48k": lambda: encode(music_like(seed=10, rate=48_000), 48_000, fmt="FLAC", subtype="PCM_24"),
    "music-ogg-48k": lambda: encode(music_like(seed=11, rate=48_000), 48_000, fmt="OGG", subtype="VORBIS"),
    "tech3341-case5": lambda: encode(sequence((-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0))),
    "tech3342-case4": lambda: encode(
        sequence((-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0))
    ),
    "tech3341-case19": lambda: encode(true_peak_sine(1 / 4, 45.0, 3.0103)),
}


@pytest.fixture(scope="module", autouse=True)
def _ffmpeg() -> None:
    if FFMPEG is None:
        reason = "ffmpeg is not installed (run scripts/install-ffmpeg.sh as root)"
        if in_ci():
            pytest.fail(f"the ffmpeg reference cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.mark.parametrize("name", list(FILES))
def test_agrees_with_ffmpeg_ebur128(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(FILES[name]())
    ours, reference = analyze(path), ffmpeg_ebur128(path)
    assert ours.integrated_loudness_lufs == pytest.approx(reference.integrated_lufs, abs=LOUDNESS_LU)
    assert ours.loudness_range_lu == pytest.approx(reference.loudness_range_lu, abs=RANGE_LU)
    assert ours.true_peak_dbtp == pytest.approx(reference.true_peak_dbtp, abs=TRUE_PEAK_DB)
