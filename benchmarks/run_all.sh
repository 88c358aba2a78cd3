#!/usr/bin/env bash
# Run every benchmark (issue 6) and print the figures: bash benchmarks/run_all.sh [--quick] [--only NAME ...]
# Uses the Airflow 3.3.2 environment that scripts/test.sh builds (.venv/airflow-3.3.2).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${BENCH_PYTHON:-.venv/airflow-3.3.2/bin/python}"
if [[ ! -x "$PY" ]]; then
  echo "no $PY: run 'bash scripts/test.sh' once (it builds .venv/), or set BENCH_PYTHON" >&2
  exit 1
fi
missing=$("$PY" - <<'PY'
import importlib.util
need = {"psutil": "psutil", "airflow.providers.http": "apache-airflow-providers-http",
        "s3fs": "s3fs", "airflow.providers.amazon": "apache-airflow-providers-amazon",
        "soundfile": "soundfile", "scipy": "scipy"}
print(" ".join(pkg for mod, pkg in need.items() if importlib.util.find_spec(mod) is None))
PY
)
if [[ -n "$missing" ]]; then
  echo "installing benchmark-only packages: $missing" >&2
  .venv/tools/bin/uv pip install -p "$PY" $missing >&2
fi
command -v curl >/dev/null || { echo "curl is needed for the delivery baseline" >&2; exit 1; }
command -v ffmpeg >/dev/null || echo "no ffmpeg: the analysis benchmark runs without its reference" >&2
exec "$PY" -m benchmarks "$@"
