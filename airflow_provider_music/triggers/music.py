"""The trigger that waits for a generation in the triggerer, so no worker slot is held meanwhile."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_music.clients import RetryPolicy
from airflow_provider_music.defaults import (
    CONFIG_SECTION,
    CONFIG_TRIGGERER_GC_FREEZE,
    DEFAULT_CONN_ID,
    DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES,
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_TRIGGERER_GC_FREEZE,
)
from airflow_provider_music.exceptions import AirflowFailException, MusicProviderError, MusicTransientError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.integration import (
    EVENT_ERROR,
    EVENT_FAILED,
    EVENT_SUCCESS,
    EVENT_TIMEOUT,
    EventStatus,
    GenerationEvent,
    PollProgress,
    format_duration,
)
from airflow_provider_music.wire import generation_failure_text

__all__ = ["MusicGenerationTrigger", "freeze_heap_once"]

_heap_checked = False


def freeze_heap_once() -> bool:
    """
    ``gc.freeze()`` once per process, on the first run, only with ``[aimlapi] triggerer_gc_freeze = True``.

    Opt-in (default False): the triggerer's process is shared with every other provider's triggers,
    and this changes its garbage collector for all of them. A full collection walks every object of
    the triggerer (~170k here: Airflow itself), stopping every trigger for 100+ ms on a small
    machine; frozen objects are never walked again. One full collection runs first, so garbage of
    that moment is released rather than frozen. Objects alive then that later die in a reference
    cycle are not reclaimed: a one-time cost, bounded by the heap at that moment (Airflow's
    DAG-processor manager freezes its heap the same way). Returns whether it froze.
    """
    global _heap_checked
    if _heap_checked:
        return False
    _heap_checked = True
    # The triggerer's own configuration (Airflow core), read only here: a worker that builds this
    # trigger to defer never imports it.
    from airflow.configuration import conf

    if not conf.getboolean(CONFIG_SECTION, CONFIG_TRIGGERER_GC_FREEZE, fallback=DEFAULT_TRIGGERER_GC_FREEZE):
        return False
    import aiohttp  # noqa: F401  # the hook imports it lazily; load it first so it is frozen too

    # Collect first: garbage that exists now (connections, files, sockets in reference cycles) is
    # released normally instead of being frozen, and so held open, for the life of the process.
    gc.collect()
    gc.freeze()
    return True


class MusicGenerationTrigger(BaseTrigger):
    """
    Poll ``GET /v2/generate/audio`` until the generation is terminal, then fire exactly one event.

    Everything it needs is in its serialized arguments (no API key: the connection is fetched
    asynchronously when it runs), and the deadline is an absolute wall-clock time, so a triggerer
    restart neither resets nor extends the wait.

    It logs its progress at INFO (``integration.PollProgress``): each new status at once, otherwise a
    heartbeat at most once a minute, never a line per poll. Every event carries ``polls`` (status
    reads of this run) and ``waited_seconds`` (since ``started_at``).

    :param generation_id: The id returned when the generation was created.
    :param deadline: Unix time (seconds) after which the wait ends with a ``timeout`` event.
    :param conn_id: Airflow connection id of type ``aimlapi``.
    :param poll_interval: Seconds between polls; the first poll comes after 0.5 to 1 interval
        (jittered, so triggers resumed together do not poll together).
    :param max_consecutive_failures: Transient poll failures in a row (429, 5xx, resets, timeouts)
        tolerated before giving up with an ``error`` event; a successful poll resets the count.
    :param started_at: Unix time the wait began (for the timeout message); defaults to now.

    Transient poll failures are spaced by ``retry_policy`` (at least a poll interval apart): a
    ``RetryPolicy``, or None for the hook's (``MusicGenerationHook.retry_policy``). A class attribute,
    not an argument: a trigger's arguments are serialized, a policy object is not.
    """

    retry_policy: RetryPolicy | None = None

    def __init__(
        self,
        generation_id: str,
        deadline: float,
        conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.generation_id = generation_id
        self.deadline = float(deadline)
        self.conn_id = conn_id
        self.poll_interval = float(poll_interval)
        self.max_consecutive_failures = max(1, int(max_consecutive_failures))
        self.started_at = float(started_at) if started_at is not None else time.time()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and plain arguments: everything a triggerer needs to run it again after a restart."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "generation_id": self.generation_id,
                "deadline": self.deadline,
                "conn_id": self.conn_id,
                "poll_interval": self.poll_interval,
                "max_consecutive_failures": self.max_consecutive_failures,
                "started_at": self.started_at,
            },
        )

    def _event(
        self,
        status: EventStatus,
        progress: PollProgress,
        message: str | None = None,
        *,
        service_status: str | None = None,
        retryable: bool | None = None,
    ) -> TriggerEvent:
        """Every event has ``polls`` (status reads of this run) and ``waited_seconds`` (since started_at)."""
        event = GenerationEvent(
            status=status,
            generation_id=self.generation_id,
            polls=progress.polls,
            waited_seconds=round(progress.elapsed(), 1),
            message=message,
            service_status=service_status,
            retryable=retryable,
        )
        return TriggerEvent(event.to_payload())

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the generation is terminal or the deadline passes, then fire one event."""
        # One hook, so one HTTP client and one connection lookup, for the whole run; no inner
        # retries: this loop spaces transient failures by at least a poll interval itself.
        if freeze_heap_once():
            self.log.info(
                "Froze the heap for the garbage collector, once per triggerer process "
                "([aimlapi] triggerer_gc_freeze = True; the default, False, leaves the collector alone)"
            )
        # Wall-clock, from started_at: the time waited survives a triggerer restart (the polls
        # are this run's). A new status is logged at once, otherwise a line a minute at most.
        progress = PollProgress(self.generation_id, self.log, clock=time.time, started_at=self.started_at)
        remaining = self.deadline - time.time()
        if remaining > 0:
            self.log.info(
                "Waiting for generation %s: a status read every %s, for at most %s more",
                self.generation_id,
                format_duration(self.poll_interval),
                format_duration(remaining),
            )
        hook = MusicGenerationHook(self.conn_id, max_attempts=1, retry_policy=self.retry_policy)
        failures = 0
        # Spread the first polls: after a triggerer restart a thousand triggers start in the same
        # loop iteration, and polling all at once would stall the loop (and the API) together.
        delay = self.poll_interval * random.uniform(0.5, 1.0)
        try:
            while True:
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield self._event(
                        EVENT_TIMEOUT,
                        progress,
                        f"Generation {self.generation_id} was still pending after waiting "
                        f"{progress.elapsed():.0f}s ({progress.polls} polls); the deadline passed",
                    )
                    return
                await asyncio.sleep(min(delay, remaining))
                delay = self.poll_interval
                try:
                    generation = await hook.aget_generation(self.generation_id)
                except MusicTransientError as err:
                    progress.observe(None)
                    failures += 1
                    if failures >= self.max_consecutive_failures:
                        yield self._event(
                            EVENT_ERROR,
                            progress,
                            f"Gave up polling generation {self.generation_id} after {failures} consecutive "
                            f"transient failures; last: {err}",
                            retryable=True,
                        )
                        return
                    delay = max(self.poll_interval, hook.retry_policy.delay(failures, err.retry_after))
                    self.log.warning(
                        "Poll %d of %s failed (%s); %d/%d consecutive failures, next poll in %.1fs",
                        progress.polls, self.generation_id, err, failures, self.max_consecutive_failures,
                        delay,
                    )  # fmt: skip
                    continue
                except MusicProviderError as err:
                    progress.observe(None)
                    yield self._event(
                        EVENT_ERROR, progress, str(err), retryable=not isinstance(err, AirflowFailException)
                    )
                    return
                failures = 0
                progress.observe(generation.raw_status)
                if generation.status.is_pending():
                    continue
                if generation.status.is_success() and generation.audio_url:
                    yield self._event(EVENT_SUCCESS, progress)
                else:
                    yield self._event(
                        EVENT_FAILED,
                        progress,
                        generation_failure_text(generation),
                        service_status=generation.raw_status,
                    )
                return
        finally:
            await hook.aclose()
