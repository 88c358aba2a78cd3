"""
``integration.PollProgress`` and ``format_duration``: what a wait tells the task log.

Time is an injected clock here, never real waiting: a thousand polls over hours run in milliseconds
and the bounds below hold on any machine.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_music.defaults import PROGRESS_HEARTBEAT_S
from airflow_provider_music.integration import PollProgress, format_duration, polls_text

GEN = "4f1c:elevenlabs/eleven_music"
LOGGER = "test.progress"


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """The INFO lines of ``LOGGER`` as they are emitted (the list fills while the test runs)."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    out: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            assert record.levelno == logging.INFO, record  # progress is INFO, nothing else
            out.append(record.getMessage())

    handler = Collect()
    logging.getLogger(LOGGER).addHandler(handler)
    yield out
    logging.getLogger(LOGGER).removeHandler(handler)


def _progress(clock: Clock, **kw: Any) -> PollProgress:
    return PollProgress(GEN, logging.getLogger(LOGGER), clock=clock, **kw)


def test_each_new_status_is_one_line_with_time_and_polls(lines: list[str]) -> None:
    clock = Clock()
    progress = _progress(clock)
    for at, status in (
        (5, "queued"),
        (10, "queued"),
        (12, "generating"),
        (20, "generating"),
        (31, "completed"),
    ):
        clock.now = 1000.0 + at
        progress.observe(status)
    assert lines == [
        f"Generation {GEN}: queued after 5 s, 1 poll",
        f"Generation {GEN}: queued -> generating after 12 s, 3 polls",
        f"Generation {GEN}: generating -> completed after 31 s, 5 polls",
    ]
    assert progress.polls == 5
    assert progress.elapsed() == 31.0
    assert progress.status == "completed"


def test_default_heartbeat_is_a_minute() -> None:
    assert PROGRESS_HEARTBEAT_S == 60.0
    assert PollProgress(GEN, logging.getLogger(LOGGER)).heartbeat_s == 60.0


@pytest.mark.parametrize("interval", [0.2, 1.0, 10.0, 59.0, 61.0, 300.0])
def test_no_line_per_poll_while_nothing_changes(lines: list[str], interval: float) -> None:
    """A thousand unchanged polls: one line for the status, then at most one a minute."""
    clock = Clock()
    progress = _progress(clock)
    n = 1000
    times = []
    for _ in range(n):
        clock.now += interval
        before = len(lines)
        progress.observe("generating")
        if len(lines) > before:
            times.append(clock.now)
    elapsed = progress.elapsed()
    assert elapsed == pytest.approx(n * interval)
    assert len(lines) <= math.ceil(elapsed / 60) + 2, (len(lines), elapsed)
    assert all(b - a >= 60 for a, b in itertools.pairwise(times)), "two lines within a minute"
    assert lines[0] == f"Generation {GEN}: generating after {format_duration(interval)}, 1 poll"
    heartbeats = lines[1:]
    assert all(" still generating after " in line for line in heartbeats)
    # ... and the wait does not look hung: a line at the first poll a minute after the last one.
    assert len(lines) >= math.floor(elapsed / (60 + interval)), (len(lines), elapsed)


def test_heartbeat_counts_time_and_polls_since_the_start(lines: list[str]) -> None:
    clock = Clock()
    progress = _progress(clock)
    for _ in range(19):  # every 10 s: lines at 10 s (new status), then at 70 s and 130 s
        clock.now += 10
        progress.observe("generating")
    assert lines == [
        f"Generation {GEN}: generating after 10 s, 1 poll",
        f"Generation {GEN}: still generating after 1 min 10 s, 7 polls",
        f"Generation {GEN}: still generating after 2 min 10 s, 13 polls",
        f"Generation {GEN}: still generating after 3 min 10 s, 19 polls",
    ]


def test_a_flapping_status_is_bounded_too(lines: list[str]) -> None:
    """A service that alternates between pending statuses cannot make it log every poll."""
    clock = Clock()
    progress = _progress(clock)
    for i in range(1000):
        clock.now += 2
        progress.observe("waiting" if i % 2 == 0 else "active")
    elapsed = progress.elapsed()
    assert len(lines) <= 2 + math.ceil(elapsed / 60) + 1, len(lines)
    assert lines[:2] == [
        f"Generation {GEN}: waiting after 2 s, 1 poll",
        f"Generation {GEN}: waiting -> active after 4 s, 2 polls",
    ]
    assert "more status changes since the last line" in lines[2]


def test_a_return_to_an_earlier_status_waits_for_the_heartbeat(lines: list[str]) -> None:
    clock = Clock()
    progress = _progress(clock)
    for at, status in ((10, "queued"), (20, "generating"), (30, "queued"), (40, "queued"), (90, "queued")):
        clock.now = 1000.0 + at
        progress.observe(status)
    assert lines == [
        f"Generation {GEN}: queued after 10 s, 1 poll",
        f"Generation {GEN}: queued -> generating after 20 s, 2 polls",
        f"Generation {GEN}: still queued after 1 min 30 s, 5 polls "
        "(1 more status change since the last line)",
    ]


def test_an_odd_status_is_one_short_line(lines: list[str]) -> None:
    clock = Clock()
    progress = _progress(clock)
    clock.now += 1
    progress.observe("gen\nerating\x1b[31m" + "x" * 500)
    (line,) = lines
    assert "\n" not in line, line
    assert "\x1b" not in line, line
    assert len(line) < 200, line
    assert line.startswith(f"Generation {GEN}: gen?erating?[31mxxx")


def test_failed_polls_count_but_log_nothing(lines: list[str]) -> None:
    clock = Clock()
    progress = _progress(clock)
    for _ in range(3):
        clock.now += 100
        progress.observe(None)
    assert lines == []
    assert progress.polls == 3
    clock.now += 10
    progress.observe("generating")
    assert lines == [f"Generation {GEN}: generating after 5 min 10 s, 4 polls"]


def test_time_waited_runs_from_started_at(lines: list[str]) -> None:
    """The trigger passes its wall-clock ``started_at``: a triggerer restart keeps the time waited."""
    clock = Clock(now=50_000.0)
    progress = _progress(clock, started_at=50_000.0 - 600)
    clock.now += 7
    progress.observe("generating")
    assert lines == [f"Generation {GEN}: generating after 10 min 07 s, 1 poll"]
    assert progress.elapsed() == 607.0
    # A started_at ahead of the clock (skew between machines) is no negative wait.
    assert _progress(Clock(now=10.0), started_at=99.0).elapsed() == 0.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.4, "0 s"),
        (12.2, "12 s"),
        (59.6, "1 min 00 s"),
        (65, "1 min 05 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 00 min"),
        (7620, "2 h 07 min"),
        (-5, "0 s"),
        (float("nan"), "0 s"),
        (float("inf"), "0 s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_polls_text() -> None:
    assert polls_text(1) == "1 poll"
    assert polls_text(0) == "0 polls"
    assert polls_text(7) == "7 polls"
