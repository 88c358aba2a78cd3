#!/usr/bin/env bash
# The main job: start the local emulator, run the daily example DAG through a real Airflow
# (`airflow dags test`), store the audio in a local folder and print where it is and its manifest.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
ensure_latest
BIN="$(dirname "$ENV_PY")"
OUT="${MUSIC_OUTPUT:-$REPO/output}"
WORK="$REPO/.demo"
mkdir -p "$WORK" "$OUT"
export AIRFLOW_HOME="$WORK/airflow-home"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export MUSIC_STORAGE_BASE="file://$OUT"
export MUSIC_POLL_INTERVAL="${MUSIC_POLL_INTERVAL:-2}"
KEY="demo-key-not-secret"
READY="$WORK/emulator.json"
rm -f "$READY"
"$ENV_PY" -m airflow_provider_music.emulator --port 0 --api-key "$KEY" --generation-seconds 4 \
  --audio-character music --ready-file "$READY" > "$WORK/emulator.log" 2>&1 &
EMU_PID=$!
trap 'kill "$EMU_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$READY" ] && break; sleep 0.1; done
API_URL="$("$ENV_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$READY")"
export AIRFLOW_CONN_AIMLAPI_DEFAULT="{\"conn_type\": \"aimlapi\", \"password\": \"$KEY\", \"host\": \"$API_URL\"}"
DS="${DEMO_DATE:-$(date -u +%Y-%m-%d)}"
echo ">> emulator at $API_URL; running example_music_daily for $DS (output: $OUT)"
"$BIN/airflow" db migrate > "$WORK/db-migrate.log" 2>&1
"$BIN/airflow" dags test example_music_daily "$DS" > "$WORK/dags-test.log" 2>&1 || {
  tail -n 60 "$WORK/dags-test.log"; echo "!! the DAG failed; full log: $WORK/dags-test.log"; exit 1; }
echo ">> stored (the track, its manifest, its waveform picture and peaks; the master):"
ls -l "$OUT/daily/$DS".* "$OUT/daily/mastered/$DS".*
echo ">> manifest ($OUT/daily/$DS.json):"
cat "$OUT/daily/$DS.json"; echo
