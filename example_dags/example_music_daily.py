"""
Daily track: the prompt follows the logical date; submit, wait in the triggerer, store, master.

The audio lands at ``<storage base>/daily/<date>.<ext>`` with a ``<date>.json`` manifest beside it
(``<date>``: the run's logical date, or when it was due for runs without one), and each stored track
is emitted as an asset event through the alias ``example_music_daily_tracks``
(``example_music_consumer`` is scheduled on it). The manifest also records what the generation cost
(``usage``), the ``X-Client-Request-Id`` the submit task sent and the body it sent (``request``),
handed over through its XComs.

Before it is published the track must pass a quality gate (length within 10 % of the 30 s asked
for, at most 1 s of silence at the start and 3 s at the end, no clipping, a true peak under
+0.5 dBTP; needs the ``audio`` extra): one that fails is kept under ``daily/rejected/`` with its
manifest and the run fails. A waveform picture and peaks file are stored beside it. ``master`` then
writes a streaming master (-14 LUFS integrated, true peak at most -1 dBTP, MP3) to
``daily/mastered/<date>.mp3`` with its own manifest pointing at the original.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, XComArg
from music_example_settings import DAILY_TRACKS_ALIAS, POLL_INTERVAL, RUN_DATE, STORAGE_BASE, STORAGE_CONN_ID

from airflow_provider_music.operators.mastering import MasterAudioOperator
from airflow_provider_music.operators.music import SubmitMusicGenerationOperator
from airflow_provider_music.quality import QualityGate
from airflow_provider_music.sensors.music import MusicGenerationSensor

PROMPT = (
    "Calm lo-fi piano for the morning of {{ macros.ds_format("
    + RUN_DATE
    + ", '%Y-%m-%d', '%A %d %B %Y') }}, "
    "70 BPM, warm vinyl crackle, soft brushed drums"
)

with DAG(
    dag_id="example_music_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=3,
    tags=["example", "music"],
    doc_md=__doc__,
):
    submit = SubmitMusicGenerationOperator(
        task_id="submit",
        prompt=PROMPT,
        music_length_ms=30_000,
    )
    stored = MusicGenerationSensor(
        task_id="wait_and_store",
        generation_id=submit.output,
        destination=STORAGE_BASE + "/daily/",
        object_name="{{ " + RUN_DATE + " }}",
        storage_conn_id=STORAGE_CONN_ID,
        poll_interval=POLL_INTERVAL,
        asset_alias=DAILY_TRACKS_ALIAS,
        prompt=PROMPT,
        music_length_ms=30_000,
        # what the submit task pushed: recorded in the manifest (null when the service reported none)
        usage=XComArg(submit, key="usage"),
        client_request_id=XComArg(submit, key="client_request_id"),
        request=XComArg(submit, key="request"),  # the body as sent: model, prompt, length, fields
        quality=QualityGate(
            length_tolerance=0.1,
            max_leading_silence_seconds=1.0,
            max_trailing_silence_seconds=3.0,
            max_clipped_samples=0,
            max_true_peak_dbtp=0.5,
        ),
        waveform=True,
    )
    MasterAudioOperator(
        task_id="master",
        source=stored.output,  # the stored track's manifest
        destination=STORAGE_BASE + "/daily/mastered/",
        object_name="{{ " + RUN_DATE + " }}",
        storage_conn_id=STORAGE_CONN_ID,
        target_lufs=-14.0,
        true_peak_ceiling_dbtp=-1.0,
        output_format="mp3",
    )
