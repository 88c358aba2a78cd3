"""Recognise audio streams and read their duration from the first bytes.

The provider streams generated music from a URL straight into storage: the first bytes are checked
to be audio before anything is kept (services sometimes answer a failure with ``200 OK`` and an
HTML, JSON or XML body), and the duration in the manifest comes from the same bytes plus the size.

Pure: standard library only, no I/O and no heavy imports (this runs in workers and the triggerer).
"""

from __future__ import annotations

from airflow_provider_music.audio._duration import HEADER_BYTES, duration_seconds
from airflow_provider_music.audio._formats import (
    AAC,
    AUDIO_EXTENSIONS,
    FLAC,
    FORMATS,
    M4A,
    MP3,
    OGG,
    SNIFF_BYTES,
    WAV,
    AudioFormat,
    format_for,
    has_audio_extension,
    sniff,
)

__all__ = [
    "AAC",
    "AUDIO_EXTENSIONS",
    "FLAC",
    "FORMATS",
    "HEADER_BYTES",
    "M4A",
    "MP3",
    "OGG",
    "SNIFF_BYTES",
    "WAV",
    "AudioFormat",
    "duration_seconds",
    "format_for",
    "has_audio_extension",
    "sniff",
]
