"""
The one-task example (``GenerateMusicOperator``) with a large track (300 s, about 53 MB of WAV),
one retry and a short retry delay: the deployment test kills the worker mid-download.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_music.operators.music import GenerateMusicOperator

STORAGE_BASE = os.environ.get("MUSIC_STORAGE_BASE", "file:///tmp/music").rstrip("/")
POLL_INTERVAL = float(os.environ.get("MUSIC_POLL_INTERVAL", "10"))

with DAG(
    dag_id="deployment_music_one_task_large",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["test", "music"],
    doc_md=__doc__,
):
    GenerateMusicOperator(
        task_id="generate",
        prompt="Cinematic orchestral score for the {{ ds }} episode: strings swell, timpani, heroic brass",
        music_length_ms=300_000,
        destination=STORAGE_BASE + "/one_task_large/",
        object_name="{{ ds }}",
        poll_interval=POLL_INTERVAL,
        retries=1,
        retry_delay=timedelta(seconds=3),
    )
