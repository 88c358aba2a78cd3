"""The one retry policy (equal-jitter backoff, Retry-After, attempts) and the one bounded body."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from airflow_provider_music.clients import BoundedBody, RetryPolicy
from airflow_provider_music.exceptions import MusicTransientError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.wire import build_status_request


def test_retry_after_replaces_the_backoff_and_the_backoff_is_bounded() -> None:
    policy = RetryPolicy()
    assert policy.delay(1, retry_after=7.5) == 7.5
    assert all(0.5 <= policy.delay(1) <= 1.0 for _ in range(50))
    assert all(policy.delay(20) <= 30.0 for _ in range(50))


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 10])
def test_equal_jitter_never_retries_at_once(attempt: int) -> None:
    # ceiling = min(max, base * 2 ** (attempt - 1)); the wait is drawn from [ceiling / 2, ceiling].
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=30.0)
    ceiling = min(30.0, 2.0 ** (attempt - 1))
    delays = [policy.delay(attempt) for _ in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_retry_after_can_be_ignored() -> None:
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.01, honour_retry_after=False)
    assert policy.delay(1, retry_after=60.0) <= 0.01


def test_attempts_are_counted_by_the_policy() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.01)
    err = MusicTransientError("503", retry_after=None)
    assert policy.next_delay(1, err) is not None
    assert policy.next_delay(2, err) is not None
    assert policy.next_delay(3, err) is None
    assert policy.next_delay(1, MusicTransientError("429", retry_after=2.0)) == 2.0
    assert RetryPolicy(max_attempts=0).max_attempts == 1
    assert policy.with_attempts(7) == RetryPolicy(max_attempts=7, base_delay_s=0.01)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 9  # type: ignore[misc]


def test_the_retry_line_names_the_attempt_and_the_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    policy = RetryPolicy(max_attempts=4)
    policy.log_retry(
        logging.getLogger("retry-test"), 2, build_status_request("http://h", "g"), ValueError("x"), 1.5
    )
    assert "Attempt 2/4 of GET status failed (x); retrying in 1.5s" in caplog.text


def test_the_hook_uses_an_injected_policy_or_the_class_default(monkeypatch: pytest.MonkeyPatch) -> None:
    injected = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    assert MusicGenerationHook(retry_policy=injected).retry_policy is injected
    assert MusicGenerationHook(retry_policy=injected, max_attempts=3).max_attempts == 3
    assert MusicGenerationHook().retry_policy == RetryPolicy()
    assert MusicGenerationHook().max_attempts == 5
    assert MusicGenerationHook(max_attempts=0).max_attempts == 1
    monkeypatch.setattr(MusicGenerationHook, "retry_policy", injected)
    assert MusicGenerationHook().retry_policy is injected


def test_a_bounded_body_is_cut_at_its_limit() -> None:
    body = BoundedBody(limit=10)
    assert body.add(b"12345") is False
    assert body.add(b"6789") is False
    assert body.add(b"abcdef") is True
    assert body.full
    assert body.value() == b"123456789a"
    assert BoundedBody(limit=10).value() == b""
