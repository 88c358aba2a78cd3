"""Delivery options: each field checked on its own, and all of them together before anything is paid."""

from __future__ import annotations

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_music.delivery import (
    DeliveryOptions,
    validate_chunk_size,
    validate_destination,
    validate_if_exists,
    validate_max_bytes,
    validate_object_name,
    validate_options,
    validate_static_options,
)
from airflow_provider_music.exceptions import MusicInputError


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"if_exists": "sometimes"}, "if_exists"),
        ({"chunk_size": 10}, "chunk_size"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"object_name": "a/b"}, "object_name"),
        ({"object_name": ".."}, "object_name"),
        ({"destination": ""}, "destination must not be empty"),
        ({"destination": 42}, "destination must be a URI string"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"destination": "/tmp/x/"}
    args.update(options)
    with pytest.raises(MusicInputError, match=needle):
        validate_options(DeliveryOptions(**args))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("validate", "value", "needle"),
    [
        (
            validate_if_exists,
            "sometimes",
            "if_exists is 'sometimes'; it must be one of overwrite, skip",
        ),
        (validate_chunk_size, 10, "chunk_size must be an integer of at least 65536 bytes, got 10"),
        (validate_chunk_size, "1MB", "chunk_size must be an integer"),
        (validate_max_bytes, 0, "max_bytes must be a positive integer, got 0"),
        (validate_max_bytes, 1.5, "max_bytes must be a positive integer"),
        (validate_object_name, "a\\b", "object_name must be a single path segment"),
        (validate_object_name, " ", "object_name must be a single path segment"),
        (validate_object_name, ".", "object_name must be a single path segment"),
        (validate_object_name, 7, "object_name must be a single path segment"),
        (validate_destination, " ", "destination must not be empty"),
        (
            validate_destination,
            ["/tmp/x/"],
            "must be a URI string or an ObjectStoragePath, got list",
        ),
    ],
)
def test_each_field_is_checked_on_its_own(validate: object, value: object, needle: str) -> None:
    with pytest.raises(MusicInputError, match=needle.replace("\\", "\\\\")):
        validate(value)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("validate", "value"),
    [
        (validate_if_exists, "skip"),
        (validate_chunk_size, 64 * 1024),
        (validate_max_bytes, 1),
        (validate_object_name, None),
        (validate_object_name, "2026-01-01"),
        (validate_destination, "s3://bucket/music/"),
        (validate_destination, ObjectStoragePath("file:///data/music/")),
    ],
)
def test_good_fields_pass(validate: object, value: object) -> None:
    validate(value)  # type: ignore[operator]


def test_the_static_options_are_the_untemplated_ones() -> None:
    validate_static_options(if_exists="fail", chunk_size=1 << 20, max_bytes=1)
    with pytest.raises(MusicInputError, match="max_bytes"):
        validate_static_options(if_exists="fail", chunk_size=1 << 20, max_bytes=-1)
