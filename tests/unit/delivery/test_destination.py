"""Destinations: folder or object, absolute local paths only, connections named but never in a URI."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_music.delivery import DeliveryOptions, check_destination, resolve_destination
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.storage import object_uri


def test_object_uri_never_carries_the_connection_id(tmp_path: Path) -> None:
    s3 = ObjectStoragePath("s3://bucket/a/b.wav", conn_id="my_secret_conn")
    assert object_uri(s3) == "s3://bucket/a/b.wav"
    assert object_uri(ObjectStoragePath(f"{tmp_path}/x.wav")) == f"file://{tmp_path}/x.wav"
    assert object_uri(ObjectStoragePath(f"file://{tmp_path}/x.wav")) == f"file://{tmp_path}/x.wav"


def test_destination_folder_or_object(tmp_path: Path) -> None:
    dest = resolve_destination(f"{tmp_path}/out/", None)
    assert str(dest.folder.path).rstrip("/").endswith("out")
    assert (dest.name, dest.stem) == (None, None)
    dest = resolve_destination(f"{tmp_path}/out/t.wav", None)
    assert dest.name == "t.wav"
    assert dest.stem is None
    assert str(dest.folder.path).endswith("out")
    dest = resolve_destination(f"{tmp_path}/out/", None, object_name="day")
    assert (dest.name, dest.stem) == (None, "day")
    tmp_dir = ObjectStoragePath(f"file://{tmp_path}")
    dest = resolve_destination(tmp_dir, None)  # an existing folder object
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
    dest = resolve_destination(destination, None)
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
        resolve_destination(destination, None)
    with pytest.raises(MusicInputError, match=needle):
        check_destination(DeliveryOptions(destination=destination))


def test_absolute_local_forms_are_accepted(tmp_path: Path) -> None:
    for destination in (f"{tmp_path}/a/", f"file://{tmp_path}/a/", f"local://{tmp_path}/a/"):
        dest = check_destination(DeliveryOptions(destination=destination))
        assert object_uri(dest.folder) == f"file://{tmp_path}/a"


def test_a_relative_object_storage_path_is_refused() -> None:
    path = ObjectStoragePath("music/relative")
    if str(path.path).startswith("/"):
        pytest.skip("this Airflow's ObjectStoragePath makes the path absolute itself (and writes there)")
    with pytest.raises(MusicInputError, match="relative path"):
        resolve_destination(path, None)


def test_the_destination_is_shown_without_connection_id() -> None:
    dest = resolve_destination("s3://my_s3_typo@bucket/music/track", None)
    assert dest.conn_id == "my_s3_typo"
    assert dest.shown() == "s3://bucket/music/track.<ext>"
    assert "my_s3_typo" not in object_uri(dest.folder)


def test_a_missing_storage_connection_is_named_not_put_in_a_uri() -> None:
    """Bug 4: amazon logged "switching to empty" and the message read s3://my_s3_typo@my-bucket/..."""
    for destination, conn_id in (("s3://my-bucket/m/", "my_s3_typo"), ("s3://my_s3_typo@my-bucket/m/", None)):
        with pytest.raises(MusicInputError, match=r"'my_s3_typo'.*does not exist") as info:
            check_destination(DeliveryOptions(destination=destination, storage_conn_id=conn_id))
        assert "@" not in str(info.value)
