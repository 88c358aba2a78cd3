"""Cost: usage as the service reported it, never estimated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_music import wire


def _body(**kw: object) -> bytes:
    return json.dumps(kw).encode()


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
    assert wire.parse_usage(headers, body) == expected


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
        assert wire.parse_usage(h, b) is None  # type: ignore[arg-type]


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
    assert wire.parse_usage({}, body) is None
    assert wire.parse_usage({"unrelated": "1"}, body) is None


def test_submission_and_generation_carry_usage() -> None:
    gid = "u:elevenlabs/eleven_music"
    meta = {"usage": {"credits_used": 42, "usd_spent": "0.000021"}}
    submission = wire.parse_submission(200, {}, _body(id=gid, status="queued", meta=meta))
    assert submission == wire.Submission(id=gid, usage={"credits_used": 42, "usd_spent": "0.000021"})
    assert submission.client_request_id is None
    bare = wire.parse_submission(201, {"x-aimlapi-credits-used": "3"}, _body(id=gid))
    assert bare.usage == {"credits_used": 3, "usd_spent": None}
    assert wire.parse_submission(200, {}, _body(id=gid)).usage is None
    assert wire.parse_submit_response(200, {}, _body(id=gid, meta=meta)) == gid
    gen = wire.parse_generation_response(200, {"x-aimlapi-usd-spent": "0.5"}, _body(status="queued"), gid)
    assert gen.usage == {"credits_used": None, "usd_spent": "0.5"}
    assert wire.parse_generation_response(200, {}, _body(status="queued"), gid).usage is None


class _Hostile(dict):  # type: ignore[type-arg]
    """A mapping whose every read fails."""

    def get(self, *args: object, **kwargs: object) -> object:
        raise RuntimeError("no")

    def items(self) -> object:  # type: ignore[override]
        raise RuntimeError("no")


def test_parse_usage_survives_mappings_that_fail() -> None:
    assert wire.parse_usage(_Hostile(), _Hostile()) is None
    assert wire.parse_usage(_Hostile(), {"meta": {"usage": _Hostile()}}) is None
    # One source failing does not hide the other.
    assert wire.parse_usage({"x-aimlapi-credits-used": "4"}, _Hostile()) == {
        "credits_used": 4,
        "usd_spent": None,
    }
    assert wire.parse_usage(_Hostile(), {"meta": {"usage": {"credits_used": 4}}}) == {
        "credits_used": 4,
        "usd_spent": None,
    }


def test_usage_text_is_what_the_log_line_shows() -> None:
    assert wire.usage_text(None) == "none"
    assert wire.usage_text({}) == "none"
    assert wire.usage_text({"credits_used": 3, "usd_spent": "0.5"}) == "credits_used=3, usd_spent=0.5"
