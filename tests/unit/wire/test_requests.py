"""Building requests: validation before anything is sent, the base URL, the two calls."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_music import wire
from airflow_provider_music.exceptions import AirflowFailException, MusicInputError


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"prompt": ""}, "prompt must not be empty"),
        ({"prompt": "   "}, "prompt must not be empty"),
        ({"prompt": "x" * 2001}, "2001 characters long; the limit is 2000"),
        ({"prompt": 5}, "prompt must be a string"),
        ({"music_length_ms": 9999}, "music_length_ms is 9999; it must be from 10000 to 300000"),
        ({"music_length_ms": 300001}, "from 10000 to 300000"),
        ({"music_length_ms": 30000.0}, "must be an integer"),
        ({"music_length_ms": True}, "must be an integer"),
        ({"model": ""}, "model must be a non-empty string"),
        (
            {"extra_body": {"seed": 1}},
            "elevenlabs/eleven_music: field 'seed' is not accepted; it accepts: music_length_ms, prompt",
        ),
        ({"extra_body": {"prompt": "y"}}, "extra_body must not set prompt"),
        ({"extra_body": ["x"]}, "extra_body must be a mapping"),
    ],
)
def test_validation_names_field_problem_and_limit(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"prompt": "lofi", **kwargs}
    with pytest.raises(MusicInputError, match=needle) as info:
        wire.validate_submission(**args)  # type: ignore[arg-type]
    assert isinstance(info.value, AirflowFailException)


def test_limits_are_inclusive_and_other_models_take_their_own_fields() -> None:
    wire.validate_submission("x" * 2000, 10000)
    wire.validate_submission("x", 300000)
    wire.validate_submission("x", None, "google/lyria2", {"negative_prompt": "drums", "seed": 3})
    request = wire.build_submit_request("http://h", "p", 20000, "stable-audio", {"steps": 5})
    assert request.json_body == {
        "model": "stable-audio",
        "prompt": "p",
        "seconds_total": 20,
        "steps": 5,
    }
    assert request.url == "http://h/v2/generate/audio"


def test_status_request_keeps_id_for_the_transport_to_encode() -> None:
    request = wire.build_status_request("https://api.aimlapi.com", "abc:elevenlabs/eleven_music")
    assert request.params == {"generation_id": "abc:elevenlabs/eleven_music"}
    with pytest.raises(MusicInputError):
        wire.build_status_request("https://x", "bad\nid")


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "https://api.aimlapi.com"),
        ("", None, "https://api.aimlapi.com"),
        ("api.example.com", None, "https://api.example.com"),
        ("http://127.0.0.1:8080/", None, "http://127.0.0.1:8080"),
        ("127.0.0.1", 9000, "https://127.0.0.1:9000"),
    ],
)
def test_base_url(host: str | None, port: int | None, expected: str) -> None:
    assert wire.normalize_base_url(host, port) == expected


def test_extra_body_error_says_eleven_music_accepts_no_fields() -> None:
    with pytest.raises(MusicInputError) as info:
        wire.validate_submission("p", None, "elevenlabs/eleven_music", {"seed": 1, "lyrics": "la"})
    text = str(info.value)
    assert "allowed fields" not in text  # it used to list model, prompt, music_length_ms as "allowed"
    assert "elevenlabs/eleven_music: fields 'lyrics', 'seed' are not accepted" in text
    assert "extra_body accepts no fields for elevenlabs/eleven_music" in text


def test_model_of() -> None:
    assert wire.model_of("u:elevenlabs/eleven_music") == "elevenlabs/eleven_music"
    assert wire.model_of("nanoid123") is None


@pytest.mark.parametrize(
    ("check", "value", "needle"),
    [
        (wire.validate_model, "", "model must be a non-empty string"),
        (wire.validate_prompt, "x" * 2001, "2001 characters long; the limit is 2000"),
        (wire.validate_music_length, 9999, "music_length_ms is 9999"),
        (wire.validate_music_length, "30000", "must be an integer"),
    ],
)
def test_each_field_is_validated_on_its_own(check: Any, value: object, needle: str) -> None:
    with pytest.raises(MusicInputError, match=needle):
        check(value)


def test_extra_body_is_validated_against_its_model() -> None:
    wire.validate_extra_body({"seed": 1}, "google/lyria2")
    with pytest.raises(MusicInputError, match="elevenlabs/eleven_music: field 'seed' is not accepted"):
        wire.validate_extra_body({"seed": 1}, "elevenlabs/eleven_music")
    assert wire.validate_model("m") == "m"
