"""What a submitting task sends: typed fields, values pending until run time, the rendered XComs."""

from __future__ import annotations

import pytest
from airflow.sdk import DAG, BaseOperator

from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.integration import (
    check_literals,
    is_pending,
    mapping_value,
    recorded_request,
    request_body,
    typed_fields,
)


def test_templates_and_xcom_references_are_pending_literals_are_not() -> None:
    with DAG("d", schedule=None):
        task = BaseOperator(task_id="t")
    assert is_pending("{{ params.p }}")
    assert is_pending("{% if x %}a{% endif %}")
    assert is_pending(task.output)
    assert not is_pending("Calm piano")
    assert not is_pending(42)
    assert not is_pending(None)


def test_typed_fields_drop_none_and_read_a_rendered_seed_as_an_integer() -> None:
    assert typed_fields(None, None, None) == {}
    assert typed_fields("la la la la la", None, " 42 ") == {"lyrics": "la la la la la", "seed": 42}
    assert typed_fields(None, "drums", "-1") == {"negative_prompt": "drums", "seed": -1}
    assert typed_fields(None, None, "{{ params.s }}") == {"seed": "{{ params.s }}"}


def test_literals_beside_templates_are_checked_with_the_models_rules() -> None:
    fields = typed_fields("{{ params.l }}", None, None)
    assert check_literals("{{ params.p }}", None, "minimax/music-2.0", None, fields) is None
    with pytest.raises(MusicInputError, match="seconds_total is 60"):
        check_literals("{{ params.p }}", 60_000, "stable-audio", None, {})
    with pytest.raises(MusicInputError, match=r"audio_setting\.bitrate"):
        check_literals(
            "{{ p }}", None, "minimax/music-2.0", {"audio_setting": {"format": "mp3", "bitrate": 1}}, fields
        )


def test_an_unknown_model_returns_the_warning_to_log() -> None:
    warning = check_literals("p", "{{ ms }}", "vendor/next", None, {})
    assert warning is not None
    assert "vendor/next" in warning


def test_the_request_body_is_the_models_own() -> None:
    body = request_body("Beat", "20000", "stable-audio", {"steps": 50}, {})
    assert body == {"model": "stable-audio", "prompt": "Beat", "seconds_total": 20, "steps": 50}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("None", None),
        ("null", None),
        ({"a": 1}, {"a": 1}),
        ('{"a": 1}', {"a": 1}),
        ("{'a': 1}", {"a": 1}),
    ],
)
def test_a_rendered_mapping_xcom_is_read_back(value: object, expected: object) -> None:
    assert mapping_value(value, "request", "XComArg(submit, key='request')") == expected


@pytest.mark.parametrize("value", ["[1, 2]", "not json", 3, ["a"]])
def test_anything_else_is_refused_naming_the_xcom(value: object) -> None:
    with pytest.raises(
        MusicInputError, match="request must be what the submit task pushed under the XCom key 'request'"
    ):
        mapping_value(value, "request", "XComArg(submit, key='request')")


def test_the_recorded_request_keeps_lyrics_and_hides_what_could_be_a_credential_or_a_blob() -> None:
    lyrics = "[Verse]\nEvery word as given\n" * 20
    body = {"model": "minimax/music-cover", "prompt": "Jazz cover", "lyrics": lyrics}
    signed = {**body, "reference_audio_url": "https://bucket.s3.amazonaws.com/a.mp3?X-Amz-Signature=abc"}
    assert recorded_request(signed) == {
        **body,
        "reference_audio_url": "https://bucket.s3.amazonaws.com/a.mp3?...",
    }
    inline = recorded_request({**body, "reference_audio_url": "UklGR" + "A" * 5000})
    assert inline["lyrics"] == lyrics
    assert inline["reference_audio_url"].startswith("<inline audio: 5005 characters, sha256 ")
    assert recorded_request(body) == body
