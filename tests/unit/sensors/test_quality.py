"""The sensor's analysis, quality gate and waveform, against the emulator's audio of a chosen character."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import fake_ti, make_context

from airflow_provider_music import MusicInputError, MusicQualityError, QualityGate
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.integration import LINEAGE_RUN_FACET
from airflow_provider_music.sensors.music import MusicGenerationSensor

pytestmark = pytest.mark.integration

GATE = QualityGate(max_leading_silence_seconds=1.0, min_loudness_lufs=-24.0, length_tolerance=0.1)
SUCCESS = "success"


def _generated(emulator: Emulator, character: str, length_ms: int = 12_000) -> str:
    emulator.configure(generation_seconds=0, audio_character=character)
    return MusicGenerationHook().submit_generation("p", music_length_ms=length_ms)


def _sensor(gen_id: str, folder: Path, **kw: Any) -> MusicGenerationSensor:
    return MusicGenerationSensor(
        task_id="wait", generation_id=gen_id, destination=f"file://{folder}/", object_name="day",
        music_length_ms=12_000, **kw,
    )  # fmt: skip


def test_a_track_that_passes_is_published_with_its_figures_everywhere(
    emulator: Emulator, tmp_path: Path
) -> None:
    gen_id = _generated(emulator, "music")
    sensor = _sensor(gen_id, tmp_path, quality=GATE, waveform=True, asset_alias="tracks")
    added: list[dict[str, Any]] = []

    class Accessor:
        def add(self, asset: object, extra: dict[str, Any]) -> None:
            added.append(extra)

    class Accessors:  # Airflow's outlet_events: indexed by the alias (not hashable on Airflow 3.1)
        def __getitem__(self, key: object) -> Accessor:
            return Accessor()

    context = make_context()
    context["outlet_events"] = Accessors()  # type: ignore[typeddict-item]  # a stand-in for Airflow's
    manifest = sensor.execute_complete(context, {"status": SUCCESS, "generation_id": gen_id})
    analysis = manifest["analysis"]
    assert analysis["integrated_loudness_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert analysis["length_ratio"] == pytest.approx(1.0, abs=0.01)
    assert manifest["quality"]["passed"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.json", "day.peaks.json", "day.png", "day.wav"]
    assert json.loads((tmp_path / "day.json").read_text())["analysis"] == analysis
    assert added[0]["analysis"] == analysis
    assert added[0]["quality"]["passed"] is True
    facet = sensor.get_openlineage_facets_on_complete(None).run_facets[LINEAGE_RUN_FACET]
    assert facet.analysis == analysis
    assert facet.quality == manifest["quality"]


def test_a_rejected_track_never_replaces_the_published_one(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "day.wav").write_bytes(b"yesterday's good track")
    gen_id = _generated(emulator, "quiet")
    sensor = _sensor(gen_id, tmp_path, quality=GATE)
    context = make_context()
    with pytest.raises(
        MusicQualityError, match=r"loudness: -3\d\.\d LUFS integrated \(allowed: at least -24 LUFS\)"
    ) as err:
        sensor.execute_complete(context, {"status": SUCCESS, "generation_id": gen_id})
    assert (tmp_path / "day.wav").read_bytes() == b"yesterday's good track"
    assert not (tmp_path / "day.json").exists()
    [kept] = list((tmp_path / "rejected").glob("day--*.wav"))
    manifest = json.loads(kept.with_suffix(".json").read_text())
    assert manifest == err.value.manifest == fake_ti(context).pushed["rejected"]
    assert manifest["rejected"] is True
    assert manifest["intended_uri"] == f"file://{tmp_path}/day.wav"
    assert manifest["generation_id"] == gen_id
    assert [f["rule"] for f in manifest["quality"]["failures"]] == ["min_loudness_lufs"]
    assert str(kept) in str(err.value)


@pytest.mark.parametrize(
    ("character", "rule", "measured"),
    [
        ("lead_silence:seconds=3", "max_leading_silence_seconds", 3.0),
        ("short:ratio=0.5", "length_tolerance", 0.5),
    ],
)
def test_each_character_trips_its_rule(
    emulator: Emulator, tmp_path: Path, character: str, rule: str, measured: float
) -> None:
    gen_id = _generated(emulator, character)
    with pytest.raises(MusicQualityError) as err:
        _sensor(gen_id, tmp_path, quality=GATE).execute_complete(
            make_context(), {"status": SUCCESS, "generation_id": gen_id}
        )
    [failure] = err.value.manifest["quality"]["failures"]
    assert failure["rule"] == rule
    assert failure["measured"] == pytest.approx(measured, abs=0.02)


def test_analysis_can_be_turned_off(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = _generated(emulator, "music")
    manifest = _sensor(gen_id, tmp_path, analyze=False).execute_complete(
        make_context(), {"status": SUCCESS, "generation_id": gen_id}
    )
    assert "analysis" not in manifest
    assert "quality" not in manifest


def test_a_gate_without_the_audio_extra_is_refused_before_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def without_scipy(name: str, *args: Any) -> Any:
        return None if name == "scipy" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_scipy)
    sensor = _sensor("g:elevenlabs/eleven_music", tmp_path, quality=GATE)
    with pytest.raises(
        MusicInputError, match=r"the quality gate needs the audio extra.*scipy not installed.*\[audio\]"
    ):
        sensor.execute(make_context())
    # without a gate, the analysis is simply skipped: the manifest stays as it was
    assert _sensor("g:m", tmp_path)._delivery_options().analyze is False
