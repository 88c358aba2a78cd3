"""What the sensor and the one-task operator share about waiting: defaults, deadlines, trigger events."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_music import exceptions as exc
from airflow_provider_music.defaults import PROGRESS_HEARTBEAT_S
from airflow_provider_music.exceptions import MusicInputError

# The statuses a trigger event can carry (kept here, not in the trigger module, so that resuming a
# task on a worker does not import the trigger and its HTTP client); anything else is refused.
EVENT_SUCCESS = "success"  # the generation completed with an audio URL
EVENT_FAILED = "failed"  # it ended in `error`, an unknown status, or without audio
EVENT_TIMEOUT = "timeout"  # the wall-clock deadline passed while it was pending
EVENT_ERROR = "error"  # the API could not be asked (bad key, too many transient faults)
KNOWN_EVENT_STATUSES = frozenset({EVENT_SUCCESS, EVENT_FAILED, EVENT_TIMEOUT, EVENT_ERROR})


def format_duration(seconds: float) -> str:
    """``12 s``, ``3 min 05 s``, ``2 h 07 min``: how long a wait has lasted, for a log line."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


_STATUS_MAX_CHARS = 64


def _polls_text(polls: int) -> str:
    return f"{polls} poll" if polls == 1 else f"{polls} polls"


class PollProgress:
    """
    What a wait for one generation tells its log: each new status, then a heartbeat now and then.

    ``observe(raw_status)`` is called once per status read (``None`` for a read that got no answer:
    it counts as a poll and logs nothing; the caller reports the failure). It logs at INFO:

    - a status the wait has not seen before: ``Generation X: queued -> generating after 12 s, 2 polls``
      (the first one: ``Generation X: queued after 5 s, 1 poll``);
    - otherwise at most one line per ``heartbeat_s`` (``Generation X: still generating after
      3 min 05 s, 19 polls``), which also reports a return to an earlier status.

    So the lines of one wait are at most the distinct statuses seen plus one per ``heartbeat_s``,
    whatever the poll interval or a flapping status: a thousand triggers log about a thousand lines
    a minute between them, never one per poll.

    :param generation_id: The generation waited for (named in every line).
    :param log: A logger (``logging.Logger``, or an Airflow task/trigger ``log``); only ``info`` is used.
    :param heartbeat_s: Least time between two lines while the status does not change.
    :param clock: Seconds, monotonic or wall-clock; ``time.monotonic`` by default.
    :param started_at: When the wait began on ``clock`` (the trigger passes its wall-clock
        ``started_at``, so the time waited survives a triggerer restart); default: now.
    """

    def __init__(
        self,
        generation_id: str,
        log: Any,
        heartbeat_s: float = PROGRESS_HEARTBEAT_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        started_at: float | None = None,
    ) -> None:
        self.generation_id = generation_id
        self.log = log
        self.heartbeat_s = float(heartbeat_s)
        self._clock = clock
        self.started_at = clock() if started_at is None else float(started_at)
        self.polls = 0
        self.status: str | None = None
        self._seen: set[str] = set()
        self._last_line: float | None = None
        self._changes_unlogged = 0

    def elapsed(self) -> float:
        """Seconds since the wait began (never negative)."""
        return max(0.0, self._clock() - self.started_at)

    def observe(self, raw_status: str | None) -> None:
        """Count one poll; log a new status at once, anything else at most once per heartbeat."""
        self.polls += 1
        if raw_status is None:
            return
        # As the service sent it, but one short line (an odd answer cannot flood or forge log lines).
        status = "".join(c if c.isprintable() else "?" for c in str(raw_status)[:_STATUS_MAX_CHARS])
        now = self._clock()
        previous, self.status = self.status, status
        changed = status != previous
        heartbeat_due = self._last_line is None or now - self._last_line >= self.heartbeat_s
        if changed and status not in self._seen:
            self._seen.add(status)
            self._line(now, previous, status)
        elif heartbeat_due:
            self._line(now, previous if changed else None, status, heartbeat=not changed)
        elif changed:
            self._changes_unlogged += 1  # a flapping status: told with the next line

    def _line(self, now: float, previous: str | None, status: str, *, heartbeat: bool = False) -> None:
        when = f"after {format_duration(self.elapsed())}, {_polls_text(self.polls)}"
        if heartbeat:
            text = f"Generation {self.generation_id}: still {status} {when}"
        elif previous is None:
            text = f"Generation {self.generation_id}: {status} {when}"
        else:
            text = f"Generation {self.generation_id}: {previous} -> {status} {when}"
        if self._changes_unlogged:
            n = self._changes_unlogged
            text += f" ({n} more status change{'' if n == 1 else 's'} since the last line)"
            self._changes_unlogged = 0
        self._last_line = now
        self.log.info(text)


def resume_summary(event: object) -> str:
    """
    One line for the task log when it resumes from the trigger: outcome, time waited, polls.

    Never raises (``raise_for_event`` judges the event); fields an older trigger did not send are
    said to be unknown rather than guessed.
    """
    if not isinstance(event, Mapping):
        return f"Resumed with an event of type {type(event).__name__}, not a trigger event of this provider"
    generation = event.get("generation_id") or "?"
    status = event.get("status")
    outcome = {
        EVENT_SUCCESS: "completed",
        EVENT_FAILED: "failed",
        EVENT_TIMEOUT: "still pending at the deadline",
        EVENT_ERROR: "could not be polled",
    }.get(status if isinstance(status, str) else "", f"unknown event status {status!r}")
    if status == EVENT_FAILED and event.get("service_status"):
        outcome += f" (service status {event.get('service_status')!r})"
    if status == EVENT_ERROR and "retryable" in event:
        outcome += " (retryable)" if event.get("retryable") else " (not retryable)"
    waited = event.get("waited_seconds")
    polls = event.get("polls")
    waited_text = (
        format_duration(float(waited))
        if isinstance(waited, (int, float)) and not isinstance(waited, bool)
        else "an unreported time"
    )
    polls_text = (
        _polls_text(polls)
        if isinstance(polls, int) and not isinstance(polls, bool)
        else "an unreported number of polls"
    )
    return f"Generation {generation}: {outcome} after waiting {waited_text}, {polls_text} (trigger event)"


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
