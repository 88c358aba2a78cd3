"""The hook sends each model's own body: typed fields, the length in the model's field, nothing twice."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
import requests
import urllib3
from helpers import conn_json

from airflow_provider_music import wire
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.hooks.music import MusicGenerationHook

BASE_URL = "http://music.invalid"


class _Answering(requests.adapters.BaseAdapter):
    """A requests transport that records each request's JSON body and answers 'queued'."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raw = request.body or b"{}"
        self.bodies.append(json.loads(raw if isinstance(raw, bytes) else raw.encode()))
        payload = json.dumps({"id": f"g{len(self.bodies)}", "status": "queued"}).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(payload))}
        response = requests.Response()
        response.status_code = 200
        response.headers.update(headers)
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(payload), headers=headers, status=200, preload_content=False
        )
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> tuple[MusicGenerationHook, _Answering]:
    monkeypatch.setenv("AIRFLOW_CONN_AIMLAPI_DEFAULT", conn_json(BASE_URL))
    made = MusicGenerationHook()
    adapter = _Answering()
    made.session.mount("http://", adapter)
    return made, adapter


def _logged(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    return capsys.readouterr().out + caplog.text


def test_typed_keywords_reach_the_post_body(hook: tuple[MusicGenerationHook, _Answering]) -> None:
    music, adapter = hook
    music.create_generation("rain on a tin roof", model="google/lyria2", negative_prompt="drums", seed=7)
    music.submit_generation(
        "an upbeat pop song about summer", model="minimax/music-2.0", lyrics="[Verse]\nsun on the sea"
    )
    music.submit_generation("lofi piano", 20_000, "stable-audio", {"steps": 50}, client_request_id="d:r:t")
    assert adapter.bodies == [
        {"model": "google/lyria2", "prompt": "rain on a tin roof", "negative_prompt": "drums", "seed": 7},
        {
            "model": "minimax/music-2.0",
            "prompt": "an upbeat pop song about summer",
            "lyrics": "[Verse]\nsun on the sea",
        },
        {"model": "stable-audio", "prompt": "lofi piano", "seconds_total": 20, "steps": 50},
    ]


def test_none_is_not_sent(hook: tuple[MusicGenerationHook, _Answering]) -> None:
    music, adapter = hook
    music.create_generation("lofi", 10_000, lyrics=None, negative_prompt=None, seed=None)
    assert adapter.bodies == [
        {"model": "elevenlabs/eleven_music", "prompt": "lofi", "music_length_ms": 10_000}
    ]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (
            {"model": "google/lyria2", "seed": 1, "extra_body": {"seed": 2}},
            "google/lyria2: seed is given both as a parameter (seed=) and in extra_body; give it once",
        ),
        ({"lyrics": "la la la la la"}, "elevenlabs/eleven_music: field 'lyrics' is not accepted"),
        ({"model": "google/lyria2", "seed": -1}, "google/lyria2: seed is -1; it must be at least 0"),
        ({"model": "minimax/music-2.0"}, "minimax/music-2.0: lyrics is required (10 to 3000 characters)"),
        ({"model": "google/lyria2", "music_length_ms": 30_000}, "google/lyria2 has no length parameter"),
    ],
)
def test_a_bad_request_is_refused_before_any_post(
    hook: tuple[MusicGenerationHook, _Answering], kwargs: dict[str, Any], needle: str
) -> None:
    music, adapter = hook
    with pytest.raises(MusicInputError) as info:
        music.create_generation("a calm ambient track", **kwargs)
    assert needle in str(info.value)
    assert adapter.bodies == []


def test_an_unknown_model_is_sent_as_given_with_a_warning(
    hook: tuple[MusicGenerationHook, _Answering],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    music, adapter = hook
    music.submit_generation("lofi", 5, "acme/new-model", {"style": "x"}, seed=3)
    assert adapter.bodies == [
        {"model": "acme/new-model", "prompt": "lofi", "music_length_ms": 5, "seed": 3, "style": "x"}
    ]
    warning = wire.unknown_model_warning("acme/new-model")
    assert warning is not None
    assert warning in _logged(capsys, caplog)


def test_a_known_model_logs_no_warning(
    hook: tuple[MusicGenerationHook, _Answering],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    music, _ = hook
    music.create_generation("lofi", model="stable-audio")
    assert "not in this provider's catalogue" not in _logged(capsys, caplog)
