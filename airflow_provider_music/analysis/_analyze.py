"""`analyze`: one pass over the decoded audio, block by block, feeding every meter.

The audio is decoded as float32 (exact for 16- and 24-bit PCM and float WAV; half the memory and
time of float64); the loudness filter and every sum run in float64.
"""

from __future__ import annotations

import math

from airflow_provider_music.analysis._decode import (
    BLOCK_FRAMES,
    AudioSource,
    PcmLayout,
    blocks,
    open_audio,
    stream_info,
)
from airflow_provider_music.analysis._loudness import LoudnessMeter
from airflow_provider_music.analysis._peaks import SampleStats, TruePeakMeter, amplitude_to_db
from airflow_provider_music.analysis._result import AudioAnalysis
from airflow_provider_music.analysis._waveform import WaveformBuilder

#: A frame is silent when every channel's magnitude is below this (dBFS, sample values).
DEFAULT_SILENCE_THRESHOLD_DBFS = -60.0
#: A sample is clipped at or beyond the largest positive 16-bit value, 32767/32768 (-0.00027 dBFS).
DEFAULT_CLIP_LEVEL_DBFS = 20.0 * math.log10(32767 / 32768)


def _db_to_amplitude(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def analyze(
    source: AudioSource,
    *,
    requested_seconds: float | None = None,
    silence_threshold_dbfs: float = DEFAULT_SILENCE_THRESHOLD_DBFS,
    clip_level_dbfs: float = DEFAULT_CLIP_LEVEL_DBFS,
    pcm: PcmLayout | None = None,
    block_frames: int = BLOCK_FRAMES,
    waveform_points: int | None = None,
) -> AudioAnalysis:
    """Decode ``source`` (bytes, a path or a seekable binary file) and measure it.

    ``requested_seconds`` (the length asked of the model) adds ``length_ratio``; ``pcm`` reads
    headerless PCM; ``waveform_points`` adds a `Waveform` of at most that many min/max points.
    Raises `MusicAudioInvalidError` when the audio cannot be decoded, ValueError for a bad argument.
    """
    if requested_seconds is not None and not requested_seconds > 0:
        raise ValueError(f"requested_seconds must be positive, got {requested_seconds!r}")
    if block_frames <= 0:
        raise ValueError("block_frames must be positive")
    if waveform_points is not None and not waveform_points > 0:
        raise ValueError(f"waveform_points must be positive, got {waveform_points!r}")
    with open_audio(source, pcm) as audio:
        info = stream_info(audio)
        loudness = LoudnessMeter(info.sample_rate, info.channels)
        true_peak = TruePeakMeter(info.sample_rate, info.channels)
        stats = SampleStats(_db_to_amplitude(silence_threshold_dbfs), _db_to_amplitude(clip_level_dbfs))
        picture = None
        if waveform_points is not None:
            expected = int(audio.frames) if audio.seekable() else None
            picture = WaveformBuilder(waveform_points, info.sample_rate, expected)
        for block in blocks(audio, block_frames, "float32"):
            loudness.add(block)
            true_peak.add(block)
            stats.add(block)
            if picture is not None:
                picture.add(block)
    rate = info.sample_rate
    duration = stats.frames / rate
    return AudioAnalysis(
        duration_seconds=duration,
        sample_rate=rate,
        channels=info.channels,
        frames=stats.frames,
        container=info.format,
        integrated_loudness_lufs=loudness.integrated(),
        loudness_range_lu=loudness.loudness_range(),
        max_short_term_lufs=loudness.max_short_term(),
        true_peak_dbtp=amplitude_to_db(true_peak.finish()),
        sample_peak_dbfs=amplitude_to_db(stats.peak),
        leading_silence_seconds=stats.leading_silence_frames() / rate,
        trailing_silence_seconds=stats.trailing_silence_frames() / rate,
        clipped_samples=stats.clipped,
        silence_threshold_dbfs=silence_threshold_dbfs,
        clip_level_dbfs=clip_level_dbfs,
        oversampling=true_peak.factor,
        requested_seconds=None if requested_seconds is None else float(requested_seconds),
        length_ratio=None if requested_seconds is None else duration / requested_seconds,
        waveform=None if picture is None else picture.finish(),
    )
