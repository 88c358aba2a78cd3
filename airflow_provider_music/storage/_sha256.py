"""
The sha256 of a download, computed as it streams: inline, or in a thread of its own on a machine
with a core free for it.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading

from airflow_provider_music.defaults import HASH_QUEUE_PIECES

#: CPUs this process may run on from which a local write hashes in a thread of its own. The thread
#: overlaps the hash with reading and writing (shorter wall time with a core free for it) but costs
#: CPU time handing pieces between cores: measured on 2 cores (benchmarks/bench_delivery.py), about
#: 5-18% more CPU for the delivery and no shorter wall time, since the reader, the hash and the rest
#: of the machine then share the same two cores.
HASH_THREAD_MIN_CPUS = 3


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class Sha256:
    """
    sha256 of the download; ``threaded``: in a thread of its own.

    At most ``slots`` pieces are with the thread at a time: ``update`` (or ``reserve``) waits for one
    to be hashed when all are taken, so the queue holds at most HASH_QUEUE_PIECES pieces besides the
    one being hashed, and a caller that reuses ``slots`` buffers in turn never refills one the thread
    still reads. hashlib releases the GIL on pieces over 2 KiB, so the hash overlaps reading and
    writing. The thread goes on taking pieces (and freeing their slots) even after a failure, so the
    reader can never hang on it.
    """

    def __init__(self, *, threaded: bool) -> None:
        self._digest = hashlib.sha256()
        self._error: BaseException | None = None
        self._dropping = False
        self._thread: threading.Thread | None = None
        self.slots = 1
        if threaded:
            self.slots = HASH_QUEUE_PIECES + 1
            self._queue: queue.SimpleQueue[bytes | memoryview | None] = queue.SimpleQueue()
            self._free = threading.Semaphore(self.slots)
            self._thread = threading.Thread(target=self._run, name="music-sha256", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while (piece := self._queue.get()) is not None:
            try:
                if not (self._dropping or self._error is not None):
                    self._digest.update(piece)
            except BaseException as exc:  # handed to the reader by hexdigest()
                self._error = exc
            finally:
                self._free.release()

    def reserve(self) -> None:
        """Wait for a free slot (a buffer the thread is done with) before filling it."""
        if self._thread is not None:
            self._free.acquire()

    def release(self) -> None:
        """Give back a slot ``reserve`` took but no piece used."""
        if self._thread is not None:
            self._free.release()

    def update(self, piece: bytes | memoryview, *, reserved: bool = False) -> None:
        """Hash ``piece`` (in the thread: ``reserved`` says its slot is already taken)."""
        if self._thread is None:
            self._digest.update(piece)
            return
        if not reserved:
            self._free.acquire()
        self._queue.put(piece)

    def hexdigest(self) -> str:
        self._stop()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()

    def close(self) -> None:
        """Drop what is still queued and wait for the thread (safe after ``hexdigest``)."""
        self._dropping = True
        self._stop()

    def _stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
