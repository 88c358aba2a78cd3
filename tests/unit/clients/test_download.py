"""The audio download: decoded bytes, lengths the server announces, URLs that cannot be fetched."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_music.clients import check_audio_url
from airflow_provider_music.emulator import audio_stream
from airflow_provider_music.exceptions import MusicAudioInvalidError, MusicDeliveryError
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


def test_a_plain_body_is_read_from_the_socket_into_the_buffer(
    raw_http_server: Callable[..., Any], tmp_path: Path
) -> None:
    wav = _wav()

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {len(wav)}\r\n\r\n"
        conn.sendall(head.encode() + wav)

    server = raw_http_server(answer)
    with MusicGenerationHook().open_audio(f"{server.url}/a.wav") as stream:
        # The fast path: http.client's readinto under urllib3, no bytes object per read (a guard: an
        # urllib3 that renamed its attribute would fall back to its own, copying, readinto).
        assert isinstance(getattr(stream._readinto, "__self__", None), http.client.HTTPResponse)
        buffer = memoryview(bytearray(len(wav) + 10))
        got = 0
        while n := stream.readinto(buffer[got:]):
            got += n
    assert bytes(buffer[:got]) == wav


def test_a_chunked_body_is_stored_whole(raw_http_server: Callable[..., Any], tmp_path: Path) -> None:
    wav = _wav()
    pieces = [wav[i : i + 30_000] for i in range(0, len(wav), 30_000)]

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + body
        )

    server = raw_http_server(answer)
    stored = MusicGenerationHook().download_audio(
        f"{server.url}/a.wav", ObjectStoragePath(f"file://{tmp_path}/a.wav")
    )
    assert (stored.size_bytes, stored.sha256) == (len(wav), hashlib.sha256(wav).hexdigest())
    assert (tmp_path / "a.wav").read_bytes() == wav


def test_a_connection_cut_mid_body_is_a_truncated_download(
    raw_http_server: Callable[..., Any], tmp_path: Path
) -> None:
    wav = _wav()

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {len(wav)}\r\n\r\n"
        conn.sendall(head.encode() + wav[: len(wav) // 2])
        conn.shutdown(socket.SHUT_RDWR)

    server = raw_http_server(answer)
    with pytest.raises(MusicDeliveryError, match=rf"truncated: got {len(wav) // 2} of {len(wav)} bytes"):
        MusicGenerationHook().download_audio(
            f"{server.url}/a.wav", ObjectStoragePath(f"file://{tmp_path}/a.wav")
        )
    assert list(tmp_path.iterdir()) == []


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
