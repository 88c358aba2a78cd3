"""`EmulatorServer`: the asyncio core that runs the API app and the audio "CDN" app on one loop.

The CLI (``__main__``) runs it directly; `Emulator` runs it in a daemon thread for tests. Only
method, path and status are ever logged: never headers (the API key) and never audio query strings
(the signatures).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import math
import secrets
import sys
import time
import uuid
from typing import Any

from ._api import ApiApp
from ._cdn import AudioApp
from ._config import (
    DEFAULT_API_KEY,
    DEFAULT_HOST,
    DEFAULT_KEEPALIVE_TIMEOUT,
    FD_LIMIT_WHEN_UNLIMITED,
    Config,
)
from ._http import HttpServer
from ._responses import api_error, cdn_error
from ._state import EmulatedGeneration, State
from ._synthesis import audio_ready, audio_size, expected_audio, warm_up

if sys.platform != "win32":  # the open-files limit is a Unix notion
    import resource

logger = logging.getLogger("airflow_provider_music.emulator")

#: Random bytes in front of each link's HMAC (hex: twice as many characters), so links never repeat.
NONCE_BYTES = 8
#: Wildcard bind addresses, and the loopback address that reaches them in advertised URLs.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}


def _url_host(host: str) -> str:
    if host in _WILDCARD_HOSTS:
        return _WILDCARD_HOSTS[host]
    return f"[{host}]" if ":" in host else host


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one: 1,000 clients need more than 1,024 fds."""
    if sys.platform == "win32":  # pragma: no cover - not on Unix
        return
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            target = hard if hard != resource.RLIM_INFINITY else max(soft, FD_LIMIT_WHEN_UNLIMITED)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class EmulatorServer:
    """Both listeners and the shared state, on the current event loop."""

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        audio_port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        config: Config | None = None,
        audio_base_url: str | None = None,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.audio_port = audio_port
        self.api_key = api_key
        self.state = State(config or Config())
        self._audio_base_override = audio_base_url.rstrip("/") if audio_base_url else None
        self._api = HttpServer(
            ApiApp(self).handle,
            name="api",
            logger=logger,
            error_factory=lambda code, msg: api_error(code, msg, "", str(uuid.uuid4())),
            keepalive_timeout=keepalive_timeout,
        )
        self._audio = HttpServer(
            AudioApp(self).handle,
            name="audio",
            logger=logger,
            error_factory=lambda code, msg: cdn_error(code, str(uuid.uuid4()), msg),
            keepalive_timeout=keepalive_timeout,
        )
        self._started = False
        #: Audio being prepared off the loop, by (format, length, character): one job per file.
        self._preparing: dict[tuple[Any, ...], asyncio.Future[int]] = {}

    async def start(self) -> None:
        """Listen on both ports (a port of 0 becomes the one picked); closes the API one on failure."""
        # Build the audio periods off the loop now, not inside the first download.
        await asyncio.get_running_loop().run_in_executor(None, warm_up)
        self.port = await self._api.start(self.host, self.port)
        try:
            self.audio_port = await self._audio.start(self.host, self.audio_port)
        except BaseException:
            await self._api.close()
            raise
        self._started = True

    async def stop(self) -> None:
        """Close both listeners and every open connection."""
        await self._api.close()
        await self._audio.close()
        self._started = False

    @property
    def base_url(self) -> str:
        """API base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def audio_base_url(self) -> str:
        """Audio base URL the links point at (``audio_base_url`` when given, else the audio port)."""
        return self._audio_base_override or f"http://{_url_host(self.host)}:{self.audio_port}"

    def signature(self, name: str, expires: int, nonce: str) -> str:
        """A nonce plus an HMAC, so every minted link differs even within the same second."""
        mac = hmac.new(self.state.secret, f"{name}\n{expires}\n{nonce}".encode(), hashlib.sha256)
        return nonce + mac.hexdigest()

    def sign_url(self, gen: EmulatedGeneration) -> str:
        """A fresh signed link to ``gen``'s audio that expires ``url_ttl`` seconds from now."""
        ttl = self.state.config.url_ttl
        now = time.time()
        expires = math.ceil(now + ttl) if ttl > 0 else int(now)
        signature = self.signature(gen.file_name, expires, secrets.token_hex(NONCE_BYTES))
        return f"{self.audio_base_url}/files/{gen.file_name}?expires={expires}&signature={signature}"

    def start_preparing(self, gen: EmulatedGeneration) -> asyncio.Future[int] | None:
        """Start the slow work ``gen``'s audio needs (a period to build, an MP3 to encode) in a worker
        thread, once per file; None when there is none left to do."""
        key = gen.audio_key
        if audio_ready(*key):
            return None
        job = self._preparing.get(key)
        if job is None:
            job = asyncio.get_running_loop().run_in_executor(None, audio_size, *key)
            self._preparing[key] = job

            def done(finished: asyncio.Future[int]) -> None:
                self._preparing.pop(key, None)
                if not finished.cancelled():
                    finished.exception()  # retrieved here: whoever awaits it sees it too

            job.add_done_callback(done)
        return job

    async def prepare_audio(self, gen: EmulatedGeneration) -> None:
        """Wait for `start_preparing`'s work on ``gen``'s audio (starting it if need be)."""
        job = self.start_preparing(gen)
        if job is not None:
            await asyncio.shield(job)

    async def stats(self) -> dict[str, Any]:
        """Counters plus one entry per generation (sha256 computed off the loop, then cached)."""
        loop = asyncio.get_running_loop()
        state = self.state
        gens = list(state.generations.values())
        digests: dict[tuple[Any, ...], tuple[int, str]] = {}
        for key in {g.audio_key for g in gens}:
            digests[key] = await loop.run_in_executor(None, expected_audio, *key)
        out: dict[str, Any] = dict(vars(state.counters))
        out["api_connections"] = self._api.connections_accepted
        out["faults_applied"] = state.faults.applied
        out["faults_pending"] = len(state.faults.rules)
        out["generations"] = {
            g.id: {
                "model": g.model,
                "prompt": g.prompt,
                "music_length_ms": g.music_length_ms,
                "status": g.status(),
                "held": g.held,
                "last_reported_status": g.last_reported_status,
                "client_request_id": g.client_request_id,
                "usage": g.usage,
                "gets": g.gets,
                "downloads": g.downloads,
                "downloads_completed": g.downloads_completed,
                "heads": g.heads,
                "created_at": g.created_at,
                "format": g.audio_format,
                "audio_character": g.character.spec,
                "content_type": g.content_type,
                "file_name": g.file_name,
                "size_bytes": digests[g.audio_key][0],
                "sha256": digests[g.audio_key][1],
            }
            for g in gens
        }
        return out
