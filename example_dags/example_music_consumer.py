"""
Downstream of the daily track: scheduled on the asset alias the daily DAG emits through, it reads
each new track's manifest (the JSON sidecar) and logs what it is.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, AssetAlias, task
from music_example_settings import DAILY_TRACKS_ALIAS, STORAGE_CONN_ID

log = logging.getLogger("example_music_consumer")


def describe_new_tracks(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
    """Read the manifest each triggering asset event points to and log what the track is."""
    # Imported when the task runs, not when the DAG file is parsed: it loads fsspec and universal-pathlib.
    from airflow.sdk import ObjectStoragePath

    described = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            sidecar_uri = (event.extra or {}).get("sidecar_uri")
            if not sidecar_uri:
                continue
            manifest = json.loads(ObjectStoragePath(sidecar_uri, conn_id=STORAGE_CONN_ID).read_text())
            log.info(
                "New track %s: %.1f s of %s, %d bytes, sha256 %s",
                manifest["uri"],
                manifest["duration_seconds"] or 0.0,
                manifest["content_type"],
                manifest["size_bytes"],
                manifest["sha256"],
            )
            described.append({"uri": manifest["uri"], "duration_seconds": manifest["duration_seconds"]})
    return described


with DAG(
    dag_id="example_music_consumer",
    schedule=[AssetAlias(DAILY_TRACKS_ALIAS)],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "music"],
    doc_md=__doc__,
):
    task(describe_new_tracks)()
