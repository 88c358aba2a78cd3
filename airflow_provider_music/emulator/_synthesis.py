"""Deterministic audio for the emulator, streamed in chunks.

Every file is a pure function of (format, length_ms, character), so tests can recompute what was
served (`expected_audio`) and a 300 s track never needs to sit in memory: WAV and PCM are built from
a short precomputed period that repeats exactly (plus digital silence for the silence characters).
The ``default`` character is the emulator's historical audio: a quiet arpeggio, and MP3 made of
silent frames. Every other character (`CHARACTERS`) is the musical loop of ``_music`` at its level,
and its MP3 is really encoded (``_mp3``: needs the ``audio`` extra), once per file.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
import sys
from array import array
from typing import TYPE_CHECKING

from . import _mp3
from ._character import DEFAULT, AudioCharacter, CharacterLike
from ._music import character_period, level_of, period_ready

if TYPE_CHECKING:
    from collections.abc import Iterator

#: What a stream tiles (its "kind"): ``"wav"`` (the default arpeggio), ``"mp3"`` (silent frames), a
#: level of ``_music`` (``"level:music"``, ...), or None for digital silence.
_LEVEL_PREFIX = "level:"

SAMPLE_RATE = 44100
CHANNELS = 2
BYTES_PER_SAMPLE = 2
DEFAULT_CHUNK_SIZE = 64 * 1024
#: `expected_audio` hashes the stream in chunks this big (any size gives the same bytes).
HASH_CHUNK_SIZE = 1024 * 1024

#: Formats the emulator serves. ``mp3_id3`` is MP3 with an ID3v2 tag in front, as many real files have;
#: ``pcm`` is the WAV's samples with no header (what MiniMax models send for ``audio_setting.format: pcm``).
FORMATS: tuple[str, ...] = ("wav", "mp3", "mp3_id3", "pcm")
CONTENT_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mp3_id3": "audio/mpeg",
    "pcm": "application/octet-stream",
}
EXTENSIONS: dict[str, str] = {"wav": "wav", "mp3": "mp3", "mp3_id3": "mp3", "pcm": "pcm"}

_WAV_HEADER_SIZE = 44
_WAV_FRAME_BYTES = CHANNELS * BYTES_PER_SAMPLE
_WAV_RIFF_HEADER_REST = _WAV_HEADER_SIZE - 8  # the RIFF size counts everything after its own 8 bytes
_WAV_FMT_CHUNK_SIZE = 16
_WAV_FORMAT_PCM = 1
_WAV_BITS_PER_SAMPLE = 8 * BYTES_PER_SAMPLE
_PCM_FULL_SCALE = 32767

# The WAV period: one second of a quiet arpeggio over a drone; integer frequencies make it loop.
_ARPEGGIO_HZ: tuple[float, ...] = (220.0, 277.0, 330.0, 440.0)  # A3, ~C#4, ~E4, A4: one per beat
_BEATS_PER_PERIOD = 4  # 250 ms beats
_ATTACK_SAMPLES = 220.0
_DECAY_BEAT_FRACTION = 3.0  # the note envelope decays with a time constant of a third of a beat
_DRONE_HZ = 110.0
_DRONE_RIGHT_PHASE = 0.5
_NOTE_LEVEL_LEFT, _NOTE_LEVEL_RIGHT = 0.10, 0.08
_DRONE_LEVEL_LEFT, _DRONE_LEVEL_RIGHT = 0.035, 0.045

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: a frame is 144 * 128000 / 44100 = 417.96 bytes, so frames are
# 417 or 418 bytes (padding bit). The padding pattern repeats every 49 frames, which are exactly 20480 bytes.
_MP3_SAMPLES_PER_FRAME = 1152
_MP3_BITRATE = 128_000
_MP3_FRAME_NUM = 144 * _MP3_BITRATE  # frame length = _MP3_FRAME_NUM / SAMPLE_RATE (+ padding)
_MP3_PERIOD_FRAMES = 49
# Frame header bytes: 0xFFFB = sync, MPEG-1, Layer III, no CRC; 0x90 = 128 kbit/s, 44.1 kHz (the padding
# bit is OR-ed in at bit 1); 0x04 = stereo, original.
_MP3_HEADER_SYNC = (0xFF, 0xFB)
_MP3_HEADER_RATE = 0x90
_MP3_HEADER_MODE = 0x04
#: ID3v2.3 header up to its size: "ID3", version 3.0, no flags.
_ID3_HEADER = b"ID3\x03\x00\x00"
_ID3_TITLE = "AI/ML API emulator"
_ID3_ENCODER = "airflow-provider-music emulator"
_SYNCSAFE_BITS, _SYNCSAFE_MASK = 7, 0x7F  # ID3 sizes use 7 bits per byte


def _check_length(length_ms: int) -> None:
    if isinstance(length_ms, bool) or not isinstance(length_ms, int) or length_ms < 0:
        raise ValueError(f"length_ms must be a non-negative integer, got {length_ms!r}")


def _check_chunk(chunk_size: int) -> None:
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")


def _character(character: CharacterLike) -> AudioCharacter:
    return character if isinstance(character, AudioCharacter) else AudioCharacter.parse(character)


# ---------------------------------------------------------------------------------------------- WAV


def wav_frames(length_ms: int, character: CharacterLike = DEFAULT) -> int:
    """Sample frames of ``length_ms`` (exact for multiples of 10 ms); ``short`` serves fewer."""
    frames = length_ms * SAMPLE_RATE // 1000
    ratio = _character(character).ratio
    return frames if ratio is None else round(frames * ratio)


def wav_size(length_ms: int, character: CharacterLike = DEFAULT) -> int:
    """Total WAV file size in bytes, header included."""
    _check_length(length_ms)
    return _WAV_HEADER_SIZE + wav_frames(length_ms, character) * _WAV_FRAME_BYTES


def wav_header(length_ms: int, character: CharacterLike = DEFAULT) -> bytes:
    """The canonical 44-byte RIFF/WAVE PCM header."""
    data_size = wav_frames(length_ms, character) * _WAV_FRAME_BYTES
    byte_rate = SAMPLE_RATE * _WAV_FRAME_BYTES
    return (
        b"RIFF"
        + struct.pack("<I", _WAV_RIFF_HEADER_REST + data_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack(
            "<IHHIIHH",
            _WAV_FMT_CHUNK_SIZE,
            _WAV_FORMAT_PCM,
            CHANNELS,
            SAMPLE_RATE,
            byte_rate,
            _WAV_FRAME_BYTES,
            _WAV_BITS_PER_SAMPLE,
        )
        + b"data"
        + struct.pack("<I", data_size)
    )


@functools.lru_cache(maxsize=1)
def _wav_period() -> bytes:
    """One second of a quiet arpeggio over a drone; integer frequencies make it loop seamlessly."""
    notes = _ARPEGGIO_HZ
    beat = SAMPLE_RATE // _BEATS_PER_PERIOD
    two_pi = 2.0 * math.pi
    samples = array("h", bytes(SAMPLE_RATE * _WAV_FRAME_BYTES))
    for i in range(SAMPLE_RATE):
        t = i / SAMPLE_RATE
        k, pos = divmod(i, beat)
        attack = min(1.0, pos / _ATTACK_SAMPLES)
        env = attack * math.exp(-pos / (beat / _DECAY_BEAT_FRACTION))
        note = math.sin(two_pi * notes[k % len(notes)] * t) * env
        drone = math.sin(two_pi * _DRONE_HZ * t)
        left = _NOTE_LEVEL_LEFT * note + _DRONE_LEVEL_LEFT * drone
        right = _NOTE_LEVEL_RIGHT * note + _DRONE_LEVEL_RIGHT * math.sin(
            two_pi * _DRONE_HZ * t + _DRONE_RIGHT_PHASE
        )
        samples[2 * i] = round(left * _PCM_FULL_SCALE)
        samples[2 * i + 1] = round(right * _PCM_FULL_SCALE)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _sample_segments(length_ms: int, character: AudioCharacter) -> list[tuple[str | None, int]]:
    """The samples of a track as (what to tile, bytes) segments, in order."""
    frames = wav_frames(length_ms, character)
    if character.name == DEFAULT.name:
        return [("wav", frames * _WAV_FRAME_BYTES)]
    music = _LEVEL_PREFIX + level_of(character)
    if character.seconds is None:
        return [(music, frames * _WAV_FRAME_BYTES)]
    silent = min(frames, round(character.seconds * SAMPLE_RATE))
    segments: list[tuple[str | None, int]] = [
        (music, (frames - silent) * _WAV_FRAME_BYTES),
        (None, silent * _WAV_FRAME_BYTES),
    ]
    return segments[::-1] if character.name == "lead_silence" else segments


def _samples(length_ms: int, character: AudioCharacter, chunk_size: int) -> Iterator[bytes]:
    for kind, total in _sample_segments(length_ms, character):
        if kind is None:
            zeros = bytes(min(chunk_size, total))
            for pos in range(0, total, chunk_size):
                yield zeros[: min(chunk_size, total - pos)]
        else:
            yield from _periodic(kind, total, chunk_size)


def wav_stream(
    length_ms: int, chunk_size: int = DEFAULT_CHUNK_SIZE, character: CharacterLike = DEFAULT
) -> Iterator[bytes]:
    """Yield a WAV file (16-bit stereo 44.1 kHz) in chunks of at most ``chunk_size`` bytes."""
    _check_length(length_ms)
    _check_chunk(chunk_size)
    char = _character(character)
    yield wav_header(length_ms, char)
    yield from _samples(length_ms, char, chunk_size)


def pcm_stream(
    length_ms: int, chunk_size: int = DEFAULT_CHUNK_SIZE, character: CharacterLike = DEFAULT
) -> Iterator[bytes]:
    """Yield raw PCM (the WAV's samples, 16-bit little-endian stereo 44.1 kHz, no header) in chunks."""
    _check_length(length_ms)
    _check_chunk(chunk_size)
    yield from _samples(length_ms, _character(character), chunk_size)


# ---------------------------------------------------------------------------------------------- MP3


def mp3_frames(length_ms: int) -> int:
    """Number of MP3 frames: enough to cover ``length_ms`` (each frame is 1152 samples, ~26.1 ms)."""
    return -(-length_ms * SAMPLE_RATE // (_MP3_SAMPLES_PER_FRAME * 1000))


def _mp3_bytes_for_frames(n: int) -> int:
    return n * _MP3_FRAME_NUM // SAMPLE_RATE


@functools.lru_cache(maxsize=1)
def _id3_tag() -> bytes:
    """A small ID3v2.3 tag (title + encoder) like the ones real MP3s start with."""

    def frame(frame_id: bytes, text: str) -> bytes:
        payload = b"\x00" + text.encode("latin-1")
        return frame_id + struct.pack(">I", len(payload)) + b"\x00\x00" + payload

    body = frame(b"TIT2", _ID3_TITLE) + frame(b"TSSE", _ID3_ENCODER)
    size = len(body)
    syncsafe = bytes((size >> (_SYNCSAFE_BITS * k)) & _SYNCSAFE_MASK for k in (3, 2, 1, 0))
    return _ID3_HEADER + syncsafe + body


def _encoded_mp3(length_ms: int, character: AudioCharacter) -> bytes:
    """The real MP3 of a character's samples (encoded on first use, then cached)."""
    return _mp3.cached_mp3((length_ms, character), lambda: _samples(length_ms, character, HASH_CHUNK_SIZE))


def mp3_size(length_ms: int, id3: bool = False, character: CharacterLike = DEFAULT) -> int:
    """Total MP3 file size in bytes (for a character other than ``default``: encodes it, once)."""
    _check_length(length_ms)
    char = _character(character)
    tag = len(_id3_tag()) if id3 else 0
    if char.name != DEFAULT.name:
        return tag + len(_encoded_mp3(length_ms, char))
    return tag + _mp3_bytes_for_frames(mp3_frames(length_ms))


@functools.lru_cache(maxsize=1)
def _mp3_period() -> bytes:
    """49 silent frames: a valid header, zeroed side info (no main data) and zero padding."""
    out = bytearray()
    for i in range(_MP3_PERIOD_FRAMES):
        size = _mp3_bytes_for_frames(i + 1) - _mp3_bytes_for_frames(i)
        padding = size - _MP3_FRAME_NUM // SAMPLE_RATE
        header = bytes([*_MP3_HEADER_SYNC, _MP3_HEADER_RATE | (padding << 1), _MP3_HEADER_MODE])
        out += header + bytes(size - len(header))
    assert len(out) == _mp3_bytes_for_frames(_MP3_PERIOD_FRAMES)
    return bytes(out)


def mp3_stream(
    length_ms: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    id3: bool = False,
    character: CharacterLike = DEFAULT,
) -> Iterator[bytes]:
    """Yield an MP3 (MPEG-1 Layer III, 44.1 kHz stereo), optionally ID3-tagged: silent frames for
    the ``default`` character, the character's music really encoded for the others."""
    _check_length(length_ms)
    _check_chunk(chunk_size)
    char = _character(character)
    if id3:
        yield _id3_tag()
    if char.name == DEFAULT.name:
        yield from _periodic("mp3", _mp3_bytes_for_frames(mp3_frames(length_ms)), chunk_size)
        return
    data = _encoded_mp3(length_ms, char)
    for pos in range(0, len(data), chunk_size):
        yield data[pos : pos + chunk_size]


# ------------------------------------------------------------------------------------------ common


def _period(kind: str) -> bytes:
    if kind == "wav":
        return _wav_period()
    if kind == "mp3":
        return _mp3_period()
    return character_period(kind[len(_LEVEL_PREFIX) :])


@functools.lru_cache(maxsize=16)
def _tiled(kind: str, repeats: int) -> bytes:
    """The period repeated, shared by all concurrent streams so 1,000 downloads don't each copy it."""
    return _period(kind) * repeats


def _periodic(kind: str, total: int, chunk_size: int) -> Iterator[bytes]:
    period_len = len(_period(kind))
    tiled = _tiled(kind, chunk_size // period_len + 2)
    pos = 0
    while pos < total:
        size = min(chunk_size, total - pos)
        offset = pos % period_len
        yield tiled[offset : offset + size]
        pos += size


def warm_up() -> None:
    """Precompute the periods and default tiles (~50 ms of CPU) so no request pays for it."""
    for kind in ("wav", "mp3"):
        _tiled(kind, DEFAULT_CHUNK_SIZE // len(_period(kind)) + 2)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}; expected one of {', '.join(FORMATS)}")


def audio_size(fmt: str, length_ms: int, character: CharacterLike = DEFAULT) -> int:
    """Size in bytes of the file ``audio_stream(fmt, length_ms, character=...)`` yields (an MP3 of a
    character other than ``default`` is encoded for it, once)."""
    _check_format(fmt)
    if fmt == "pcm":
        return wav_size(length_ms, character) - _WAV_HEADER_SIZE
    if fmt == "wav":
        return wav_size(length_ms, character)
    return mp3_size(length_ms, id3=fmt == "mp3_id3", character=character)


def audio_stream(
    fmt: str, length_ms: int, chunk_size: int = DEFAULT_CHUNK_SIZE, character: CharacterLike = DEFAULT
) -> Iterator[bytes]:
    """Yield the file for ``fmt`` (one of `FORMATS`), ``length_ms`` and ``character``."""
    _check_format(fmt)
    if fmt == "wav":
        return wav_stream(length_ms, chunk_size, character)
    if fmt == "pcm":
        return pcm_stream(length_ms, chunk_size, character)
    return mp3_stream(length_ms, chunk_size, id3=fmt == "mp3_id3", character=character)


def audio_problem(fmt: str, character: CharacterLike = DEFAULT) -> str | None:
    """Why this emulator cannot serve ``fmt`` in ``character`` (MP3 without the encoder), or None."""
    _check_format(fmt)
    if fmt in ("wav", "pcm") or _character(character).name == DEFAULT.name:
        return None
    return _mp3.encoder_problem()


def audio_ready(fmt: str, length_ms: int, character: CharacterLike = DEFAULT) -> bool:
    """Whether serving this file needs no slow work first (a period to build, an MP3 to encode)."""
    char = _character(character)
    if char.name == DEFAULT.name:
        return True
    if fmt in ("wav", "pcm"):
        return period_ready(level_of(char))
    return _mp3.is_cached((length_ms, char))


def expected_audio(fmt: str, length_ms: int, character: CharacterLike = DEFAULT) -> tuple[int, str]:
    """``(size_bytes, sha256_hex)`` of what the emulator serves for (format, length, character)."""
    return _expected_audio(fmt, length_ms, _character(character))


@functools.lru_cache(maxsize=64)
def _expected_audio(fmt: str, length_ms: int, character: AudioCharacter) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for chunk in audio_stream(fmt, length_ms, chunk_size=HASH_CHUNK_SIZE, character=character):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()
