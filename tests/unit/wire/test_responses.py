"""Reading answers: error classification, failure texts, what a misbehaving service can send."""

from __future__ import annotations

import json

import pytest

from airflow_provider_music import wire
from airflow_provider_music.exceptions import (
    AirflowFailException,
    MusicAuthError,
    MusicCreditsError,
    MusicRejectedError,
    MusicSubmitUncertainError,
    MusicTransientError,
)
from airflow_provider_music.wire import GenerationStatus, ProbeVerdict, StatusClass


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
    err = wire.error_from_response(
        operation,  # type: ignore[arg-type]
        code,
        {},
        _body(message="Insufficient credits", requestId="req-42", statusCode=str(code)),
        secrets=(),
    )
    assert type(err) is cls
    assert isinstance(err, AirflowFailException) is fails_fast
    assert err.http_status == code
    assert err.request_id == "req-42"
    assert "Insufficient credits" in str(err)
    assert "req-42" in str(err)


def test_retry_after_is_honoured_and_capped() -> None:
    err = wire.error_from_response("status", 429, {"Retry-After": "3"}, b"{}")
    assert isinstance(err, MusicTransientError)
    assert err.retry_after == 3.0
    assert wire.parse_retry_after({"retry-after": "100000"}) == 120.0
    assert wire.parse_retry_after({}) is None
    assert wire.parse_retry_after({"Retry-After": "soon"}) is None


def test_service_messages_never_echo_the_key() -> None:
    err = wire.error_from_response(
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
    assert wire.failure_message(payload) == expected


def test_generation_parsing() -> None:
    gid = "u:elevenlabs/eleven_music"
    done = wire.parse_generation_response(
        200, {}, _body(id=gid, status="completed", audio_file={"url": "https://cdn/x.mp3?sig=1"}), gid
    )
    assert done.status.is_success()
    assert done.audio_url == "https://cdn/x.mp3?sig=1"
    failed = wire.parse_generation_response(
        200, {}, _body(id=gid, status="error", error={"message": "boom"}), gid
    )
    assert failed.status is GenerationStatus.ERROR
    assert failed.error_message == "boom"
    assert "boom" in wire.generation_failure_text(failed)
    odd = wire.parse_generation_response(200, {}, _body(id=gid, status="mystery"), gid)
    assert "unknown status 'mystery'" in wire.generation_failure_text(odd)
    with pytest.raises(MusicTransientError, match="not a JSON object"):
        wire.parse_generation_response(200, {}, b"<html>oops</html>", gid)
    with pytest.raises(MusicSubmitUncertainError):
        wire.parse_submit_response(200, {}, b"<html>oops</html>")
    assert wire.parse_submit_response(201, {}, _body(id=gid, status="queued")) == gid


# --- what a misbehaving service can send ---------------------------------------------------------

KEY = "sk-canary-7f3a9c"


def test_deeply_nested_json_is_a_garbled_answer_not_a_crash() -> None:
    deep = b"[" * 100_000
    with pytest.raises(MusicSubmitUncertainError, match="not a JSON object"):
        wire.parse_submit_response(200, {}, deep)
    with pytest.raises(MusicTransientError, match="not a JSON object"):
        wire.parse_generation_response(200, {}, deep, "g:m/x")
    err = wire.error_from_response("submit", 502, {}, deep)
    assert isinstance(err, MusicSubmitUncertainError)


def test_echoed_key_is_redacted_from_every_message() -> None:
    keys = (KEY,)
    with pytest.raises(MusicSubmitUncertainError) as garbled_post:
        wire.parse_submit_response(200, {}, _body(echo=f"Bearer {KEY}"), keys)
    with pytest.raises(MusicTransientError) as garbled_get:
        wire.parse_generation_response(200, {}, f"<p>Bearer {KEY}</p>".encode(), "g:m/x", keys)
    odd = wire.parse_generation_response(200, {}, _body(status=f"weird {KEY}", id=KEY), "g:m/x", keys)
    from_body = wire.error_from_response("status", 500, {}, _body(requestId=KEY, message="x"), keys)
    from_header = wire.error_from_response("status", 500, {"X-Request-Id": KEY}, b"", keys)
    texts = [
        str(garbled_post.value),
        str(garbled_get.value),
        wire.generation_failure_text(odd),
        odd.raw_status,
        str(from_body),
        str(from_body.request_id),
        str(from_header),
    ]
    assert all(KEY not in t for t in texts), texts
    assert "***" in str(garbled_post.value)
    assert "***" in odd.raw_status
    assert odd.id == "g:m/x"  # the id asked for, never what the body echoes


def test_a_huge_status_value_is_shortened_in_messages() -> None:
    odd = wire.parse_generation_response(200, {}, _body(status="z" * 10_000), "g:m/x")
    assert len(wire.generation_failure_text(odd)) < 300


@pytest.mark.parametrize("gen_id", ["abc\n", "x" * 600, "a\x00b"])
def test_an_unusable_id_from_the_post_is_an_uncertain_submit(gen_id: str) -> None:
    # Created (maybe billed) but impossible to poll: fail without a resend, never record it.
    with pytest.raises(MusicSubmitUncertainError, match="unusable generation id"):
        wire.parse_submit_response(200, {}, _body(id=gen_id))


@pytest.mark.parametrize(
    ("fields", "url"),
    [
        ({"audio_file": {"url": " https://cdn/a.mp3 "}}, "https://cdn/a.mp3"),
        ({"audio_file": "https://cdn/b.mp3"}, "https://cdn/b.mp3"),
        ({"audio_file": {}, "audio_url": "https://cdn/c.mp3"}, "https://cdn/c.mp3"),
        ({"audio_file": None, "audio_url": "https://cdn/d.mp3"}, "https://cdn/d.mp3"),
        ({"audio_file": {"url": "   "}}, None),
        ({"audio_url": "  "}, None),
        ({"audio_file": {"url": 5}}, None),
    ],
)
def test_audio_url_shapes(fields: dict[str, object], url: str | None) -> None:
    gen = wire.parse_generation_response(200, {}, _body(status="completed", **fields), "g:m/x")
    assert gen.audio_url == url


def test_failure_messages_stay_short_and_survive_deep_nesting() -> None:
    assert len(wire.failure_message({"message": "x" * 50_000})) <= 1003
    deep: object = "boom"
    for _ in range(500):
        deep = {"error": deep}
    # Eight levels are followed; deeper nesting is printed (bounded), never a RecursionError.
    text = wire.failure_message(deep)
    assert len(text) <= 1003
    assert text
    gen = wire.parse_generation_response(200, {}, _body(status="error", error=deep), "g:m/x")
    assert gen.status is GenerationStatus.ERROR
    assert len(wire.generation_failure_text(gen)) < 1200
    shallow: object = {"error": {"error": {"message": "inner"}}}
    assert wire.failure_message(shallow) == "inner"


# --- one classification of HTTP statuses; the connection test's verdict in the documented words ---

URL = "https://api.example.test"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, StatusClass.SUCCESS),
        (204, StatusClass.SUCCESS),
        (401, StatusClass.AUTH),
        (403, StatusClass.CREDITS),
        (429, StatusClass.THROTTLED),
        (408, StatusClass.REQUEST_TIMEOUT),
        (500, StatusClass.SERVER),
        (503, StatusClass.SERVER),
        (400, StatusClass.REJECTED),
        (404, StatusClass.REJECTED),
        (301, StatusClass.REJECTED),
    ],
)
def test_classify_status(status: int, expected: StatusClass) -> None:
    assert wire.classify_status(status) is expected


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (401, ProbeVerdict.KEY_REFUSED),
        (403, ProbeVerdict.FORBIDDEN),
        (429, ProbeVerdict.TRY_LATER),
        (500, ProbeVerdict.TRY_LATER),
        (599, ProbeVerdict.TRY_LATER),
        (404, ProbeVerdict.ACCEPTED),
        (200, ProbeVerdict.ACCEPTED),
        (400, ProbeVerdict.ACCEPTED),
        (408, ProbeVerdict.ACCEPTED),  # as before: only 401, 403, 429 and 5xx fail the test
    ],
)
def test_probe_verdicts(status: int, verdict: ProbeVerdict) -> None:
    assert wire.classify_probe_status(status) is verdict


def test_connection_test_result_words() -> None:
    assert wire.connection_test_result(401, URL) == (
        False,
        f"The AI/ML API at {URL} refused the API key (HTTP 401): check the password field",
    )
    assert wire.connection_test_result(403, URL) == (
        False,
        f"The AI/ML API at {URL} answered HTTP 403: the account is out of credits "
        "or the key may not use this model",
    )
    assert wire.connection_test_result(502, URL) == (
        False,
        f"The AI/ML API at {URL} answered HTTP 502; try again later",
    )
    assert wire.connection_test_result(404, URL) == (True, f"The AI/ML API at {URL} accepted the API key")


def test_the_probe_request_is_a_status_read_of_a_missing_generation() -> None:
    request = wire.build_probe_request(URL)
    assert (request.method, request.operation) == ("GET", "status")
    assert request.url == URL + wire.GENERATE_AUDIO_PATH
    assert request.params == {"generation_id": wire.PROBE_GENERATION_ID}
