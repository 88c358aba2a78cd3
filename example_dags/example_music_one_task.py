"""
One task: submit, wait (deferred, no worker slot held) and store with ``GenerateMusicOperator``.

A retry reattaches to the generation the first try created: it never pays twice. A track that fails
the quality gate (needs the ``audio`` extra) is kept under ``one_task/rejected/`` and regenerated, at
most twice (each regeneration is a paid generation, recorded in the manifest's ``attempts``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG
from music_example_settings import POLL_INTERVAL, RUN_DATE, STORAGE_BASE, STORAGE_CONN_ID

from airflow_provider_music.operators.music import GenerateMusicOperator
from airflow_provider_music.quality import QualityGate

with DAG(
    dag_id="example_music_one_task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "music"],
    doc_md=__doc__,
):
    GenerateMusicOperator(
        task_id="generate",
        prompt="Cinematic orchestral intro for the {{ "
        + RUN_DATE
        + " }} episode: strings swell, timpani, heroic brass",
        music_length_ms=20_000,
        destination=STORAGE_BASE + "/one_task/",
        object_name="{{ " + RUN_DATE + " }}",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
        retries=2,
        quality=QualityGate(length_tolerance=0.15, max_leading_silence_seconds=2.0, min_loudness_lufs=-30.0),
        max_regenerations=2,
    )
