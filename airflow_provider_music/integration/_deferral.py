"""How a task of this provider waits: deferrable or not, poll interval and timeout, trigger arguments."""

# No `from __future__ import annotations`: TypedDict would compile each string annotation
# (typing.ForwardRef) while a DAG file imports this module.

import os
import time
from typing import TypedDict

from airflow_provider_music import version_compat
from airflow_provider_music.exceptions import MusicInputError


class TriggerArgs(TypedDict):
    """The arguments of ``MusicGenerationTrigger`` (all plain values: they are serialized)."""

    generation_id: str
    conn_id: str
    poll_interval: float
    deadline: float
    started_at: float
    max_consecutive_failures: int


def default_deferrable() -> bool:
    """
    Deferrable unless the deployment explicitly said otherwise.

    Airflow's ``[operators] default_deferrable`` defaults to False for every operator, and
    ``airflow db migrate`` writes that default into every generated ``airflow.cfg``, so a False
    read from the config cannot be told from "never set". This provider waits minutes per track,
    so it defers unless ``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE`` is set (then it follows it);
    a True from any source also means deferrable.
    """
    configured = version_compat.conf.getboolean("operators", "default_deferrable", fallback=False)
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


def trigger_kwargs(
    generation_id: str, conn_id: str, poll_interval: float, timeout: float, max_consecutive_failures: int
) -> TriggerArgs:
    """Arguments for a trigger whose deadline is fixed now, as wall-clock time."""
    now = time.time()
    return {
        "generation_id": generation_id,
        "conn_id": conn_id,
        "poll_interval": poll_interval,
        "deadline": now + timeout,
        "started_at": now,
        "max_consecutive_failures": max_consecutive_failures,
    }
