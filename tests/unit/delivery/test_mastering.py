"""master_track: a stored track mastered into local storage, with its manifest, if_exists, and its checks."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from airflow.sdk import ObjectStoragePath

from airflow_provider_music import analysis, delivery
from airflow_provider_music.delivery import (
    DeliveryOptions,
    MasteringOptions,
    master_track,
    mastered_target,
    mastering_options,
    resolve_destination,
    source_track,
)
from airflow_provider_music.exceptions import MusicDeliveryError, MusicDestinationExistsError, MusicInputError

RATE = 44_100


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def track(tmp_path: Path) -> dict[str, Any]:
    """A stored track (a 997 Hz tone at about -20 LUFS, 4 s) and the manifest delivery gave it."""
    folder = tmp_path / "music"
    folder.mkdir()
    path = folder / "daily.wav"
    t = np.arange(4 * RATE) / RATE
    mono = 0.1 * np.sin(2 * np.pi * 997 * t)
    soundfile.write(path, np.stack([mono, mono], axis=1), RATE, subtype="PCM_16")
    return {"uri": f"file://{path}", "sha256": _sha256(path), "generation_id": "gen-1", "size_bytes": 1}


def _options(destination: str, **kw: Any) -> DeliveryOptions:
    return DeliveryOptions(destination=destination, **kw)


# --- the parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_lufs": -71}, "target_lufs is -71; it must be between -70.0 and 0.0"),
        ({"target_lufs": 1.0}, "target_lufs is 1.0"),
        ({"target_lufs": "loud"}, "target_lufs must be a number"),
        ({"target_lufs": float("nan")}, "finite"),
        ({"true_peak_ceiling_dbtp": 0.5}, "true_peak_ceiling_dbtp is 0.5; it must be between -20.0 and 0.0"),
        ({"true_peak_ceiling_dbtp": -21}, "true_peak_ceiling_dbtp is -21"),
        ({"output_format": "aac"}, "output_format is 'aac'; it must be one of wav, flac, ogg, mp3"),
        ({"sample_rate": 96_000, "output_format": "mp3"}, "MP3 cannot carry 96000 Hz"),
        ({"sample_rate": 4_000}, "sample_rate is 4000 Hz"),
        ({"sample_rate": 44_100.0}, "whole number of Hz"),
        ({"max_passes": 0}, "max_passes"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(kwargs: dict[str, Any], message: str) -> None:
    given = {
        "target_lufs": -14.0,
        "true_peak_ceiling_dbtp": -1.0,
        "output_format": "wav",
        "sample_rate": None,
    }
    given.update(kwargs)
    with pytest.raises(MusicInputError, match=message):
        mastering_options(**given)


def test_rendered_parameters_are_typed() -> None:
    options = mastering_options("-16", " -1.5 ", "FLAC", "48000", 2)
    assert options == MasteringOptions(-16.0, -1.5, "flac", 48_000, 2)
    assert mastering_options(-14, -1, "mp3", "22050").sample_rate == 22_050
    assert mastering_options(-14, -1, "wave", "None").sample_rate is None


def test_the_formats_and_rates_agree_with_what_the_dsp_writes() -> None:
    assert set(delivery.MASTER_FORMATS) == set(analysis.ENCODINGS)
    assert set(delivery.MP3_SAMPLE_RATES) == set(analysis.MP3_SAMPLE_RATES)


def test_the_source_is_a_manifest_its_text_a_uri_or_a_path(track: dict[str, Any]) -> None:
    assert source_track(track).sha256 == track["sha256"]
    assert source_track(repr(track)).uri == track["uri"]  # a template rendered as text
    assert source_track("s3://bucket/a.mp3").sha256 is None
    path = ObjectStoragePath("file:///data/a.wav")
    assert source_track(path).uri is path
    with pytest.raises(MusicInputError, match="relative path"):
        source_track("music/a.wav")
    with pytest.raises(MusicInputError, match="has no 'uri'"):
        source_track({"sha256": "0" * 64})
    with pytest.raises(MusicInputError, match="not a sha256 digest"):
        source_track({"uri": "/a.wav", "sha256": "abc"})
    with pytest.raises(MusicInputError, match="looks like a manifest but cannot be read"):
        source_track("{'uri': ")
    with pytest.raises(MusicInputError, match="got int"):
        source_track(3)


def test_the_master_is_named_after_the_destination_or_the_source(tmp_path: Path) -> None:
    folder = resolve_destination(f"{tmp_path}/masters/", None)
    assert mastered_target(folder, "s3://b/daily.mp3", "wav").name == "daily-master.wav"
    stem = resolve_destination(f"{tmp_path}/masters/", None, "loud")
    assert mastered_target(stem, "s3://b/daily.mp3", "ogg").name == "loud.ogg"
    full = resolve_destination(f"{tmp_path}/masters/x.flac", None)
    assert mastered_target(full, "s3://b/daily.mp3", "flac").name == "x.flac"
    with pytest.raises(MusicInputError, match=r"ends in \.flac but output_format is 'mp3'"):
        mastered_target(full, "s3://b/daily.mp3", "mp3")


# --- mastering into local storage ------------------------------------------------------------------


def test_a_track_is_mastered_with_its_manifest_and_sidecar(track: dict[str, Any], tmp_path: Path) -> None:
    task = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": -1}
    manifest = master_track(
        track,
        MasteringOptions(target_lufs=-16.0, output_format="flac", sample_rate=48_000),
        _options(f"{tmp_path}/masters/"),
        task_info=task,
    )
    path = tmp_path / "masters" / "daily-master.flac"
    assert manifest["uri"] == f"file://{path}"
    assert sorted(p.name for p in path.parent.iterdir()) == ["daily-master.flac", "daily-master.json"]
    assert manifest["sha256"] == _sha256(path)
    assert manifest["size_bytes"] == path.stat().st_size
    assert (manifest["format"], manifest["content_type"], manifest["sample_rate"]) == (
        "flac",
        "audio/flac",
        48_000,
    )
    assert manifest["source"] == {
        "uri": track["uri"],
        "sha256": track["sha256"],
        "sha256_verified": True,
        "size_bytes": Path(track["uri"][7:]).stat().st_size,
        "generation_id": "gen-1",
    }
    section = manifest["mastering"]
    assert section["target_lufs"] == -16.0
    assert section["true_peak_ceiling_dbtp"] == -1.0
    assert section["limited_by_ceiling"] is False
    assert section["achieved_lufs"] == pytest.approx(-16.0, abs=0.1)
    assert section["gain_db"] == pytest.approx(4.0, abs=0.1)
    assert manifest["analysis"]["sample_rate"] == 48_000
    assert manifest["analysis"]["integrated_loudness_lufs"] == section["achieved_lufs"]
    assert {k: manifest[k] for k in task} == task
    assert manifest["created_at"]
    assert manifest["skipped"] is False
    assert json.loads((path.parent / "daily-master.json").read_text()) == manifest
    decoded = analysis.analyze(path)  # what is stored is what the manifest says
    assert decoded.integrated_loudness_lufs == pytest.approx(section["achieved_lufs"], abs=1e-3)


def test_a_source_that_changed_since_its_manifest_is_refused(track: dict[str, Any], tmp_path: Path) -> None:
    stale = {**track, "sha256": "0" * 64}
    with pytest.raises(MusicInputError, match=r"has sha256 [0-9a-f]{64}, but its manifest records 0{64}"):
        master_track(stale, MasteringOptions(), _options(f"{tmp_path}/masters/"))
    written = tmp_path / "masters"
    assert not written.exists() or list(written.iterdir()) == []  # nothing written, not even a temporary


def test_a_plain_uri_is_mastered_without_a_sha_to_verify(track: dict[str, Any], tmp_path: Path) -> None:
    manifest = master_track(
        track["uri"][len("file://") :],
        MasteringOptions(),
        _options(f"{tmp_path}/m/x.wav", write_sidecar=False),
    )
    assert manifest["source"]["sha256_verified"] is False
    assert manifest["source"]["sha256"] == track["sha256"]
    assert manifest["sidecar_uri"] is None
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["x.wav"]


def test_if_exists(track: dict[str, Any], tmp_path: Path) -> None:
    dest = f"{tmp_path}/masters/"
    first = master_track(track, MasteringOptions(), _options(dest))
    path = tmp_path / "masters" / "daily-master.wav"
    before = path.read_bytes()
    with pytest.raises(
        MusicDestinationExistsError, match="already exists and if_exists='fail'; nothing was mastered"
    ):
        master_track(track, MasteringOptions(target_lufs=-20.0), _options(dest, if_exists="fail"))
    kept = master_track(track, MasteringOptions(target_lufs=-20.0), _options(dest, if_exists="skip"))
    assert kept["skipped"] is True
    assert kept["sha256"] == first["sha256"]
    assert kept["mastering"]["target_lufs"] == -14.0  # the kept master's own manifest (its sidecar)
    assert path.read_bytes() == before
    redone = master_track(track, MasteringOptions(target_lufs=-20.0), _options(dest))
    assert redone["mastering"]["achieved_lufs"] == pytest.approx(-20.0, abs=0.1)
    assert redone["sha256"] == _sha256(path) != first["sha256"]


def test_the_master_never_overwrites_its_source(track: dict[str, Any]) -> None:
    source = Path(track["uri"][len("file://") :])
    with pytest.raises(MusicInputError, match="would overwrite its own source"):
        master_track(track, MasteringOptions(), _options(str(source)))
    assert _sha256(source) == track["sha256"]


def test_a_missing_source_or_a_relative_destination_is_refused(track: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(MusicInputError, match="does not exist"):
        master_track(
            {**track, "uri": f"file://{tmp_path}/nope.wav"}, MasteringOptions(), _options(f"{tmp_path}/m/")
        )
    with pytest.raises(MusicInputError, match="relative path"):
        master_track(track, MasteringOptions(), _options("masters/"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB filesystem (tmpfs): writing more fails with ENOSPC, as on a full disk."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_leaves_nothing_half_written(track: dict[str, Any], small_disk: Path) -> None:
    previous = small_disk / "daily-master.wav"
    previous.write_bytes(b"RIFF-previous")
    with pytest.raises(MusicDeliveryError, match=r"failed after \d+ bytes .*previous object is untouched"):
        master_track(track, MasteringOptions(), _options(f"{small_disk}/"))  # a 4 s 24-bit master: 1 MiB
    assert [p.name for p in small_disk.iterdir()] == ["daily-master.wav"]
    assert previous.read_bytes() == b"RIFF-previous"
