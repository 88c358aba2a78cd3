"""What an analysis found, and how the manifest records it."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

#: Names the method in the manifest; the version changes whenever a figure could change for the same file.
METHOD = "bs1770-4"
METHOD_VERSION = "1"
STANDARDS = ("ITU-R BS.1770-4", "EBU R128", "EBU Tech 3341", "EBU Tech 3342")


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

    def to_manifest(self) -> dict[str, Any]:
        """A JSON-ready dict: ``method``, ``method_version``, ``standards``, then every figure."""
        figures = {field.name: _json_number(getattr(self, field.name)) for field in fields(self)}
        return {"method": METHOD, "method_version": METHOD_VERSION, "standards": list(STANDARDS), **figures}


def _json_number(value: Any) -> Any:
    """JSON has no infinity or NaN: those become ``None``; floats are rounded to what matters."""
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value
