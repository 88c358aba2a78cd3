"""
What the storage tests share: an audio URL served by the emulator, an in-memory download (any object
with the shape of ``storage.AudioStream`` is storable), and a check that no thread is left running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import MusicDeliveryError
from airflow_provider_music.hooks.music import MusicGenerationHook


def emulator_audio_url(emulator: Emulator, length_ms: int) -> str:
    """The audio URL of a generation of ``length_ms`` that the emulator completes at once."""
    emulator.configure(generation_seconds=0, queued_seconds=0)
    hook = MusicGenerationHook()
    gen_id = hook.submit_generation("storage test", music_length_ms=length_ms)
    deadline = time.monotonic() + 60  # generous: the generation completes at once, even on a busy machine
    while time.monotonic() < deadline:
        generation = hook.get_generation(gen_id)
        if generation.audio_url:
            return generation.audio_url
        time.sleep(0.05)
    raise AssertionError("the emulator did not complete the generation")


class MemoryStream:
    """A download held in memory, in ``chunk_size`` pieces; ``break_after``: it breaks off there."""

    def __init__(
        self,
        body: bytes,
        *,
        chunk_size: int = 64 * 1024,
        content_type: str | None = "audio/wav",
        content_length: int | None = -1,  # -1: the body's length
        break_after: int | None = None,
    ) -> None:
        self.body = body
        self.chunk_size = chunk_size
        self.content_type = content_type
        self.content_length = len(body) if content_length == -1 else content_length
        self.shown_url = "https://cdn.example/audio"
        self.break_after = break_after

    def chunks(self) -> Iterator[bytes]:
        sent = 0
        while sent < len(self.body):
            if self.break_after is not None and sent >= self.break_after:
                raise MusicDeliveryError(f"The download from {self.shown_url} broke off: test")
            yield self.body[sent : sent + self.chunk_size]
            sent += self.chunk_size


@contextmanager
def no_new_threads() -> Iterator[None]:
    """Every thread started inside has ended when the block returns or raises."""
    before = set(threading.enumerate())
    yield
    left = [t.name for t in set(threading.enumerate()) - before if not _is_shared_pool(t)]
    assert left == [], f"threads left running: {left}"


def _is_shared_pool(thread: threading.Thread) -> bool:
    # fsspec's event-loop thread and that loop's default executor (DNS lookups for new connections)
    # are process-wide and idle between calls: not ours to stop.
    return thread.name == "fsspecIO" or thread.name.startswith("asyncio_")
