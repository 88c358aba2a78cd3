"""
Airflow glue shared by the operators, the sensor and the trigger: the trigger's event as a typed value,
what a submitting task sends (typed model fields, checks at parse time, the body as sent), how a
task waits (deferral, poll interval, timeout) and what its wait logs, the durable record of the
generation a task created, the asset event and lineage of a stored track, and the code the one-task
operator and the sensor share (``DeliversAudio``).

Imported at DAG-parse time: nothing here imports the hook, the trigger or an HTTP or storage library
at module level.
"""

from __future__ import annotations

from airflow_provider_music.integration._assets import (
    ASSET_EXTRA_FIELDS,
    PublishesAudio,
    alias_outlets,
    task_info,
)
from airflow_provider_music.integration._deferral import (
    TriggerArgs,
    default_deferrable,
    trigger_kwargs,
    validate_wait,
)
from airflow_provider_music.integration._delivering import DeliversAudio, UsesMusicHook
from airflow_provider_music.integration._events import (
    EVENT_ERROR,
    EVENT_FAILED,
    EVENT_SUCCESS,
    EVENT_TIMEOUT,
    KNOWN_EVENT_STATUSES,
    EventStatus,
    GenerationEvent,
    raise_for_event,
    resume_summary,
)
from airflow_provider_music.integration._lineage import (
    LINEAGE_FACET_SCHEMA_URL,
    LINEAGE_RUN_FACET,
    lineage_dataset,
    music_run_facet,
)
from airflow_provider_music.integration._links import (
    LISTEN_LINK_NAME,
    LISTEN_PAGE,
    LISTEN_URL_PREFIX,
    MUSIC_EXTRA_LINKS,
    S3_CONSOLE_LINK_NAME,
    ListenLink,
    S3ConsoleLink,
    listen_path,
    s3_console_url,
)
from airflow_provider_music.integration._progress import PollProgress, format_duration, polls_text
from airflow_provider_music.integration._record import (
    STATE_KEY_GENERATION_ID,
    GenerationRecord,
    RecordedGeneration,
)
from airflow_provider_music.integration._request import (
    REQUEST_KEY,
    check_literals,
    is_pending,
    mapping_value,
    recorded_request,
    request_body,
    typed_fields,
)
from airflow_provider_music.integration._submitting import SubmitsGenerations, wait_here

__all__ = [
    "ASSET_EXTRA_FIELDS",
    "EVENT_ERROR",
    "EVENT_FAILED",
    "EVENT_SUCCESS",
    "EVENT_TIMEOUT",
    "KNOWN_EVENT_STATUSES",
    "LINEAGE_FACET_SCHEMA_URL",
    "LINEAGE_RUN_FACET",
    "LISTEN_LINK_NAME",
    "LISTEN_PAGE",
    "LISTEN_URL_PREFIX",
    "MUSIC_EXTRA_LINKS",
    "REQUEST_KEY",
    "S3_CONSOLE_LINK_NAME",
    "STATE_KEY_GENERATION_ID",
    "DeliversAudio",
    "EventStatus",
    "GenerationEvent",
    "GenerationRecord",
    "ListenLink",
    "PollProgress",
    "PublishesAudio",
    "RecordedGeneration",
    "S3ConsoleLink",
    "SubmitsGenerations",
    "TriggerArgs",
    "UsesMusicHook",
    "alias_outlets",
    "check_literals",
    "default_deferrable",
    "format_duration",
    "is_pending",
    "lineage_dataset",
    "listen_path",
    "mapping_value",
    "music_run_facet",
    "polls_text",
    "raise_for_event",
    "recorded_request",
    "request_body",
    "resume_summary",
    "s3_console_url",
    "task_info",
    "trigger_kwargs",
    "typed_fields",
    "validate_wait",
    "wait_here",
]
