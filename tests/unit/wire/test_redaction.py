"""Secrets stay out of messages: signed URLs and user info are cut."""

from __future__ import annotations

import pytest

from airflow_provider_music import wire


def test_redact_url_drops_query_and_userinfo() -> None:
    assert wire.redact_url("https://u:p@cdn.x/a/b.mp3?sig=secret#f") == "https://cdn.x/a/b.mp3?..."


@pytest.mark.parametrize("url", ["https://cdn:abc/x.mp3", "https://cdn:99999/x.mp3", "https://[cdn/x.mp3"])
def test_redact_url_of_an_unparseable_url(url: str) -> None:
    assert wire.redact_url(url) == "<unparseable URL>"
