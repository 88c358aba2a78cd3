"""
The one retry policy of both clients, and the one bounded body reader.

Backoff uses *equal jitter*: before attempt ``n + 1`` the wait is drawn uniformly from
``[ceiling / 2, ceiling]``, where ``ceiling = min(max_delay_s, base_delay_s * 2 ** (n - 1))``. Unlike
full jitter (``[0, ceiling]``), a retry never follows at once: a throttled or restarting service
always gets at least half the step, while the random half still spreads a crowd of clients apart.
A ``Retry-After`` from the service replaces the backoff (already capped when it was parsed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any, Protocol

from airflow_provider_music.defaults import (
    BACKOFF_BASE_S,
    BACKOFF_MAX_S,
    MAX_API_RESPONSE_BYTES,
    MAX_REQUEST_ATTEMPTS,
)
from airflow_provider_music.exceptions import MusicTransientError
from airflow_provider_music.wire import ApiRequest


class RetryLog(Protocol):
    """Where the clients log a retry: any logger (stdlib or Airflow's structlog one)."""

    def warning(self, msg: str, /, *args: Any) -> object:
        """Log a warning."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how far apart a transient failure is retried (see the module's docstring)."""

    max_attempts: int = MAX_REQUEST_ATTEMPTS
    base_delay_s: float = BACKOFF_BASE_S
    max_delay_s: float = BACKOFF_MAX_S
    honour_retry_after: bool = True

    def __post_init__(self) -> None:
        """At least one attempt, whatever was asked."""
        object.__setattr__(self, "max_attempts", max(1, int(self.max_attempts)))

    def with_attempts(self, max_attempts: int) -> RetryPolicy:
        """This policy with another number of attempts."""
        return replace(self, max_attempts=max_attempts)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): ``Retry-After``, else backoff."""
        if retry_after is not None and self.honour_retry_after:
            return retry_after
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** max(0, attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)

    def next_delay(self, attempt: int, error: MusicTransientError) -> float | None:
        """The wait before the next attempt after ``error``, or None when ``attempt`` was the last."""
        if attempt >= self.max_attempts:
            return None
        return self.delay(attempt, error.retry_after)

    def log_retry(
        self, log: RetryLog, attempt: int, request: ApiRequest, error: Exception, delay: float
    ) -> None:
        """The warning both clients log before they wait and try again."""
        log.warning(
            "Attempt %d/%d of %s %s failed (%s); retrying in %.1fs",
            attempt, self.max_attempts, request.method, request.operation, error, delay,
        )  # fmt: skip


class BoundedBody:
    """
    A response body collected piece by piece and cut at ``limit`` bytes: an endless body cannot fill
    the memory. A cut body fails to parse (a garbled answer); the unread rest closes the connection.
    """

    __slots__ = ("_pieces", "limit", "size")

    def __init__(self, limit: int = MAX_API_RESPONSE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self._pieces: list[bytes] = []

    @property
    def full(self) -> bool:
        """The limit is reached: stop reading."""
        return self.size >= self.limit

    def add(self, piece: bytes) -> bool:
        """Keep ``piece``; True when the limit is reached (stop reading)."""
        self._pieces.append(piece)
        self.size += len(piece)
        return self.full

    def value(self) -> bytes:
        """The body read so far, at most ``limit`` bytes."""
        return b"".join(self._pieces)[: self.limit]
