"""The wire format: one reading of the service shared by the sync and async sides."""

from __future__ import annotations

import json
import re
from typing import Any

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
        ("processing", GenerationStatus.PROCESSING, True, False, False),
        (" Processing ", GenerationStatus.PROCESSING, True, False, False),
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
        (
            {"extra_body": {"seed": 1}},
            "seed are not accepted by elevenlabs/eleven_music; extra_body accepts no fields for",
        ),
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


# --- what a misbehaving service can send ---------------------------------------------------------

KEY = "sk-canary-7f3a9c"


def test_deeply_nested_json_is_a_garbled_answer_not_a_crash() -> None:
    deep = b"[" * 100_000
    with pytest.raises(MusicSubmitUncertainError, match="not a JSON object"):
        _wire.parse_submit_response(200, {}, deep)
    with pytest.raises(MusicTransientError, match="not a JSON object"):
        _wire.parse_generation_response(200, {}, deep, "g:m/x")
    err = _wire.error_from_response("submit", 502, {}, deep)
    assert isinstance(err, MusicSubmitUncertainError)


def test_echoed_key_is_redacted_from_every_message() -> None:
    keys = (KEY,)
    with pytest.raises(MusicSubmitUncertainError) as garbled_post:
        _wire.parse_submit_response(200, {}, _body(echo=f"Bearer {KEY}"), keys)
    with pytest.raises(MusicTransientError) as garbled_get:
        _wire.parse_generation_response(200, {}, f"<p>Bearer {KEY}</p>".encode(), "g:m/x", keys)
    odd = _wire.parse_generation_response(200, {}, _body(status=f"weird {KEY}", id=KEY), "g:m/x", keys)
    from_body = _wire.error_from_response("status", 500, {}, _body(requestId=KEY, message="x"), keys)
    from_header = _wire.error_from_response("status", 500, {"X-Request-Id": KEY}, b"", keys)
    texts = [
        str(garbled_post.value),
        str(garbled_get.value),
        _wire.generation_failure_text(odd),
        odd.raw_status,
        str(from_body),
        str(from_body.request_id),
        str(from_header),
    ]
    assert all(KEY not in t for t in texts), texts
    assert "***" in str(garbled_post.value) and "***" in odd.raw_status
    assert odd.id == "g:m/x"  # the id asked for, never what the body echoes


def test_a_huge_status_value_is_shortened_in_messages() -> None:
    odd = _wire.parse_generation_response(200, {}, _body(status="z" * 10_000), "g:m/x")
    assert len(_wire.generation_failure_text(odd)) < 300


@pytest.mark.parametrize("gen_id", ["abc\n", "x" * 600, "a\x00b"])
def test_an_unusable_id_from_the_post_is_an_uncertain_submit(gen_id: str) -> None:
    # Created (maybe billed) but impossible to poll: fail without a resend, never record it.
    with pytest.raises(MusicSubmitUncertainError, match="unusable generation id"):
        _wire.parse_submit_response(200, {}, _body(id=gen_id))


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
    gen = _wire.parse_generation_response(200, {}, _body(status="completed", **fields), "g:m/x")
    assert gen.audio_url == url


@pytest.mark.parametrize("url", ["https://cdn:abc/x.mp3", "https://cdn:99999/x.mp3", "https://[cdn/x.mp3"])
def test_redact_url_of_an_unparseable_url(url: str) -> None:
    assert _wire.redact_url(url) == "<unparseable URL>"


def test_failure_messages_stay_short_and_survive_deep_nesting() -> None:
    assert len(_wire.failure_message({"message": "x" * 50_000})) <= 1003
    deep: object = "boom"
    for _ in range(500):
        deep = {"error": deep}
    # Eight levels are followed; deeper nesting is printed (bounded), never a RecursionError.
    text = _wire.failure_message(deep)
    assert len(text) <= 1003 and text
    gen = _wire.parse_generation_response(200, {}, _body(status="error", error=deep), "g:m/x")
    assert gen.status is GenerationStatus.ERROR and len(_wire.generation_failure_text(gen)) < 1200
    shallow: object = {"error": {"error": {"message": "inner"}}}
    assert _wire.failure_message(shallow) == "inner"


# --- the pending set: the vendor SDK's ------------------------------------------------------------


def test_pending_set_is_the_vendor_sdks() -> None:
    # aimlapi/api-sdk-python, resources/audio/_polling.py keeps waiting on exactly these.
    pending = {s.value for s in GenerationStatus if s.is_pending()}
    assert pending == {"waiting", "active", "processing", "queued", "generating"}
    gen = _wire.parse_generation_response(200, {}, _body(status="processing"), "g:m/x")
    assert gen.status.is_pending() and gen.error_message is None


def test_extra_body_error_says_eleven_music_accepts_no_fields() -> None:
    with pytest.raises(MusicInputError) as info:
        _wire.validate_submission("p", None, "elevenlabs/eleven_music", {"seed": 1, "lyrics": "la"})
    text = str(info.value)
    assert "allowed fields" not in text  # it used to list model, prompt, music_length_ms as "allowed"
    assert "lyrics, seed are not accepted by elevenlabs/eleven_music" in text
    assert "extra_body accepts no fields for elevenlabs/eleven_music" in text


# --- tracing: X-Client-Request-Id ----------------------------------------------------------------

_ALPHABET = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("music_daily", "scheduled_2026-11-28", "generate", -1),
            "music_daily:scheduled_2026-11-28:generate",
        ),
        (("music_daily", "run1", "group.generate", 3), "music_daily:run1:group.generate:3"),
        (("d", "r", "t", None), "d:r:t"),
    ],
)
def test_client_request_id_is_readable_when_it_fits(args: tuple[Any, ...], expected: str) -> None:
    assert _wire.client_request_id(*args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ("music_daily", "manual__2026-11-28T00:00:00+00:00", "generate", -1),
        ("music_daily", "scheduled__2026-11-28T06:00:00+00:00", "generate", 7),
        ("d" * 250, "r" * 250, "t" * 250, 12),
        ("dag", "run with spaces/and ünïcode\n", "task", -1),
        ("", "", "", -1),
        ("a:b", "c", "d", -1),
    ],
)
def test_client_request_id_is_hashed_into_the_alphabet_when_needed(args: tuple[Any, ...]) -> None:
    rid = _wire.client_request_id(*args)
    assert _ALPHABET.fullmatch(rid), rid
    assert _wire.is_valid_client_request_id(rid)
    assert "::" in rid and len(rid) <= 128
    assert rid == _wire.client_request_id(*args)  # deterministic
    assert rid.startswith(re.sub(r"[^A-Za-z0-9._-]", "_", args[0])[:20])  # still readable at the start


def test_client_request_id_keeps_distinct_task_instances_distinct() -> None:
    cases = [
        ("d", "r", "t", -1),
        ("d", "r", "t", 0),
        ("d", "r", "t", 1),
        ("d", "r", "t2", -1),
        ("d", "r2", "t", -1),
        ("d2", "r", "t", -1),
        ("a:b", "c", "d", -1),  # would read "a:b:c:d" ...
        ("a", "b:c", "d", -1),  # ... as would this
        ("a", "b", "c:d", -1),
        ("a", "b", "c", 4),
        ("a", "b", "c:4", -1),
        ("d", "run/1", "t", -1),  # sanitized to the same text ...
        ("d", "run_1", "t", -1),  # ... as this readable one
        ("d", "run 1", "t", -1),
        ("x" * 200, "r", "t", -1),
        ("x" * 200, "r", "t", 1),
        ("x" * 200 + "y", "r", "t", -1),
        ("d", "manual__2026-11-28T00:00:00+00:00", "t", -1),
        ("d", "manual__2026-11-28T00:00:01+00:00", "t", -1),
    ]
    ids = [_wire.client_request_id(*c) for c in cases]
    assert len(set(ids)) == len(cases), ids
    assert all(_wire.is_valid_client_request_id(i) for i in ids)


def test_client_request_id_has_no_try_number() -> None:
    import inspect

    params = list(inspect.signature(_wire.client_request_id).parameters)
    assert params == ["dag_id", "run_id", "task_id", "map_index"]
    assert _wire.client_request_id("d", "r", "t", None) == _wire.client_request_id("d", "r", "t", -1)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("a", True),
        ("A-z_0.9:x", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("has space", False),
        ("plus+sign", False),
        ("ünï", False),
        ("new\nline", False),
        (None, False),
        (42, False),
    ],
)
def test_client_request_id_validity_and_the_header(value: object, valid: bool) -> None:
    assert _wire.is_valid_client_request_id(value) is valid
    request = _wire.build_submit_request("http://h", "p", client_request_id=value)  # type: ignore[arg-type]
    if valid:
        assert request.headers == {"X-Client-Request-Id": value}
    else:
        assert not request.headers  # a value the service would drop is not sent at all
    assert _wire.CLIENT_REQUEST_ID_HEADER == "X-Client-Request-Id"
    assert _wire.build_status_request("http://h", "g").headers is None


# --- cost: usage as the service reported it ------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        pytest.param({}, None, None, id="neither"),
        pytest.param({}, {"id": "x"}, None, id="body-without-meta"),
        pytest.param(
            {},
            {"meta": {"usage": {"credits_used": 2100, "usd_spent": 0.00105}}},
            {"credits_used": 2100, "usd_spent": "0.00105"},
            id="body",
        ),
        pytest.param(
            {"x-aimlapi-credits-used": "2100", "x-aimlapi-usd-spent": "0.001050000"},
            None,
            {"credits_used": 2100, "usd_spent": "0.001050000"},
            id="headers",
        ),
        pytest.param(
            {"X-AIMLAPI-Credits-Used": " 7 ", "X-Aimlapi-Usd-Spent": " 0.0000035 "},
            {},
            {"credits_used": 7, "usd_spent": "0.0000035"},
            id="headers-any-case",
        ),
        pytest.param(
            {"x-aimlapi-credits-used": "1", "x-aimlapi-usd-spent": "0.5"},
            {"meta": {"usage": {"credits_used": 2100, "usd_spent": "0.00105"}}},
            {"credits_used": 2100, "usd_spent": "0.00105"},
            id="both-body-wins",
        ),
        pytest.param(
            {"x-aimlapi-usd-spent": "0.001050000"},
            {"meta": {"usage": {"credits_used": 2100}}},
            {"credits_used": 2100, "usd_spent": "0.001050000"},
            id="field-by-field",
        ),
        pytest.param(
            {},
            {"meta": {"usage": {"credits_used": 5}}},
            {"credits_used": 5, "usd_spent": None},
            id="credits-only",
        ),
        pytest.param(
            {},
            {"meta": {"usage": {"usd_spent": 1e-05}}},
            {"credits_used": None, "usd_spent": "0.00001"},
            id="tiny-float",
        ),
        pytest.param(
            {},
            {"meta": {"usage": {"credits_used": 10.0, "usd_spent": 3}}},
            {"credits_used": 10, "usd_spent": "3"},
        ),
    ],
)
def test_parse_usage(
    headers: dict[str, str], body: dict[str, Any] | None, expected: dict[str, Any] | None
) -> None:
    assert _wire.parse_usage(headers, body) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "",
        "  ",
        "abc",
        "-5",
        "1e400",
        "NaN",
        "Infinity",
        "-0.5",
        True,
        False,
        -3,
        float("nan"),
        float("inf"),
        -0.25,
        [],
        {},
        {"nested": 1},
        "9" * 100,
        10**40,
        object(),
    ],
)
def test_parse_usage_never_crashes_and_never_estimates(garbage: object) -> None:
    # Unreadable figures count as absent: no guess, no default, no crash.
    body = {"meta": {"usage": {"credits_used": garbage, "usd_spent": garbage}}}
    headers = {"x-aimlapi-credits-used": garbage, "x-aimlapi-usd-spent": garbage}
    for h, b in (({}, body), (headers, None), (headers, body)):
        assert _wire.parse_usage(h, b) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        {"meta": None},
        {"meta": "usage"},
        {"meta": {"usage": None}},
        {"meta": {"usage": "lots"}},
        {"meta": {"usage": [1, 2]}},
        {"meta": {"usage": {}}},
        {"meta": []},
    ],
)
def test_parse_usage_of_odd_shapes_is_none(body: dict[str, Any]) -> None:
    assert _wire.parse_usage({}, body) is None
    assert _wire.parse_usage({"unrelated": "1"}, body) is None


def test_submission_and_generation_carry_usage() -> None:
    gid = "u:elevenlabs/eleven_music"
    meta = {"usage": {"credits_used": 42, "usd_spent": "0.000021"}}
    submission = _wire.parse_submission(200, {}, _body(id=gid, status="queued", meta=meta))
    assert submission == _wire.Submission(id=gid, usage={"credits_used": 42, "usd_spent": "0.000021"})
    assert submission.client_request_id is None
    bare = _wire.parse_submission(201, {"x-aimlapi-credits-used": "3"}, _body(id=gid))
    assert bare.usage == {"credits_used": 3, "usd_spent": None}
    assert _wire.parse_submission(200, {}, _body(id=gid)).usage is None
    assert _wire.parse_submit_response(200, {}, _body(id=gid, meta=meta)) == gid
    gen = _wire.parse_generation_response(200, {"x-aimlapi-usd-spent": "0.5"}, _body(status="queued"), gid)
    assert gen.usage == {"credits_used": None, "usd_spent": "0.5"}
    assert _wire.parse_generation_response(200, {}, _body(status="queued"), gid).usage is None


class _Hostile(dict):  # type: ignore[type-arg]
    """A mapping whose every read fails."""

    def get(self, *args: object, **kwargs: object) -> object:
        raise RuntimeError("no")

    def items(self) -> object:  # type: ignore[override]
        raise RuntimeError("no")


def test_parse_usage_survives_mappings_that_fail() -> None:
    assert _wire.parse_usage(_Hostile(), _Hostile()) is None
    assert _wire.parse_usage(_Hostile(), {"meta": {"usage": _Hostile()}}) is None
    # One source failing does not hide the other.
    assert _wire.parse_usage({"x-aimlapi-credits-used": "4"}, _Hostile()) == {
        "credits_used": 4,
        "usd_spent": None,
    }
    assert _wire.parse_usage(_Hostile(), {"meta": {"usage": {"credits_used": 4}}}) == {
        "credits_used": 4,
        "usd_spent": None,
    }
