# Sourced by the other scripts: builds (once, then reuses) the virtual environments they need.
# Only python3 (3.10+) is needed on the machine; everything else is installed here.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
VENVS="$REPO/.venv"
# The newest Airflow we support and the lowest we declare (pyproject.toml: apache-airflow>=3.1.8).
AIRFLOW_LATEST="${AIRFLOW_LATEST:-3.3.2}"
AIRFLOW_FLOOR="${AIRFLOW_FLOOR:-3.1.8}"
# The dev and test tools are the `dev` dependency group of pyproject.toml ([dependency-groups]); the stamp
# below hashes pyproject.toml, so changing a group rebuilds the environments.
DEV_GROUP="$REPO/pyproject.toml:dev"

ensure_uv() {
  if [ ! -x "$VENVS/tools/bin/uv" ]; then
    mkdir -p "$VENVS"
    "$PY" -m venv "$VENVS/tools"
    "$VENVS/tools/bin/python" -m pip install -q --disable-pip-version-check uv
  fi
  UV="$VENVS/tools/bin/uv"
}

# ensure_env NAME AIRFLOW_VERSION [extra pip requirements...]; sets ENV_PY to the env's python.
ensure_env() {
  local name="$1" version="$2"; shift 2
  ensure_uv
  local dir="$VENVS/$name"
  local stamp
  stamp="$( (cat "$REPO/pyproject.toml"; echo "$version $DEV_GROUP $*") | sha256sum | cut -c1-16)"
  if [ ! -f "$dir/.stamp" ] || [ "$(cat "$dir/.stamp")" != "$stamp" ]; then
    echo ">> building $dir (Airflow $version)"
    rm -rf "$dir"
    "$UV" venv -q --python "$PY" "$dir"
    "$UV" pip install -q -p "$dir/bin/python" -e "$REPO[amazon]" "apache-airflow==$version" --group "$DEV_GROUP" "$@"
    echo "$stamp" > "$dir/.stamp"
  fi
  ENV_PY="$dir/bin/python"
}

ensure_latest() { ensure_env "airflow-$AIRFLOW_LATEST" "$AIRFLOW_LATEST"; }
# Airflow 3.1 predates universal-pathlib 0.3 (ObjectStoragePath breaks on it) and structlog 25.5;
# its constraints file pins older ones, so the floor environment does the same.
ensure_floor() { ensure_env "airflow-$AIRFLOW_FLOOR" "$AIRFLOW_FLOOR" "universal-pathlib<0.3" "structlog<25.5"; }
