"""What storage reads a download from, and what it reports back once the audio is written."""

from __future__ import annotations

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
