"""
Two models side by side: the same daily job, mapped over the models.

One ``GenerateMusicOperator`` is mapped with ``.partial(...).expand_kwargs(MODELS)``: the shared
arguments (the prompt templated on the run's date, the destination) are given once, and each entry
names a model and its own fields. ``elevenlabs/eleven_music`` makes a 30 s instrumental (MP3);
``minimax/music-2.0`` sings the written ``lyrics`` (MP3 by default; ``audio_setting`` asks for WAV
here). A model has its own rules (README: "Models"): minimax/music-2.0 requires ``lyrics`` and has no
length field, so ``music_length_ms`` is given to eleven_music only. Each task checks its values with
its model's rules before the POST: a bad one costs nothing.

The tracks land in ``<storage base>/models/<date>/instrumental.<ext>`` and ``song.<ext>``, each with a
``.json`` manifest that records the body as sent under ``request`` (lyrics included, never the key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG
from music_example_settings import POLL_INTERVAL, RUN_DATE, STORAGE_BASE, STORAGE_CONN_ID

from airflow_provider_music.operators.music import GenerateMusicOperator

PROMPT = "Bright acoustic folk for the morning of {{ " + RUN_DATE + " }}, 96 BPM, guitar and light percussion"

LYRICS = """[Verse]
Coffee on the windowsill, the city slowly wakes
Sunlight on the rooftops, every step it takes
[Chorus]
Good morning, good morning, a brand new day
Good morning, good morning, we're on our way"""

# One entry per model: what differs between them. Adding a model is adding an entry.
MODELS: list[dict[str, Any]] = [
    {
        "model": "elevenlabs/eleven_music",
        "music_length_ms": 30_000,
        "object_name": "instrumental",
    },
    {
        "model": "minimax/music-2.0",
        "lyrics": LYRICS,
        "extra_body": {"audio_setting": {"format": "wav", "sample_rate": 44100}},
        "object_name": "song",
    },
]

with DAG(
    dag_id="example_music_models",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["example", "music"],
    doc_md=__doc__,
):
    GenerateMusicOperator.partial(
        task_id="generate",
        prompt=PROMPT,
        destination=STORAGE_BASE + "/models/{{ " + RUN_DATE + " }}/",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
        retries=2,
        max_active_tis_per_dag=2,  # caps concurrent spending on the API
    ).expand_kwargs(MODELS)
