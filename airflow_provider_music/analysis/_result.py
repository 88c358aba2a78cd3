"""What an analysis found, and how the manifest records it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from airflow_provider_music.analysis._waveform import Waveform  # at run time: get_type_hints() works

#: Names the method in the manifest; the version changes whenever a figure could change for the same file.
METHOD = "bs1770-4"
METHOD_VERSION = "1"
STANDARDS = ("ITU-R BS.1770-4", "EBU R128", "EBU Tech 3341", "EBU Tech 3342")
_NOT_FIGURES = frozenset({"waveform"})


@dataclass(frozen=True)
class AudioAnalysis:
    """The decoded audio's measurements. Levels of silence are ``-inf`` (``None`` in the manifest)."""

    duration_seconds: float
    sample_rate: int
    channels: int
    frames: int
    container: str  # libsndfile's major format (WAV, MP3, FLAC, OGG, RAW, ...)
    integrated_loudness_lufs: float
    loudness_range_lu: float
    max_short_term_lufs: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    leading_silence_seconds: float
    trailing_silence_seconds: float
    clipped_samples: int
    silence_threshold_dbfs: float
    clip_level_dbfs: float
    oversampling: int
    requested_seconds: float | None = None
    length_ratio: float | None = None  # actual / requested duration
    #: Min/max peaks for a picture (``analyze(waveform_points=...)``); not a figure: not in the manifest.
    waveform: Waveform | None = field(default=None, repr=False)

    def to_manifest(self) -> dict[str, Any]:
        """A JSON-ready dict: ``method``, ``method_version``, ``standards``, then every figure."""
        figures = {
            figure.name: _json_number(getattr(self, figure.name))
            for figure in fields(self)
            if figure.name not in _NOT_FIGURES
        }
        return {"method": METHOD, "method_version": METHOD_VERSION, "standards": list(STANDARDS), **figures}


def _json_number(value: Any) -> Any:
    """JSON has no infinity or NaN: those become ``None``; floats are rounded to what matters."""
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value
