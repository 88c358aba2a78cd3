"""Decoding stored audio into blocks of float frames, with libsndfile (through soundfile).

libsndfile >= 1.1 decodes MP3 (what eleven_music returns), and WAV, FLAC, OGG (Vorbis, Opus) and AIFF;
headerless PCM (what MiniMax models return for ``format: pcm``) is read with an explicit `PcmLayout`.
AAC (MP4/M4A, ADTS), WebM, WMA and AMR are not: such a file is refused with an error that names its
format, recognised from its first bytes. Reads ``BLOCK_FRAMES`` frames at a time, so memory does not
grow with the length of the track.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Literal, Union, overload

import soundfile

from airflow_provider_music.exceptions import MusicAudioInvalidError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    from numpy.typing import NDArray

#: What `analyze` reads: the file's bytes, a local path, or an open, seekable binary file.
AudioSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]

#: Containers and codecs libsndfile cannot read, by their first bytes: named when refused.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/M4A (AAC or ALAC)"),
    (0, b"ADIF", "AAC (ADIF)"),
    (0, b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "WMA (ASF)"),
    (0, b"#!AMR", "AMR"),
)
_SNIFF_BYTES = 16

#: Frames decoded at a time (1.5 s at 44.1 kHz; about 1 MiB of float64 stereo).
BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class PcmLayout:
    """How to read headerless PCM: its rate, channel count and libsndfile subtype (little-endian)."""

    sample_rate: int = 44_100
    channels: int = 2
    subtype: str = "PCM_16"


@dataclass(frozen=True)
class StreamInfo:
    """What the container says about the stream."""

    sample_rate: int
    channels: int
    format: str  # libsndfile's major format: WAV, MP3, FLAC, OGG, RAW, ...
    subtype: str


def decodable_formats() -> frozenset[str]:
    """The major formats the installed libsndfile reads (``MP3`` needs libsndfile >= 1.1)."""
    return frozenset(soundfile.available_formats())


def _as_file(source: AudioSource) -> str | BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return source


def open_audio(source: AudioSource, pcm: PcmLayout | None = None) -> soundfile.SoundFile:
    """Open ``source`` for decoding; `MusicAudioInvalidError` when libsndfile cannot read it."""
    file = _as_file(source)
    try:
        if pcm is not None:
            return soundfile.SoundFile(
                file,
                samplerate=pcm.sample_rate,
                channels=pcm.channels,
                subtype=pcm.subtype,
                format="RAW",
                endian="LITTLE",
            )
        return soundfile.SoundFile(file)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        known = _undecodable_format(_head(file))
        if known is not None:
            readable = ", ".join(sorted(decodable_formats()))
            raise MusicAudioInvalidError(
                f"the audio cannot be decoded: it is {known}, which libsndfile does not decode "
                f"(it reads {readable}); ask the model for MP3, WAV, FLAC, OGG or PCM instead"
            ) from exc
        raise MusicAudioInvalidError(f"the audio cannot be decoded: {exc}") from exc


def _head(file: str | BinaryIO) -> bytes:
    """The first bytes of ``file`` (empty when they cannot be read), its position left as it was."""
    try:
        if isinstance(file, str):
            with open(file, "rb") as opened:
                return opened.read(_SNIFF_BYTES)
        position = file.tell()
        try:
            file.seek(0)
            return file.read(_SNIFF_BYTES)
        finally:
            file.seek(position)
    except (OSError, ValueError, AttributeError):
        return b""


def _undecodable_format(head: bytes) -> str | None:
    """The name of a format libsndfile cannot read, recognised from the first bytes; else None."""
    for offset, magic, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    # ADTS: a 12-bit sync word then layer bits 00, which MPEG audio (MP3) never has.
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "AAC (ADTS)"
    return None


def stream_info(audio: soundfile.SoundFile) -> StreamInfo:
    """The rate, channels and format of an open file."""
    return StreamInfo(int(audio.samplerate), int(audio.channels), str(audio.format), str(audio.subtype))


@overload
def blocks(
    audio: soundfile.SoundFile, block_frames: int = ..., dtype: Literal["float64"] = ...
) -> Iterator[NDArray[np.float64]]: ...


@overload
def blocks(
    audio: soundfile.SoundFile, block_frames: int, dtype: Literal["float32"]
) -> Iterator[NDArray[np.float32]]: ...


def blocks(
    audio: soundfile.SoundFile, block_frames: int = BLOCK_FRAMES, dtype: str = "float64"
) -> Iterator[NDArray[np.floating]]:
    """Decoded ``frames x channels`` blocks (float64, or float32: half the memory and time), in order."""
    while True:
        try:
            block = audio.read(block_frames, dtype=dtype, always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise MusicAudioInvalidError(f"the audio stopped decoding: {exc}") from exc
        if not len(block):
            return
        yield block
