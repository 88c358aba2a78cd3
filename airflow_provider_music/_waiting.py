"""What the sensor and the one-task operator share about waiting: defaults, deadlines, trigger events."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from airflow_provider_music import exceptions as exc
from airflow_provider_music.exceptions import MusicInputError

# The statuses a trigger event can carry (kept here, not in the trigger module, so that resuming a
# task on a worker does not import the trigger and its HTTP client); anything else is refused.
EVENT_SUCCESS = "success"  # the generation completed with an audio URL
EVENT_FAILED = "failed"  # it ended in `error`, an unknown status, or without audio
EVENT_TIMEOUT = "timeout"  # the wall-clock deadline passed while it was pending
EVENT_ERROR = "error"  # the API could not be asked (bad key, too many transient faults)
KNOWN_EVENT_STATUSES = frozenset({EVENT_SUCCESS, EVENT_FAILED, EVENT_TIMEOUT, EVENT_ERROR})


def default_deferrable() -> bool:
    """
    Deferrable unless the deployment explicitly said otherwise.

    Airflow's ``[operators] default_deferrable`` defaults to False for every operator, and
    ``airflow db migrate`` writes that default into every generated ``airflow.cfg``, so a False
    read from the config cannot be told from "never set". This provider waits minutes per track,
    so it defers unless ``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE`` is set (then it follows it);
    a True from any source also means deferrable.
    """
    try:
        from airflow.sdk import conf
    except ImportError:  # pragma: no cover - Airflow 3.1
        from airflow.configuration import conf  # type: ignore[assignment]
    configured = conf.getboolean("operators", "default_deferrable", fallback=False)
    if "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE" in os.environ:
        return configured
    return True


def validate_wait(poll_interval: object, timeout: object) -> tuple[float, float]:
    """Poll interval and timeout as positive seconds, refused early when nonsensical."""
    values = []
    for name, value in (("poll_interval", poll_interval), ("timeout", timeout)):
        seconds = value.total_seconds() if hasattr(value, "total_seconds") else value
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise MusicInputError(f"{name} must be a positive number of seconds, got {value!r}")
        values.append(float(seconds))
    return values[0], values[1]


def raise_for_event(event: object, generation_id: str) -> None:
    """Return quietly for a success event about ``generation_id``; raise the matching error otherwise."""
    if not isinstance(event, Mapping) or event.get("status") not in KNOWN_EVENT_STATUSES:
        status = event.get("status") if isinstance(event, Mapping) else type(event).__name__
        raise exc.MusicProviderError(f"Resumed with an unknown trigger event status {status!r}; refusing it")
    if event.get("generation_id") not in (None, generation_id):
        raise exc.MusicProviderError(
            f"Resumed with an event for generation {event.get('generation_id')!r}, expected {generation_id!r}"
        )
    status = event["status"]
    message = str(event.get("message") or f"generation {generation_id}: {status}")
    if status == EVENT_SUCCESS:
        return
    if status == EVENT_FAILED:
        raise exc.MusicGenerationFailed(
            message, generation_id=generation_id, status=str(event.get("service_status", "error"))
        )
    if status == EVENT_TIMEOUT:
        raise exc.MusicTimeoutError(message)
    # EVENT_ERROR: the trigger says whether retrying can help.
    if event.get("retryable", True):
        raise exc.MusicTransientError(message)
    raise exc.MusicRejectedError(message)


def trigger_kwargs(
    generation_id: str, conn_id: str, poll_interval: float, timeout: float, max_consecutive_failures: int
) -> dict[str, Any]:
    """Arguments for a trigger whose deadline is fixed now, as wall-clock time."""
    import time

    now = time.time()
    return {
        "generation_id": generation_id,
        "conn_id": conn_id,
        "poll_interval": poll_interval,
        "deadline": now + timeout,
        "started_at": now,
        "max_consecutive_failures": max_consecutive_failures,
    }
