"""Real MP3 for the characters: 16-bit PCM encoded with libsndfile (through soundfile), on demand.

soundfile and numpy are the provider's optional ``audio`` extra, so they are imported only when a
track is encoded; without them `encode_mp3` raises `Mp3EncoderMissingError`, naming the extra. Encoded
files are kept in a small LRU (`cached_mp3`): a 300 s track (several seconds of CPU) is encoded once.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from ._music import SAMPLE_RATE

CHANNELS = 2
#: The extra that brings the encoder.
AUDIO_EXTRA = "airflow-provider-music[audio]"
#: Encoded files kept (a 300 s track at 128 kbit/s is about 4.7 MB).
CACHE_SIZE = 8
#: int16 -> float in [-1, 1): libsndfile's MP3 encoder mangles 16-bit integer input, not float input.
_INT16_SCALE = 32768.0


class Mp3EncoderMissingError(RuntimeError):
    """numpy or soundfile (the ``audio`` extra) is not installed, or its libsndfile cannot write MP3."""


def encoder_problem() -> str | None:
    """Why MP3 cannot be encoded here, or None when it can."""
    try:
        import numpy  # noqa: F401
        import soundfile
    except ImportError as exc:
        return f"encoding MP3 needs numpy and soundfile ({exc}): pip install '{AUDIO_EXTRA}'"
    if "MP3" not in soundfile.available_formats():
        return f"this libsndfile ({soundfile.__libsndfile_version__}) cannot write MP3 (1.1 or later can)"
    return None


def encode_mp3(pcm_chunks: Iterable[bytes]) -> bytes:
    """Encode interleaved 16-bit little-endian stereo 44.1 kHz PCM as MPEG-1 Layer III, block by block."""
    problem = encoder_problem()
    if problem is not None:
        raise Mp3EncoderMissingError(problem)
    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    with sf.SoundFile(
        out, "w", samplerate=SAMPLE_RATE, channels=CHANNELS, format="MP3", subtype="MPEG_LAYER_III"
    ) as sink:
        carry = b""
        for chunk in pcm_chunks:
            data = carry + chunk
            whole = len(data) - len(data) % (2 * CHANNELS)
            carry = data[whole:]
            if whole:
                block = np.frombuffer(data[:whole], dtype="<i2").reshape(-1, CHANNELS)
                sink.write(block.astype(np.float32) / _INT16_SCALE)
    return out.getvalue()


_cache: OrderedDict[Hashable, bytes] = OrderedDict()
_cache_lock = threading.Lock()  # held only to read or change the cache, never while encoding
_encode_lock = threading.Lock()  # one encode at a time, so a file is never encoded twice


def is_cached(key: Hashable) -> bool:
    """Whether the file for ``key`` is encoded already (so `cached_mp3` returns at once)."""
    with _cache_lock:
        return key in _cache


def _lookup(key: Hashable) -> bytes | None:
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        return None


def cached_mp3(key: Hashable, pcm: Callable[[], Iterable[bytes]]) -> bytes:
    """The MP3 of ``pcm()`` for ``key``, encoded on the first call and kept (LRU of `CACHE_SIZE`)."""
    data = _lookup(key)
    if data is not None:
        return data
    with _encode_lock:
        data = _lookup(key)
        if data is None:
            data = encode_mp3(pcm())
            with _cache_lock:
                _cache[key] = data
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    return data
