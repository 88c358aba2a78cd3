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
    dest = _delivery.resolve_destination(f"{tmp_path}/out/", None)
    assert str(dest.folder.path).rstrip("/").endswith("out") and (dest.name, dest.stem) == (None, None)
    dest = _delivery.resolve_destination(f"{tmp_path}/out/t.wav", None)
    assert dest.name == "t.wav" and dest.stem is None and str(dest.folder.path).endswith("out")
    dest = _delivery.resolve_destination(f"{tmp_path}/out/", None, object_name="day")
    assert (dest.name, dest.stem) == (None, "day")
    tmp_dir = ObjectStoragePath(f"file://{tmp_path}")
    dest = _delivery.resolve_destination(tmp_dir, None)  # an existing folder object
    assert (dest.name, dest.stem) == (None, None)


@pytest.mark.parametrize(
    ("destination", "name", "stem"),
    [
        ("/data/music/track", None, "track"),  # no extension: the audio's format adds it
        ("/data/music/2026.11.28", None, "2026.11.28"),  # a dot is not an audio extension
        ("/data/music/take.final", None, "take.final"),
        ("/data/music/track.MP3", "track.MP3", None),
        ("/data/music/track.m4a", "track.m4a", None),
        ("s3://bucket/music/track", None, "track"),
        ("s3://bucket", None, None),  # a bucket without a key is a folder
        ("s3://bucket/", None, None),
    ],
)
def test_a_name_without_an_audio_extension_is_a_stem(
    destination: str, name: str | None, stem: str | None
) -> None:
    dest = _delivery.resolve_destination(destination, None)
    assert (dest.name, dest.stem) == (name, stem)


@pytest.mark.parametrize(
    ("destination", "needle"),
    [
        ("music/relative/", "relative path"),
        ("./music/", "relative path"),
        ("~/music/", "'~' is not expanded"),
        ("file:music/x.wav", "relative path"),
        ("file://music/relative/", "names a host"),
        ("local:relative/", "relative path"),
        ("file://localhost/data/x/", "names a host"),  # fsspec: the relative path localhost/data/x
    ],
)
def test_a_relative_local_destination_is_refused(destination: str, needle: str) -> None:
    """Bug 5: it was written under the worker's working directory, the manifest said file:///music/..."""
    with pytest.raises(MusicInputError, match=needle):
        _delivery.resolve_destination(destination, None)
    with pytest.raises(MusicInputError, match=needle):
        _delivery.check_destination(DeliveryOptions(destination=destination))


def test_absolute_local_forms_are_accepted(tmp_path: Path) -> None:
    for destination in (f"{tmp_path}/a/", f"file://{tmp_path}/a/", f"local://{tmp_path}/a/"):
        dest = _delivery.check_destination(DeliveryOptions(destination=destination))
        assert _delivery.object_uri(dest.folder) == f"file://{tmp_path}/a"


def test_a_relative_object_storage_path_is_refused() -> None:
    path = ObjectStoragePath("music/relative")
    if str(path.path).startswith("/"):
        pytest.skip("this Airflow's ObjectStoragePath makes the path absolute itself (and writes there)")
    with pytest.raises(MusicInputError, match="relative path"):
        _delivery.resolve_destination(path, None)


def test_the_destination_is_shown_without_connection_id() -> None:
    dest = _delivery.resolve_destination("s3://my_s3_typo@bucket/music/track", None)
    assert dest.conn_id == "my_s3_typo"
    assert dest.shown() == "s3://bucket/music/track.<ext>"
    assert "my_s3_typo" not in _delivery.object_uri(dest.folder)


def test_a_missing_storage_connection_is_named_not_put_in_a_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug 4: amazon logged "switching to empty" and the message read s3://my_s3_typo@my-bucket/..."""
    for destination, conn_id in (("s3://my-bucket/m/", "my_s3_typo"), ("s3://my_s3_typo@my-bucket/m/", None)):
        with pytest.raises(MusicInputError, match=r"'my_s3_typo'.*does not exist") as info:
            _delivery.check_destination(DeliveryOptions(destination=destination, storage_conn_id=conn_id))
        assert "@" not in str(info.value)


def test_describe_usage() -> None:
    assert _delivery.describe_usage(None) == "not reported by the service"
    assert _delivery.describe_usage({"credits_used": 5, "usd_spent": "0.1"}) == "5 credits, USD 0.1"
    assert _delivery.describe_usage({"credits_used": None, "usd_spent": "0.1"}) == "USD 0.1"


def test_records_of_earlier_versions_are_still_read() -> None:
    from airflow_provider_music._state import RecordedGeneration

    old = RecordedGeneration.parse("abc:elevenlabs/eleven_music")
    assert old == RecordedGeneration("abc:elevenlabs/eleven_music", None, None)
    new = RecordedGeneration("abc:m", {"credits_used": 1, "usd_spent": "0.5"}, "d:r:t")
    assert RecordedGeneration.parse(new.to_json()) == new
    assert RecordedGeneration.parse(None) is None and RecordedGeneration.parse("") is None
    assert RecordedGeneration.parse("{not json") == RecordedGeneration("{not json")


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
    assert manifest["usage"] is None and manifest["client_request_id"] is None  # keys always present
    if write_sidecar:
        assert manifest["sidecar_uri"] == f"file://{tmp_path}/out/t.json"
        assert files == ["t.json", "t.wav"]
        assert json.loads((tmp_path / "out" / "t.json").read_text()) == manifest
    else:
        assert manifest["sidecar_uri"] is None
        assert files == ["t.wav"]
