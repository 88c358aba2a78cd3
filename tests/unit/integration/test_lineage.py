"""OpenLineage names of stored objects."""

from __future__ import annotations

import pytest

from airflow_provider_music.integration import lineage_dataset


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/music/daily/2026-01-01.mp3", ("s3://bucket", "music/daily/2026-01-01.mp3")),
        ("file:///data/music/x.wav", ("file", "/data/music/x.wav")),
        ("gs://b/k.wav", ("gs://b", "k.wav")),
    ],
)
def test_lineage_dataset(uri: str, expected: tuple[str, str]) -> None:
    assert lineage_dataset(uri) == expected
