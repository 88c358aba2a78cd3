"""Cost and traceability on the wire: X-Client-Request-Id on the POST, and the usage the service reported."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests

from airflow_provider_music import wire
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.hooks.music import MusicGenerationHook, Submission

pytestmark = pytest.mark.integration


def _logged(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    return capsys.readouterr().out + caplog.text


@pytest.mark.parametrize(
    ("mode", "usage"),
    [
        ("both", {"credits_used": 21000, "usd_spent": "0.0105"}),  # the body wins
        ("body", {"credits_used": 21000, "usd_spent": "0.0105"}),
        ("headers", {"credits_used": 21000, "usd_spent": "0.010500000"}),
        ("none", None),  # absent: recorded as absent, never estimated
    ],
)
def test_create_generation_returns_the_reported_usage_and_the_id_sent(
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    mode: str,
    usage: dict[str, object] | None,
) -> None:
    caplog.set_level(logging.INFO)
    emulator.configure(usage=mode)
    rid = wire.client_request_id("music_daily", "manual__2026-11-28T00:00:00+00:00", "generate", 2)
    submission = MusicGenerationHook().create_generation("lofi", 10_000, client_request_id=rid)
    assert isinstance(submission, Submission)
    assert submission.usage == usage
    assert submission.client_request_id == rid
    recorded = emulator.stats()["generations"][submission.id]
    assert recorded["client_request_id"] == rid  # the service got it (and would log it)
    logged = _logged(capsys, caplog)
    assert f"Created generation {submission.id}" in logged
    assert rid in logged
    if usage:
        assert f"credits_used={usage['credits_used']}, usd_spent={usage['usd_spent']}" in logged
    else:
        assert "usage reported: none" in logged


def test_submit_generation_sends_the_id_too_and_returns_the_id(emulator: Emulator) -> None:
    gen_id = MusicGenerationHook().submit_generation("p", client_request_id="d:r:t")
    assert isinstance(gen_id, str)
    assert emulator.stats()["generations"][gen_id]["client_request_id"] == "d:r:t"


def test_without_a_client_request_id_no_header_is_sent(emulator: Emulator) -> None:
    submission = MusicGenerationHook().create_generation("p")
    stats = emulator.stats()
    assert submission.client_request_id is None
    assert stats["generations"][submission.id]["client_request_id"] is None
    assert stats["client_request_ids_dropped"] == 0


@pytest.mark.parametrize("bad", ["has spaces", "x" * 129, "run+00:00", ""])
def test_an_invalid_client_request_id_is_not_sent(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    caplog.set_level(logging.WARNING)
    submission = MusicGenerationHook().create_generation("p", client_request_id=bad)
    stats = emulator.stats()
    # The service would drop it silently: it is not sent, and the Submission does not claim it was.
    assert submission.client_request_id is None
    assert stats["client_request_ids_dropped"] == 0
    assert stats["generations"][submission.id]["client_request_id"] is None
    assert "is not 1-128 characters of [A-Za-z0-9._:-]; not sent" in _logged(capsys, caplog)


class _Recording(requests.adapters.HTTPAdapter):
    """requests' own transport, keeping the headers of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, dict[str, str]]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append((request.method or "", dict(request.headers)))
        return super().send(request, *args, **kwargs)


def test_only_the_post_carries_the_client_request_id(emulator: Emulator) -> None:
    hook = MusicGenerationHook()
    recording = _Recording()
    hook.session.mount("http://", recording)
    submission = hook.create_generation("p", client_request_id="d:r:t")
    generation = hook.get_generation(submission.id)
    (post_method, post_headers), (get_method, get_headers) = recording.sent
    assert (post_method, get_method) == ("POST", "GET")
    assert post_headers["X-Client-Request-Id"] == "d:r:t"
    assert "X-Client-Request-Id" not in get_headers
    assert generation.usage is None  # the emulator's polls report no usage, so none is made up
