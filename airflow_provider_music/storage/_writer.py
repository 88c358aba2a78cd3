"""
Writing a download into object storage: checked as it streams, never left half-written.

A download that reads into a buffer (the HTTP one) is read into a few reused buffers and handed on as
views: no bytes object per read and no copy on the way to the sink and the sha256.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Protocol, overload

from airflow_provider_music.audio import HEADER_BYTES, AudioFormat, sniff
from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_AUDIO_BYTES,
    NETWORK_READ_SIZE,
)
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicDeliveryError, MusicProviderError
from airflow_provider_music.storage._paths import (
    commits_atomically,
    describe,
    ensure_folder,
    leftovers_prefix,
    object_uri,
    partial_name,
    remove_leftovers,
    remove_quietly,
)
from airflow_provider_music.storage._s3_multipart import MultipartUpload
from airflow_provider_music.storage._sha256 import HASH_THREAD_MIN_CPUS, Sha256, usable_cpus
from airflow_provider_music.storage._stream import AudioStream, StoredAudio

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

#: Leading bytes after which the download is checked to be audio (the whole first chunk, up to
#: HEADER_BYTES, is what it is checked on: chunks are far larger than this).
_CHECK_AFTER_BYTES = 64
#: S3 multipart parts must be at least 5 MiB: the floor of the storage block, whatever the chunk size.
MIN_STORAGE_BLOCK_SIZE = 5 * 1024 * 1024
#: Characters of a body that is not audio quoted in the error (enough to recognise an error page).
_PREVIEW_CHARS = 60


@overload
def store_stream(
    stream: AudioStream,
    destination: ObjectStoragePath,
    *,
    max_bytes: int = ...,
    chunk_size: int = ...,
    add_extension: bool = ...,
    sweep: bool = ...,
    temp_name: str | None = ...,
    keep_existing: None = ...,
) -> StoredAudio: ...


@overload
def store_stream(
    stream: AudioStream,
    destination: ObjectStoragePath,
    *,
    max_bytes: int = ...,
    chunk_size: int = ...,
    add_extension: bool = ...,
    sweep: bool = ...,
    temp_name: str | None = ...,
    keep_existing: Callable[[ObjectStoragePath], bool],
) -> StoredAudio | None: ...


def store_stream(
    stream: AudioStream,
    destination: ObjectStoragePath,
    *,
    max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    add_extension: bool = False,
    sweep: bool = True,
    temp_name: str | None = None,
    keep_existing: Callable[[ObjectStoragePath], bool] | None = None,
) -> StoredAudio | None:
    """
    Store ``stream`` at ``destination``, visible only when whole; the one way audio reaches storage.

    Temporaries a killed earlier try left of this object are removed first (``sweep=False``: the
    caller did that already, e.g. once before retrying with a fresh URL). On a store that
    ``commits_atomically`` (S3) the upload goes straight to ``destination`` and is committed at the
    end; elsewhere a temporary object is written, then moved onto ``destination``. With
    ``add_extension``, ``destination`` names the object without its extension: the audio's format
    adds it (always through a temporary object, since the name is known only at the end).
    Temporaries are named after ``temp_name`` (default: ``destination``'s name), which is also what
    the sweep looks for. ``keep_existing``, when given, is asked about the final name just before a
    temporary object replaces it: True keeps what is there, drops the new audio and returns None (it
    may also raise).
    """
    folder = destination.parent
    name = destination.name if temp_name is None else temp_name
    removed = remove_leftovers(folder, name) if sweep else 0
    if removed:
        log.info("Removed %d temporary object(s) left by an interrupted earlier try", removed)
    target = None if add_extension else destination
    stored = write_stream(
        stream, folder, name=name, target=target, max_bytes=max_bytes, chunk_size=chunk_size
    )
    if target is None:
        target = folder / f"{destination.name}.{stored.audio_format.extension}"
    if not stored.in_place and keep_existing is not None:
        try:
            keep = keep_existing(target)
        except BaseException:
            discard(stored)
            raise
        if keep:
            discard(stored)
            return None
    return finalize(stored, target)


def write_stream(
    stream: AudioStream,
    folder: ObjectStoragePath,
    *,
    name: str = "audio",
    target: ObjectStoragePath | None = None,
    max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> StoredAudio:
    """
    Stream the download into storage, checking as it goes; on any failure nothing is left behind.

    With ``target`` on a store that ``commits_atomically``, the upload goes straight to ``target``
    (a concurrent writer of the same key: the last one wins); otherwise into a hidden temporary object
    in ``folder`` (named after ``name``) for ``finalize`` to move into place. Checks: the first bytes
    are audio (not an HTML/JSON error page), the size stays under ``max_bytes``, and the total matches
    ``Content-Length`` when the server gave one.
    """
    if stream.content_length is not None and stream.content_length > max_bytes:
        raise MusicAudioInvalidError(
            f"The audio at {stream.shown_url} is {stream.content_length} bytes; the limit is {max_bytes}"
        )
    in_place = target is not None and commits_atomically(target)
    if target is not None and in_place:
        dest = target
    else:
        ensure_folder(folder)
        dest = folder / partial_name(name)
    upload = commits_atomically(dest)
    # A local write is as fast as the download, so sha256 gets a thread of its own where a core is
    # free for it; an upload is the slow side, so hashing inline costs nothing.
    digest = Sha256(threaded=not upload and usable_cpus() >= HASH_THREAD_MIN_CPUS)
    sink: _Sink | None = None
    copied = _Copied()
    try:
        block = _storage_block(chunk_size)
        if upload:
            sink = MultipartUpload(
                dest,
                block,
                temporary=not in_place,
                leftovers=folder / leftovers_prefix(name),
                expected_size=stream.content_length,
            )
        else:
            sink = _FileSink(dest, block)
        # The reused read buffers (one per hash slot) stay within one chunk size.
        piece_size = max(1, min(NETWORK_READ_SIZE, chunk_size // digest.slots))
        audio_format = _copy(stream, sink, digest, copied, max_bytes, piece_size)
        sha256 = digest.hexdigest()
        sink.commit()
    except MusicProviderError:
        _clean_up(sink, dest, in_place)
        raise
    except Exception as exc:  # the storage refused a write (full disk, S3 error, permissions ...)
        _clean_up(sink, dest, in_place)
        raise MusicDeliveryError(
            f"Writing the audio into {object_uri(dest.parent)} failed after {copied.size} bytes "
            f"({describe(exc)}); the partial upload was discarded and any previous object is untouched"
        ) from None
    except BaseException:
        _clean_up(sink, dest, in_place)
        raise
    finally:
        digest.close()
    return StoredAudio(dest, copied.size, sha256, audio_format, copied.head, in_place)


def finalize(stored: StoredAudio, destination: ObjectStoragePath) -> StoredAudio:
    """Move a complete temporary object onto its final name; the previous object stays until then."""
    if stored.in_place:
        return stored
    try:
        stored.path.rename(destination)
    except Exception as exc:
        remove_quietly(stored.path)
        raise MusicDeliveryError(
            f"Could not move the audio into place at {object_uri(destination)}: {describe(exc)}"
        ) from None
    return StoredAudio(destination, stored.size_bytes, stored.sha256, stored.audio_format, stored.head)


def discard(stored: StoredAudio) -> None:
    """Drop a temporary object that will not be used (never an object written in place)."""
    if not stored.in_place:
        remove_quietly(stored.path)


class _Copied:
    """What has gone through so far: kept outside ``_copy`` so a failure can say how far it got."""

    __slots__ = ("audio_format", "head", "size")

    def __init__(self) -> None:
        self.size = 0
        self.head = b""
        self.audio_format: AudioFormat | None = None


def _copy(
    stream: AudioStream, sink: _Sink, digest: Sha256, copied: _Copied, max_bytes: int, piece_size: int
) -> AudioFormat:
    """Every byte into ``sink`` and ``digest``, checked to be audio, within ``max_bytes`` and complete."""
    readinto: _ReadInto | None = getattr(stream, "readinto", None)
    if readinto is None:
        for chunk in stream.chunks():
            _check(stream, chunk, copied, max_bytes)
            digest.update(chunk)
            sink.write(chunk)
    else:
        _copy_into(stream, readinto, sink, digest, copied, max_bytes, piece_size)
    if copied.audio_format is None:
        copied.audio_format = _require_audio(copied.head, stream)
    if stream.content_length is not None and copied.size != stream.content_length:
        raise MusicDeliveryError(
            f"The download from {stream.shown_url} was truncated: got {copied.size} of "
            f"{stream.content_length} bytes"
        )
    return copied.audio_format


def _copy_into(
    stream: AudioStream,
    readinto: _ReadInto,
    sink: _Sink,
    digest: Sha256,
    copied: _Copied,
    max_bytes: int,
    piece_size: int,
) -> None:
    """
    ``_copy`` of a stream that reads into a buffer: the body is read into a few reused buffers, and
    each piece is handed to the sink and the digest as a view (no bytes object, no copy). A buffer is
    filled again only once the digest is done with it (``Sha256.slots``); the sink is done with it
    when ``write`` returns. Pieces are at most ``piece_size``, and one more byte is asked than
    ``max_bytes`` allows at most, so a body over the limit is stopped after one piece.
    """
    views = [memoryview(bytearray(piece_size)) for _ in range(digest.slots)]
    turn = 0
    while True:
        view = views[turn]
        turn = (turn + 1) % len(views)
        digest.reserve()
        room = max_bytes + 1 - copied.size
        n = readinto(view if room >= piece_size else view[:room])
        if not n:
            digest.release()
            return
        piece = view[:n]
        _check(stream, piece, copied, max_bytes)
        digest.update(piece, reserved=True)
        sink.write(piece)


def _check(stream: AudioStream, piece: bytes | memoryview, copied: _Copied, max_bytes: int) -> None:
    """Count ``piece``; once the first bytes are in, check they are audio; stop at ``max_bytes``."""
    if len(copied.head) < HEADER_BYTES:
        copied.head += bytes(piece[: HEADER_BYTES - len(copied.head)])
    if copied.audio_format is None and len(copied.head) >= _CHECK_AFTER_BYTES:
        copied.audio_format = _require_audio(copied.head, stream)
    copied.size += len(piece)
    if copied.size > max_bytes:
        raise MusicAudioInvalidError(
            f"The audio at {stream.shown_url} exceeded the limit of {max_bytes} bytes; stopped"
        )


def _require_audio(head: bytes, stream: AudioStream) -> AudioFormat:
    if not head:
        raise MusicAudioInvalidError(f"The audio URL {stream.shown_url} served an empty body")
    found = sniff(head)
    if found is None:
        preview = head[:_PREVIEW_CHARS].decode("utf-8", "replace").replace("\n", " ")
        raise MusicAudioInvalidError(
            f"The audio URL {stream.shown_url} served something that is not audio "
            f"(Content-Type {stream.content_type or 'missing'}; starts with {preview!r})"
        )
    return found


def _clean_up(sink: _Sink | None, dest: ObjectStoragePath, in_place: bool) -> None:
    if sink is not None:
        sink.discard()
    elif not in_place:  # never delete the final name: it may hold the previous object
        remove_quietly(dest)


def _storage_block(chunk_size: int) -> int:
    """
    The storage write block: half a chunk, but never under S3's 5 MiB part minimum.

    So UPLOAD_PARTS_IN_MEMORY (2) parts keep a delivery within two chunk sizes.
    """
    return max(chunk_size // 2, MIN_STORAGE_BLOCK_SIZE)


class _ReadInto(Protocol):
    def __call__(self, buffer: memoryview, /) -> int: ...


class _Sink(Protocol):
    def write(self, data: bytes | memoryview) -> None:
        """Write ``data`` before returning (it may be a view of a buffer that is filled again next)."""

    def commit(self) -> None: ...

    def discard(self) -> None:
        """Leave nothing behind; never raises."""


class _FileSink:
    """A temporary object written through the store's file object (local files, other stores)."""

    def __init__(self, path: ObjectStoragePath, block_size: int) -> None:
        self._path = path
        self._file = path.open("wb", block_size=block_size)

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.close()

    def discard(self) -> None:
        with suppress(Exception):
            self._file.close()
        remove_quietly(self._path)
