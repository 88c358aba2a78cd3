"""Settings shared by the example DAGs: where audio goes and how often to poll (cheap to import)."""

from __future__ import annotations

import os

# Where tracks are stored: the Airflow Variable `music_storage_base` wins at run time (templated, so
# it is not read at parse time), then the MUSIC_STORAGE_BASE environment variable, then a local folder.
# Any ObjectStoragePath URI works, e.g. s3://my-bucket/music with MUSIC_STORAGE_CONN_ID=aws_default.
DEFAULT_BASE = os.environ.get(
    "MUSIC_STORAGE_BASE",
    "file://" + os.path.join(os.path.expanduser(os.environ.get("AIRFLOW_HOME", "~/airflow")), "music"),
).rstrip("/")
STORAGE_BASE = "{{ var.value.get('music_storage_base', '" + DEFAULT_BASE + "') }}"
STORAGE_CONN_ID = os.environ.get("MUSIC_STORAGE_CONN_ID") or None
POLL_INTERVAL = float(os.environ.get("MUSIC_POLL_INTERVAL", "10"))
# The asset alias the daily DAG emits each stored track through; downstream DAGs schedule on it.
DAILY_TRACKS_ALIAS = "example_music_daily_tracks"
# The run's date as YYYY-MM-DD: the logical date, or when the run was due for runs without one (Airflow 3
# runs triggered from the UI, the REST API or the CLI without a date, and asset-triggered runs), where
# `{{ ds }}` and even `{{ logical_date }}` are undefined. Read through `dag_run`, which every run has.
RUN_DATE = "(dag_run.logical_date or dag_run.run_after) | ds"
