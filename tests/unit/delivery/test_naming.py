"""Names of stored objects."""

from __future__ import annotations

from airflow_provider_music.audio import MP3, WAV
from airflow_provider_music.delivery import format_from_url, object_file_name, safe_object_name


def test_safe_object_name_is_one_segment_and_injective() -> None:
    a = safe_object_name("60ac7c34:elevenlabs/eleven_music")
    b = safe_object_name("60ac7c34:elevenlabs_eleven_music")
    assert "/" not in a
    assert ":" not in a
    assert a != b
    assert safe_object_name("../../etc") not in ("..", ".")
    assert "/" not in safe_object_name("../../etc")


def test_the_extension_follows_the_format() -> None:
    assert object_file_name("2026-01-01", WAV) == "2026-01-01.wav"
    assert object_file_name("take.final", MP3) == "take.final.mp3"


def test_the_format_a_url_names() -> None:
    assert format_from_url("https://cdn.example/files/abc.wav?sig=x") == WAV
    assert format_from_url("https://cdn.example/files/abc") is None
    assert format_from_url("http://[::1") is None  # unparsable: open_audio says why, not the naming
