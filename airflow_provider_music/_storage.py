"""Writing a download into object storage: checked as it streams, never left half-written."""

from __future__ import annotations

import hashlib
import uuid
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_AUDIO_BYTES,
    MIN_STORAGE_BLOCK_SIZE,
)
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicDeliveryError, MusicProviderError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music._audio import AudioFormat
    from airflow_provider_music.hooks.music import _AudioStream


@dataclass(frozen=True)
class StoredAudio:
    """What was written: enough for a manifest without reading the object back."""

    path: ObjectStoragePath
    size_bytes: int
    sha256: str
    audio_format: AudioFormat
    head: bytes


PARTIAL_PREFIX = ".partial-"


def partial_name(name: str) -> str:
    """A hidden temporary name that still says which object it will become (so leftovers can be found)."""
    return f"{PARTIAL_PREFIX}{name}-{uuid.uuid4().hex}"


def remove_leftovers(folder: ObjectStoragePath, name: str) -> int:
    """Delete temporaries of ``name`` that a killed worker could not clean up; returns how many."""
    prefix = f"{PARTIAL_PREFIX}{name}-"
    removed = 0
    try:
        if not folder.exists():
            return 0
        for child in folder.iterdir():
            if child.name.startswith(prefix):
                remove_quietly(child)
                removed += 1
    except (FileNotFoundError, NotADirectoryError):
        return removed
    return removed


def write_stream(
    stream: _AudioStream,
    folder: ObjectStoragePath,
    *,
    name: str = "audio",
    max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> StoredAudio:
    """
    Stream into a hidden temporary object in ``folder`` (named after ``name``), checking as it goes;
    remove it on any failure.

    Checks: the first bytes are audio (not an HTML/JSON error page), the size stays under
    ``max_bytes``, and the total matches ``Content-Length`` when the server gave one.
    """
    from airflow_provider_music import _audio

    if stream.content_length is not None and stream.content_length > max_bytes:
        raise MusicAudioInvalidError(
            f"The audio at {stream.shown_url} is {stream.content_length} bytes; the limit is {max_bytes}"
        )
    _ensure_folder(folder)
    temp = folder / partial_name(name)
    digest = hashlib.sha256()
    size = 0
    head = b""
    audio_format = None
    try:
        with temp.open("wb", block_size=_storage_block(chunk_size)) as out:
            for chunk in stream.chunks():
                if len(head) < _audio.HEADER_BYTES:
                    head += chunk[: _audio.HEADER_BYTES - len(head)]
                if audio_format is None and len(head) >= min(_audio.SNIFF_BYTES, 64):
                    audio_format = _require_audio(head, stream)
                size += len(chunk)
                if size > max_bytes:
                    raise MusicAudioInvalidError(
                        f"The audio at {stream.shown_url} exceeded the limit of {max_bytes} bytes; stopped"
                    )
                digest.update(chunk)
                out.write(chunk)
            if audio_format is None:
                audio_format = _require_audio(head, stream)
        if stream.content_length is not None and size != stream.content_length:
            raise MusicDeliveryError(
                f"The download from {stream.shown_url} was truncated: got {size} of "
                f"{stream.content_length} bytes"
            )
    except MusicProviderError:
        remove_quietly(temp)
        raise
    except Exception as exc:  # the storage refused a write (full disk, S3 error, permissions ...)
        remove_quietly(temp)
        raise MusicDeliveryError(
            f"Writing the audio into {folder} failed after {size} bytes ({type(exc).__name__}: {exc}); "
            "the partial object was removed and any previous object is untouched"
        ) from None
    except BaseException:
        remove_quietly(temp)
        raise
    return StoredAudio(temp, size, digest.hexdigest(), audio_format, head)


def _storage_block(chunk_size: int) -> int:
    """
    The storage client's write block: half a chunk, but never under S3's 5 MiB part minimum.

    s3fs/aiobotocore hold about three copies of a block while a part uploads, so a block of half a
    chunk keeps a delivery near two chunk sizes (8 MiB chunks: 5 MiB parts, ~16 MiB peak).
    """
    return max(chunk_size // 2, MIN_STORAGE_BLOCK_SIZE)


def _require_audio(head: bytes, stream: _AudioStream) -> AudioFormat:
    from airflow_provider_music import _audio

    if not head:
        raise MusicAudioInvalidError(f"The audio URL {stream.shown_url} served an empty body")
    found = _audio.sniff(head)
    if found is None:
        preview = head[:60].decode("utf-8", "replace").replace("\n", " ")
        raise MusicAudioInvalidError(
            f"The audio URL {stream.shown_url} served something that is not audio "
            f"(Content-Type {stream.content_type or 'missing'}; starts with {preview!r})"
        )
    return found


def finalize(stored: StoredAudio, destination: ObjectStoragePath) -> StoredAudio:
    """Move a complete temporary object onto its final name; the previous object stays until then."""
    try:
        stored.path.rename(destination)
    except Exception as exc:
        remove_quietly(stored.path)
        raise MusicDeliveryError(f"Could not move the audio into place at {destination}: {exc}") from None
    return StoredAudio(destination, stored.size_bytes, stored.sha256, stored.audio_format, stored.head)


def discard(stored: StoredAudio) -> None:
    """Drop a temporary object that will not be used."""
    remove_quietly(stored.path)


def _ensure_folder(folder: ObjectStoragePath) -> None:
    if folder.protocol in ("", "file", "local"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MusicDeliveryError(f"Could not create the folder {folder}: {exc}") from None


def remove_quietly(path: ObjectStoragePath) -> None:
    """Best-effort clean-up: the original error matters more than a failed delete."""
    with suppress(Exception):
        path.unlink(missing_ok=True)
