"""
The daily example with catch-up: three past logical dates (2026-01-01 to 2026-01-03) run when unpaused.

Same tasks as ``example_music_daily`` (submit, then the deferrable sensor storing ``<ds>.<ext>``
beside a ``<ds>.json`` manifest), self-contained so the deployment test can load it as its own bundle.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_music.operators.music import SubmitMusicGenerationOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

STORAGE_BASE = os.environ.get("MUSIC_STORAGE_BASE", "file:///tmp/music").rstrip("/")
POLL_INTERVAL = float(os.environ.get("MUSIC_POLL_INTERVAL", "10"))
PROMPT = (
    "Calm lo-fi piano for the morning of {{ macros.ds_format(ds, '%Y-%m-%d', '%A %d %B %Y') }}, "
    "70 BPM, warm vinyl crackle, soft brushed drums"
)

with DAG(
    dag_id="deployment_music_catchup",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    end_date=datetime(2026, 1, 3),
    catchup=True,
    max_active_runs=3,
    tags=["test", "music"],
    doc_md=__doc__,
):
    submit = SubmitMusicGenerationOperator(task_id="submit", prompt=PROMPT, music_length_ms=10_000)
    MusicGenerationSensor(
        task_id="wait_and_store",
        generation_id=submit.output,
        destination=STORAGE_BASE + "/catchup/",
        object_name="{{ ds }}",
        poll_interval=POLL_INTERVAL,
        prompt=PROMPT,
        music_length_ms=10_000,
    )
