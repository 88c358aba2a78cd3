"""``integration`` deferral helpers: the wait's settings, the trigger's arguments, the deferrable default."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.integration import default_deferrable, trigger_kwargs, validate_wait
from airflow_provider_music.version_compat import conf


def test_the_wait_is_positive_seconds() -> None:
    assert validate_wait(7, timedelta(minutes=2)) == (7.0, 120.0)
    assert validate_wait(timedelta(seconds=0.5), 1.5) == (0.5, 1.5)


@pytest.mark.parametrize(
    ("poll_interval", "timeout", "needle"),
    [
        (0, 10, "poll_interval must be a positive number of seconds, got 0"),
        (True, 10, "poll_interval"),
        ("5", 10, "poll_interval"),
        (5, -1, "timeout must be a positive number of seconds, got -1"),
        (5, timedelta(0), "timeout"),
    ],
)
def test_a_nonsensical_wait_is_refused(poll_interval: object, timeout: object, needle: str) -> None:
    with pytest.raises(MusicInputError, match=needle):
        validate_wait(poll_interval, timeout)


def test_the_trigger_s_deadline_is_fixed_now_as_wall_clock_time() -> None:
    before = time.time()
    args = trigger_kwargs("g:m", "conn", 7.0, 600.0, 4)
    after = time.time()
    assert before <= args["started_at"] <= after
    assert args["deadline"] == args["started_at"] + 600.0
    assert {k: v for k, v in args.items() if k not in ("deadline", "started_at")} == {
        "generation_id": "g:m",
        "conn_id": "conn",
        "poll_interval": 7.0,
        "max_consecutive_failures": 4,
    }


def test_deferrable_unless_the_deployment_explicitly_said_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    assert default_deferrable() is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "false")
    assert default_deferrable() is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "true")
    assert default_deferrable() is True


def test_a_false_written_into_airflow_cfg_is_not_an_explicit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """`airflow db migrate` writes `default_deferrable = false` into every airflow.cfg."""
    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", raising=False)
    conf.set("operators", "default_deferrable", "False")
    try:
        assert default_deferrable() is True
    finally:
        conf.remove_option("operators", "default_deferrable")
