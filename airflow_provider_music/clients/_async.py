"""The async client (aiohttp): what the triggerer polls with, one per trigger run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from airflow_provider_music.clients._faults import aiohttp_causes, transport_error
from airflow_provider_music.clients._retry import BoundedBody, RetryLog, RetryPolicy
from airflow_provider_music.clients._settings import (
    ApiSettings,
    SharedSettings,
    env_proxy,
    shared_ssl_context,
)
from airflow_provider_music.defaults import (
    ASYNC_KEEPALIVE_EXPIRY_S,
    ASYNC_MAX_CONNECTIONS,
    CONNECT_TIMEOUT_S,
    READ_TIMEOUT_S,
    SHARED_CONNECTION_TTL_S,
)
from airflow_provider_music.exceptions import (
    MusicAuthError,
    MusicCreditsError,
    MusicProviderError,
    MusicTransientError,
)
from airflow_provider_music.wire import ApiRequest, auth_headers

if TYPE_CHECKING:
    import aiohttp
    import yarl
    from airflow.sdk import Connection

T = TypeVar("T")
Answer = tuple[int, Mapping[str, str], bytes]
Parse = Callable[[int, Mapping[str, str], bytes], T]
ConnectorFactory = Callable[[], "aiohttp.BaseConnector"]


class AsyncClient:
    """
    One aiohttp session (one pooled connection) for the API, built on first use and kept until
    ``aclose``; the connection lookup is shared with the process's other clients (``SharedSettings``).
    Retries stay short here: the trigger adds its own budget of consecutive failed polls.
    """

    def __init__(
        self,
        conn_id: str,
        read_connection: Callable[[str], Awaitable[Connection]],
        *,
        retry: RetryPolicy,
        log: RetryLog,
        timeout: float | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        settings_ttl_s: float = SHARED_CONNECTION_TTL_S,
        connector_factory: ConnectorFactory | None = None,
    ) -> None:
        self.retry = retry
        self.log = log
        self.connect_timeout = connect_timeout
        self.shared = SharedSettings(conn_id, read_connection, ttl_s=settings_ttl_s)
        self._timeout = timeout
        self._connector_factory = connector_factory
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], yarl.URL] = {}

    @property
    def session_open(self) -> bool:
        """An aiohttp session (and so maybe a pooled connection) is open."""
        return self._session is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message."""
        settings = self.shared.current
        return (settings.api_key,) if settings is not None else ()

    def read_timeout(self, settings: ApiSettings) -> float:
        """The read timeout: the hook's, else the connection's, else the default."""
        return self._timeout or settings.timeout or READ_TIMEOUT_S

    async def settings(self) -> ApiSettings:
        """The connection's settings, read without blocking the event loop (shared, see the class)."""
        return await self.shared.acquire()

    async def call(self, build: Callable[[ApiSettings], ApiRequest], parse: Parse[T]) -> T:
        """
        Build the request from the settings, send and parse it, retrying transient failures. A
        401/403 with a lookup another client made reads the connection afresh once (a rotated key).
        """
        try:
            return await self._call(build(await self.settings()), parse)
        except (MusicAuthError, MusicCreditsError):
            if self.shared.read_here:
                raise
            # The key was read by another run, maybe before it was rotated: read it afresh once.
            self.shared.forget()
            await self.aclose()
            return await self._call(build(await self.settings()), parse)

    async def _call(self, request: ApiRequest, parse: Parse[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(*await self.send(request))
            except MusicTransientError as err:
                delay = self.retry.next_delay(attempt, err)
                if delay is None:
                    raise
                self.retry.log_retry(self.log, attempt, request, err, delay)
                await asyncio.sleep(delay)

    async def send(self, request: ApiRequest) -> Answer:
        """One attempt: the status, headers and (bounded) body, or a provider error."""
        session = await self._open()
        url = self._url(request)
        try:
            async with session.request(
                request.method, url, json=request.json_body, headers=request.headers, allow_redirects=False
            ) as response:
                body = BoundedBody()
                async for piece in response.content.iter_any():
                    if body.add(piece):
                        break
                return response.status, response.headers, body.value()
        except MusicProviderError:
            raise
        except Exception as exc:  # whatever the transport raised (not a cancellation): a provider error
            settings = self.shared.current
            raise transport_error(
                request.operation,
                exc,
                base_url=settings.base_url if settings is not None else request.url,
                library_causes=aiohttp_causes(),
                scheme_assumed=settings.scheme_assumed if settings is not None else False,
                secrets=self.secrets,
            ) from None

    def _url(self, request: ApiRequest) -> yarl.URL:
        # A trigger sends the same GET every poll: encode its URL once per run, not once per poll.
        key = (request.url, tuple((request.params or {}).items()))
        url = self._urls.get(key)
        if url is None:
            from yarl import URL  # with aiohttp: loaded on first use, not at DAG-parse time

            url = self._urls[key] = URL(request.url).with_query(request.params or {})
        return url

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            # aiohttp is imported on first use: the hook's module is imported at DAG-parse time.
            import aiohttp

            settings = await self.settings()
            read_timeout = self.read_timeout(settings)
            self._session = aiohttp.ClientSession(
                headers=auth_headers(settings.api_key),
                # total: a body dripping a byte per read timeout cannot hold a poll for ever.
                timeout=aiohttp.ClientTimeout(
                    total=self.connect_timeout + read_timeout,
                    sock_connect=self.connect_timeout,
                    sock_read=read_timeout,
                ),
                connector=await self._connector(),
                cookie_jar=aiohttp.DummyCookieJar(),
                # The proxy is resolved once here: trust_env=True would redo it on every request.
                proxy=env_proxy(settings.base_url),
            )
        return self._session

    async def _connector(self) -> aiohttp.BaseConnector:
        if self._connector_factory is not None:
            return self._connector_factory()
        import aiohttp

        # Loading the CA store reads files: do it off the event loop (once per process).
        if shared_ssl_context.cache_info().currsize:
            ssl_context = shared_ssl_context()
        else:
            ssl_context = await asyncio.to_thread(shared_ssl_context)
        # One pooled connection, kept across polls (aiohttp's 15 s default is shorter than many
        # poll intervals, which would mean a new TCP and TLS handshake per poll).
        return aiohttp.TCPConnector(
            limit=ASYNC_MAX_CONNECTIONS, ssl=ssl_context, keepalive_timeout=ASYNC_KEEPALIVE_EXPIRY_S
        )

    async def aclose(self) -> None:
        """Close the session (its pooled connection) and let go of the shared connection lookup."""
        self.shared.release()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
