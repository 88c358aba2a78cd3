"""
The quality gate, regeneration, waveform and mastering end to end: example DAGs through a real
``airflow dags test``, the emulator serving audio of a chosen character, no key.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import soundfile
from helpers import EMULATOR_KEY, conn_json, run_dag, xcom_values

from airflow_provider_music.emulator import Emulator

pytestmark = pytest.mark.integration


def _env(emulator: Emulator, out: Path, **config: Any) -> dict[str, str]:
    emulator.configure(polls_to_complete=2, **config)
    return {
        "AIRFLOW_CONN_AIMLAPI_DEFAULT": conn_json(emulator.base_url, EMULATOR_KEY),
        "MUSIC_STORAGE_BASE": f"file://{out}",
        "MUSIC_POLL_INTERVAL": "0.5",
    }


def _output(result: Any) -> str:
    return str(result.stdout[-4000:] + result.stderr[-4000:])


def test_daily_dag_publishes_a_checked_track_its_waveform_and_a_master(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    result = run_dag("example_music_daily", "2026-04-01", _env(emulator, tmp_path, audio_character="music"))
    assert result.returncode == 0, _output(result)
    daily = tmp_path / "daily"
    manifest = json.loads((daily / "2026-04-01.json").read_text())
    analysis, quality = manifest["analysis"], manifest["quality"]
    assert analysis["method"] == "bs1770-4"
    assert analysis["length_ratio"] == pytest.approx(1.0, abs=0.02)
    assert analysis["leading_silence_seconds"] < 1.0
    assert analysis["clipped_samples"] == 0
    assert quality["passed"] is True
    assert quality["failures"] == []
    # the waveform beside it: a PNG and audiowaveform-format peaks
    assert (daily / "2026-04-01.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    peaks = json.loads((daily / "2026-04-01.peaks.json").read_text())
    assert peaks["version"] == 2
    assert len(peaks["data"]) == 2 * peaks["length"] > 0
    assert manifest["waveform"]["png_uri"] == f"file://{daily}/2026-04-01.png"
    assert not (daily / "rejected").exists()
    # the master: its own manifest, pointing at the original, at the loudness asked for
    mastered = xcom_values("example_music_daily", "master")[-1]
    master_path = Path(mastered["uri"].removeprefix("file://"))
    assert master_path.parent == daily / "mastered"
    assert mastered["source"]["sha256"] == manifest["sha256"]
    assert soundfile.info(str(master_path)).format == "MP3"
    assert (
        mastered["mastering"]["achieved_lufs"] == pytest.approx(-14.0, abs=0.5)
        or mastered["mastering"]["limited_by_ceiling"]
    )
    assert mastered["analysis"]["true_peak_dbtp"] <= -1.0 + 0.3


def test_daily_dag_keeps_a_track_with_a_long_intro_under_rejected_and_fails(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    env = _env(emulator, tmp_path, audio_character="lead_silence:seconds=6")
    result = run_dag("example_music_daily", "2026-04-02", env)
    assert result.returncode != 0
    assert "failed the quality gate" in result.stdout + result.stderr
    assert "leading silence: 6.0" in result.stdout + result.stderr
    daily = tmp_path / "daily"
    assert not list(daily.glob("2026-04-02.*"))  # nothing published
    [rejected] = list((daily / "rejected").glob("2026-04-02--*.wav"))
    manifest = json.loads(rejected.with_suffix(".json").read_text())
    assert manifest["rejected"] is True
    assert manifest["intended_uri"] == f"file://{daily}/2026-04-02.wav"
    assert [f["rule"] for f in manifest["quality"]["failures"]] == ["max_leading_silence_seconds"]
    assert manifest["quality"]["failures"][0]["measured"] == pytest.approx(6.0, abs=0.05)
    # for the people looking at the failed task: where the rejected track is, in its XCom
    assert xcom_values("example_music_daily", "wait_and_store", "rejected")[-1]["uri"] == f"file://{rejected}"
    assert emulator.stats()["posts"] == 1  # the sensor never regenerates
    assert not (daily / "mastered").exists()  # the master task never ran on a rejected track


def test_one_task_dag_regenerates_a_short_track_and_records_what_it_cost(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    env = _env(emulator, tmp_path, audio_character="music")
    emulator.add_faults(
        [{"target": "post", "action": "character", "character": "short", "ratio": 0.5, "times": 1}]
    )
    result = run_dag("example_music_one_task", "2026-04-03", env)
    assert result.returncode == 0, _output(result)
    stats = emulator.stats()
    assert stats["posts"] == 2  # the first track was rejected, one regeneration passed
    manifest = xcom_values("example_music_one_task", "generate")[-1]
    assert manifest["quality"]["passed"] is True
    [attempt] = manifest["attempts"]
    first_id = attempt["generation_id"]
    assert first_id != manifest["generation_id"]
    assert set(stats["generations"]) == {first_id, manifest["generation_id"]}
    served = stats["generations"][first_id]["usage"]  # what the rejected one cost
    assert attempt["usage"]["credits_used"] == served["credits_used"] > 0
    assert Decimal(attempt["usage"]["usd_spent"]) == Decimal(served["usd_spent"])
    assert "length: 10.00 s is 50% of the 20.00 s requested" in attempt["failures"][0]
    assert attempt["client_request_id"] != manifest["client_request_id"]
    assert manifest["client_request_id"].endswith(":regen-1")
    rejected = Path(attempt["uri"].removeprefix("file://"))
    assert rejected.parent == tmp_path / "one_task" / "rejected"
    assert soundfile.info(str(rejected)).duration == pytest.approx(10.0, abs=0.05)
    assert json.loads(rejected.with_suffix(".json").read_text())["generation_id"] == first_id


def test_one_task_dag_fails_naming_the_best_track_when_the_budget_is_spent(
    emulator: Emulator, airflow_home: Path, tmp_path: Path
) -> None:
    env = _env(emulator, tmp_path, audio_character="music")
    emulator.add_faults(
        [
            {"target": "post", "action": "character", "character": "short", "ratio": 0.5, "times": 1},
            {"target": "post", "action": "character", "character": "short", "ratio": 0.8, "times": 1},
            {"target": "post", "action": "character", "character": "quiet", "times": 1},
        ]
    )
    result = run_dag("example_music_one_task", "2026-04-04", env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "None of the 3 generation(s) passed the quality gate (max_regenerations=2 spent)" in output
    assert emulator.stats()["posts"] == 3  # 1 + the budget of 2, never more
    rejected = sorted((tmp_path / "one_task" / "rejected").glob("*.wav"))
    assert len(rejected) == 3  # every paid track is kept
    assert not list((tmp_path / "one_task").glob("2026-04-04.*"))  # nothing published
    # the best is the 80 % track: one failed rule, the smallest distance past its limit
    best = next(
        json.loads(p.with_suffix(".json").read_text())
        for p in rejected
        if soundfile.info(str(p)).duration == pytest.approx(16.0, abs=0.05)
    )
    assert f"The best is generation {best['generation_id']}" in output
