"""Storing a download: checked as it streams, visible only when whole, never left half-written.

Storage reads an :class:`AudioStream` (any object with chunks, a length and a type), so it never
depends on the HTTP client that opened it. :func:`store_stream` is the one way audio is stored (the
hook's ``download_audio`` and delivery both use it); the other names serve delivery's checks
before and after it.
"""

from __future__ import annotations

from airflow_provider_music.storage._paths import (
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
from airflow_provider_music.storage._probe import probe_folder
from airflow_provider_music.storage._stream import AudioStream, LocalFileStream, StoredAudio
from airflow_provider_music.storage._writer import discard, finalize, store_stream, write_stream

__all__ = [
    "LOCAL_PROTOCOLS",
    "PARTIAL_PREFIX",
    "AudioStream",
    "LocalFileStream",
    "StoredAudio",
    "commits_atomically",
    "discard",
    "finalize",
    "find_by_stem",
    "is_local",
    "object_uri",
    "partial_name",
    "probe_folder",
    "remove_leftovers",
    "remove_quietly",
    "store_stream",
    "write_stream",
]
