"""deliver_generation: a completed generation's audio stored, with its manifest (and sidecar)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_music.delivery import DeliveryOptions, deliver_generation
from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.hooks.music import MusicGenerationHook


@pytest.mark.integration
@pytest.mark.parametrize("write_sidecar", [True, False])
def test_the_manifest_always_says_where_its_sidecar_is(
    emulator: Emulator, tmp_path: Path, write_sidecar: bool
) -> None:
    emulator.configure(generation_seconds=0, queued_seconds=0)
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("p", music_length_ms=10_000)
    options = DeliveryOptions(destination=f"{tmp_path}/out/", object_name="t", write_sidecar=write_sidecar)
    manifest = deliver_generation(hook, gen_id, options)
    assert (manifest["size_bytes"], manifest["sha256"]) == expected_audio("wav", 10_000)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert manifest["usage"] is None  # keys always present
    assert manifest["client_request_id"] is None
    if write_sidecar:
        assert manifest["sidecar_uri"] == f"file://{tmp_path}/out/t.json"
        assert files == ["t.json", "t.wav"]
        assert json.loads((tmp_path / "out" / "t.json").read_text()) == manifest
    else:
        assert manifest["sidecar_uri"] is None
        assert files == ["t.wav"]
