"""Judging a track before it is published: the analysis of a local copy and the gate's verdict."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from airflow_provider_music import QualityGate
from airflow_provider_music.delivery import REJECTED_FOLDER, _judge
from airflow_provider_music.delivery._judge import (
    judge,
    rejected_path,
    requested_seconds,
    tee_stream,
)
from airflow_provider_music.storage import LocalFileStream

RATE = 44_100


def tone(path: Path, seconds: float, level_dbfs: float, *, lead_silence: float = 0.0) -> str:
    """A stereo 1 kHz sine at ``level_dbfs`` peak, after ``lead_silence`` seconds of digital silence."""
    t = np.arange(int(seconds * RATE)) / RATE
    signal = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * 1000 * t)
    signal[: int(lead_silence * RATE)] = 0.0
    soundfile.write(path, np.stack([signal, signal], axis=1), RATE, subtype="PCM_16")
    return str(path)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"music_length_ms": 30_000}, 30.0),
        ({"music_length_ms": None, "request": {"music_length_ms": 12_000}}, 12.0),
        ({"request": {"seconds_total": 20}}, 20.0),  # stable-audio's length field
        ({"music_length_ms": None, "request": None}, None),
        ({"music_length_ms": True}, None),  # not a length
        ({}, None),
    ],
)
def test_the_requested_length_comes_from_the_manifest_facts(
    meta: dict[str, object], expected: float | None
) -> None:
    assert requested_seconds(meta) == expected


def test_a_quiet_track_with_a_long_intro_fails_the_gate_naming_both_rules(tmp_path: Path) -> None:
    local = tone(tmp_path / "t.wav", 10.0, -40.0, lead_silence=4.0)
    gate = QualityGate(min_loudness_lufs=-20.0, max_leading_silence_seconds=1.0)
    judged = judge(local, gate, requested=10.0, waveform=False)
    assert not judged.passed
    assert [f.rule for f in judged.verdict.failures] == ["max_leading_silence_seconds", "min_loudness_lufs"]  # type: ignore[union-attr]
    fields = judged.manifest_fields()
    assert fields["analysis"]["leading_silence_seconds"] == pytest.approx(4.0, abs=0.01)
    assert fields["analysis"]["length_ratio"] == pytest.approx(1.0, abs=0.001)
    assert fields["quality"]["passed"] is False
    assert fields["quality"]["rules"] == {
        "max_leading_silence_seconds": 1.0,
        "min_loudness_lufs": -20.0,
        "silence_threshold_dbfs": -60.0,
    }
    assert fields["quality"]["rank"][0] == 2


def test_a_clean_track_passes_and_without_a_gate_there_is_no_quality_field(tmp_path: Path) -> None:
    local = tone(tmp_path / "t.wav", 5.0, -6.0)
    assert judge(local, QualityGate(min_loudness_lufs=-20.0), requested=5.0, waveform=False).passed
    ungated = judge(local, None, requested=None, waveform=False)
    assert ungated.passed
    assert set(ungated.manifest_fields()) == {"analysis"}
    assert ungated.analysis["length_ratio"] is None


def test_audio_that_cannot_be_decoded_fails_a_gate_and_is_recorded_without_one(tmp_path: Path) -> None:
    bogus = tmp_path / "t.mp3"
    bogus.write_bytes(b"ID3" + bytes(4000))  # sniffs as MP3, decodes as nothing
    gated = judge(str(bogus), QualityGate(max_true_peak_dbtp=-1.0), requested=None, waveform=False)
    assert not gated.passed
    assert gated.verdict is not None
    assert gated.verdict.failures[0].rule == "decodable"
    ungated = judge(str(bogus), None, requested=None, waveform=False)
    assert ungated.passed
    assert "cannot be decoded" in ungated.analysis["error"]
    assert ungated.analysis["method"] == "bs1770-4"


def test_rejected_tracks_get_one_name_per_generation_beside_the_destination(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    folder = ObjectStoragePath(f"file://{tmp_path}/daily/")
    path = rejected_path(folder, "2026-11-30.mp3", "gen-1-abc")
    assert path.parent.name == REJECTED_FOLDER
    assert path.name == "2026-11-30--gen-1-abc.mp3"
    # named after the generation already: not twice
    assert rejected_path(folder, "gen-1-abc.wav", "gen-1-abc").name == "gen-1-abc.wav"
    assert rejected_path(folder, "noext", "g").name == "noext--g"


class _Chunks:
    shown_url = "https://cdn.example/a.wav?..."
    content_type = "audio/wav"
    content_length = 6

    def chunks(self) -> Iterator[bytes]:
        yield b"abc"
        yield b"def"


def test_the_tee_hands_every_chunk_on_and_keeps_a_local_copy(tmp_path: Path) -> None:
    with tee_stream(_Chunks(), str(tmp_path / "copy")) as tee:
        assert not hasattr(tee, "readinto")  # the download offers none: storage reads chunks
        assert (tee.shown_url, tee.content_type, tee.content_length) == (_Chunks.shown_url, "audio/wav", 6)
        assert list(tee.chunks()) == [b"abc", b"def"]
    assert (tmp_path / "copy").read_bytes() == b"abcdef"


def test_the_tee_keeps_the_copy_free_path_of_a_download_that_reads_into_buffers(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 40)
    with tee_stream(LocalFileStream(source), str(tmp_path / "copy")) as tee:
        buffer = bytearray(1000)
        got = b""
        while n := tee.readinto(memoryview(buffer)):  # type: ignore[attr-defined]
            got += bytes(buffer[:n])
    assert got == source.read_bytes() == (tmp_path / "copy").read_bytes()


def test_a_spool_left_by_a_killed_worker_is_swept_but_a_fresh_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"{_judge.SPOOL_PREFIX}old"
    fresh = tmp_path / f"{_judge.SPOOL_PREFIX}busy"
    other = tmp_path / "someone-elses"
    for folder in (stale, fresh, other):
        folder.mkdir()
        (folder / "audio").write_bytes(b"x")
    old = time.time() - _judge.STALE_SPOOL_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    with _judge.spool_folder() as spool:
        assert Path(spool).parent == tmp_path
        assert Path(spool).name.startswith(_judge.SPOOL_PREFIX)
    assert not stale.exists()
    assert fresh.exists()
    assert other.exists()
    assert not Path(spool).exists()
