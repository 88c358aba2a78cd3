#!/usr/bin/env bash
# Every check, as CI runs it: lint, format, types, import layering, then the whole test suite with
# coverage on the newest Airflow, then the whole suite again on the lowest Airflow we declare.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$REPO"
ensure_latest
LATEST_PY="$ENV_PY"
BIN="$(dirname "$LATEST_PY")"
echo ">> ruff"
"$BIN/ruff" check .
"$BIN/ruff" format --check .
echo ">> mypy"
"$BIN/mypy"
echo ">> import-linter (the layering contracts in pyproject.toml [tool.importlinter])"
"$BIN/lint-imports" --no-cache
if [ "$(id -u)" = "0" ]; then
  bash "$REPO/scripts/install-ceph.sh"      # the real S3 server for the s3 tests
  bash "$REPO/scripts/install-browser.sh"   # Chromium for the connection-form UI test
  bash "$REPO/scripts/install-services.sh"  # PostgreSQL and Redis for the scale-out deployment test
  bash "$REPO/scripts/install-ffmpeg.sh"    # ffmpeg's ebur128, the reference for the audio analysis
fi
rm -f "$REPO/.coverage"
echo ">> pytest on Airflow $AIRFLOW_LATEST"
# The coverage floor (pyproject.toml [tool.coverage.report] fail_under) is for both runs combined, so
# this first, partial run does not check it.
"$LATEST_PY" -m pytest --cov --cov-report= --cov-fail-under=0 "$@"
ensure_floor
echo ">> pytest on Airflow $AIRFLOW_FLOOR (coverage: both runs combined, floor in pyproject.toml)"
"$ENV_PY" -m pytest --cov --cov-append --cov-report=term-missing:skip-covered "$@"
