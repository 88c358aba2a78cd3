"""GenerateMusicOperator fails before paying: the destination is checked before the POST."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FakeTaskStateStore, make_context

from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import MusicDestinationExistsError, MusicInputError
from airflow_provider_music.operators.music import GenerateMusicOperator

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("destination", "needle"),
    [
        ("music/relative/", "relative path"),
        ("~/music/", "'~' is not expanded"),
        ("file:relative/x/", "relative path"),
        ("file://music/relative/", "names a host"),
    ],
)
def test_a_relative_local_destination_is_refused_before_paying(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, destination: str, needle: str
) -> None:
    """It would be written under the worker's working directory while the manifest said file:///music/..."""
    monkeypatch.chdir(tmp_path)
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=destination)
    with pytest.raises(MusicInputError, match=needle):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_of_the_folder_is_refused_before_paying(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "music").write_bytes(b"not a folder")
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/music/daily/")
    with pytest.raises(MusicInputError, match="is a file, not a folder"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0


def test_an_existing_folder_named_without_a_slash_is_refused_before_paying(
    emulator: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "daily").mkdir()
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/daily")
    with pytest.raises(MusicInputError, match="existing folder: end the destination with '/'"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0


def test_an_unknown_scheme_is_refused_before_paying(emulator: Emulator) -> None:
    op = GenerateMusicOperator(task_id="g", prompt="p", destination="nosuchfs://bucket/music/")
    with pytest.raises(MusicInputError, match="No storage filesystem is available for nosuchfs://"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0


def test_a_missing_local_folder_is_created_when_storing(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(generation_seconds=0)
    op = GenerateMusicOperator(
        task_id="g",
        prompt="p",
        destination=f"{tmp_path}/a/b/c/",
        object_name="t",
        deferrable=False,
        poll_interval=0.05,
    )
    manifest = op.execute(make_context())
    assert manifest["uri"] == f"file://{tmp_path}/a/b/c/t.wav"
    assert (tmp_path / "a/b/c/t.wav").exists()


@pytest.mark.parametrize("existing", ["t.wav", "t.mp3", "t.flac"])
@pytest.mark.parametrize("destination_form", ["object_name", "no_extension"])
def test_skip_with_a_name_known_up_to_its_extension_does_not_pay(
    emulator: Emulator, tmp_path: Path, existing: str, destination_form: str
) -> None:
    """Bug 6: the object exists (any audio extension), yet a generation was created and waited for."""
    (tmp_path / existing).write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    if destination_form == "object_name":
        kw: dict[str, object] = {"destination": f"{tmp_path}/", "object_name": "t"}
    else:
        kw = {"destination": f"{tmp_path}/t"}
    op = GenerateMusicOperator(task_id="g", prompt="p", if_exists="skip", **kw)  # type: ignore[arg-type]
    manifest = op.execute(make_context())
    assert manifest["skipped"] is True
    assert manifest["uri"] == f"file://{tmp_path}/{existing}"
    assert manifest["usage"] is None
    assert manifest["client_request_id"] is None
    assert emulator.stats()["posts"] == 0


def test_skip_with_object_name_keeps_the_sidecar_manifest(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(generation_seconds=0)
    store = FakeTaskStateStore()
    first = GenerateMusicOperator(
        task_id="g",
        prompt="p",
        destination=f"{tmp_path}/",
        object_name="day",
        deferrable=False,
        poll_interval=0.05,
    ).execute(make_context(store))
    again = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", object_name="day", if_exists="skip"
    ).execute(make_context(store))
    assert again == {**first, "skipped": True}  # from the sidecar: usage and request id included
    assert first["usage"] is not None
    assert emulator.stats()["posts"] == 1


def test_fail_with_object_name_raises_before_paying(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "2026-11-28.mp3").write_bytes(b"ID3-old")
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", object_name="2026-11-28", if_exists="fail"
    )
    with pytest.raises(MusicDestinationExistsError, match=r"2026-11-28\.mp3 already exists"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0


def test_a_destination_without_extension_gets_the_audio_format_s(emulator: Emulator, tmp_path: Path) -> None:
    """No trailing slash and no audio extension: the name without its extension, like object_name."""
    emulator.configure(generation_seconds=0, audio_format="mp3")
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/out/track", deferrable=False, poll_interval=0.05
    )
    manifest = op.execute(make_context())
    assert manifest["uri"] == f"file://{tmp_path}/out/track.mp3"
    assert manifest["sidecar_uri"] == f"file://{tmp_path}/out/track.json"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["track.json", "track.mp3"]
