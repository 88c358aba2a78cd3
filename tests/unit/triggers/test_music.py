"""The trigger, run in a real event loop against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from helpers import conn_json

from airflow_provider_music.clients import RetryPolicy
from airflow_provider_music.emulator import Emulator
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.triggers.music import MusicGenerationTrigger

pytestmark = pytest.mark.integration


# Generous: a run that should take a second still passes on a busy 2-core machine.
RUN_LIMIT_S = 120.0
EVENT_FIELDS = {"status", "generation_id", "polls", "waited_seconds"}
# Transient poll failures spaced by a hundredth of a second instead of the default backoff.
FAST_RETRIES = RetryPolicy(base_delay_s=0.01)


def _events(trigger: MusicGenerationTrigger, limit: float = RUN_LIMIT_S) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        out = []
        async for event in trigger.run():
            out.append(event.payload)
        return out

    return asyncio.run(asyncio.wait_for(collect(), limit))


def _trigger(gen_id: str, **kw: Any) -> MusicGenerationTrigger:
    args: dict[str, Any] = {
        "generation_id": gen_id,
        "deadline": time.time() + RUN_LIMIT_S,
        "poll_interval": 0.1,
    }
    args.update(kw)
    return MusicGenerationTrigger(**args)


@contextmanager
def _trigger_log() -> Iterator[list[tuple[str, str]]]:
    """(level, text) of what triggers log meanwhile (Airflow's trigger loggers are structlog's)."""
    with structlog.testing.capture_logs() as captured:
        lines: list[tuple[str, str]] = []
        yield lines
    lines.extend((str(e.get("log_level")), str(e.get("event"))) for e in captured)


def _progress_lines(log: list[tuple[str, str]], gen_id: str) -> list[str]:
    return [text for level, text in log if level == "info" and text.startswith(f"Generation {gen_id}:")]


def test_serialize_round_trip_holds_plain_values_and_no_key(emulator: Emulator) -> None:
    trigger = _trigger("a:b/c", conn_id="aimlapi_default", max_consecutive_failures=4, started_at=5.0)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_music.triggers.music.MusicGenerationTrigger"
    assert all(isinstance(v, (str, int, float)) for v in kwargs.values())
    assert "emu-test-key" not in repr(kwargs)
    again = MusicGenerationTrigger(**kwargs)
    assert again.serialize() == (path, kwargs)
    assert again.deadline == trigger.deadline  # an absolute time: a restart keeps it


def test_success_is_one_event(emulator: Emulator) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    events = _events(_trigger(gen_id))
    assert len(events) == 1
    assert events[0]["status"] == "success"
    assert events[0]["generation_id"] == gen_id
    assert set(events[0]) == EVENT_FIELDS
    assert "url" not in repr(events[0]).lower()  # signed URLs stay out of the trigger table and logs


def test_progress_is_logged_on_each_status_change(emulator: Emulator) -> None:
    """Statuses scripted per poll (emulator faults), so the lines do not depend on timing."""
    emulator.configure(generation_seconds=0)  # completed once the scripted polls are used up
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults(
        [
            {"target": "get", "action": "waiting", "status": "queued", "times": 2},
            {"target": "get", "action": "never_complete", "times": 3},  # generating
        ]
    )
    started = time.time()
    with _trigger_log() as log:
        events = _events(_trigger(gen_id, poll_interval=0.01, started_at=started))
    lines = _progress_lines(log, gen_id)
    assert [line.rsplit(" after ", 1)[0] for line in lines] == [
        f"Generation {gen_id}: queued",
        f"Generation {gen_id}: queued -> generating",
        f"Generation {gen_id}: generating -> completed",
    ], log
    assert [line.rsplit(", ", 1)[1] for line in lines] == ["1 poll", "3 polls", "6 polls"]
    waiting = [t for level, t in log if level == "info" and t.startswith(f"Waiting for generation {gen_id}")]
    assert len(waiting) == 1, log
    assert "a status read every 0 s" in waiting[0], log
    (event,) = events
    assert event["status"] == "success"
    assert event["polls"] == 6
    assert 0 <= event["waited_seconds"] <= time.time() - started + 0.1
    assert emulator.stats()["gets"] == 6


def test_unchanged_polls_do_not_log_each(emulator: Emulator) -> None:
    """Forty polls of one status: the status line, then at most a heartbeat a minute, however long it took."""
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "never_complete", "times": 40}])
    started = time.monotonic()
    with _trigger_log() as log:
        events = _events(_trigger(gen_id, poll_interval=0.01))
    elapsed = time.monotonic() - started
    lines = _progress_lines(log, gen_id)
    assert events[0]["polls"] == 41
    # "generating", then "generating -> completed"; heartbeats only if the machine took minutes.
    assert 2 <= len(lines) <= 2 + math.ceil(elapsed / 60), lines
    assert all(level != "debug" or gen_id not in text for level, text in log), "a line per poll"
    assert lines[0].endswith(", 1 poll")
    assert lines[-1].endswith(", 41 polls")


@pytest.mark.parametrize("kind", ["success", "failed", "timeout", "error-fatal", "error-transient", "past"])
def test_every_event_carries_polls_and_time_waited(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(MusicGenerationTrigger, "retry_policy", FAST_RETRIES)
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p")
    started = time.time() - 30  # the wait began before this run (a triggerer restart)
    kw: dict[str, Any] = {"poll_interval": 0.01, "started_at": started}
    expected_polls = 1
    if kind == "failed":
        emulator.add_faults([{"target": "get", "action": "generation_error", "times": -1}])
    elif kind == "timeout":
        emulator.add_faults([{"target": "get", "action": "never_complete", "times": -1}])
        kw["deadline"] = time.time() + 0.3
        expected_polls = -1  # as many as fit before the deadline (none on a very busy machine)
    elif kind == "error-fatal":
        monkeypatch.setenv("AIRFLOW_CONN_BADKEY", conn_json(emulator.base_url, key="nope-nope-nope"))
        kw["conn_id"] = "badkey"
    elif kind == "error-transient":
        emulator.add_faults([{"target": "get", "action": "status", "code": 503, "times": -1}])
        kw["max_consecutive_failures"] = 2
        expected_polls = 2
    elif kind == "past":
        kw["deadline"] = time.time() - 1
        expected_polls = 0
    (event,) = _events(_trigger(gen_id, **kw))
    assert set(event) >= EVENT_FIELDS, event
    assert event["status"] == kind.split("-")[0].replace("past", "timeout"), event
    assert isinstance(event["polls"], int)
    assert isinstance(event["waited_seconds"], float)
    if expected_polls >= 0:
        assert event["polls"] == expected_polls, event
    else:
        assert event["polls"] >= 0, event
    assert 30 <= event["waited_seconds"] <= time.time() - started + 0.1, event


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"name": "GenerationError", "message": "model fell over"}, "model fell over"),
        (
            {"detail": [{"loc": ["body", "prompt"], "msg": "unsafe content", "type": "value_error"}]},
            "unsafe content",
        ),
        ("plain failure text", "plain failure text"),
    ],
)
def test_error_status_carries_the_service_message(emulator: Emulator, payload: object, needle: str) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "generation_error", "payload": payload, "times": -1}])
    events = _events(_trigger(gen_id))
    assert [e["status"] for e in events] == ["failed"]
    assert needle in events[0]["message"]
    assert gen_id in events[0]["message"]


def test_unknown_status_ends_the_wait(emulator: Emulator) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "unknown_status", "status": "mystery", "times": -1}])
    events = _events(_trigger(gen_id))
    assert events[0]["status"] == "failed"
    assert "mystery" in events[0]["message"]


def test_completed_without_url_is_a_failure(emulator: Emulator) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.configure(generation_seconds=0)
    emulator.add_faults([{"target": "get", "action": "no_audio_url", "times": -1}])
    events = _events(_trigger(gen_id))
    assert events[0]["status"] == "failed"
    assert "no audio URL" in events[0]["message"]


def test_timeout_names_the_id_and_the_wait(emulator: Emulator) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "never_complete", "times": -1}])
    started = time.time()
    events = _events(_trigger(gen_id, deadline=started + 0.6, started_at=started))
    finished = time.time()
    assert [e["status"] for e in events] == ["timeout"]
    assert gen_id in events[0]["message"]
    assert "waiting" in events[0]["message"]
    # Not before the deadline; after it, however long a busy machine took (no upper guess).
    assert 0.6 - 0.05 <= events[0]["waited_seconds"] <= finished - started + 0.05
    assert f"({events[0]['polls']} polls)" in events[0]["message"]


def test_deadline_in_the_past_fires_without_polling(emulator: Emulator) -> None:
    events = _events(_trigger("x:elevenlabs/eleven_music", deadline=time.time() - 1))
    assert events[0]["status"] == "timeout"
    assert emulator.stats()["gets"] == 0


def test_transient_failures_are_absorbed_then_counted(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MusicGenerationTrigger, "retry_policy", FAST_RETRIES)
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "status", "code": 502, "times": 2}])
    assert _events(_trigger(gen_id, max_consecutive_failures=3))[0]["status"] == "success"
    emulator.add_faults([{"target": "get", "action": "status", "code": 503, "times": -1}])
    events = _events(_trigger(gen_id, max_consecutive_failures=3))
    assert events[0]["status"] == "error"
    assert events[0]["retryable"] is True
    assert "3 consecutive" in events[0]["message"]


def test_bad_key_is_a_non_retryable_error(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BADKEY", conn_json(emulator.base_url, key="nope-nope-nope"))
    events = _events(_trigger("x:elevenlabs/eleven_music", conn_id="badkey"))
    assert events[0]["status"] == "error"
    assert events[0]["retryable"] is False
    assert "401" in events[0]["message"]
    assert "nope-nope-nope" not in repr(events)


def test_run_never_blocks_the_event_loop(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    """
    asyncio's debug mode reports every callback that holds the loop; the triggerer's watchdog would too.

    The first status answer is held 3 s by the emulator: a blocking read would hold the loop at least
    that long, while the 2 s threshold leaves a busy machine's scheduling noise far below it.
    """
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "delay", "seconds": 3.0, "times": 1}])
    trigger = _trigger(gen_id)

    async def collect() -> list[Any]:
        loop = asyncio.get_running_loop()
        loop.slow_callback_duration = 2.0
        return [event async for event in trigger.run()]

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        events = asyncio.run(collect(), debug=True)
    assert events[0].payload["status"] == "success"
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert slow == []


_FREEZE_CHILD = """
import asyncio, gc, sys, time
from airflow_provider_music.triggers.music import MusicGenerationTrigger
released = []
class Holder:  # stands for a connection or a file left in a reference cycle
    def __del__(self):
        released.append(True)
gc.disable()  # so only an explicit collection can release it
holder = Holder()
holder.cycle = holder
del holder
async def main():
    for _ in range(2):
        trigger = MusicGenerationTrigger(sys.argv[1], deadline=time.time() + 300, poll_interval=0.1)
        async for event in trigger.run():
            assert event.payload["status"] == "success", event.payload
            break
asyncio.run(main())
print("RELEASED", len(released))
print("FROZEN", gc.get_freeze_count())
"""


@pytest.mark.parametrize(("setting", "frozen"), [(None, False), ("False", False), ("True", True)])
def test_gc_freeze_is_off_by_default_and_on_through_airflow_config(
    emulator: Emulator, setting: str | None, frozen: bool
) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    env = dict(os.environ)
    env.pop("AIRFLOW__AIMLAPI__TRIGGERER_GC_FREEZE", None)
    if setting is not None:
        env["AIRFLOW__AIMLAPI__TRIGGERER_GC_FREEZE"] = setting
    out = subprocess.run(
        [sys.executable, "-c", _FREEZE_CHILD, gen_id], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    count = int(out.stdout.split("FROZEN")[-1])
    assert (count > 10_000) is frozen, count
    # Garbage that exists at that moment is collected first, not frozen (and so held for good).
    assert ("RELEASED 1" in out.stdout) is frozen, out.stdout


def test_gc_freeze_option_is_registered_with_airflow() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "config", "get-value", "aimlapi", "triggerer_gc_freeze"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Opt-in: the triggerer's collector is shared with every other provider's triggers.
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]
