"""
Batch: one generation per prompt with dynamic task mapping, all through one shared connection.

A mapped task group runs submit then wait-and-store once per prompt, so each sensor receives what
its own submit pushed: the generation id, the usage and the client request id. Each track is stored
in ``<storage base>/batch/<date>/`` under a name derived from its generation id (``<date>``: the
run's logical date, or when it was due for runs without one).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, XComArg, task_group
from music_example_settings import POLL_INTERVAL, RUN_DATE, STORAGE_BASE, STORAGE_CONN_ID

from airflow_provider_music.operators.music import SubmitMusicGenerationOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

PROMPTS = [
    "Upbeat synth-pop jingle for a product launch, 120 BPM, bright and catchy",
    "Ambient drone with slow evolving pads for a meditation app, no percussion",
    "Acoustic folk guitar and whistling, cheerful walking tempo",
]


@task_group
def track(prompt: str) -> None:
    """Submit one prompt, then wait for and store its track."""
    submit = SubmitMusicGenerationOperator(
        task_id="submit",
        prompt=prompt,
        music_length_ms=10_000,
        max_active_tis_per_dag=4,  # caps concurrent spending on the API
    )
    MusicGenerationSensor(
        task_id="wait_and_store",
        generation_id=submit.output,
        destination=STORAGE_BASE + "/batch/{{ " + RUN_DATE + " }}/",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
        # within the mapped group, these resolve to the XComs of this track's own submit
        usage=XComArg(submit, key="usage"),
        client_request_id=XComArg(submit, key="client_request_id"),
        request=XComArg(submit, key="request"),  # the body as sent: model, prompt, length, fields
    )


with DAG(
    dag_id="example_music_batch",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "music"],
    doc_md=__doc__,
):
    track.expand(prompt=PROMPTS)
