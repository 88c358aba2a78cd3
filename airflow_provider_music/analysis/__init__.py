"""Audio analysis of a stored track: loudness, loudness range, true peak, silence, clipping.

Integrated loudness per ITU-R BS.1770-4 / EBU R128, loudness range per EBU Tech 3342, true peak per
BS.1770-4 Annex 2 (4x oversampling below 96 kHz), sample peak, leading and trailing silence, clipped
samples, and the ratio of the decoded to the requested length. Checked against the EBU Tech 3341 and
3342 conformance signals and ffmpeg's ``ebur128`` filter (tests/unit/analysis).

Needs the ``audio`` extra (numpy, soundfile, scipy), imported with this package: import it only where
a track is analysed, never from a module loaded at DAG-parse time (an import-linter contract keeps it
out of the operators and sensors).
"""

from __future__ import annotations

from airflow_provider_music.analysis._analyze import (
    DEFAULT_CLIP_LEVEL_DBFS,
    DEFAULT_SILENCE_THRESHOLD_DBFS,
    analyze,
)
from airflow_provider_music.analysis._decode import AudioSource, PcmLayout, decodable_formats
from airflow_provider_music.analysis._master import (
    ENCODINGS,
    MASTERING_METHOD,
    MASTERING_METHOD_VERSION,
    MP3_SAMPLE_RATES,
    MasteringResult,
    master,
    planned_gain,
    render,
)
from airflow_provider_music.analysis._resample import PolyphaseResampler
from airflow_provider_music.analysis._result import METHOD, METHOD_VERSION, STANDARDS, AudioAnalysis
from airflow_provider_music.analysis._waveform import Waveform

__all__ = [
    "DEFAULT_CLIP_LEVEL_DBFS",
    "DEFAULT_SILENCE_THRESHOLD_DBFS",
    "ENCODINGS",
    "MASTERING_METHOD",
    "MASTERING_METHOD_VERSION",
    "METHOD",
    "METHOD_VERSION",
    "MP3_SAMPLE_RATES",
    "STANDARDS",
    "AudioAnalysis",
    "AudioSource",
    "MasteringResult",
    "PcmLayout",
    "PolyphaseResampler",
    "Waveform",
    "analyze",
    "decodable_formats",
    "master",
    "planned_gain",
    "render",
]
