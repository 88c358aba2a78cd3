"""The X-Client-Request-Id: readable when it fits, hashed into the alphabet when not, never the try."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from airflow_provider_music import wire

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
    assert wire.client_request_id(*args) == expected


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
    rid = wire.client_request_id(*args)
    assert _ALPHABET.fullmatch(rid), rid
    assert wire.is_valid_client_request_id(rid)
    assert "::" in rid
    assert len(rid) <= 128
    assert rid == wire.client_request_id(*args)  # deterministic
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
    ids = [wire.client_request_id(*c) for c in cases]
    assert len(set(ids)) == len(cases), ids
    assert all(wire.is_valid_client_request_id(i) for i in ids)


def test_client_request_id_has_no_try_number() -> None:
    params = list(inspect.signature(wire.client_request_id).parameters)
    assert params == ["dag_id", "run_id", "task_id", "map_index"]
    assert wire.client_request_id("d", "r", "t", None) == wire.client_request_id("d", "r", "t", -1)


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
    assert wire.is_valid_client_request_id(value) is valid
    request = wire.build_submit_request("http://h", "p", client_request_id=value)  # type: ignore[arg-type]
    if valid:
        assert request.headers == {"X-Client-Request-Id": value}
    else:
        assert not request.headers  # a value the service would drop is not sent at all
    assert wire.CLIENT_REQUEST_ID_HEADER == "X-Client-Request-Id"
    assert wire.build_status_request("http://h", "g").headers is None
