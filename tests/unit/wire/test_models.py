"""Statuses as the service reports them, folded into what a waiter needs to know."""

from __future__ import annotations

import json

import pytest

from airflow_provider_music import wire
from airflow_provider_music.wire import GenerationStatus


def _body(**kw: object) -> bytes:
    return json.dumps(kw).encode()


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


def test_pending_set_is_the_vendor_sdks() -> None:
    # aimlapi/api-sdk-python, resources/audio/_polling.py keeps waiting on exactly these.
    pending = {s.value for s in GenerationStatus if s.is_pending()}
    assert pending == {"waiting", "active", "processing", "queued", "generating"}
    gen = wire.parse_generation_response(200, {}, _body(status="processing"), "g:m/x")
    assert gen.status.is_pending()
    assert gen.error_message is None
