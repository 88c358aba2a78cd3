"""The quality parameters of the sensor and GenerateMusicOperator, refused at DAG-parse time when wrong."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_context

from airflow_provider_music import GenerateMusicOperator, MusicGenerationSensor, MusicInputError, QualityGate

GATE = QualityGate(max_true_peak_dbtp=-1.0)


def generate(**kwargs: Any) -> GenerateMusicOperator:
    return GenerateMusicOperator(task_id="g", prompt="p", destination="/tmp/music/", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_regenerations": -1}, "max_regenerations must be an integer >= 0"),
        ({"max_regenerations": True, "quality": GATE}, "max_regenerations must be an integer >= 0"),
        ({"max_regenerations": 1.5, "quality": GATE}, "max_regenerations must be an integer >= 0"),
        ({"max_regenerations": 2}, "max_regenerations needs a quality gate"),
        ({"quality": {"max_tru_peak_dbtp": -1}}, "no rule 'max_tru_peak_dbtp'"),
        ({"quality": {"min_loudness_lufs": 14}}, "outside -70..0"),
        ({"quality": GATE, "analyze": False}, "analyze=False contradicts"),
        ({"waveform": True, "analyze": False}, "analyze=False contradicts"),
        ({"quality": "strict"}, "QualityGate or a dict"),
    ],
)
def test_generate_refuses_bad_quality_settings_when_the_dag_is_parsed(
    kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(MusicInputError, match=words.replace("(", r"\(").replace(".", r"\.")):
        generate(**kwargs)


def test_a_dict_of_rules_becomes_a_gate_and_the_budget_is_kept() -> None:
    op = generate(quality={"max_true_peak_dbtp": -1.0}, max_regenerations=2, waveform=True)
    assert op.quality == GATE
    assert op.max_regenerations == 2
    assert op.waveform is True
    assert op.analyze is None  # decided on the worker: analysed when the audio extra is installed


def test_the_sensor_takes_the_same_gate_and_refuses_the_same_mistakes() -> None:
    sensor = MusicGenerationSensor(task_id="s", generation_id="g:m", destination="/tmp/m/", quality=GATE)
    assert sensor.quality is GATE
    with pytest.raises(MusicInputError, match="no rule 'max_peak'"):
        MusicGenerationSensor(
            task_id="s2", generation_id="g:m", destination="/tmp/m/", quality={"max_peak": 1}
        )
    with pytest.raises(MusicInputError, match="analyze=False contradicts"):
        MusicGenerationSensor(
            task_id="s3", generation_id="g:m", destination="/tmp/m/", quality=GATE, analyze=False
        )


def test_a_length_rule_without_a_requested_length_is_refused_before_paying(
    emulator: Any, tmp_path: Any
) -> None:
    gate = QualityGate(length_tolerance=0.1)
    with pytest.raises(MusicInputError, match="length_tolerance needs music_length_ms"):
        GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/", quality=gate)
    # a template that renders to None (a native-rendering DAG): refused once rendered, before the POST
    op = GenerateMusicOperator(
        task_id="g2", prompt="p", destination=f"{tmp_path}/", quality=gate, music_length_ms="{{ params.n }}"
    )
    op.music_length_ms = None
    with pytest.raises(MusicInputError, match="length_tolerance needs the requested length"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0
    # the sensor: refused before it waits, when neither request= nor music_length_ms= tells the length
    sensor = MusicGenerationSensor(task_id="s", generation_id="g:m", destination=f"{tmp_path}/", quality=gate)
    with pytest.raises(MusicInputError, match="length_tolerance needs the requested length"):
        sensor.execute(make_context())
