"""The audio download: an http(s) URL opened as a stream of chunks with a length and a type."""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_provider_music.defaults import CONNECT_TIMEOUT_S, DEFAULT_CHUNK_SIZE, NETWORK_READ_SIZE
from airflow_provider_music.exceptions import (
    MusicAudioInvalidError,
    MusicAudioURLExpired,
    MusicDeliveryError,
)
from airflow_provider_music.wire import USER_AGENT, redact_url

if TYPE_CHECKING:
    import requests

# What a CDN answers for a signed URL that is no longer valid: fetch a fresh one.
_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")


class HttpAudioStream:
    """
    An open download: headers plus the body, read as an iterator of chunks or ``readinto`` a buffer.

    ``readinto`` reads a plain (identity-encoded) body straight from the socket into the caller's
    buffer: no bytes object per read and no copy in between, which is most of the Python-level cost
    of a download. The length announced is checked by the caller (``storage.write_stream``), which
    counts what was read: a body cut short is a truncated download.
    """

    def __init__(self, response: requests.Response, chunk_size: int, shown_url: str) -> None:
        self._response = response
        self.chunk_size = chunk_size
        self.shown_url = shown_url
        self.content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower() or None
        length = (response.headers.get("Content-Length") or "").strip()
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        # With a Content-Encoding (sent despite "identity"), Content-Length counts the encoded bytes,
        # not the decoded ones written; urllib3 still fails a body cut short of it.
        self.content_length = (
            int(length) if encoding == "identity" and _CONTENT_LENGTH.fullmatch(length) else None
        )
        self.url_path = urlsplit(response.url or "").path
        # The body's reader: http.client's response under urllib3's (urllib3 keeps it in ``_fp``;
        # its own ``readinto`` reads into a new bytes object and copies that). Only for a body urllib3
        # has not started on and that needs no decoding; else urllib3 reads it, decoding as it goes.
        raw = response.raw
        direct = getattr(raw, "_fp", None)
        if encoding == "identity" and isinstance(direct, http.client.HTTPResponse) and raw.tell() == 0:
            self._readinto: Callable[[memoryview], int] = direct.readinto
        else:
            raw.decode_content = True
            self._readinto = raw.readinto

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` with the next bytes of the (decoded) body; 0 at its end. A broken one raises."""
        try:
            return self._readinto(buffer)
        except Exception as exc:  # protocol errors, timeouts, resets: all mean "incomplete"
            raise MusicDeliveryError(
                f"The download from {self.shown_url} broke off: {type(exc).__name__}"
            ) from None

    def chunks(self) -> Iterator[bytes]:
        """The decoded body, in pieces of at most ``NETWORK_READ_SIZE``; a broken download raises."""
        try:
            for chunk in self._response.raw.stream(
                min(self.chunk_size, NETWORK_READ_SIZE), decode_content=True
            ):
                if chunk:
                    yield chunk
        except Exception as exc:  # urllib3 protocol errors, timeouts, resets: all mean "incomplete"
            raise MusicDeliveryError(
                f"The download from {self.shown_url} broke off: {type(exc).__name__}"
            ) from None


def check_audio_url(url: str) -> str:
    """The URL as logs may show it, once it is an http(s) URL with a host; else an audio error."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number in range
        scheme = parts.scheme.lower()
    except ValueError:
        raise MusicAudioInvalidError(f"The audio URL {redact_url(url)} cannot be parsed") from None
    if scheme not in ("http", "https"):
        raise MusicAudioInvalidError(
            f"Refusing to fetch audio from a {scheme or 'scheme-less'} URL: only http(s) is allowed"
        )
    if not parts.hostname:
        raise MusicAudioInvalidError(f"The audio URL {redact_url(url)} has no host")
    return redact_url(url)


@contextmanager
def open_audio(
    url: str,
    *,
    read_timeout: Callable[[], float],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> Iterator[HttpAudioStream]:
    """
    Open the audio URL for streaming, with no API key (the CDN is another host). ``read_timeout``
    is asked only once the URL passed its checks.
    """
    # requests is imported on first use: the hook's module is imported at DAG-parse time.
    import requests

    shown = check_audio_url(url)
    try:
        response = requests.get(
            url,
            stream=True,
            timeout=(connect_timeout, read_timeout()),
            # identity: the bytes stored are the bytes counted against Content-Length.
            headers={"User-Agent": USER_AGENT, "Accept": "audio/*, */*;q=0.1", "Accept-Encoding": "identity"},
        )
    except requests.RequestException as exc:
        raise MusicDeliveryError(f"Could not download the audio from {shown}: {type(exc).__name__}") from None
    try:
        if response.status_code in _EXPIRED_STATUSES:
            raise MusicAudioURLExpired(
                f"The audio URL {shown} answered HTTP {response.status_code} (expired or revoked)"
            )
        if not 200 <= response.status_code < 300:
            raise MusicDeliveryError(f"The audio URL {shown} answered HTTP {response.status_code}")
        yield HttpAudioStream(response, chunk_size, shown)
    finally:
        response.close()
