"""Every model of the catalogue over real HTTP: the vendor's rules, the format and length of its audio."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from airflow_provider_music.emulator import MODELS, Emulator, expected_audio

GEN = "/v2/generate/audio"
PROMPT = "warm lo-fi beat with soft keys"
LYRICS = "[Verse]\nlights on the river\n[Chorus]\nwe sing along"
REFERENCE = "https://example.com/reference.mp3"

#: The smallest body each model accepts, with the (format, length) of what it serves.
VALID: dict[str, tuple[dict[str, Any], str, int]] = {
    "elevenlabs/eleven_music": ({"prompt": PROMPT, "music_length_ms": 12_000}, "wav", 12_000),
    "google/lyria2": ({"prompt": PROMPT, "negative_prompt": "drums", "seed": 0}, "wav", 30_000),
    "stable-audio": ({"prompt": PROMPT, "seconds_total": 7, "seconds_start": 1, "steps": 1000}, "wav", 7_000),
    "minimax/music-1.5": ({"prompt": PROMPT, "lyrics": LYRICS}, "mp3", 30_000),
    "minimax/music-2.0": (
        {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {"format": "wav", "sample_rate": 44100}},
        "wav",
        30_000,
    ),
    "minimax/music-2.6": ({"prompt": PROMPT, "is_instrumental": True}, "mp3", 30_000),
    "minimax/music-cover": ({"prompt": PROMPT, "reference_audio_url": REFERENCE}, "mp3", 30_000),
    "minimax-music": ({"prompt": PROMPT, "reference_audio_url": REFERENCE}, "mp3", 30_000),
}

#: One bad body per rule: (model, fields besides "model", the field the 400 names).
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("elevenlabs/eleven_music", {"prompt": PROMPT, "lyrics": LYRICS}, "lyrics"),
    ("elevenlabs/eleven_music", {"prompt": PROMPT, "music_length_ms": 300_001}, "music_length_ms"),
    ("google/lyria2", {"negative_prompt": "drums"}, "prompt"),
    ("google/lyria2", {"prompt": PROMPT, "seed": -1}, "seed"),
    ("google/lyria2", {"prompt": PROMPT, "seed": 1.5}, "seed"),
    ("google/lyria2", {"prompt": PROMPT, "negative_prompt": 3}, "negative_prompt"),
    ("google/lyria2", {"prompt": PROMPT, "music_length_ms": 30_000}, "music_length_ms"),
    ("google/lyria2", {"prompt": PROMPT, "steps": 10}, "steps"),
    ("stable-audio", {"prompt": PROMPT, "seconds_total": 0}, "seconds_total"),
    ("stable-audio", {"prompt": PROMPT, "seconds_total": 48}, "seconds_total"),
    ("stable-audio", {"prompt": PROMPT, "seconds_total": 12.5}, "seconds_total"),
    ("stable-audio", {"prompt": PROMPT, "seconds_start": 48}, "seconds_start"),
    ("stable-audio", {"prompt": PROMPT, "steps": 0}, "steps"),
    ("stable-audio", {"prompt": PROMPT, "steps": 1001}, "steps"),
    ("stable-audio", {"prompt": PROMPT, "music_length_ms": 10_000}, "music_length_ms"),
    ("minimax/music-1.5", {"prompt": PROMPT}, "lyrics"),
    ("minimax/music-1.5", {"lyrics": LYRICS}, "prompt"),
    ("minimax/music-1.5", {"prompt": "short", "lyrics": LYRICS}, "prompt"),
    ("minimax/music-1.5", {"prompt": "x" * 301, "lyrics": LYRICS}, "prompt"),
    ("minimax/music-1.5", {"prompt": PROMPT, "lyrics": "la la"}, "lyrics"),
    ("minimax/music-2.0", {"prompt": PROMPT, "lyrics": "x" * 3001}, "lyrics"),
    ("minimax/music-2.0", {"prompt": "x" * 2001, "lyrics": LYRICS}, "prompt"),
    ("minimax/music-2.0", {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {}}, "audio_setting.format"),
    (
        "minimax/music-2.0",
        {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {"format": "flac"}},
        "audio_setting.format",
    ),
    (
        "minimax/music-2.0",
        {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {"format": "mp3", "sample_rate": 48000}},
        "audio_setting.sample_rate",
    ),
    (
        "minimax/music-2.0",
        {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {"format": "mp3", "bitrate": 100}},
        "audio_setting.bitrate",
    ),
    (
        "minimax/music-2.0",
        {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {"format": "mp3", "audio_sample_rate": 44100}},
        "audio_setting.audio_sample_rate",
    ),
    ("minimax/music-2.0", {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": "mp3"}, "audio_setting"),
    ("minimax/music-2.0", {"prompt": PROMPT, "lyrics": LYRICS, "is_instrumental": True}, "is_instrumental"),
    ("minimax/music-2.6", {"prompt": "x" * 2001}, "prompt"),
    ("minimax/music-2.6", {"lyrics": "x" * 3001}, "lyrics"),
    ("minimax/music-2.6", {"prompt": PROMPT, "is_instrumental": "yes"}, "is_instrumental"),
    ("minimax/music-2.6", {"prompt": PROMPT, "lyrics_optimizer": 1}, "lyrics_optimizer"),
    ("minimax/music-2.6", {"prompt": PROMPT, "audio_setting": {"format": "ogg"}}, "audio_setting.format"),
    (
        "minimax/music-2.6",
        {"prompt": PROMPT, "audio_setting": {"audio_sample_rate": 8000}},
        "audio_setting.audio_sample_rate",
    ),
    ("minimax/music-cover", {"prompt": PROMPT}, "reference_audio_url"),
    ("minimax/music-cover", {"prompt": PROMPT, "reference_audio_url": ""}, "reference_audio_url"),
    ("minimax/music-cover", {"prompt": "short", "reference_audio_url": REFERENCE}, "prompt"),
    (
        "minimax/music-cover",
        {"prompt": PROMPT, "reference_audio_url": REFERENCE, "lyrics": "la"},
        "lyrics",
    ),
    ("minimax-music", {"prompt": PROMPT}, "reference_audio_url"),
]


def post(client: httpx.Client, model: str, fields: dict[str, Any]) -> httpx.Response:
    return client.post(GEN, json={"model": model, **fields})


def test_every_model_has_a_valid_example() -> None:
    assert set(VALID) == set(MODELS)


@pytest.mark.parametrize("model", sorted(VALID))
def test_valid_body_makes_audio_of_the_model_s_format_and_length(
    clean_emulator: Emulator, emulator_client: httpx.Client, model: str
) -> None:
    fields, fmt, length_ms = VALID[model]
    resp = post(emulator_client, model, fields)
    assert resp.status_code == 200, resp.text
    gid = resp.json()["id"]
    assert gid.endswith(f":{model}")
    entry = clean_emulator.stats()["generations"][gid]
    assert (entry["format"], entry["music_length_ms"]) == (fmt, length_ms)
    clean_emulator.release(gid)
    audio = emulator_client.get(GEN, params={"generation_id": gid}).json()["audio_file"]
    assert audio["file_name"].endswith(f".{fmt}")
    assert audio["file_size"] == expected_audio(fmt, length_ms)[0]


@pytest.mark.parametrize(("model", "fields", "field"), INVALID)
def test_each_rule_is_a_400_naming_the_field(
    clean_emulator: Emulator, emulator_client: httpx.Client, model: str, fields: dict[str, Any], field: str
) -> None:
    resp = post(emulator_client, model, fields)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["message"] == "Body validation error"
    assert [d["field"] for d in body["details"]] == [field]
    assert field in body["details"][0]["message"]
    stats = clean_emulator.stats()
    assert (stats["posts"], stats["posts_created"]) == (1, 0)


def test_every_problem_is_reported_at_once(emulator_client: httpx.Client) -> None:
    resp = post(emulator_client, "minimax/music-2.0", {"prompt": "short", "audio_setting": {"bitrate": 1}})
    fields = [d["field"] for d in resp.json()["details"]]
    assert fields == ["prompt", "lyrics", "audio_setting.bitrate", "audio_setting.format"]


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        ("minimax/music-2.6", {"audio_setting": {"audio_sample_rate": 16000, "bitrate": 32000}}),
        ("minimax/music-2.6", {"audio_setting": {"sample_rate": 24000}, "lyrics_optimizer": True}),
        ("minimax/music-2.6", {"audio_setting": {"channel": 2}}),  # 2.6's audio_setting is open
        ("minimax/music-2.6", {"prompt": "", "lyrics": "", "is_instrumental": False}),
        ("minimax/music-cover", {"prompt": "Quiet jazz", "reference_audio_url": "UklGRiQAAABXQVZF"}),
        ("minimax/music-1.5", {"prompt": "x" * 300, "lyrics": "x" * 3000}),
        ("stable-audio", {"prompt": PROMPT, "seconds_total": 1}),
        ("stable-audio", {"prompt": PROMPT, "seconds_total": 47, "seconds_start": None}),
        ("elevenlabs/eleven_music", {"prompt": PROMPT, "music_length_ms": None}),
    ],
)
def test_boundaries_and_optional_forms_accepted(
    emulator_client: httpx.Client, model: str, fields: dict[str, Any]
) -> None:
    assert post(emulator_client, model, fields).status_code == 200


@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm"])
def test_minimax_audio_setting_format_picks_the_file(
    clean_emulator: Emulator, emulator_client: httpx.Client, fmt: str
) -> None:
    clean_emulator.configure(generation_seconds=0)
    fields = {"prompt": PROMPT, "lyrics": LYRICS, "audio_setting": {"format": fmt}}
    gid = post(emulator_client, "minimax/music-2.0", fields).json()["id"]
    audio = emulator_client.get(GEN, params={"generation_id": gid}).json()["audio_file"]
    data = httpx.get(audio["url"], timeout=10).content
    assert len(data) == expected_audio(fmt, 30_000)[0]
    if fmt == "wav":
        assert data[:4] == b"RIFF"
        assert data[8:12] == b"WAVE"
    elif fmt == "mp3":
        assert data[0] == 0xFF
        assert data[1] & 0xE0 == 0xE0
    else:
        assert data[:4] != b"RIFF"


@pytest.mark.parametrize(("configured", "served"), [("mp3", "mp3"), ("mp3_id3", "mp3"), ("wav", "wav")])
def test_eleven_music_follows_the_configured_format_the_others_their_own(
    clean_emulator: Emulator, emulator_client: httpx.Client, configured: str, served: str
) -> None:
    clean_emulator.configure(audio_format=configured, generation_seconds=0)
    eleven = post(emulator_client, "elevenlabs/eleven_music", {"prompt": PROMPT}).json()["id"]
    lyria = post(emulator_client, "google/lyria2", {"prompt": PROMPT}).json()["id"]
    gens = clean_emulator.stats()["generations"]
    assert gens[eleven]["format"] == configured
    assert gens[lyria]["format"] == "wav"
    done = emulator_client.get(GEN, params={"generation_id": eleven}).json()
    assert done["audio_file"]["file_name"].endswith(f".{served}")


def test_unknown_model_names_the_catalogue(emulator_client: httpx.Client) -> None:
    details = post(emulator_client, "minimax/music-01", {"lyrics": LYRICS}).json()["details"]
    assert [d["field"] for d in details] == ["model", "prompt"]
    assert all(model in details[0]["message"] for model in MODELS)
