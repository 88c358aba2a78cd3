"""Object URIs for messages, which stores commit atomically, temporary names and their leftovers (local)."""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import ObjectStoragePath

from airflow_provider_music.storage import (
    LOCAL_PROTOCOLS,
    PARTIAL_PREFIX,
    commits_atomically,
    find_by_stem,
    is_local,
    object_uri,
    partial_name,
    remove_leftovers,
    remove_quietly,
)


def test_object_uri_names_no_connection_and_is_absolute() -> None:
    assert object_uri(ObjectStoragePath("file:///data/music/t.wav")) == "file:///data/music/t.wav"
    assert object_uri(ObjectStoragePath("s3://bucket/music/t.wav", conn_id="secret_conn")) == (
        "s3://bucket/music/t.wav"
    )


def test_local_paths_are_local_and_do_not_commit_atomically(tmp_path: Path) -> None:
    path = ObjectStoragePath(f"file://{tmp_path}/t.wav")
    assert "file" in LOCAL_PROTOCOLS
    assert is_local(path)
    assert not commits_atomically(path)
    assert not is_local(ObjectStoragePath("s3://bucket/t.wav"))


def test_partial_names_are_hidden_unique_and_say_what_they_become() -> None:
    first, second = partial_name("t.wav"), partial_name("t.wav")
    assert first.startswith(f"{PARTIAL_PREFIX}t.wav-")
    assert PARTIAL_PREFIX.startswith(".")
    assert first != second


def test_remove_leftovers_removes_only_the_temporaries_of_that_name(tmp_path: Path) -> None:
    other = partial_name("other.wav")
    for name in (partial_name("t.wav"), partial_name("t.wav"), other, "t.wav"):
        (tmp_path / name).write_bytes(b"x")
    assert remove_leftovers(ObjectStoragePath(f"file://{tmp_path}"), "t.wav") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other, "t.wav"])


def test_remove_leftovers_of_a_missing_folder_or_a_file_is_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    assert remove_leftovers(ObjectStoragePath(f"file://{tmp_path}/missing"), "t.wav") == 0
    assert remove_leftovers(ObjectStoragePath(f"file://{tmp_path}/file"), "t.wav") == 0


def test_find_by_stem_takes_the_first_extension_that_exists(tmp_path: Path) -> None:
    folder = ObjectStoragePath(f"file://{tmp_path}")
    assert find_by_stem(folder, "t", ("wav", "mp3")) is None
    (tmp_path / "t.mp3").write_bytes(b"x")
    (tmp_path / "t.flac").write_bytes(b"x")
    found = find_by_stem(folder, "t", ("wav", "mp3", "flac"))
    assert found is not None
    assert found.name == "t.mp3"


def test_remove_quietly_never_raises(tmp_path: Path) -> None:
    (tmp_path / "t.wav").write_bytes(b"x")
    remove_quietly(ObjectStoragePath(f"file://{tmp_path}/t.wav"))
    remove_quietly(ObjectStoragePath(f"file://{tmp_path}/t.wav"))  # already gone
    assert list(tmp_path.iterdir()) == []
