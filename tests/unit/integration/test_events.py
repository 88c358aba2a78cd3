"""
``integration.GenerationEvent``: the trigger's event as one typed value, its payload unchanged, and what
a resumed task makes of a payload (``raise_for_event``, ``resume_summary``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_music.exceptions import (
    AirflowFailException,
    MusicGenerationFailed,
    MusicProviderError,
    MusicRejectedError,
    MusicTimeoutError,
    MusicTransientError,
)
from airflow_provider_music.integration import (
    EVENT_ERROR,
    EVENT_FAILED,
    EVENT_SUCCESS,
    EVENT_TIMEOUT,
    KNOWN_EVENT_STATUSES,
    GenerationEvent,
    raise_for_event,
    resume_summary,
)

GEN = "4f1c:elevenlabs/eleven_music"


def test_the_statuses_are_the_strings_of_every_version() -> None:
    assert (EVENT_SUCCESS, EVENT_FAILED, EVENT_TIMEOUT, EVENT_ERROR) == (
        "success",
        "failed",
        "timeout",
        "error",
    )
    assert {"success", "failed", "timeout", "error"} == KNOWN_EVENT_STATUSES


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        (
            GenerationEvent(EVENT_SUCCESS, GEN, polls=3, waited_seconds=12.2),
            {"status": "success", "generation_id": GEN, "polls": 3, "waited_seconds": 12.2},
        ),
        (
            GenerationEvent(
                EVENT_FAILED, GEN, polls=1, waited_seconds=0.5, message="m", service_status="error"
            ),
            {
                "status": "failed",
                "generation_id": GEN,
                "polls": 1,
                "waited_seconds": 0.5,
                "message": "m",
                "service_status": "error",
            },
        ),
        (
            GenerationEvent(EVENT_TIMEOUT, GEN, polls=0, waited_seconds=30.0, message="late"),
            {
                "status": "timeout",
                "generation_id": GEN,
                "polls": 0,
                "waited_seconds": 30.0,
                "message": "late",
            },
        ),
        (
            GenerationEvent(EVENT_ERROR, GEN, polls=2, waited_seconds=1.0, message="503s", retryable=True),
            {
                "status": "error",
                "generation_id": GEN,
                "polls": 2,
                "waited_seconds": 1.0,
                "message": "503s",
                "retryable": True,
            },
        ),
        (
            GenerationEvent(EVENT_ERROR, GEN, polls=0, waited_seconds=0.0, message="401", retryable=False),
            {
                "status": "error",
                "generation_id": GEN,
                "polls": 0,
                "waited_seconds": 0.0,
                "message": "401",
                "retryable": False,
            },
        ),
    ],
)
def test_the_payload_is_the_plain_dict_of_every_version_and_reads_back(
    event: GenerationEvent, payload: dict[str, Any]
) -> None:
    assert event.to_payload() == payload
    assert list(event.to_payload()) == list(payload)  # the keys in the order triggers always sent them
    assert GenerationEvent.from_payload(payload) == event
    assert event.known


def test_a_payload_of_an_older_trigger_reads_with_its_fields_unreported() -> None:
    event = GenerationEvent.from_payload({"status": "success", "generation_id": GEN})
    assert event == GenerationEvent(EVENT_SUCCESS, GEN)
    assert event is not None
    assert event.polls is None
    assert event.waited_seconds is None


@pytest.mark.parametrize("payload", [None, [], "success", {"generation_id": GEN}, {"status": 5}])
def test_what_is_not_a_trigger_event_reads_as_none(payload: object) -> None:
    assert GenerationEvent.from_payload(payload) is None


def test_an_unknown_status_reads_back_but_is_not_known() -> None:
    event = GenerationEvent.from_payload({"status": "surprise", "generation_id": GEN})
    assert event is not None
    assert event.status == "surprise"
    assert not event.known


def test_fields_of_the_wrong_type_read_as_unreported() -> None:
    event = GenerationEvent.from_payload({"status": "success", "polls": True, "waited_seconds": "12"})
    assert event == GenerationEvent(EVENT_SUCCESS, None)


# --- raise_for_event: what a resumed task does with the payload ---------------------------------------


def test_success_for_the_generation_waited_for_returns_quietly() -> None:
    raise_for_event({"status": "success", "generation_id": GEN}, GEN)
    raise_for_event({"status": "success"}, GEN)  # an event without an id is not someone else's


@pytest.mark.parametrize(
    ("event", "error", "fails_fast"),
    [
        ({"status": "failed", "message": "boom"}, MusicGenerationFailed, True),
        ({"status": "timeout", "message": "late"}, MusicTimeoutError, False),
        ({"status": "error", "message": "503s", "retryable": True}, MusicTransientError, False),
        ({"status": "error", "message": "503s"}, MusicTransientError, False),  # retryable when unsaid
        ({"status": "error", "message": "401", "retryable": False}, MusicRejectedError, True),
        ({"status": "surprise"}, MusicProviderError, False),
        ({"status": "success", "generation_id": "someone-else"}, MusicProviderError, False),
        (None, MusicProviderError, False),
    ],
)
def test_raise_for_event_refuses_what_is_not_success(
    event: dict[str, object] | None, error: type, fails_fast: bool
) -> None:
    if event is not None:
        event.setdefault("generation_id", "g")
    with pytest.raises(error) as info:
        raise_for_event(event, "g")
    assert isinstance(info.value, AirflowFailException) is fails_fast


def test_refusals_name_what_was_wrong() -> None:
    with pytest.raises(MusicProviderError, match=r"unknown trigger event status 'surprise'; refusing it"):
        raise_for_event({"status": "surprise"}, "g")
    with pytest.raises(MusicProviderError, match=r"unknown trigger event status 'NoneType'"):
        raise_for_event(None, "g")
    with pytest.raises(MusicProviderError, match=r"generation 'other', expected 'g'"):
        raise_for_event({"status": "success", "generation_id": "other"}, "g")


def test_a_failed_event_carries_the_generation_and_its_service_status() -> None:
    with pytest.raises(MusicGenerationFailed, match="boom") as info:
        raise_for_event({"status": "failed", "message": "boom", "service_status": "mystery"}, "g")
    assert (info.value.generation_id, info.value.status) == ("g", "mystery")
    with pytest.raises(MusicGenerationFailed, match="generation g: failed") as info:
        raise_for_event({"status": "failed"}, "g")  # no message, no service status: both defaulted
    assert info.value.status == "error"


# --- resume_summary: the one line a resumed task logs ---------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"status": "success", "generation_id": GEN, "polls": 20, "waited_seconds": 192.4},
            f"Generation {GEN}: completed after waiting 3 min 12 s, 20 polls (trigger event)",
        ),
        (
            {
                "status": "failed",
                "generation_id": GEN,
                "message": "m",
                "service_status": "error",
                "polls": 5,
                "waited_seconds": 45.0,
            },
            f"Generation {GEN}: failed (service status 'error') after waiting 45 s, 5 polls (trigger event)",
        ),
        (
            {"status": "timeout", "generation_id": GEN, "message": "m", "polls": 180, "waited_seconds": 1800},
            f"Generation {GEN}: still pending at the deadline after waiting 30 min 00 s, 180 polls "
            "(trigger event)",
        ),
        (
            {"status": "error", "generation_id": GEN, "retryable": True, "polls": 1, "waited_seconds": 9.6},
            f"Generation {GEN}: could not be polled (retryable) after waiting 10 s, 1 poll (trigger event)",
        ),
        (
            {"status": "error", "generation_id": GEN, "retryable": False, "polls": 0, "waited_seconds": 0},
            f"Generation {GEN}: could not be polled (not retryable) after waiting 0 s, 0 polls "
            "(trigger event)",
        ),
        (  # from a trigger of an older version: the fields are missing, and said to be
            {"status": "success", "generation_id": GEN},
            f"Generation {GEN}: completed after waiting an unreported time, an unreported number of polls "
            "(trigger event)",
        ),
    ],
)
def test_resume_summary(event: dict[str, Any], expected: str) -> None:
    assert resume_summary(event) == expected


def test_resume_summary_of_something_else() -> None:
    assert "NoneType" in resume_summary(None)
    assert "unknown event status 'weird'" in resume_summary({"status": "weird", "generation_id": GEN})


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.one_of(
        _json,
        st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["success", "failed", "timeout", "error"]) | _json,
                "generation_id": _json,
                "polls": _json,
                "waited_seconds": _json,
                "service_status": _json,
                "retryable": _json,
                "message": _json,
            },
        ),
    )
)
def test_resume_summary_never_raises(event: object) -> None:
    """Whatever the event holds (``raise_for_event`` judges it afterwards), the summary is one line."""
    text = resume_summary(event)
    assert isinstance(text, str)
    assert text.startswith(("Generation ", "Resumed with"))
