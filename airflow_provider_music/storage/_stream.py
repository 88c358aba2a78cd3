"""What storage reads a download from, and what it reports back once the audio is written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music.audio import AudioFormat


class AudioStream(Protocol):
    """
    An open download: its chunks plus the headers storage checks them against.

    Storage depends on this shape only (never on the HTTP client that opens the download), so the
    hook's ``open_audio`` stream and a test's in-memory stream are written the same way.
    """

    @property
    def shown_url(self) -> str:
        """The URL as it may appear in messages (credentials and signatures redacted)."""
        ...

    @property
    def content_type(self) -> str | None:
        """The media type the server announced, lower case without parameters; None when missing."""
        ...

    @property
    def content_length(self) -> int | None:
        """The number of bytes the server announced; None when unknown (the total is not checked)."""
        ...

    def chunks(self) -> Iterator[bytes]:
        """The body, in non-empty pieces; a broken-off download raises ``MusicDeliveryError``."""
        ...


@dataclass(frozen=True)
class StoredAudio:
    """What was written: enough for a manifest without reading the object back."""

    path: ObjectStoragePath
    size_bytes: int
    sha256: str
    audio_format: AudioFormat
    head: bytes
    # Written straight under its final name (see commits_atomically): nothing to move or discard.
    in_place: bool = False


class LocalFileStream:
    """
    A local file read as an `AudioStream`: what a spooled download or a rendered derivative is
    stored from, through the same checks and commit as a download (``store_stream``).
    """

    def __init__(
        self, path: str | os.PathLike[str], content_type: str | None = None, chunk_size: int = 1 << 20
    ):
        self._path = os.fspath(path)
        self._content_type = content_type
        self._chunk_size = chunk_size
        self._offset = 0

    @property
    def shown_url(self) -> str:
        """The local path (no secrets in it: a file this worker wrote)."""
        return self._path

    @property
    def content_type(self) -> str | None:
        """The type given by the caller (None: sniffed from the bytes)."""
        return self._content_type

    @property
    def content_length(self) -> int:
        """The file's size now."""
        return os.path.getsize(self._path)

    def chunks(self) -> Iterator[bytes]:
        """The file, in pieces of at most ``chunk_size`` bytes."""
        with open(self._path, "rb") as handle:
            while chunk := handle.read(self._chunk_size):
                yield chunk

    def readinto(self, buffer: memoryview) -> int:
        """
        Fill ``buffer`` with the file's next bytes (storage's copy-free path); 0 at its end. Opened per
        read (a few microseconds a MiB): a store that stops early then leaves no file open.
        """
        with open(self._path, "rb") as handle:
            handle.seek(self._offset)
            n = handle.readinto(buffer)
        self._offset += n
        return n
