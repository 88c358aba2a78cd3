"""The audio download: decoded bytes, lengths the server announces, URLs that cannot be fetched."""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_music.clients import check_audio_url
from airflow_provider_music.emulator import audio_stream
from airflow_provider_music.exceptions import MusicAudioInvalidError
from airflow_provider_music.hooks.music import MusicGenerationHook

pytestmark = pytest.mark.integration


def _wav(length_ms: int = 1000) -> bytes:
    return b"".join(audio_stream("wav", length_ms))


def test_gzip_encoded_audio_is_stored_decoded(raw_http_server: Callable[..., Any], tmp_path: Path) -> None:
    wav = _wav()
    packed = gzip.compress(wav)

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(packed)}\r\nConnection: close\r\n\r\n".encode()
            + packed
        )

    server = raw_http_server(answer)
    stored = MusicGenerationHook().download_audio(
        f"{server.url}/a.wav?sig=1", ObjectStoragePath(f"file://{tmp_path}/a.wav")
    )
    assert (stored.size_bytes, stored.sha256) == (len(wav), hashlib.sha256(wav).hexdigest())
    assert (tmp_path / "a.wav").read_bytes() == wav
    assert b"accept-encoding: identity" in server.requests[0].lower()  # asked for plain bytes


def test_an_unreadable_content_length_is_ignored(raw_http_server: Callable[..., Any], tmp_path: Path) -> None:
    wav = _wav()

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        # "²" is a digit to str.isdigit() but not to int()
        head = "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: \u00b2\r\n"
        conn.sendall(head.encode("utf-8") + b"Connection: close\r\n\r\n" + wav)

    server = raw_http_server(answer)
    stored = MusicGenerationHook().download_audio(
        f"{server.url}/a.wav", ObjectStoragePath(f"file://{tmp_path}/a.wav")
    )
    assert stored.size_bytes == len(wav)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://cdn:99999/x.wav", "cannot be parsed"),
        ("https://cdn:abc/x.wav", "cannot be parsed"),
        ("https://[cdn/x.wav", "cannot be parsed"),
        ("http:///x.wav", "has no host"),
    ],
)
def test_a_malformed_audio_url_is_an_audio_error(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(MusicAudioInvalidError, match=message):
        MusicGenerationHook().download_audio(url, ObjectStoragePath(f"file://{tmp_path}/x.wav"))
    assert list(tmp_path.iterdir()) == []


def test_a_good_audio_url_is_shown_without_its_signature() -> None:
    assert check_audio_url("https://u:p@cdn.test/a.wav?sig=1") == "https://cdn.test/a.wav?..."
