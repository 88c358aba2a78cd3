"""
The scale-out deployment test's run: 40 generations, mapped, in both forms, stored on S3.

- ``generate``: 20 ``GenerateMusicOperator`` instances (submit, wait in the triggerer, deliver), each
  stored as ``take-NN.wav`` beside ``take-NN.json``; take 00 asks for 120 s of music (about 21 MB of
  WAV, a multipart upload of five parts) so that a worker can be killed in the middle of it.
- ``submit`` then ``wait_and_store``: 20 ``SubmitMusicGenerationOperator`` and 20
  ``MusicGenerationSensor`` instances, each track named after its generation id.

Each prompt carries a marker (``[scale-out one-task 07]``) by which the test finds its generation in
the emulator. Every task may be retried twice, three seconds apart: a try killed with its worker is
retried on another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

TRACKS_PER_FORM = 20
BUCKET = "music-scale-out"
BASE = f"s3://{BUCKET}/{{{{ run_id }}}}"
STORAGE_CONN_ID = "music_s3"
POLL_INTERVAL = 3.0
LONG_TAKE_MS = 120_000
STYLES = [
    "warm lo-fi piano, 70 BPM, vinyl crackle",
    "bright synth-pop, 120 BPM, catchy hook",
    "acoustic folk guitar and whistling",
    "ambient pads, slow evolving drones",
]


def marker(form: str, index: int) -> str:
    return f"[scale-out {form} {index:02d}]"


ONE_TASK = [
    {
        "prompt": f"{marker('one-task', i)} {STYLES[i % len(STYLES)]}",
        "object_name": f"take-{i:02d}",
        "music_length_ms": LONG_TAKE_MS if i == 0 else 10_000,
    }
    for i in range(TRACKS_PER_FORM)
]
TWO_TASK = [f"{marker('two-task', i)} {STYLES[i % len(STYLES)]}" for i in range(TRACKS_PER_FORM)]

with DAG(
    dag_id="deployment_music_scale_out",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=64,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=3)},
    tags=["test", "music"],
    doc_md=__doc__,
):
    GenerateMusicOperator.partial(
        task_id="generate",
        destination=BASE + "/one-task/",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
    ).expand_kwargs(ONE_TASK)

    submitted = SubmitMusicGenerationOperator.partial(task_id="submit", music_length_ms=10_000).expand(
        prompt=TWO_TASK
    )
    MusicGenerationSensor.partial(
        task_id="wait_and_store",
        destination=BASE + "/two-task/",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
    ).expand(generation_id=submitted.output)
