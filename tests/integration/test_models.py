"""
Every model of the catalogue, end to end through the emulator: a valid request is accepted by the
service and delivers audio of the model's format and length; a value breaking one of the model's
rules is refused by the provider before anything is sent (the emulator counts zero POSTs).

The stored audio is judged by its own bytes (RIFF/WAVE or ID3/MPEG frames), never by its name.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath
from helpers import FakeTaskStateStore, run_try

from airflow_provider_music.emulator import MODEL_SPECS, Emulator
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.operators.music import GenerateMusicOperator
from airflow_provider_music.wire import MUSIC_MODELS

pytestmark = pytest.mark.integration

PROMPT = "warm lo-fi beat with soft keys"
LYRICS = "[Verse]\nlights on the river\n[Chorus]\nwe sing along"
REFERENCE = "https://example.com/reference.mp3"

#: Per model: the hook's keyword arguments, then the format and seconds of the audio it must deliver.
VALID: dict[str, tuple[dict[str, Any], str, float]] = {
    "elevenlabs/eleven_music": ({"music_length_ms": 12_000}, "mp3", 12.0),
    "google/lyria2": ({"negative_prompt": "drums", "seed": 7}, "wav", 30.0),
    "stable-audio": ({"music_length_ms": 7_000, "extra_body": {"steps": 50}}, "wav", 7.0),
    "minimax/music-1.5": ({"lyrics": LYRICS}, "mp3", 30.0),
    "minimax/music-2.0": (
        {"lyrics": LYRICS, "extra_body": {"audio_setting": {"format": "wav"}}},
        "wav",
        30.0,
    ),
    "minimax/music-2.6": ({"extra_body": {"is_instrumental": True}}, "mp3", 30.0),
    "minimax/music-cover": ({"extra_body": {"reference_audio_url": REFERENCE}}, "mp3", 30.0),
    "minimax-music": ({"extra_body": {"reference_audio_url": REFERENCE}}, "mp3", 30.0),
}

#: One bad value per rule: (model, the hook's keyword arguments, words the refusal must contain).
INVALID: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("elevenlabs/eleven_music", {"music_length_ms": 9_999}, ("music_length_ms",)),
    ("elevenlabs/eleven_music", {"music_length_ms": 300_001}, ("music_length_ms",)),
    ("elevenlabs/eleven_music", {"prompt": "x" * 2001}, ("prompt",)),
    ("elevenlabs/eleven_music", {"extra_body": {"seed": 1}}, ("seed",)),
    ("elevenlabs/eleven_music", {"lyrics": LYRICS}, ("lyrics",)),
    ("google/lyria2", {"music_length_ms": 30_000}, ("music_length_ms", "google/lyria2")),
    ("google/lyria2", {"seed": -1}, ("seed", "google/lyria2")),
    ("google/lyria2", {"extra_body": {"seed": "7"}}, ("seed", "google/lyria2")),
    ("google/lyria2", {"extra_body": {"steps": 10}}, ("steps", "google/lyria2")),
    ("google/lyria2", {"lyrics": LYRICS}, ("lyrics", "google/lyria2")),
    ("stable-audio", {"music_length_ms": 60_000}, ("seconds_total", "stable-audio", "47")),
    ("stable-audio", {"music_length_ms": 7_500}, ("stable-audio", "music_length_ms")),
    ("stable-audio", {"extra_body": {"seconds_total": 0}}, ("seconds_total", "stable-audio")),
    ("stable-audio", {"extra_body": {"seconds_start": 48}}, ("seconds_start", "stable-audio")),
    ("stable-audio", {"extra_body": {"steps": 1001}}, ("steps", "stable-audio")),
    (
        "stable-audio",
        {"music_length_ms": 7_000, "extra_body": {"seconds_total": 7}},
        ("seconds_total", "stable-audio"),
    ),
    ("stable-audio", {"negative_prompt": "drums"}, ("negative_prompt", "stable-audio")),
    ("minimax/music-1.5", {}, ("lyrics", "minimax/music-1.5")),
    ("minimax/music-1.5", {"prompt": "short", "lyrics": LYRICS}, ("prompt", "minimax/music-1.5")),
    ("minimax/music-1.5", {"prompt": "x" * 301, "lyrics": LYRICS}, ("prompt", "minimax/music-1.5")),
    ("minimax/music-1.5", {"lyrics": "la la"}, ("lyrics", "minimax/music-1.5")),
    ("minimax/music-2.0", {"lyrics": "x" * 3001}, ("lyrics", "minimax/music-2.0")),
    (
        "minimax/music-2.0",
        {"lyrics": LYRICS, "music_length_ms": 60_000},
        ("music_length_ms", "minimax/music-2.0"),
    ),
    (
        "minimax/music-2.0",
        {"lyrics": LYRICS, "extra_body": {"audio_setting": {"format": "pcm"}}},
        ("pcm", "mp3 or wav"),
    ),
    ("minimax/music-2.0", {"lyrics": LYRICS, "extra_body": {"audio_setting": {}}}, ("format",)),
    (
        "minimax/music-2.0",
        {"lyrics": LYRICS, "extra_body": {"audio_setting": {"format": "flac"}}},
        ("format", "minimax/music-2.0"),
    ),
    (
        "minimax/music-2.0",
        {"lyrics": LYRICS, "extra_body": {"audio_setting": {"format": "mp3", "sample_rate": 48000}}},
        ("sample_rate", "minimax/music-2.0"),
    ),
    (
        "minimax/music-2.0",
        {"lyrics": LYRICS, "extra_body": {"audio_setting": {"format": "mp3", "bitrate": 100}}},
        ("bitrate", "minimax/music-2.0"),
    ),
    ("minimax/music-2.0", {"lyrics": LYRICS, "extra_body": {"lyrics": LYRICS}}, ("lyrics", "once")),
    ("minimax/music-2.0", {"lyrics": LYRICS, "seed": 3}, ("seed", "minimax/music-2.0")),
    (
        "minimax/music-2.6",
        {"extra_body": {"is_instrumental": "yes"}},
        ("is_instrumental", "minimax/music-2.6"),
    ),
    ("minimax/music-2.6", {"extra_body": {"lyrics_optimizer": 1}}, ("lyrics_optimizer", "minimax/music-2.6")),
    ("minimax/music-2.6", {"lyrics": "x" * 3001}, ("lyrics", "minimax/music-2.6")),
    ("minimax/music-2.6", {"prompt": "x" * 2001}, ("prompt", "minimax/music-2.6")),
    (
        "minimax/music-2.6",
        {"extra_body": {"audio_setting": {"audio_sample_rate": 8000}}},
        ("audio_sample_rate", "minimax/music-2.6"),
    ),
    ("minimax/music-cover", {}, ("reference_audio_url", "minimax/music-cover")),
    (
        "minimax/music-cover",
        {"extra_body": {"reference_audio_url": ""}},
        ("reference_audio_url", "minimax/music-cover"),
    ),
    (
        "minimax/music-cover",
        {"lyrics": "la", "extra_body": {"reference_audio_url": REFERENCE}},
        ("lyrics", "minimax/music-cover"),
    ),
    ("minimax-music", {}, ("reference_audio_url", "minimax-music")),
]


# ---------------------------------------------------------------------------------------- sniffing

_MP3_BITRATES_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_SAMPLE_RATES = (44100, 48000, 32000)
_MP3_SAMPLES_PER_FRAME = 1152
_WAV_HEADER = 44


def _wav_seconds(data: bytes) -> float:
    assert data[:4] == b"RIFF", data[:16]
    assert data[8:12] == b"WAVE", data[:16]
    assert data[12:16] == b"fmt "
    assert data[36:40] == b"data"
    byte_rate = struct.unpack_from("<I", data, 28)[0]
    data_size = struct.unpack_from("<I", data, 40)[0]
    assert data_size == len(data) - _WAV_HEADER
    return float(data_size / byte_rate)


def _mp3_seconds(data: bytes) -> float:
    """Walk the MPEG-1 Layer III frames (after an optional ID3v2 tag): every byte is a frame's."""
    pos = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        pos = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    frames, rate = 0, 0
    while pos < len(data):
        header = data[pos : pos + 4]
        assert header[0] == 0xFF, f"no frame sync at {pos}"
        assert header[1] & 0xFE == 0xFA, f"no MPEG-1 Layer III frame at {pos}"
        bitrate = _MP3_BITRATES_KBPS[header[2] >> 4] * 1000
        rate = _MP3_SAMPLE_RATES[(header[2] >> 2) & 0x3]
        pos += 144 * bitrate // rate + ((header[2] >> 1) & 0x1)
        frames += 1
    assert pos == len(data)
    assert frames > 0
    return frames * _MP3_SAMPLES_PER_FRAME / rate


def sniff(data: bytes) -> tuple[str, float]:
    """``(format, seconds)`` of an audio file, from its bytes alone."""
    if data[:4] == b"RIFF":
        return "wav", _wav_seconds(data)
    return "mp3", _mp3_seconds(data)


def test_the_sniffer_knows_the_emulator_s_files() -> None:
    from airflow_provider_music.emulator import audio_stream

    assert sniff(b"".join(audio_stream("wav", 2_000))) == ("wav", 2.0)
    for fmt in ("mp3", "mp3_id3"):
        kind, seconds = sniff(b"".join(audio_stream(fmt, 2_000)))
        assert kind == "mp3"
        assert seconds == pytest.approx(2.0, abs=0.03)


# ----------------------------------------------------------------------------------- valid requests


@pytest.fixture
def service(emulator: Emulator) -> Emulator:
    """The emulator sending eleven_music's mp3 (its configured format), completing at once."""
    emulator.configure(audio_format="mp3", generation_seconds=0)
    return emulator


def test_every_model_is_covered() -> None:
    assert set(VALID) == set(MUSIC_MODELS)
    assert {model for model, _, _ in INVALID} == set(MUSIC_MODELS)


@pytest.mark.parametrize("model", sorted(VALID))
def test_hook_delivers_the_model_s_audio(service: Emulator, tmp_path: Path, model: str) -> None:
    kwargs, fmt, seconds = VALID[model]
    hook = MusicGenerationHook()
    submission = hook.create_generation(PROMPT, model=model, **kwargs)
    generation = hook.get_generation(submission.id)
    assert generation.status.value == "completed"
    assert generation.audio_url is not None
    stored = hook.download_audio(generation.audio_url, ObjectStoragePath(f"file://{tmp_path}/track.{fmt}"))
    data = (tmp_path / f"track.{fmt}").read_bytes()
    assert stored.size_bytes == len(data)
    kind, length = sniff(data)
    assert kind == fmt
    assert length == pytest.approx(seconds, abs=0.03)
    stats = service.stats()
    assert (stats["posts"], stats["posts_created"]) == (1, 1)
    assert stats["generations"][submission.id]["model"] == model


@pytest.mark.parametrize("model", sorted(VALID))
def test_operator_stores_the_model_s_audio(service: Emulator, tmp_path: Path, model: str) -> None:
    kwargs, fmt, seconds = VALID[model]
    op = GenerateMusicOperator(
        task_id="generate",
        prompt=PROMPT,
        model=model,
        destination=f"file://{tmp_path}/out/",
        object_name="track",
        poll_interval=0.1,
        timeout=30,
        **kwargs,
    )
    run_try(op, FakeTaskStateStore())
    audio = [p for p in (tmp_path / "out").iterdir() if p.suffix != ".json"]
    assert [p.name for p in audio] == [f"track.{fmt}"]
    kind, length = sniff(audio[0].read_bytes())
    assert kind == fmt
    assert length == pytest.approx(seconds, abs=0.03)
    assert service.stats()["posts"] == 1


# ---------------------------------------------------------------------------------- refused values


@pytest.mark.parametrize(("model", "kwargs", "words"), INVALID)
def test_a_bad_value_is_refused_before_any_post(
    emulator: Emulator, model: str, kwargs: dict[str, Any], words: tuple[str, ...]
) -> None:
    args = {"prompt": PROMPT, **kwargs}
    with pytest.raises(MusicInputError) as info:
        MusicGenerationHook().create_generation(args.pop("prompt"), model=model, **args)
    for word in words:
        assert re.search(re.escape(word), str(info.value)), (word, str(info.value))
    assert emulator.stats()["posts"] == 0


# ------------------------------------------------------------------------------------ no drift


def _limits(rule: Any) -> tuple[Any, ...]:
    enum = tuple(rule.enum) if rule.enum is not None else None
    return (rule.minimum, rule.maximum, rule.max_length, (rule.min_length or 1), enum)


#: Where the provider is deliberately stricter than the service (plan decisions), as (model, field).
PROVIDER_REQUIRES = {("minimax/music-2.6", "prompt")}


@pytest.mark.parametrize("model", sorted(MUSIC_MODELS))
def test_the_emulator_and_the_catalogue_agree_on_the_rules(model: str) -> None:
    """The service side (emulator) and the provider keep separate tables: they must say the same."""
    ours, theirs = MUSIC_MODELS[model], MODEL_SPECS[model]
    assert set(ours.fields) == set(theirs.fields)
    assert ours.length_field == theirs.length_field
    assert ours.length_unit_ms == theirs.length_unit_ms
    assert ours.default_format == (theirs.audio_format or "mp3")
    for name, rule in ours.fields.items():
        service = theirs.fields[name]
        assert rule.type == service.kind, name
        assert rule.required == (service.required or (model, name) in PROVIDER_REQUIRES), name
        assert _limits(rule) == _limits(service), name
        assert rule.open_keys == service.open_keys, name
        # the service may know a nested key the provider passes through unchecked (2.6's sample_rate)
        assert set(rule.fields) <= set(service.fields), name
        for key, nested in rule.fields.items():
            assert (nested.type, nested.required) == (service.fields[key].kind, service.fields[key].required)
            assert _limits(nested) == _limits(service.fields[key]), f"{name}.{key}"
