"""
Writing a download into local storage (``storage.write_stream``, ``finalize``, ``store_stream``): the
emulator's audio over real HTTP, or an in-memory stream, into real files. Failures are real too:
downloads broken off by the emulator, writes refused by the kernel. Each failure must propagate with
its message, leave nothing at the final name (a previous object untouched), no temporary object and
no thread behind.
"""

from __future__ import annotations

import hashlib
import random
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath
from helpers import file_size_limit
from helpers.audio_samples import make_wav
from helpers.downloads import MemoryStream, emulator_audio_url, no_new_threads

from airflow_provider_music.audio import WAV
from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicDeliveryError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.storage import StoredAudio, _writer, finalize, store_stream, write_stream
from airflow_provider_music.storage import _sha256 as sha256_module


def _write(url: str, folder: ObjectStoragePath, **kw: Any) -> StoredAudio:
    with MusicGenerationHook().open_audio(url) as stream:
        return write_stream(stream, folder, **kw)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def hash_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A local write hashes in a thread of its own, however few CPUs this machine has."""
    monkeypatch.setattr(_writer, "HASH_THREAD_MIN_CPUS", 1)


@pytest.fixture
def no_new_local_threads() -> Iterator[None]:
    """Whatever happens in the test, every thread it started has ended when it returns or raises."""
    with no_new_threads():
        yield


# --- write_stream + finalize: sha256 in a thread of its own --------------------------------------------


def test_local_write_hashes_in_a_thread_and_moves_into_place(
    emulator: Emulator, tmp_path: Path, no_new_local_threads: None, hash_thread: None
) -> None:
    url = emulator_audio_url(emulator, 30_000)
    folder = ObjectStoragePath(f"file://{tmp_path}/out")
    stored = _write(url, folder, name="t.wav")
    assert not stored.in_place
    assert stored.path.name.startswith(".partial-t.wav-")
    final = finalize(stored, folder / "t.wav")
    assert (final.size_bytes, final.sha256) == expected_audio("wav", 30_000)
    assert _sha256((tmp_path / "out" / "t.wav").read_bytes()) == final.sha256
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t.wav"]


def test_local_download_broken_off_propagates_and_stops_the_hash_thread(
    emulator: Emulator, tmp_path: Path, no_new_local_threads: None, hash_thread: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    emulator.add_faults([{"target": "audio", "action": "truncate", "bytes": 3_000_000}])
    with pytest.raises(MusicDeliveryError, match=r"broke off|truncated"):
        _write(url, ObjectStoragePath(f"file://{tmp_path}/out"), name="t.wav")
    assert list((tmp_path / "out").iterdir()) == []


def test_local_storage_failure_propagates_and_stops_the_hash_thread(
    emulator: Emulator, tmp_path: Path, no_new_local_threads: None, hash_thread: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "t.wav").write_bytes(b"RIFF-previous")
    with file_size_limit(2_000_000), pytest.raises(MusicDeliveryError, match="File too large") as info:
        _write(url, ObjectStoragePath(f"file://{tmp_path}/out"), name="t.wav")
    assert "the partial upload was discarded and any previous object is untouched" in str(info.value)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["t.wav"]
    assert (tmp_path / "out" / "t.wav").read_bytes() == b"RIFF-previous"


def test_the_size_limit_stops_a_local_write(
    emulator: Emulator, tmp_path: Path, no_new_local_threads: None
) -> None:
    url = emulator_audio_url(emulator, 60_000)
    emulator.add_faults([{"target": "audio", "action": "oversize", "extra_bytes": 1}])  # no Content-Length
    with pytest.raises(MusicAudioInvalidError, match="exceeded the limit of 3000000 bytes"):
        _write(url, ObjectStoragePath(f"file://{tmp_path}/out"), name="t", max_bytes=3_000_000)
    assert list((tmp_path / "out").iterdir()) == []


# --- store_stream: any AudioStream, the one entry the hook and delivery use ----------------------------


def test_store_stream_writes_any_audio_stream_and_sweeps_leftovers(
    tmp_path: Path, no_new_local_threads: None
) -> None:
    body = make_wav(0.5)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".partial-t.wav-0123").write_bytes(b"RIFF half of a track")
    (out / ".partial-other.wav-0123").write_bytes(b"someone else's")
    stored = store_stream(MemoryStream(body, chunk_size=1000), ObjectStoragePath(f"file://{out}/t.wav"))
    assert (stored.size_bytes, stored.sha256, stored.audio_format) == (len(body), _sha256(body), WAV)
    assert stored.path.name == "t.wav"
    assert (out / "t.wav").read_bytes() == body
    assert sorted(p.name for p in out.iterdir()) == [".partial-other.wav-0123", "t.wav"]


def test_store_stream_without_sweep_leaves_leftovers_to_the_caller(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".partial-t.wav-0123").write_bytes(b"RIFF half of a track")
    store_stream(MemoryStream(make_wav(0.1)), ObjectStoragePath(f"file://{out}/t.wav"), sweep=False)
    assert sorted(p.name for p in out.iterdir()) == [".partial-t.wav-0123", "t.wav"]


def test_store_stream_adds_the_extension_of_the_format_found(tmp_path: Path) -> None:
    stream = MemoryStream(make_wav(0.1), content_type=None)
    stored = store_stream(stream, ObjectStoragePath(f"file://{tmp_path}/track"), add_extension=True)
    assert stored.path.name == "track.wav"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["track.wav"]


def test_store_stream_keeps_an_existing_object_when_told_to(tmp_path: Path) -> None:
    (tmp_path / "t.wav").write_bytes(b"RIFF-previous")
    asked: list[str] = []

    def keep(final: ObjectStoragePath) -> bool:
        asked.append(final.name)
        return True

    destination = ObjectStoragePath(f"file://{tmp_path}/t.wav")
    assert store_stream(MemoryStream(make_wav(0.1)), destination, keep_existing=keep) is None
    assert asked == ["t.wav"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.wav"]
    assert (tmp_path / "t.wav").read_bytes() == b"RIFF-previous"


def test_store_stream_drops_the_new_audio_when_the_check_raises(tmp_path: Path) -> None:
    def refuse(final: ObjectStoragePath) -> bool:
        raise MusicDeliveryError(f"{final.name} exists")

    with pytest.raises(MusicDeliveryError, match=r"t\.wav exists"):
        store_stream(
            MemoryStream(make_wav(0.1)), ObjectStoragePath(f"file://{tmp_path}/t.wav"), keep_existing=refuse
        )
    assert list(tmp_path.iterdir()) == []


def test_a_body_that_is_not_audio_is_refused_and_quoted(tmp_path: Path, no_new_local_threads: None) -> None:
    page = b"<html>\n<body>Service unavailable</body></html>" + b" " * 100
    with pytest.raises(
        MusicAudioInvalidError, match=r"not audio \(Content-Type text/html; starts with '<html> <body>"
    ):
        store_stream(
            MemoryStream(page, content_type="text/html"), ObjectStoragePath(f"file://{tmp_path}/t.wav")
        )
    assert list(tmp_path.iterdir()) == []


def test_an_empty_body_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MusicAudioInvalidError, match="served an empty body"):
        store_stream(MemoryStream(b""), ObjectStoragePath(f"file://{tmp_path}/t.wav"))
    assert list(tmp_path.iterdir()) == []


def test_an_announced_length_over_the_limit_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(MusicAudioInvalidError, match="is 2000 bytes; the limit is 1000"):
        store_stream(
            MemoryStream(make_wav(0.1), content_length=2000),
            ObjectStoragePath(f"file://{tmp_path}/out/t.wav"),
            max_bytes=1000,
        )
    assert not (tmp_path / "out").exists()


def test_a_body_shorter_than_announced_is_truncated_and_dropped(
    tmp_path: Path, no_new_local_threads: None
) -> None:
    body = make_wav(0.1)
    with pytest.raises(MusicDeliveryError, match=rf"truncated: got {len(body)} of {len(body) + 1} bytes"):
        store_stream(
            MemoryStream(body, content_length=len(body) + 1), ObjectStoragePath(f"file://{tmp_path}/t.wav")
        )
    assert list(tmp_path.iterdir()) == []


def test_a_stream_breaking_off_leaves_the_previous_object(tmp_path: Path, no_new_local_threads: None) -> None:
    (tmp_path / "t.wav").write_bytes(b"RIFF-previous")
    stream = MemoryStream(make_wav(1.0), chunk_size=10_000, break_after=50_000)
    with pytest.raises(MusicDeliveryError, match="broke off"):
        store_stream(stream, ObjectStoragePath(f"file://{tmp_path}/t.wav"))
    assert [p.name for p in tmp_path.iterdir()] == ["t.wav"]
    assert (tmp_path / "t.wav").read_bytes() == b"RIFF-previous"


def test_store_stream_names_temporaries_and_sweeps_after_temp_name(tmp_path: Path) -> None:
    """A name learned from the URL: temporaries (and leftovers) keep the stem the caller knew first."""
    (tmp_path / ".partial-track-0123").write_bytes(b"RIFF half of a track")
    (tmp_path / ".partial-track.wav-0123").write_bytes(b"not this one's")
    seen: list[str] = []

    def keep(final: ObjectStoragePath) -> bool:
        seen.extend(p.name for p in tmp_path.iterdir())
        return False

    destination = ObjectStoragePath(f"file://{tmp_path}/track.wav")
    stored = store_stream(MemoryStream(make_wav(0.1)), destination, temp_name="track", keep_existing=keep)
    assert stored is not None
    assert stored.path.name == "track.wav"
    assert any(n.startswith(".partial-track-") for n in seen)  # the temporary, named after the stem
    assert ".partial-track-0123" not in seen
    assert sorted(p.name for p in tmp_path.iterdir()) == [".partial-track.wav-0123", "track.wav"]


# --- a stream that reads into a buffer (the HTTP download): reused buffers, the same checks ----------


class IntoStream(MemoryStream):
    """A ``MemoryStream`` read only through ``readinto``, at most ``piece`` bytes a read."""

    def __init__(self, body: bytes, *, piece: int = 7_777, **kw: Any) -> None:
        super().__init__(body, **kw)
        self.piece = piece
        self.sent = 0
        self.asked: list[int] = []

    def readinto(self, buffer: memoryview) -> int:
        if self.break_after is not None and self.sent >= self.break_after:
            raise MusicDeliveryError(f"The download from {self.shown_url} broke off: test")
        self.asked.append(len(buffer))
        n = min(len(buffer), self.piece, len(self.body) - self.sent)
        buffer[:n] = self.body[self.sent : self.sent + n]
        self.sent += n
        return n

    def chunks(self) -> Iterator[bytes]:
        raise AssertionError("a stream that reads into a buffer is read that way")


class _SlowSha256:
    """sha256 that takes its time, reading each piece late: a refilled buffer would change the digest."""

    def __init__(self) -> None:
        self._real = hashlib.sha256()

    def update(self, piece: bytes | memoryview) -> None:
        time.sleep(0.002)
        self._real.update(piece)

    def hexdigest(self) -> str:
        return self._real.hexdigest()


def test_a_stream_read_into_reused_buffers_is_stored_whole_while_the_hash_lags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_new_local_threads: None, hash_thread: None
) -> None:
    monkeypatch.setattr(sha256_module, "hashlib", SimpleNamespace(sha256=_SlowSha256))
    wav = make_wav(0.5)
    body = wav[:64] + random.Random(7).randbytes(len(wav) - 64)  # no two pieces alike
    stream = IntoStream(body, piece=5_000)
    stored = store_stream(stream, ObjectStoragePath(f"file://{tmp_path}/t.wav"), chunk_size=3 * 4096)
    assert (stored.size_bytes, stored.sha256, stored.audio_format) == (len(body), _sha256(body), WAV)
    assert (tmp_path / "t.wav").read_bytes() == body
    assert max(stream.asked) == 4096  # one buffer per hash slot, within the chunk size
    assert stored.head == body[: len(stored.head)]


def test_the_size_limit_stops_a_stream_read_into_buffers(tmp_path: Path, no_new_local_threads: None) -> None:
    stream = IntoStream(make_wav(1.0), content_length=None)
    with pytest.raises(MusicAudioInvalidError, match="exceeded the limit of 50000 bytes"):
        store_stream(stream, ObjectStoragePath(f"file://{tmp_path}/t.wav"), max_bytes=50_000)
    assert stream.sent == 50_001  # no byte read past the one that breaks the limit
    assert list(tmp_path.iterdir()) == []


def test_a_stream_read_into_buffers_shorter_than_announced_is_truncated(
    tmp_path: Path, no_new_local_threads: None
) -> None:
    body = make_wav(0.1)
    with pytest.raises(MusicDeliveryError, match=rf"truncated: got {len(body)} of {len(body) + 1} bytes"):
        store_stream(
            IntoStream(body, content_length=len(body) + 1), ObjectStoragePath(f"file://{tmp_path}/t.wav")
        )
    assert list(tmp_path.iterdir()) == []


def test_a_stream_read_into_buffers_breaking_off_leaves_the_previous_object(
    tmp_path: Path, no_new_local_threads: None
) -> None:
    (tmp_path / "t.wav").write_bytes(b"RIFF-previous")
    with pytest.raises(MusicDeliveryError, match="broke off"):
        store_stream(
            IntoStream(make_wav(1.0), break_after=50_000), ObjectStoragePath(f"file://{tmp_path}/t.wav")
        )
    assert [p.name for p in tmp_path.iterdir()] == ["t.wav"]
    assert (tmp_path / "t.wav").read_bytes() == b"RIFF-previous"


def test_a_stream_read_into_buffers_is_not_audio_is_refused(
    tmp_path: Path, no_new_local_threads: None
) -> None:
    with pytest.raises(MusicAudioInvalidError, match="not audio"):
        store_stream(IntoStream(b"<html>" + b"x" * 100_000), ObjectStoragePath(f"file://{tmp_path}/t.wav"))
    assert list(tmp_path.iterdir()) == []


def test_reading_into_buffers_stays_within_two_chunks(tmp_path: Path) -> None:
    body = make_wav(30.0)  # 5.3 MB
    chunk = 1024 * 1024
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        stored = store_stream(
            IntoStream(body, piece=256 * 1024),
            ObjectStoragePath(f"file://{tmp_path}/t.wav"),
            chunk_size=chunk,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.sha256 == _sha256(body)
    # The read buffers take one chunk (one per hash slot); the test's own slices and first imports the rest.
    assert peak - before < 2 * chunk


@pytest.mark.parametrize(("cpus", "threaded"), [(1, False), (2, False), (3, True), (16, True)])
def test_a_local_write_hashes_in_a_thread_only_with_a_core_free_for_it(
    cpus: int, threaded: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[bool] = []
    real = sha256_module.Sha256

    def spy(*, threaded: bool) -> Any:
        made.append(threaded)
        return real(threaded=threaded)

    monkeypatch.setattr(_writer, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(_writer, "Sha256", spy)
    body = make_wav(0.1)
    stored = store_stream(IntoStream(body), ObjectStoragePath(f"file://{tmp_path}/t.wav"))
    assert (made, stored.sha256) == ([threaded], _sha256(body))
