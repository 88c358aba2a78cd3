"""
The event a trigger fires when its wait ends, as one typed value shared by the trigger and the tasks.

The payload Airflow stores (and hands to ``execute_complete``) is a plain dict; ``GenerationEvent``
is the one place that knows its keys: the trigger builds one and sends ``to_payload()``, a resumed
task reads it back with ``from_payload()``. The dict is exactly what earlier versions sent, so events
of triggers that were running during an upgrade are still understood. Kept out of the trigger module
so that resuming a task on a worker does not import the trigger and its HTTP client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from airflow_provider_music.exceptions import (
    MusicGenerationFailed,
    MusicProviderError,
    MusicRejectedError,
    MusicTimeoutError,
    MusicTransientError,
)
from airflow_provider_music.integration._progress import format_duration, polls_text

EventStatus = Literal["success", "failed", "timeout", "error"]

EVENT_SUCCESS: Final = "success"  # the generation completed with an audio URL
EVENT_FAILED: Final = "failed"  # it ended in `error`, an unknown status, or without audio
EVENT_TIMEOUT: Final = "timeout"  # the wall-clock deadline passed while it was pending
EVENT_ERROR: Final = "error"  # the API could not be asked (bad key, too many transient faults)
#: The statuses a trigger event can carry; anything else is refused.
KNOWN_EVENT_STATUSES: Final = frozenset({EVENT_SUCCESS, EVENT_FAILED, EVENT_TIMEOUT, EVENT_ERROR})

_OUTCOMES: Final = {
    EVENT_SUCCESS: "completed",
    EVENT_FAILED: "failed",
    EVENT_TIMEOUT: "still pending at the deadline",
    EVENT_ERROR: "could not be polled",
}


@dataclass(frozen=True)
class GenerationEvent:
    """
    What a trigger reports about one generation when its wait ends.

    ``status`` is one of ``KNOWN_EVENT_STATUSES`` in every event a trigger of this provider fires;
    read back from a payload it is whatever string the payload held (``known`` tells). The other
    fields are None when the payload did not carry them (an older trigger, or a foreign event):
    ``polls`` (status reads of this triggerer run) and ``waited_seconds`` (since the wait began) are
    in every event of this version; ``message`` in all but success; ``service_status`` (the
    generation's own status) with ``failed``; ``retryable`` (whether a retry of the task can help)
    with ``error``.
    """

    status: str
    generation_id: str | None = None
    polls: int | None = None
    waited_seconds: float | None = None
    message: str | None = None
    service_status: str | None = None
    retryable: bool | None = None

    @property
    def known(self) -> bool:
        """Whether ``status`` is one a trigger of this provider fires."""
        return self.status in KNOWN_EVENT_STATUSES

    def to_payload(self) -> dict[str, Any]:
        """The dict a ``TriggerEvent`` carries: the fields that are set, with the keys of every version."""
        payload: dict[str, Any] = {"status": self.status, "generation_id": self.generation_id}
        if self.polls is not None:
            payload["polls"] = self.polls
        if self.waited_seconds is not None:
            payload["waited_seconds"] = self.waited_seconds
        if self.message is not None:
            payload["message"] = self.message
        if self.service_status is not None:
            payload["service_status"] = self.service_status
        if self.retryable is not None:
            payload["retryable"] = self.retryable
        return payload

    @classmethod
    def from_payload(cls, payload: object) -> GenerationEvent | None:
        """
        The event a payload describes; None when it is not a mapping with a string ``status``.

        Never raises: a field of the wrong type reads as not reported (None).
        """
        if not isinstance(payload, Mapping) or not isinstance(payload.get("status"), str):
            return None
        return _read(payload, payload["status"])


def _read(payload: Mapping[Any, Any], status: str) -> GenerationEvent:
    """The fields of ``payload`` with ``status``; a field of the wrong type reads as not reported."""
    generation_id = payload.get("generation_id")
    service_status = payload.get("service_status")
    return GenerationEvent(
        status=status,
        generation_id=None if generation_id is None else str(generation_id),
        polls=_count(payload.get("polls")),
        waited_seconds=_seconds(payload.get("waited_seconds")),
        message=str(payload["message"]) if payload.get("message") else None,
        service_status=None if service_status is None else str(service_status),
        retryable=bool(payload["retryable"]) if "retryable" in payload else None,
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def resume_summary(event: object) -> str:
    """
    One line for the task log when it resumes from the trigger: outcome, time waited, polls.

    Never raises (``raise_for_event`` judges the event); fields an older trigger did not send are
    said to be unknown rather than guessed.
    """
    if not isinstance(event, Mapping):
        return f"Resumed with an event of type {type(event).__name__}, not a trigger event of this provider"
    raw_status = event.get("status")
    parsed = _read(event, raw_status if isinstance(raw_status, str) else "")
    outcome = _OUTCOMES.get(parsed.status, f"unknown event status {raw_status!r}")
    if parsed.status == EVENT_FAILED and parsed.service_status:
        outcome += f" (service status {parsed.service_status!r})"
    if parsed.status == EVENT_ERROR and parsed.retryable is not None:
        outcome += " (retryable)" if parsed.retryable else " (not retryable)"
    waited = (
        format_duration(parsed.waited_seconds) if parsed.waited_seconds is not None else "an unreported time"
    )
    polls = polls_text(parsed.polls) if parsed.polls is not None else "an unreported number of polls"
    return (
        f"Generation {parsed.generation_id or '?'}: {outcome} after waiting {waited}, {polls} (trigger event)"
    )


def raise_for_event(event: object, generation_id: str) -> None:
    """Return quietly for a success event about ``generation_id``; raise the matching error otherwise."""
    parsed = GenerationEvent.from_payload(event)
    if parsed is None or not parsed.known:
        status = event.get("status") if isinstance(event, Mapping) else type(event).__name__
        raise MusicProviderError(f"Resumed with an unknown trigger event status {status!r}; refusing it")
    if parsed.generation_id not in (None, generation_id):
        raise MusicProviderError(
            f"Resumed with an event for generation {parsed.generation_id!r}, expected {generation_id!r}"
        )
    message = parsed.message or f"generation {generation_id}: {parsed.status}"
    if parsed.status == EVENT_SUCCESS:
        return
    if parsed.status == EVENT_FAILED:
        raise MusicGenerationFailed(
            message,
            generation_id=generation_id,
            status=parsed.service_status if parsed.service_status is not None else "error",
        )
    if parsed.status == EVENT_TIMEOUT:
        raise MusicTimeoutError(message)
    # EVENT_ERROR: the trigger says whether retrying can help.
    if parsed.retryable is None or parsed.retryable:
        raise MusicTransientError(message)
    raise MusicRejectedError(message)
