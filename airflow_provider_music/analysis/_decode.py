"""Decoding stored audio into blocks of float frames, with libsndfile (through soundfile).

libsndfile >= 1.1 decodes MP3 (what eleven_music returns), and WAV, FLAC, OGG (Vorbis, Opus) and AIFF;
headerless PCM (what MiniMax models return for ``format: pcm``) is read with an explicit `PcmLayout`.
AAC/M4A is not decodable by libsndfile. Reads ``BLOCK_FRAMES`` frames at a time, so memory does not
grow with the length of the track.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Union

import soundfile

from airflow_provider_music.exceptions import MusicAudioInvalidError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    from numpy.typing import NDArray

#: What `analyze` reads: the file's bytes, a local path, or an open, seekable binary file.
AudioSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]

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
        raise MusicAudioInvalidError(f"the audio cannot be decoded: {exc}") from exc


def stream_info(audio: soundfile.SoundFile) -> StreamInfo:
    """The rate, channels and format of an open file."""
    return StreamInfo(int(audio.samplerate), int(audio.channels), str(audio.format), str(audio.subtype))


def blocks(audio: soundfile.SoundFile, block_frames: int = BLOCK_FRAMES) -> Iterator[NDArray[np.float64]]:
    """Decoded ``frames x channels`` float64 blocks, in order, until the end of the stream."""
    while True:
        try:
            block = audio.read(block_frames, dtype="float64", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise MusicAudioInvalidError(f"the audio stopped decoding: {exc}") from exc
        if not len(block):
            return
        yield block
