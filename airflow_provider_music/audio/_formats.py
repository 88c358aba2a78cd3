"""The audio formats the provider accepts, their names, and recognising them from the first bytes.

Services sometimes answer a failure with ``200 OK`` and an HTML, JSON or XML body, so the first
bytes are checked before anything is kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from airflow_provider_music.audio._headers import (
    PARSE_ERRORS,
    adts_frame_length,
    id3v2_end,
    mpeg_frame,
    next_frame_agrees,
)


@dataclass(frozen=True)
class AudioFormat:
    """A container the provider accepts, with the names storage needs to label and serve it."""

    name: str
    extension: str
    content_type: str


WAV = AudioFormat("wav", "wav", "audio/wav")
MP3 = AudioFormat("mp3", "mp3", "audio/mpeg")
FLAC = AudioFormat("flac", "flac", "audio/flac")
OGG = AudioFormat("ogg", "ogg", "audio/ogg")
AAC = AudioFormat("aac", "aac", "audio/aac")
M4A = AudioFormat("m4a", "m4a", "audio/mp4")
FORMATS: tuple[AudioFormat, ...] = (WAV, MP3, FLAC, OGG, AAC, M4A)

#: Leading bytes :func:`sniff` wants; it also works, less surely, with fewer.
SNIFF_BYTES = 4096

_CONTENT_TYPES: dict[str, AudioFormat] = {
    "audio/mpeg": MP3,
    "audio/mp3": MP3,
    "audio/mpeg3": MP3,
    "audio/x-mpeg": MP3,
    "audio/x-mp3": MP3,
    "audio/x-mpeg-3": MP3,
    "audio/wav": WAV,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "audio/x-pn-wav": WAV,
    "audio/flac": FLAC,
    "audio/x-flac": FLAC,
    "audio/ogg": OGG,
    "audio/x-ogg": OGG,
    "audio/vorbis": OGG,
    "audio/opus": OGG,
    "application/ogg": OGG,
    "audio/aac": AAC,
    "audio/x-aac": AAC,
    "audio/aacp": AAC,
    "audio/mp4": M4A,
    "audio/x-m4a": M4A,
    "audio/m4a": M4A,
}

_EXTENSIONS: dict[str, AudioFormat] = {
    "mp3": MP3,
    "wav": WAV,
    "wave": WAV,
    "flac": FLAC,
    "ogg": OGG,
    "oga": OGG,
    "opus": OGG,
    "aac": AAC,
    "m4a": M4A,
}

#: Every file extension taken for audio (lower case): the stored formats' own first, then aliases.
#: A destination whose name ends in one of them names the object in full; any other name is taken
#: as the name without its extension, which then follows the audio's format.
AUDIO_EXTENSIONS: tuple[str, ...] = tuple(dict.fromkeys([f.extension for f in FORMATS] + sorted(_EXTENSIONS)))

# ISO base media brands that carry (or commonly carry) audio-only MP4 files.
_MP4_BRANDS = frozenset(
    {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"mp41", b"mp42", b"isom", b"iso2", b"iso3"}
    | {b"iso4", b"iso5", b"iso6", b"dash", b"MSNV", b"mp71"}
)


def has_audio_extension(name: str) -> bool:
    """Whether ``name`` ends in an extension of :data:`AUDIO_EXTENSIONS` (any case)."""
    return "." in name and name.rsplit(".", 1)[1].lower() in _EXTENSIONS


def format_for(content_type: str | None = None, url_path: str | None = None) -> AudioFormat | None:
    """Best guess from a ``Content-Type`` header, else from the URL's file extension.

    Used to name the stored object when the body itself is ambiguous; a generic type such as
    ``application/octet-stream`` says nothing, so the URL is consulted next.
    """
    if content_type:
        found = _CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower())
        if found is not None:
            return found
    if url_path:
        path = url_path.split("#", 1)[0].split("?", 1)[0]
        if "://" in path:  # a whole URL: drop scheme and host so "host.mp3" is not an extension
            rest = path.split("://", 1)[1]
            path = rest[rest.find("/") :] if "/" in rest else ""
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if "." in name:
            return _EXTENSIONS.get(name.rsplit(".", 1)[1].lower())
    return None


def sniff(head: bytes) -> AudioFormat | None:
    """Identify the audio container from the first bytes, or None when it is not audio.

    Errors served with ``200 OK`` (HTML, JSON, XML, text) must never be stored as music, so
    this only answers for a recognised magic number or a valid MPEG/ADTS frame header.
    """
    try:
        return container_of(bytes(head))
    except PARSE_ERRORS:
        return None


def container_of(data: bytes) -> AudioFormat | None:
    """:func:`sniff` without its safety net: a malformed header may raise one of ``PARSE_ERRORS``."""
    if data[:3] == b"ID3":
        end = id3v2_end(data)
        if end is None:
            return None
        # Some FLAC and ADTS files carry an ID3v2 tag too; anything else behind a tag is MP3.
        inner = _sniff_bare(data[end:])
        return inner if inner in (FLAC, AAC) else MP3
    return _sniff_bare(data)


def _sniff_bare(data: bytes) -> AudioFormat | None:
    magic = data[:4]
    if magic in (b"RIFF", b"RF64", b"BW64") and data[8:12] == b"WAVE":
        return WAV
    if magic == b"fLaC":
        return FLAC
    if magic == b"OggS" and len(data) > 4 and data[4] == 0:
        return OGG
    if data[4:8] == b"ftyp" and _is_audio_mp4(data):
        return M4A
    frame = mpeg_frame(data, 0)
    if frame is not None and frame.layer == 3 and next_frame_agrees(data, 0, frame):
        return MP3
    length = adts_frame_length(data, 0)
    if length is not None and (length + 7 > len(data) or adts_frame_length(data, length) is not None):
        return AAC
    return None


def _is_audio_mp4(data: bytes) -> bool:
    size = struct.unpack_from(">I", data, 0)[0]
    if size < 16 or size % 4:
        return False
    end = min(size, len(data))
    # The major brand at 8, then the minor version, then the compatible brands.
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, end - 3, 4)]
    return any(brand in _MP4_BRANDS for brand in brands)
