"""
The quality gate: rules a DAG author sets on a track's analysis, checked after delivery.

Pure and cheap (no audio library): the operators build a `QualityGate` at DAG-parse time, so a rule
that makes no sense is refused before anything is paid for. The rules read the manifest's
``analysis`` (JSON figures), never decoded audio.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_music.exceptions import MusicInputError

#: The silence threshold of the analysis when the gate names none (dBFS: every channel below it).
DEFAULT_SILENCE_THRESHOLD_DBFS = -60.0
# Loudness and peak levels a rule may name; beyond these a value is a typo (e.g. +14 for -14 LUFS).
_LEVEL_RANGE = (-70.0, 0.0)
_PEAK_RANGE = (-30.0, 6.0)
_SILENCE_RANGE = (-120.0, -20.0)


@dataclass(frozen=True)
class RuleFailure:
    """One rule a track failed: the rule, what was measured, the limit, and a sentence saying so."""

    rule: str
    measured: float | None
    limit: float | str
    message: str
    #: How far past the limit, in units of the rule's own scale (ranks tracks that all fail).
    excess: float = field(default=math.inf, compare=False)


@dataclass(frozen=True)
class QualityVerdict:
    """The gate's answer for one track."""

    failures: tuple[RuleFailure, ...]

    @property
    def passed(self) -> bool:
        """True when every rule holds."""
        return not self.failures

    def rank(self) -> tuple[int, float]:
        """Sort key of a track among failed attempts: fewer failed rules, then less excess."""
        return len(self.failures), sum(f.excess for f in self.failures)

    def describe(self) -> str:
        """The failures, one per line (empty when it passed)."""
        return "\n".join(f"- {f.message}" for f in self.failures)

    def to_manifest(self) -> list[dict[str, Any]]:
        """The failures as JSON-ready dicts (rule, measured, limit, message)."""
        return [
            {"rule": f.rule, "measured": f.measured, "limit": f.limit, "message": f.message}
            for f in self.failures
        ]


def _number(name: str, value: object, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MusicInputError(f"QualityGate {name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise MusicInputError(f"QualityGate {name}={value!r} is outside {low:g}..{high:g}")
    return float(value)


@dataclass(frozen=True)
class QualityGate:
    """
    Rules a track must meet before it is published; ``None`` turns a rule off.

    :param length_tolerance: Largest relative difference between the decoded and the requested
        length (0.1: within 10 %); needs a requested length.
    :param max_leading_silence_seconds: Longest silence allowed at the start.
    :param max_trailing_silence_seconds: Longest silence allowed at the end.
    :param max_true_peak_dbtp: Highest true peak (dBTP, 4x oversampled), e.g. -1.0.
    :param min_loudness_lufs: Lowest integrated loudness (LUFS), e.g. -18.0.
    :param max_loudness_lufs: Highest integrated loudness (LUFS), e.g. -10.0.
    :param max_clipped_samples: Most samples at full scale allowed; 0 means no clipping.
    :param silence_threshold_dbfs: Level under which a frame counts as silence (default -60 dBFS).
    """

    length_tolerance: float | None = None
    max_leading_silence_seconds: float | None = None
    max_trailing_silence_seconds: float | None = None
    max_true_peak_dbtp: float | None = None
    min_loudness_lufs: float | None = None
    max_loudness_lufs: float | None = None
    max_clipped_samples: int | None = None
    silence_threshold_dbfs: float = DEFAULT_SILENCE_THRESHOLD_DBFS

    def __post_init__(self) -> None:
        checks = {
            "length_tolerance": (0.0, 10.0),
            "max_leading_silence_seconds": (0.0, 3600.0),
            "max_trailing_silence_seconds": (0.0, 3600.0),
            "max_true_peak_dbtp": _PEAK_RANGE,
            "min_loudness_lufs": _LEVEL_RANGE,
            "max_loudness_lufs": _LEVEL_RANGE,
            "silence_threshold_dbfs": _SILENCE_RANGE,
        }
        for name, (low, high) in checks.items():
            _number(name, getattr(self, name), low, high)
        clipped = self.max_clipped_samples
        if clipped is not None and (isinstance(clipped, bool) or not isinstance(clipped, int) or clipped < 0):
            raise MusicInputError(f"QualityGate max_clipped_samples must be an integer >= 0, got {clipped!r}")
        quietest, loudest = self.min_loudness_lufs, self.max_loudness_lufs
        if quietest is not None and loudest is not None and quietest > loudest:
            raise MusicInputError(
                f"QualityGate min_loudness_lufs={quietest} is above max_loudness_lufs={loudest}"
            )
        if not self.has_rules():
            raise MusicInputError("QualityGate has no rule: set at least one (see docs/audio-quality.md)")

    def has_rules(self) -> bool:
        """Whether any rule is on."""
        return any(
            value is not None for name, value in asdict(self).items() if name != "silence_threshold_dbfs"
        )

    @classmethod
    def from_value(cls, value: QualityGate | Mapping[str, Any] | None) -> QualityGate | None:
        """A gate given as itself or as a dict of its fields (e.g. from DAG params)."""
        if value is None or isinstance(value, QualityGate):
            return value
        if not isinstance(value, Mapping):
            raise MusicInputError(
                f"quality must be a QualityGate or a dict of its rules, got {type(value).__name__}"
            )
        unknown = sorted(set(value) - set(cls.__dataclass_fields__))
        if unknown:
            known = ", ".join(cls.__dataclass_fields__)
            raise MusicInputError(
                f"QualityGate has no rule {', '.join(map(repr, unknown))}; the rules are: {known}"
            )
        return cls(**value)

    def to_manifest(self) -> dict[str, Any]:
        """The rules that are on, as recorded in a manifest."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    def check(self, analysis: Mapping[str, Any]) -> QualityVerdict:
        """Check a manifest's ``analysis`` (figures; ``None`` for the level of silence) against the rules."""
        failures = [
            f for f in (self._length(analysis), *self._silence(analysis), *self._levels(analysis)) if f
        ]
        failures.extend(f for f in [self._clipping(analysis)] if f)
        return QualityVerdict(tuple(failures))

    def _length(self, analysis: Mapping[str, Any]) -> RuleFailure | None:
        tolerance = self.length_tolerance
        if tolerance is None:
            return None
        ratio = analysis.get("length_ratio")
        if ratio is None:
            return RuleFailure(
                "length_tolerance", None, tolerance,
                "length: the requested length is unknown, so the rule cannot be checked "
                "(give music_length_ms, or the sensor's request=)",
            )  # fmt: skip
        off = abs(ratio - 1.0)
        if off <= tolerance + 1e-9:  # the manifest rounds the ratio; 1.1 - 1.0 is not 0.1 in floats
            return None
        actual, requested = analysis.get("duration_seconds"), analysis.get("requested_seconds")
        return RuleFailure(
            "length_tolerance", round(ratio, 4), tolerance,
            f"length: {actual:.2f} s is {ratio:.0%} of the {requested:.2f} s requested "
            f"(allowed: within {tolerance:.0%})",
            off / max(tolerance, 0.01),
        )  # fmt: skip

    def _silence(self, analysis: Mapping[str, Any]) -> list[RuleFailure | None]:
        found: list[RuleFailure | None] = []
        for end, limit in (
            ("leading", self.max_leading_silence_seconds),
            ("trailing", self.max_trailing_silence_seconds),
        ):
            measured = analysis.get(f"{end}_silence_seconds")
            if limit is None or measured is None or measured <= limit:
                found.append(None)
                continue
            found.append(
                RuleFailure(
                    f"max_{end}_silence_seconds",
                    measured,
                    limit,
                    f"{end} silence: {measured:.2f} s below {self.silence_threshold_dbfs:g} dBFS "
                    f"(allowed: at most {limit:g} s)",
                    (measured - limit) / max(limit, 1.0),
                )
            )
        return found

    def _levels(self, analysis: Mapping[str, Any]) -> list[RuleFailure | None]:
        peak, loudness = analysis.get("true_peak_dbtp"), analysis.get("integrated_loudness_lufs")
        found: list[RuleFailure | None] = []
        if self.max_true_peak_dbtp is not None and peak is not None and peak > self.max_true_peak_dbtp:
            found.append(
                RuleFailure(
                    "max_true_peak_dbtp",
                    peak,
                    self.max_true_peak_dbtp,
                    f"true peak: {peak:+.2f} dBTP (allowed: at most {self.max_true_peak_dbtp:+.2f} dBTP)",
                    peak - self.max_true_peak_dbtp,
                )
            )
        low, high = self.min_loudness_lufs, self.max_loudness_lufs
        shown = "silence (no loudness)" if loudness is None else f"{loudness:.1f} LUFS"
        if low is not None and (loudness is None or loudness < low):
            found.append(
                RuleFailure(
                    "min_loudness_lufs",
                    loudness,
                    low,
                    f"loudness: {shown} integrated (allowed: at least {low:g} LUFS)",
                    math.inf if loudness is None else low - loudness,
                )
            )
        if high is not None and loudness is not None and loudness > high:
            found.append(
                RuleFailure(
                    "max_loudness_lufs",
                    loudness,
                    high,
                    f"loudness: {shown} integrated (allowed: at most {high:g} LUFS)",
                    loudness - high,
                )
            )
        return found

    def _clipping(self, analysis: Mapping[str, Any]) -> RuleFailure | None:
        limit, clipped = self.max_clipped_samples, analysis.get("clipped_samples")
        if limit is None or clipped is None or clipped <= limit:
            return None
        allowed = "no clipping" if limit == 0 else f"at most {limit}"
        return RuleFailure(
            "max_clipped_samples", clipped, limit,
            f"clipping: {clipped} samples at full scale (allowed: {allowed})",
            (clipped - limit) / max(limit, 100),
        )  # fmt: skip
