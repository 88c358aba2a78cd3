"""MasterAudioOperator: parameters refused at DAG-parse time or before any work, a run, a cheap import."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from airflow.sdk import DAG, AssetAlias
from helpers import make_context

from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.integration import LINEAGE_RUN_FACET
from airflow_provider_music.operators.mastering import MasterAudioOperator
from airflow_provider_music.operators.music import SubmitMusicGenerationOperator

RATE = 44_100


@pytest.fixture
def track(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "daily.wav"
    t = np.arange(3 * RATE) / RATE
    mono = 0.05 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(path, np.stack([mono, mono], axis=1), RATE, subtype="PCM_16")
    return {"uri": f"file://{path}", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_lufs": -80}, "target_lufs is -80"),
        ({"true_peak_ceiling_dbtp": 0.1}, "true_peak_ceiling_dbtp is 0.1"),
        ({"output_format": "m4a"}, "output_format is 'm4a'"),
        ({"output_format": "mp3", "sample_rate": 88_200}, "MP3 cannot carry 88200 Hz"),
        ({"destination": "masters/"}, "relative path"),
        ({"destination": "/m/x.mp3"}, r"ends in \.mp3 but output_format is 'wav'"),
        ({"source": "daily.wav"}, "source 'daily.wav' is a relative path"),
        ({"source": {"sha256": "x"}}, "has no 'uri'"),
        ({"if_exists": "replace"}, "if_exists is 'replace'"),
        ({"object_name": "a/b"}, "object_name must be a single path segment"),
        ({"max_passes": 11}, "max_passes"),
    ],
)
def test_literal_mistakes_are_refused_when_the_dag_is_parsed(kwargs: dict[str, Any], message: str) -> None:
    given: dict[str, Any] = {"task_id": "m", "source": "/music/daily.mp3", "destination": "/music/masters/"}
    given.update(kwargs)
    with pytest.raises(MusicInputError, match=message):
        MasterAudioOperator(**given)


def test_templated_values_wait_for_their_rendering_and_are_checked_before_any_work(
    track: dict[str, Any], tmp_path: Path
) -> None:
    with DAG(dag_id="masters", schedule=None):
        submit = SubmitMusicGenerationOperator(task_id="submit", prompt="p")
        op = MasterAudioOperator(
            task_id="m",
            source=submit.output,
            destination="{{ var.value.masters }}",
            target_lufs="{{ params.lufs }}",
            sample_rate="{{ params.rate }}",
            output_format="{{ params.fmt }}",
        )
    # As if rendered: a ceiling-free target of +3 LUFS is refused before the source is even read.
    op.source, op.destination, op.target_lufs = track, f"{tmp_path}/out/", "3"
    op.sample_rate, op.output_format = "48000", "flac"
    with pytest.raises(MusicInputError, match=r"target_lufs is 3\.0"):
        op.execute(make_context())
    op.target_lufs, op.output_format, op.sample_rate = "-16", "mp3", "96000"
    with pytest.raises(MusicInputError, match="MP3 cannot carry 96000 Hz"):
        op.execute(make_context())
    assert not (tmp_path / "out").exists()


def test_a_run_returns_the_masters_manifest(track: dict[str, Any], tmp_path: Path) -> None:
    op = MasterAudioOperator(
        task_id="master",
        source=repr(track),  # "{{ ti.xcom_pull('generate') }}" rendered as text
        destination=f"{tmp_path}/masters/",
        object_name="podcast",
        target_lufs=-16,
        output_format="ogg",
    )
    manifest = op.execute(make_context(task_id="master"))
    assert manifest["uri"] == f"file://{tmp_path}/masters/podcast.ogg"
    assert manifest["format"] == "ogg"
    assert manifest["source"]["sha256_verified"] is True
    assert manifest["mastering"]["achieved_lufs"] == pytest.approx(-16.0, abs=0.2)
    assert manifest["mastering"]["ceiling_met"] is True
    assert manifest["task_id"] == "master"
    assert sorted(p.name for p in (tmp_path / "masters").iterdir()) == ["podcast.json", "podcast.ogg"]


def test_the_operator_module_imports_no_audio_library() -> None:
    code = (
        "import sys\n"
        "import airflow_provider_music.operators.mastering\n"
        "heavy = ('numpy', 'scipy', 'soundfile', 'airflow_provider_music.analysis',"
        " 'airflow_provider_music.delivery._mastering', 'airflow_provider_music.storage')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_master_is_published_as_an_asset_event_with_its_lineage(
    track: dict[str, Any], tmp_path: Path
) -> None:
    added: list[tuple[Any, dict[str, Any]]] = []

    class Accessor:
        def add(self, asset: Any, extra: dict[str, Any]) -> None:
            added.append((asset, extra))

    class Accessors:
        def __getitem__(self, key: object) -> Accessor:
            assert key == AssetAlias("masters")
            return Accessor()

    context = make_context()
    context["outlet_events"] = Accessors()  # type: ignore[typeddict-item]  # a stand-in for Airflow's
    op = MasterAudioOperator(task_id="m", source=track, destination=f"{tmp_path}/m/", asset_alias="masters")
    assert AssetAlias("masters") in op.outlets
    manifest = op.execute(context)
    [(asset, extra)] = added
    assert asset.uri == manifest["uri"]
    assert extra["sha256"] == manifest["sha256"]
    lineage = op.get_openlineage_facets_on_complete(None)
    [output] = lineage.outputs
    assert output.name == manifest["uri"].removeprefix("file://")
    assert lineage.run_facets[LINEAGE_RUN_FACET].analysis == manifest["analysis"]
