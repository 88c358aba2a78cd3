"""The manifest: what it says a generation cost, and where its sidecar sits."""

from __future__ import annotations

from airflow.sdk import ObjectStoragePath

from airflow_provider_music.delivery import describe_usage, sidecar_path


def test_describe_usage() -> None:
    assert describe_usage(None) == "not reported by the service"
    assert describe_usage({"credits_used": 5, "usd_spent": "0.1"}) == "5 credits, USD 0.1"
    assert describe_usage({"credits_used": None, "usd_spent": "0.1"}) == "USD 0.1"


def test_sidecar_sits_beside_the_audio() -> None:
    assert str(sidecar_path(ObjectStoragePath("file:///m/daily/2026-01-01.wav"))).endswith(
        "/m/daily/2026-01-01.json"
    )
