"""
The quality gate: rules on a track's analysis (length, silence at either end, true peak, loudness,
clipping), checked after delivery. Pure and cheap to import, so operators build it at DAG-parse time.
"""

from __future__ import annotations

from airflow_provider_music.quality._gate import (
    DEFAULT_SILENCE_THRESHOLD_DBFS,
    QualityGate,
    QualityVerdict,
    RuleFailure,
)

__all__ = ["DEFAULT_SILENCE_THRESHOLD_DBFS", "QualityGate", "QualityVerdict", "RuleFailure"]
