"""The wire format: one reading of the service shared by the sync and async sides."""

from __future__ import annotations

import json

import pytest

from airflow_provider_music import _wire
from airflow_provider_music._wire import GenerationStatus
from airflow_provider_music.exceptions import (
    AirflowFailException,
    MusicAuthError,
    MusicCreditsError,
    MusicInputError,
    MusicRejectedError,
    MusicSubmitUncertainError,
    MusicTransientError,
)


@pytest.mark.parametrize(
    ("raw", "member", "pending", "terminal", "success"),
    [
        ("queued", GenerationStatus.QUEUED, True, False, False),
        ("generating", GenerationStatus.GENERATING, True, False, False),
        ("waiting", GenerationStatus.WAITING, True, False, False),
        ("active", GenerationStatus.ACTIVE, True, False, False),
        ("completed", GenerationStatus.COMPLETED, False, True, True),
        ("COMPLETED", GenerationStatus.COMPLETED, False, True, True),
        ("error", GenerationStatus.ERROR, False, True, False),
        ("failed", GenerationStatus.UNKNOWN, False, True, False),
        ("mystery", GenerationStatus.UNKNOWN, False, True, False),
        (None, GenerationStatus.UNKNOWN, False, True, False),
        (42, GenerationStatus.UNKNOWN, False, True, False),
    ],
)
def test_status_folding(
    raw: object, member: GenerationStatus, pending: bool, terminal: bool, success: bool
) -> None:
    status = GenerationStatus.parse(raw)
    assert status is member
    assert (status.is_pending(), status.is_terminal(), status.is_success()) == (pending, terminal, success)


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
        ({"extra_body": {"seed": 1}}, "seed are not accepted by elevenlabs/eleven_music; allowed fields"),
        ({"extra_body": {"prompt": "y"}}, "extra_body must not set prompt"),
        ({"extra_body": ["x"]}, "extra_body must be a mapping"),
    ],
)
def test_validation_names_field_problem_and_limit(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"prompt": "lofi", **kwargs}
    with pytest.raises(MusicInputError, match=needle) as info:
        _wire.validate_submission(**args)  # type: ignore[arg-type]
    assert isinstance(info.value, AirflowFailException)


def test_limits_are_inclusive_and_other_models_pass_fields_through() -> None:
    _wire.validate_submission("x" * 2000, 10000)
    _wire.validate_submission("x", 300000)
    _wire.validate_submission("x", None, "google/lyria2", {"negative_prompt": "drums", "seed": 3})
    request = _wire.build_submit_request("http://h", "p", 20000, "stable-audio", {"seconds_total": 5})
    assert request.json_body == {
        "model": "stable-audio",
        "prompt": "p",
        "music_length_ms": 20000,
        "seconds_total": 5,
    }
    assert request.url == "http://h/v2/generate/audio"


def test_status_request_keeps_id_for_the_transport_to_encode() -> None:
    request = _wire.build_status_request("https://api.aimlapi.com", "abc:elevenlabs/eleven_music")
    assert request.params == {"generation_id": "abc:elevenlabs/eleven_music"}
    with pytest.raises(MusicInputError):
        _wire.build_status_request("https://x", "bad\nid")


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
    assert _wire.normalize_base_url(host, port) == expected


def _body(**kw: object) -> bytes:
    return json.dumps(kw).encode()


@pytest.mark.parametrize(
    ("code", "operation", "cls", "fails_fast"),
    [
        (400, "submit", MusicRejectedError, True),
        (401, "status", MusicAuthError, True),
        (403, "submit", MusicCreditsError, True),
        (404, "status", MusicRejectedError, True),
        (429, "submit", MusicTransientError, False),
        (429, "status", MusicTransientError, False),
        (500, "status", MusicTransientError, False),
        (503, "status", MusicTransientError, False),
        (504, "status", MusicTransientError, False),
        (500, "submit", MusicSubmitUncertainError, True),
        (502, "submit", MusicSubmitUncertainError, True),
    ],
)
def test_error_classification(code: int, operation: str, cls: type, fails_fast: bool) -> None:
    err = _wire.error_from_response(
        operation,  # type: ignore[arg-type]
        code,
        {},
        _body(message="Insufficient credits", requestId="req-42", statusCode=str(code)),
        secrets=(),
    )
    assert type(err) is cls
    assert isinstance(err, AirflowFailException) is fails_fast
    assert err.http_status == code and err.request_id == "req-42"
    assert "Insufficient credits" in str(err) and "req-42" in str(err)


def test_retry_after_is_honoured_and_capped() -> None:
    err = _wire.error_from_response("status", 429, {"Retry-After": "3"}, b"{}")
    assert isinstance(err, MusicTransientError) and err.retry_after == 3.0
    assert _wire.parse_retry_after({"retry-after": "100000"}) == 120.0
    assert _wire.parse_retry_after({}) is None
    assert _wire.parse_retry_after({"Retry-After": "soon"}) is None
    assert _wire.backoff_delay(1, retry_after=7.5) == 7.5
    assert all(0.5 <= _wire.backoff_delay(1) <= 1.0 for _ in range(50))
    assert all(_wire.backoff_delay(20) <= 30.0 for _ in range(50))


def test_service_messages_never_echo_the_key() -> None:
    err = _wire.error_from_response(
        "submit", 401, {}, _body(message="bad key sk-canary-123456"), ("sk-canary-123456",)
    )
    assert "sk-canary-123456" not in str(err)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"name": "E", "message": "model crashed"}, "model crashed"),
        (
            {"detail": [{"loc": ["body", "prompt"], "msg": "too long", "type": "value_error"}]},
            "body.prompt: too long",
        ),
        ("plain words", "plain words"),
        ({"code": 7}, '{"code": 7}'),
        ({"error": {"message": "nested"}}, "nested"),
    ],
)
def test_failure_message_is_parsed_loosely(payload: object, expected: str) -> None:
    assert _wire.failure_message(payload) == expected


def test_generation_parsing() -> None:
    gid = "u:elevenlabs/eleven_music"
    done = _wire.parse_generation_response(
        200, {}, _body(id=gid, status="completed", audio_file={"url": "https://cdn/x.mp3?sig=1"}), gid
    )
    assert done.status.is_success() and done.audio_url == "https://cdn/x.mp3?sig=1"
    failed = _wire.parse_generation_response(
        200, {}, _body(id=gid, status="error", error={"message": "boom"}), gid
    )
    assert failed.status is GenerationStatus.ERROR and failed.error_message == "boom"
    assert "boom" in _wire.generation_failure_text(failed)
    odd = _wire.parse_generation_response(200, {}, _body(id=gid, status="mystery"), gid)
    assert "unknown status 'mystery'" in _wire.generation_failure_text(odd)
    with pytest.raises(MusicTransientError, match="not a JSON object"):
        _wire.parse_generation_response(200, {}, b"<html>oops</html>", gid)
    with pytest.raises(MusicSubmitUncertainError):
        _wire.parse_submit_response(200, {}, b"<html>oops</html>")
    assert _wire.parse_submit_response(201, {}, _body(id=gid, status="queued")) == gid


def test_safe_object_name_is_one_segment_and_injective() -> None:
    a = _wire.safe_object_name("60ac7c34:elevenlabs/eleven_music")
    b = _wire.safe_object_name("60ac7c34:elevenlabs_eleven_music")
    assert "/" not in a and ":" not in a and a != b
    assert _wire.safe_object_name("../../etc") not in ("..", ".")
    assert "/" not in _wire.safe_object_name("../../etc")


def test_redact_url_drops_query_and_userinfo() -> None:
    assert _wire.redact_url("https://u:p@cdn.x/a/b.mp3?sig=secret#f") == "https://cdn.x/a/b.mp3?..."
    assert _wire.model_of("u:elevenlabs/eleven_music") == "elevenlabs/eleven_music"
    assert _wire.model_of("nanoid123") is None
