"""The service side's model table and body checks, without HTTP (tests/integration/emulator: over HTTP)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_music.emulator import MODEL_SPECS, MODELS, audio_size, audio_stream
from airflow_provider_music.emulator._validation import validate_submission

LYRICS = "[Verse]\nlights on the river"


def test_every_model_cites_its_schema() -> None:
    assert set(MODELS) == {
        "elevenlabs/eleven_music",
        "google/lyria2",
        "stable-audio",
        "minimax/music-1.5",
        "minimax/music-2.0",
        "minimax/music-2.6",
        "minimax/music-cover",
        "minimax-music",
    }
    for name, spec in MODEL_SPECS.items():
        assert spec.name == name
        assert re.fullmatch(
            r"aimlapi/api-docs:docs/api-references/music-models/\S+\.json@[0-9a-f]{40}", spec.source
        )
        assert "model" not in spec.fields


@pytest.mark.parametrize(
    ("body", "normalized"),
    [
        (
            {"model": "elevenlabs/eleven_music", "prompt": "calm", "music_length_ms": 20_000},
            ("calm", 20_000, None),
        ),
        ({"model": "stable-audio", "prompt": "calm"}, ("calm", 30_000, "wav")),
        ({"model": "stable-audio", "prompt": "calm", "seconds_total": 9}, ("calm", 9_000, "wav")),
        ({"model": "google/lyria2", "prompt": "calm"}, ("calm", 30_000, "wav")),
        (
            {
                "model": "minimax/music-2.0",
                "prompt": "calm piano",
                "lyrics": LYRICS,
                "audio_setting": {"format": "pcm"},
            },
            ("calm piano", 30_000, "pcm"),
        ),
        ({"model": "minimax/music-2.6", "lyrics": LYRICS}, (LYRICS, 30_000, "mp3")),
        ({"model": "minimax/music-2.6", "audio_setting": {"bitrate": 32000}}, ("", 30_000, "mp3")),
    ],
)
def test_normalized_length_and_format(body: dict[str, Any], normalized: tuple[str, int, str | None]) -> None:
    details, norm = validate_submission(body)
    assert details == []
    assert (norm["model"], norm["prompt"], norm["music_length_ms"], norm["audio_format"]) == (
        body["model"],
        *normalized,
    )


def test_messages_follow_the_service_s_wording() -> None:
    details, norm = validate_submission(
        {
            "model": "minimax/music-1.5",
            "prompt": 3,
            "lyrics": "x" * 3001,
            "audio_setting": {"format": "ogg", "sample_rate": True, "channel": 2},
            "seed": 1,
        }
    )
    assert norm == {}
    assert details == [
        {"field": "prompt", "message": "prompt must be a string"},
        {"field": "lyrics", "message": "lyrics must be shorter than or equal to 3000 characters"},
        {
            "field": "audio_setting.sample_rate",
            "message": "audio_setting.sample_rate must be an integer number",
        },
        {
            "field": "audio_setting.format",
            "message": "audio_setting.format must be one of the following values: mp3, wav, pcm",
        },
        {"field": "audio_setting.channel", "message": "property audio_setting.channel should not exist"},
        {"field": "seed", "message": "property seed should not exist"},
    ]


def test_pcm_is_the_wav_s_samples_without_its_header() -> None:
    wav = b"".join(audio_stream("wav", 1_500))
    pcm = b"".join(audio_stream("pcm", 1_500, chunk_size=1000))
    assert pcm == wav[44:]
    assert audio_size("pcm", 1_500) == len(pcm)
