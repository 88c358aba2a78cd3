"""The quality gate's rules, on analysis figures as a manifest records them."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airflow_provider_music import MusicInputError, QualityGate


def figures(**changes: Any) -> dict[str, Any]:
    """A clean 30 s track as ``analysis.to_manifest()`` records it."""
    base = {
        "duration_seconds": 30.0,
        "requested_seconds": 30.0,
        "length_ratio": 1.0,
        "integrated_loudness_lufs": -14.0,
        "true_peak_dbtp": -1.5,
        "leading_silence_seconds": 0.0,
        "trailing_silence_seconds": 0.2,
        "clipped_samples": 0,
    }
    return {**base, **changes}


STRICT = QualityGate(
    length_tolerance=0.1,
    max_leading_silence_seconds=1.0,
    max_trailing_silence_seconds=2.0,
    max_true_peak_dbtp=-1.0,
    min_loudness_lufs=-16.0,
    max_loudness_lufs=-12.0,
    max_clipped_samples=0,
)


def test_a_clean_track_passes_every_rule() -> None:
    verdict = STRICT.check(figures())
    assert verdict.passed
    assert verdict.failures == ()
    assert verdict.describe() == ""


@pytest.mark.parametrize(
    ("changes", "rule", "measured", "words"),
    [
        (
            {"duration_seconds": 15.0, "length_ratio": 0.5},
            "length_tolerance",
            0.5,
            "15.00 s is 50% of the 30.00 s",
        ),
        ({"leading_silence_seconds": 4.0}, "max_leading_silence_seconds", 4.0, "leading silence: 4.00 s"),
        ({"trailing_silence_seconds": 6.5}, "max_trailing_silence_seconds", 6.5, "trailing silence: 6.50 s"),
        ({"true_peak_dbtp": 0.4}, "max_true_peak_dbtp", 0.4, "true peak: +0.40 dBTP"),
        (
            {"integrated_loudness_lufs": -35.0},
            "min_loudness_lufs",
            -35.0,
            "-35.0 LUFS integrated (allowed: at least -16",
        ),
        (
            {"integrated_loudness_lufs": -6.0},
            "max_loudness_lufs",
            -6.0,
            "-6.0 LUFS integrated (allowed: at most -12",
        ),
        (
            {"clipped_samples": 812},
            "max_clipped_samples",
            812,
            "812 samples at full scale (allowed: no clipping)",
        ),
    ],
)
def test_each_rule_names_itself_the_measured_value_and_the_limit(
    changes: dict[str, Any], rule: str, measured: float, words: str
) -> None:
    verdict = STRICT.check(figures(**changes))
    assert not verdict.passed
    [failure] = verdict.failures
    assert failure.rule == rule
    assert failure.measured == measured
    assert words in failure.message
    assert failure.message in verdict.describe()
    assert verdict.to_manifest() == [
        {"rule": rule, "measured": measured, "limit": failure.limit, "message": failure.message}
    ]


def test_limits_are_inclusive() -> None:
    edge = figures(length_ratio=1.1, duration_seconds=33.0, leading_silence_seconds=1.0, true_peak_dbtp=-1.0)
    assert STRICT.check(edge).passed


def test_a_silent_track_fails_the_loudness_floor_with_a_readable_message() -> None:
    verdict = QualityGate(min_loudness_lufs=-30).check(figures(integrated_loudness_lufs=None))
    [failure] = verdict.failures
    assert failure.measured is None
    assert "silence (no loudness)" in failure.message
    assert math.isinf(failure.excess)


def test_a_length_rule_without_a_requested_length_fails_and_says_how_to_fix_it() -> None:
    verdict = QualityGate(length_tolerance=0.1).check(figures(length_ratio=None, requested_seconds=None))
    [failure] = verdict.failures
    assert "requested length is unknown" in failure.message
    assert "music_length_ms" in failure.message


def test_rules_that_are_off_are_not_checked() -> None:
    wild = figures(true_peak_dbtp=3.0, clipped_samples=10_000, leading_silence_seconds=20.0)
    assert QualityGate(min_loudness_lufs=-20).check(wild).passed


def test_rank_orders_tracks_by_failed_rules_then_distance() -> None:
    gate = QualityGate(max_true_peak_dbtp=-1.0, min_loudness_lufs=-16.0)
    slightly = gate.check(figures(true_peak_dbtp=-0.5))
    badly = gate.check(figures(true_peak_dbtp=2.0))
    two = gate.check(figures(true_peak_dbtp=-0.5, integrated_loudness_lufs=-17.0))
    assert slightly.rank() < badly.rank() < two.rank()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({}, "has no rule"),
        ({"min_loudness_lufs": 14}, "min_loudness_lufs=14 is outside -70..0"),
        ({"max_true_peak_dbtp": "high"}, "max_true_peak_dbtp must be a number"),
        ({"length_tolerance": -0.1}, "length_tolerance=-0.1 is outside"),
        ({"max_clipped_samples": -1}, "max_clipped_samples must be an integer >= 0"),
        ({"max_clipped_samples": 1.5}, "max_clipped_samples must be an integer >= 0"),
        ({"min_loudness_lufs": -10, "max_loudness_lufs": -20}, "is above max_loudness_lufs"),
        ({"max_leading_silence_seconds": float("nan")}, "must be a number"),
        ({"max_true_peak_dbtp": -1, "silence_threshold_dbfs": 0}, "silence_threshold_dbfs=0 is outside"),
    ],
)
def test_bad_rules_are_refused_with_a_specific_message(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(MusicInputError, match=words.replace("(", r"\(").replace(".", r"\.")):
        QualityGate(**kwargs)


def test_a_dict_of_rules_is_accepted_and_a_typo_is_named() -> None:
    assert QualityGate.from_value({"max_true_peak_dbtp": -1.0}) == QualityGate(max_true_peak_dbtp=-1.0)
    assert QualityGate.from_value(None) is None
    with pytest.raises(MusicInputError, match=r"no rule 'max_true_peak'.*max_true_peak_dbtp"):
        QualityGate.from_value({"max_true_peak": -1.0})
    with pytest.raises(MusicInputError, match="QualityGate or a dict"):
        QualityGate.from_value([("max_true_peak_dbtp", -1.0)])  # type: ignore[arg-type]


def test_the_manifest_records_only_the_rules_that_are_on() -> None:
    assert QualityGate(max_true_peak_dbtp=-1.0).to_manifest() == {
        "max_true_peak_dbtp": -1.0,
        "silence_threshold_dbfs": -60.0,
    }
