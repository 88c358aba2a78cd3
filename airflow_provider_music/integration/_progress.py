"""What a wait for one generation tells its log: each new status, then a heartbeat now and then."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Final

from airflow_provider_music.defaults import PROGRESS_HEARTBEAT_S

# A status as the service sent it, but one short line: an odd answer cannot flood or forge log lines.
_STATUS_MAX_CHARS: Final = 64


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


def polls_text(polls: int) -> str:
    """``1 poll``, ``7 polls``."""
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
        when = f"after {format_duration(self.elapsed())}, {polls_text(self.polls)}"
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
