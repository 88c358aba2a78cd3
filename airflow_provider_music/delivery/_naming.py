"""Names of stored objects: a safe name from a generation id, and the name once the format is known."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_provider_music.audio import format_for

if TYPE_CHECKING:
    from airflow_provider_music.audio import AudioFormat

#: Characters of a generation id kept readable in an object name (the rest becomes ``_``).
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: How much of the id stays readable, and how many hex digits of its sha256 keep names distinct.
_READABLE_CHARS = 80
_DIGEST_CHARS = 10


def safe_object_name(generation_id: str) -> str:
    """One safe path segment from an opaque id that contains ``:`` and ``/``; distinct ids stay distinct."""
    readable = _UNSAFE.sub("_", generation_id).strip("._-")[:_READABLE_CHARS] or "generation"
    digest = hashlib.sha256(generation_id.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return f"{readable}-{digest}"


def object_file_name(stem: str, audio_format: AudioFormat) -> str:
    """The stored object's name: its stem plus the extension of the audio's format."""
    return f"{stem}.{audio_format.extension}"


def format_from_url(url: str) -> AudioFormat | None:
    """The audio format an URL's path names (its extension), when it names one."""
    return format_for(url_path=_url_path(url))


def _url_path(url: str) -> str:
    """The path of ``url``; empty when it cannot be parsed (``open_audio`` then says why)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""
