"""A measured prototype, NOT the shipped code: the trigger's HTTP calls through aiohttp instead of httpx.

``install()`` replaces ``MusicGenerationHook._aclient``/``_asend``/``aclose`` in the benchmark child
only (``--variant aiohttp``), so the benchmark can show the effect of the change recommended in
BENCHMARKS.md under the same load. Same contract as the httpx side: one session (one pooled
keep-alive connection) per hook, so per trigger run; the shared SSL context; no redirects; transport
errors classified by whether the request can have been sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

_SETTINGS_TTL_S = 300.0


def install(cache_settings: bool = False) -> None:
    """Patch the hook's async side; ``cache_settings`` also shares resolved connections for 5 minutes."""
    import time

    import aiohttp
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    from airflow_provider_music import _wire
    from airflow_provider_music.defaults import ASYNC_KEEPALIVE_EXPIRY_S, CONNECT_TIMEOUT_S
    from airflow_provider_music.hooks import music

    async def _aclient(self: Any) -> aiohttp.ClientSession:
        if self._async_client is None:
            settings = await self.aget_settings()
            # The proxy from HTTP(S)_PROXY / NO_PROXY, resolved once per session as httpx does at
            # client creation; aiohttp's trust_env=True would redo it on every request (~0.35 ms).
            try:
                proxy, proxy_auth = get_env_proxy_for_url(URL(settings.base_url))
            except LookupError:
                proxy, proxy_auth = None, None
            # As the shipped code does: the CA store is loaded off the event loop (once per process).
            ssl_context = await asyncio.to_thread(music._shared_ssl_context)
            self._async_client = aiohttp.ClientSession(
                headers=_wire.auth_headers(settings.api_key),
                timeout=aiohttp.ClientTimeout(
                    sock_connect=CONNECT_TIMEOUT_S, sock_read=self._read_timeout(settings)
                ),
                connector=aiohttp.TCPConnector(
                    limit=2, ssl=ssl_context, keepalive_timeout=ASYNC_KEEPALIVE_EXPIRY_S
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                proxy=proxy,
                proxy_auth=proxy_auth,
            )
        return self._async_client

    async def _asend(self: Any, request: Any) -> tuple[int, Mapping[str, str], bytes]:
        session = await _aclient(self)
        try:
            async with session.request(
                request.method,
                request.url,
                params=request.params,
                json=request.json_body,
                allow_redirects=False,
            ) as response:
                return response.status, response.headers, await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            sent = not isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))
            raise _wire.transport_error(request.operation, exc, sent=sent) from None

    async def aclose(self: Any) -> None:
        if self._async_client is not None:
            session, self._async_client = self._async_client, None
            await session.close()

    cache: dict[str, tuple[float, Any]] = {}
    original_aget_settings = music.MusicGenerationHook.aget_settings

    async def aget_settings(self: Any) -> Any:
        # One connection lookup per conn_id per 5 minutes in the process, not one per trigger run
        # (BaseHook.aget_connection costs ~0.3-0.5 ms of CPU: a thread hop and secrets-backend set-up).
        if self._async_settings is None:
            hit = cache.get(self.conn_id)
            if hit is not None and time.monotonic() - hit[0] < _SETTINGS_TTL_S:
                self._async_settings = hit[1]
            else:
                settings = await original_aget_settings(self)
                cache[self.conn_id] = (time.monotonic(), settings)
        return self._async_settings

    if cache_settings:
        music.MusicGenerationHook.aget_settings = aget_settings  # type: ignore[method-assign]
    music.MusicGenerationHook._aclient = _aclient  # type: ignore[method-assign]
    music.MusicGenerationHook._asend = _asend  # type: ignore[method-assign]
    music.MusicGenerationHook.aclose = aclose  # type: ignore[method-assign]
