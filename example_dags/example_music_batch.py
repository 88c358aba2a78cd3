"""
Batch: one generation per prompt with dynamic task mapping, all through one shared connection.

Each track is stored in ``<storage base>/batch/<ds>/`` under a name derived from its generation id.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG
from music_example_settings import POLL_INTERVAL, RUN_DATE, STORAGE_BASE, STORAGE_CONN_ID

from airflow_provider_music.operators.music import SubmitMusicGenerationOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

PROMPTS = [
    "Upbeat synth-pop jingle for a product launch, 120 BPM, bright and catchy",
    "Ambient drone with slow evolving pads for a meditation app, no percussion",
    "Acoustic folk guitar and whistling, cheerful walking tempo",
]

with DAG(
    dag_id="example_music_batch",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "music"],
    doc_md=__doc__,
):
    submitted = SubmitMusicGenerationOperator.partial(
        task_id="submit",
        music_length_ms=10_000,
        max_active_tis_per_dag=4,  # caps concurrent spending on the API
    ).expand(prompt=PROMPTS)

    MusicGenerationSensor.partial(
        task_id="wait_and_store",
        destination=STORAGE_BASE + "/batch/{{ " + RUN_DATE + " }}/",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
    ).expand(generation_id=submitted.output)
