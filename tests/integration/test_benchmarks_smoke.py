"""The DAG-parse benchmark runs and prints its figures (quick mode), and the triggerer's summary (its
verdicts and the run_all table rows) is built right. Timings are not asserted here: they belong to
BENCHMARKS.md, measured on a quiet machine, not to a shared CI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run_quick(module: str, results: Path) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks.<module> --quick`` from the repository, its results written to ``results``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["MUSIC_BENCH_RESULTS"] = str(results)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dag_parse_benchmark_quick_mode_prints_figures(tmp_path: Path) -> None:
    done = _run_quick("bench_dag_parse", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "3. DAG-parse cost" in out
    assert "added import time:" in out
    assert " ms by -X importtime" in out
    assert "forbidden modules imported:" in out
    assert "modules added:" in out
    assert (tmp_path / "dag_parse_quick.json").is_file()


def test_poll_cost_benchmark_quick_mode_prints_figures(tmp_path: Path) -> None:
    done = _run_quick("bench_poll_cost", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "CPU per poll: ours " in done.stdout
    saved = json.loads((tmp_path / "poll_cost_quick.json").read_text())
    assert saved["polls"] == 200
    assert saved["ours_us"] > 0
    assert saved["bare_us"] > 0


def _phase(
    kind: str, config: str, stall: float, cpu_per_poll: float, gc_in_stall: float = 0.0
) -> dict[str, object]:
    """A phase record as bench_triggerer's run_phase returns it (the fields the summary reads)."""
    frozen = (kind, config) in (("music", "freeze-on"), ("http", "gc-freeze"))
    over = stall > 50
    return {
        "kind": kind,
        "config": config,
        "gc_freeze_by": "x" if frozen else None,
        "max_stall_ms": stall,
        "max_stall_gc_ms": gc_in_stall,
        "max_stall_excl_gc_ms": 4.0,
        "p99_stall_ms": 2.0,
        "stalls_over_50ms": int(over),
        "stalls_excl_gc_over_50ms": 0,
        "stalls_over_50ms_total_ms": stall if over else 0.0,
        "stalls_over_50ms_gc_ms": gc_in_stall if over else 0.0,
        "stalls_over_50ms_gc_share": round(gc_in_stall / stall, 3) if over else None,
        "gc_collections": [100, 9, 1],
        "gc_max_pause_ms": [1.0, 5.0, stall],
        "gc_total_s": 0.5,
        "gc_objects_ready": 10_000 if frozen else 170_000,
        "gc_frozen_objects": 160_000 if frozen else 0,
        "gc_objects_per_trigger": 80.0,
        "probe_max_stall_ms": 1.0,
        "probe_stalls_over_50ms": 0,
        "cpu_per_poll_us": cpu_per_poll,
        "polls_per_s": 200.0,
        "rss_per_trigger_kb": 20.0,
        "rss_peak_per_trigger_kb": 25.0,
        "tcp_established_mid_run": 900,
        "emulator_cpu_util": 0.2,
        "events": {"success": 1000},
        "errors": 0,
    }


def test_triggerer_summary_judges_ours_as_shipped_and_feeds_the_run_all_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("psutil")
    from benchmarks import bench_triggerer
    from benchmarks.__main__ import triggerer_rows

    # As shipped the collector is left alone (the freeze is opt-in): its full passes are the stall.
    phases = [
        _phase("music", "default", 150.0, 400.0, gc_in_stall=146.0),
        _phase("http", "default", 160.0, 1000.0, gc_in_stall=150.0),
        _phase("music", "freeze-on", 20.0, 390.0, gc_in_stall=3.0),
    ]
    s = bench_triggerer.summarize(phases, n=1000, duration=65.0, poll=5.0, reps=1, gc_freeze=False)
    bench_triggerer.report(s)
    out = capsys.readouterr().out
    assert "ours as shipped (default config, collector left alone): 150.0 ms" in out
    assert "of which the garbage collector's 146.0 ms" in out
    assert "the collector's share of their time 97%" in out
    assert "without the collector's time (the provider's own code): 4.0 ms" in out
    assert "triggerer_gc_freeze = True: 20.0 ms" in out
    assert (
        s["pass_stall"],
        s["pass_stall_excl_gc"],
        s["pass_stall_freeze_on"],
        s["pass_cpu"],
        s["pass_rss"],
    ) == (False, True, True, True, True)
    assert s["cpu_ratio"] == 0.4
    assert s["ours_max_stall_ms_worst_gc_ms"] == 146.0
    assert s["ours_stalls_over_50ms_gc_share"] == 0.973
    rows = triggerer_rows(s)
    # The freeze-on row is information, never a verdict counted in the table.
    assert [ok for _, _, ok in rows] == [False, True, None, True, True, True, True, None]
    assert "as shipped" in rows[0][0]
    assert rows[0][1] == "150.0 ms (146.0 ms of it GC)"
    assert "20.0 ms" in rows[2][1]

    slow = [
        _phase("music", "freeze-on", 70.0, 600.0, gc_in_stall=10.0),
        _phase("http", "gc-freeze", 30.0, 900.0),
    ]
    s = bench_triggerer.summarize(slow, n=1000, duration=65.0, poll=5.0, reps=1, gc_freeze=True)
    bench_triggerer.report(s)
    out = capsys.readouterr().out
    assert "peer after gc.freeze()" in out
    assert "ours with the freeze" in out
    assert s["pass_stall"] is None
    assert s["pass_stall_freeze_on"] is False
    assert [ok for _, _, ok in triggerer_rows(s)] == [None, None, None, False, True, None, False, None]
