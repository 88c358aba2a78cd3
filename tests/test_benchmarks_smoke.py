"""The DAG-parse benchmark runs and prints its figures (quick mode). Timings are not asserted here:
they belong to BENCHMARKS.md, measured on a quiet machine, not to a shared CI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_dag_parse_benchmark_quick_mode_prints_figures(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["MUSIC_BENCH_RESULTS"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_dag_parse", "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "3. DAG-parse cost" in out
    assert "added import time:" in out and " ms by -X importtime" in out
    assert "forbidden modules imported:" in out
    assert "modules added:" in out
    assert (tmp_path / "dag_parse_quick.json").is_file()
