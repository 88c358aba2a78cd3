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

from typing import TYPE_CHECKING

from airflow_provider_music._lazy import lazy_exports

if TYPE_CHECKING:
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

# PEP 562: each name is imported from its module on first use, so importing the package loads
# only the modules whose names are used (DAG-parse time pays for nothing else).
_EXPORTS: dict[str, str] = {
    "ASSET_EXTRA_FIELDS": "airflow_provider_music.integration._assets",
    "PublishesAudio": "airflow_provider_music.integration._assets",
    "alias_outlets": "airflow_provider_music.integration._assets",
    "task_info": "airflow_provider_music.integration._assets",
    "TriggerArgs": "airflow_provider_music.integration._deferral",
    "default_deferrable": "airflow_provider_music.integration._deferral",
    "trigger_kwargs": "airflow_provider_music.integration._deferral",
    "validate_wait": "airflow_provider_music.integration._deferral",
    "DeliversAudio": "airflow_provider_music.integration._delivering",
    "UsesMusicHook": "airflow_provider_music.integration._delivering",
    "EVENT_ERROR": "airflow_provider_music.integration._events",
    "EVENT_FAILED": "airflow_provider_music.integration._events",
    "EVENT_SUCCESS": "airflow_provider_music.integration._events",
    "EVENT_TIMEOUT": "airflow_provider_music.integration._events",
    "KNOWN_EVENT_STATUSES": "airflow_provider_music.integration._events",
    "EventStatus": "airflow_provider_music.integration._events",
    "GenerationEvent": "airflow_provider_music.integration._events",
    "raise_for_event": "airflow_provider_music.integration._events",
    "resume_summary": "airflow_provider_music.integration._events",
    "LINEAGE_FACET_SCHEMA_URL": "airflow_provider_music.integration._lineage",
    "LINEAGE_RUN_FACET": "airflow_provider_music.integration._lineage",
    "lineage_dataset": "airflow_provider_music.integration._lineage",
    "music_run_facet": "airflow_provider_music.integration._lineage",
    "LISTEN_LINK_NAME": "airflow_provider_music.integration._links",
    "LISTEN_PAGE": "airflow_provider_music.integration._links",
    "LISTEN_URL_PREFIX": "airflow_provider_music.integration._links",
    "MUSIC_EXTRA_LINKS": "airflow_provider_music.integration._links",
    "S3_CONSOLE_LINK_NAME": "airflow_provider_music.integration._links",
    "ListenLink": "airflow_provider_music.integration._links",
    "S3ConsoleLink": "airflow_provider_music.integration._links",
    "listen_path": "airflow_provider_music.integration._links",
    "s3_console_url": "airflow_provider_music.integration._links",
    "PollProgress": "airflow_provider_music.integration._progress",
    "format_duration": "airflow_provider_music.integration._progress",
    "polls_text": "airflow_provider_music.integration._progress",
    "STATE_KEY_GENERATION_ID": "airflow_provider_music.integration._record",
    "GenerationRecord": "airflow_provider_music.integration._record",
    "RecordedGeneration": "airflow_provider_music.integration._record",
    "REQUEST_KEY": "airflow_provider_music.integration._request",
    "check_literals": "airflow_provider_music.integration._request",
    "is_pending": "airflow_provider_music.integration._request",
    "mapping_value": "airflow_provider_music.integration._request",
    "recorded_request": "airflow_provider_music.integration._request",
    "request_body": "airflow_provider_music.integration._request",
    "typed_fields": "airflow_provider_music.integration._request",
    "SubmitsGenerations": "airflow_provider_music.integration._submitting",
    "wait_here": "airflow_provider_music.integration._submitting",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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
