"""Audio characters over real HTTP: the config key, the per-POST rule, per-model audio, the CLI flag."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from airflow_provider_music.emulator import AudioCharacter, Emulator, expected_audio

GEN = "/v2/generate/audio"
ELEVEN = "elevenlabs/eleven_music"
PROMPT = "calm piano"
ROOT = Path(__file__).resolve().parents[3]
RATE = 44_100
LYRICS = "[Verse]\nla la la la"
CHARACTER_FLAG = "lead_silence:seconds=1.5"


def create(client: httpx.Client, model: str = ELEVEN, **fields: Any) -> httpx.Response:
    return client.post(GEN, json={"model": model, "prompt": PROMPT, **fields})


def created_id(client: httpx.Client, model: str = ELEVEN, **fields: Any) -> str:
    resp = create(client, model, **fields)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def download(client: httpx.Client, gid: str) -> tuple[dict[str, Any], bytes]:
    """The completed poll's ``audio_file`` and the bytes its link serves (the generation is done)."""
    done = client.get(GEN, params={"generation_id": gid}).json()
    assert done["status"] == "completed", done
    audio: dict[str, Any] = done["audio_file"]
    data = httpx.get(audio["url"], timeout=30).content
    assert len(data) == audio["file_size"]
    return audio, data


def rms_db(data: bytes) -> float:
    samples, _ = sf.read(io.BytesIO(data), dtype="float64")
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples)))))


@pytest.fixture
def emu(clean_emulator: Emulator) -> Emulator:
    clean_emulator.configure(generation_seconds=0)
    return clean_emulator


def test_the_config_key_through_the_admin_api(emu: Emulator, emulator_client: httpx.Client) -> None:
    admin = f"{emu.base_url}/_emulator/config"
    assert httpx.get(admin).json()["audio_character"] == "default"
    answer = httpx.post(admin, json={"audio_character": {"name": "short", "ratio": 0.5}})
    assert answer.json()["audio_character"] == "short:ratio=0.5"
    gid = created_id(emulator_client, music_length_ms=10_000)
    _, data = download(emulator_client, gid)
    assert (len(data), hashlib.sha256(data).hexdigest()) == expected_audio("wav", 10_000, "short:ratio=0.5")
    samples, rate = sf.read(io.BytesIO(data))
    assert (len(samples), rate) == (5 * RATE, RATE)
    entry = emu.stats()["generations"][gid]
    assert entry["audio_character"] == "short:ratio=0.5"
    assert (entry["size_bytes"], entry["sha256"]) == expected_audio("wav", 10_000, "short:ratio=0.5")
    assert entry["music_length_ms"] == 10_000  # what was asked for (and paid)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("shout", "audio_character: unknown audio character 'shout'"),
        ("quiet:seconds=1", "takes no parameter 'seconds'"),
        ({"name": "short", "ratio": 0}, "ratio must be > 0"),
        (5, "an audio character is a name"),
    ],
)
def test_a_bad_config_is_refused_and_changes_nothing(emu: Emulator, value: Any, message: str) -> None:
    emu.configure(audio_character="quiet")
    answer = httpx.post(f"{emu.base_url}/_emulator/config", json={"audio_character": value, "hold": True})
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    with pytest.raises(ValueError, match="audio_character"):
        emu.configure(audio_character=value)
    config = emu.configure()
    assert (config["audio_character"], config["hold"]) == ("quiet", False)


def test_the_rule_makes_the_first_generation_quiet_and_the_next_normal(
    emu: Emulator, emulator_client: httpx.Client
) -> None:
    emu.configure(audio_character="music")
    emu.add_faults([{"target": "post", "action": "character", "character": "quiet", "times": 1}])
    first = created_id(emulator_client)
    assert emu.faults() == []  # used up by the generation it made
    second = created_id(emulator_client)
    gens = emu.stats()["generations"]
    assert (gens[first]["audio_character"], gens[second]["audio_character"]) == ("quiet", "music")
    quiet, music = (download(emulator_client, gid)[1] for gid in (first, second))
    assert rms_db(quiet) - rms_db(music) == pytest.approx(-21.0, abs=0.2)
    assert emu.stats()["faults_applied"] == 1


def test_the_rule_is_used_only_by_a_post_that_creates(emu: Emulator, emulator_client: httpx.Client) -> None:
    emu.add_faults(
        [
            {"target": "post", "action": "status", "code": 503, "times": 1},
            {"target": "post", "action": "character", "character": "lead_silence", "seconds": 1, "times": 2},
        ]
    )
    assert create(emulator_client).status_code == 503  # the fault answers; no character used
    assert create(emulator_client, music_length_ms=5).status_code == 400  # nothing created
    assert emu.faults()[0]["times"] == 2
    gid = created_id(emulator_client)
    assert emu.faults() == [
        {"target": "post", "action": "character", "times": 1, "character": "lead_silence", "seconds": 1}
    ]
    _, data = download(emulator_client, gid)
    samples, _ = sf.read(io.BytesIO(data), dtype="int16")
    assert not samples[:RATE].any()
    assert samples[RATE : RATE + RATE // 100].any()


def test_the_rule_matches_like_any_other(emu: Emulator, emulator_client: httpx.Client) -> None:
    emu.add_faults(
        [{"target": "post", "action": "character", "character": "clipping", "match": "harsh", "times": -1}]
    )
    plain = created_id(emulator_client)
    harsh = [created_id(emulator_client, prompt=f"harsh take {n}") for n in range(2)]
    gens = emu.stats()["generations"]
    assert gens[plain]["audio_character"] == "default"
    assert [gens[gid]["audio_character"] for gid in harsh] == ["clipping", "clipping"]
    assert emu.faults()[0]["times"] == -1


def test_bad_rules_are_refused_over_http(emu: Emulator) -> None:
    for rule in (
        {"target": "post", "action": "character"},
        {"target": "post", "action": "character", "character": "short", "seconds": 1},
        {"target": "get", "action": "character", "character": "quiet"},
    ):
        answer = httpx.post(f"{emu.base_url}/_emulator/faults", json={"faults": [rule]})
        assert answer.status_code == 400, rule
    assert emu.faults() == []


@pytest.mark.parametrize(
    ("model", "fields", "fmt", "length_ms"),
    [
        ("google/lyria2", {}, "wav", 30_000),
        ("stable-audio", {"seconds_total": 8}, "wav", 8_000),
        ("minimax/music-2.6", {"is_instrumental": True}, "mp3", 30_000),
        (
            "minimax/music-2.0",
            {"lyrics": "[Verse]\nla la la la", "audio_setting": {"format": "pcm"}},
            "pcm",
            30_000,
        ),
        (ELEVEN, {"music_length_ms": 10_000}, "mp3", 10_000),
    ],
)
def test_every_model_serves_the_character(
    emu: Emulator, emulator_client: httpx.Client, model: str, fields: dict[str, Any], fmt: str, length_ms: int
) -> None:
    emu.configure(audio_character="trail_silence:seconds=2", audio_format="mp3")
    gid = created_id(emulator_client, model, prompt="warm lo-fi beat with soft keys", **fields)
    _, data = download(emulator_client, gid)
    character = "trail_silence:seconds=2"
    assert (len(data), hashlib.sha256(data).hexdigest()) == expected_audio(fmt, length_ms, character)
    if fmt == "pcm":
        samples, _ = sf.read(io.BytesIO(data), samplerate=RATE, channels=2, format="RAW", subtype="PCM_16")
    else:
        samples, _ = sf.read(io.BytesIO(data))
    assert len(samples) == length_ms * RATE // 1000
    tail, body = samples[-2 * RATE + 1200 :], samples[: -2 * RATE]
    assert np.abs(tail).max() < 1e-3  # silence at the end (an MP3 rings on for a few ms)
    assert np.abs(body[-RATE // 10 :]).max() > 0.01  # music up to it


def test_a_generation_can_be_given_a_character_after_the_fact(
    emu: Emulator, emulator_client: httpx.Client
) -> None:
    gid = created_id(emulator_client)
    emu.update_generation(gid, audio_character="loud", audio_format="mp3_id3")
    _, data = download(emulator_client, gid)
    assert data[:3] == b"ID3"
    assert (len(data), hashlib.sha256(data).hexdigest()) == expected_audio("mp3_id3", 10_000, "loud")
    with pytest.raises(ValueError, match="audio_character: unknown audio character"):
        emu.update_generation(gid, audio_character="roar")


def test_the_constructor_takes_a_character() -> None:
    with Emulator(audio_character=AudioCharacter("quiet")) as emu:
        assert emu.configure()["audio_character"] == "quiet"
    with Emulator(audio_character={"name": "lead_silence", "seconds": 1.5}) as emu:
        assert emu.configure()["audio_character"] == "lead_silence:seconds=1.5"
    with pytest.raises(ValueError, match="audio_character"):
        Emulator(audio_character="nope")


def test_without_the_audio_extra_an_mp3_character_is_refused_loudly(
    emu: Emulator, emulator_client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "soundfile", None)  # `import soundfile` now fails
    emu.configure(audio_character="music", audio_format="mp3")
    answer = create(emulator_client)
    assert answer.status_code == 500
    assert "airflow-provider-music[audio]" in answer.json()["message"]
    assert emu.stats()["posts_created"] == 0
    emu.configure(audio_format="wav")  # WAV needs no encoder
    gid = created_id(emulator_client)
    with pytest.raises(ValueError, match=r"airflow-provider-music\[audio\]"):
        emu.update_generation(gid, audio_format="mp3")


def _cli_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def test_the_cli_flag(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    cli = [
        sys.executable,
        "-m",
        "airflow_provider_music.emulator",
        "--port",
        "0",
        "--generation-seconds",
        "0",
        "--api-key",
        "cli-key",
    ]
    proc = subprocess.Popen(
        [*cli, "--audio-character", CHARACTER_FLAG, "--ready-file", str(ready), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("emulator listening")
        api = json.loads(ready.read_text())["api"]
        assert httpx.get(f"{api}/_emulator/config").json()["audio_character"] == CHARACTER_FLAG
        with httpx.Client(base_url=api, headers={"Authorization": "Bearer cli-key"}, timeout=30) as client:
            _, data = download(client, created_id(client, music_length_ms=10_000))
        assert hashlib.sha256(data).hexdigest() == expected_audio("wav", 10_000, CHARACTER_FLAG)[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    bad = subprocess.run(
        [*cli, "--audio-character", "short:ratio=3"], capture_output=True, text=True, env=_cli_env()
    )
    assert bad.returncode == 2
    assert "argument --audio-character: audio character 'short': ratio must be > 0 and <= 1" in bad.stderr
