"""Delivery helpers: destinations, URIs without credentials, lineage names, option checks; the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_music import _delivery
from airflow_provider_music._delivery import DeliveryOptions
from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.hooks.music import MusicGenerationHook


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/music/daily/2026-01-01.mp3", ("s3://bucket", "music/daily/2026-01-01.mp3")),
        ("file:///data/music/x.wav", ("file", "/data/music/x.wav")),
        ("gs://b/k.wav", ("gs://b", "k.wav")),
    ],
)
def test_lineage_dataset(uri: str, expected: tuple[str, str]) -> None:
    assert _delivery.lineage_dataset(uri) == expected


def test_object_uri_never_carries_the_connection_id(tmp_path: Path) -> None:
    s3 = ObjectStoragePath("s3://bucket/a/b.wav", conn_id="my_secret_conn")
    assert _delivery.object_uri(s3) == "s3://bucket/a/b.wav"
    assert _delivery.object_uri(ObjectStoragePath(f"{tmp_path}/x.wav")) == f"file://{tmp_path}/x.wav"
    assert _delivery.object_uri(ObjectStoragePath(f"file://{tmp_path}/x.wav")) == f"file://{tmp_path}/x.wav"


def test_destination_folder_or_object(tmp_path: Path) -> None:
    path, is_folder = _delivery.resolve_destination(f"{tmp_path}/out/", None)
    assert is_folder and str(path.path).rstrip("/").endswith("out")
    path, is_folder = _delivery.resolve_destination(f"{tmp_path}/out/t.wav", None)
    assert not is_folder and path.name == "t.wav"
    tmp_dir = ObjectStoragePath(f"file://{tmp_path}")
    assert _delivery.resolve_destination(tmp_dir, None)[1] is True  # an existing folder object


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
        _delivery.validate_options(DeliveryOptions(**args))  # type: ignore[arg-type]


def test_sidecar_sits_beside_the_audio() -> None:
    assert str(_delivery.sidecar_path(ObjectStoragePath("file:///m/daily/2026-01-01.wav"))).endswith(
        "/m/daily/2026-01-01.json"
    )


@pytest.mark.integration
@pytest.mark.parametrize("write_sidecar", [True, False])
def test_the_manifest_always_says_where_its_sidecar_is(
    emulator: Emulator, tmp_path: Path, write_sidecar: bool
) -> None:
    emulator.configure(generation_seconds=0, queued_seconds=0)
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("p", music_length_ms=10_000)
    options = DeliveryOptions(destination=f"{tmp_path}/out/", object_name="t", write_sidecar=write_sidecar)
    manifest = _delivery.deliver_generation(hook, gen_id, options)
    assert (manifest["size_bytes"], manifest["sha256"]) == expected_audio("wav", 10_000)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    if write_sidecar:
        assert manifest["sidecar_uri"] == f"file://{tmp_path}/out/t.json"
        assert files == ["t.json", "t.wav"]
        assert json.loads((tmp_path / "out" / "t.json").read_text()) == manifest
    else:
        assert manifest["sidecar_uri"] is None
        assert files == ["t.wav"]
