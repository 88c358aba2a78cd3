"""The async client (aiohttp): what the triggerer polls with, one per trigger run, sharing one pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

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

# The most connections one shared pool keeps open to the API. A trigger holds a connection only
# while a poll is in flight (milliseconds to a second), so thousands of triggers polling every few
# seconds need a few dozen; beyond this, a poll waits for a free connection (within its timeout).
SHARED_POOL_MAX_CONNECTIONS = 128


class _SharedSession:
    """One aiohttp session (pool), used by every client of one event loop with the same settings."""

    __slots__ = ("session", "users")

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.users = 0


# (event loop, base URL, key, timeouts, proxy) -> the session its clients share (see AsyncClient).
_SHARED_SESSIONS: dict[tuple[Any, ...], _SharedSession] = {}


def open_shared_sessions() -> dict[str, int]:
    """The shared sessions open now: base URL -> how many clients hold it (none when idle)."""
    out: dict[str, int] = {}
    for key, entry in _SHARED_SESSIONS.items():
        out[key[1]] = out.get(key[1], 0) + entry.users
    return out


class AsyncClient:
    """
    The API over aiohttp, from first use until ``aclose``. Clients of one event loop with the same
    settings (a triggerer's thousands of trigger runs) share one session, so one pool of kept-alive
    connections: a trigger run that starts costs no TCP (or TLS) handshake, no session, no connector,
    and a process keeps a few dozen sockets open instead of one per trigger. The last client to close
    closes the pool. The connection lookup is shared as well (``SharedSettings``). With a
    ``connector_factory`` (tests) the client has a session of its own. Retries stay short here: the
    trigger adds its own budget of consecutive failed polls.
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
        self._shared_key: tuple[Any, ...] | None = None  # set while holding a shared session
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], yarl.URL] = {}

    @property
    def session_open(self) -> bool:
        """This client holds an aiohttp session (its own or the shared one)."""
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
            settings = await self.settings()
            read_timeout = self.read_timeout(settings)
            # The proxy is resolved once here: trust_env=True would redo it on every request.
            proxy = env_proxy(settings.base_url)
            if self._connector_factory is not None:
                self._session = await self._new_session(settings, read_timeout, proxy, shared=False)
                return self._session
            key = (
                asyncio.get_running_loop(),
                settings.base_url,
                settings.api_key,
                read_timeout,
                self.connect_timeout,
                proxy,
            )
            entry = _SHARED_SESSIONS.get(key)
            if entry is None or entry.session.closed:
                session = await self._new_session(settings, read_timeout, proxy, shared=True)
                # another client of this loop may have made one while this one awaited
                entry = _SHARED_SESSIONS.get(key)
                if entry is None or entry.session.closed:
                    entry = _SHARED_SESSIONS[key] = _SharedSession(session)
                else:
                    await session.close()
            entry.users += 1
            self._shared_key = key
            self._session = entry.session
        return self._session

    async def _new_session(
        self, settings: ApiSettings, read_timeout: float, proxy: str | None, *, shared: bool
    ) -> aiohttp.ClientSession:
        # aiohttp is imported on first use: the hook's module is imported at DAG-parse time.
        import aiohttp

        return aiohttp.ClientSession(
            headers=auth_headers(settings.api_key),
            # total: a body dripping a byte per read timeout cannot hold a poll for ever.
            timeout=aiohttp.ClientTimeout(
                total=self.connect_timeout + read_timeout,
                sock_connect=self.connect_timeout,
                sock_read=read_timeout,
            ),
            connector=await self._connector(shared),
            cookie_jar=aiohttp.DummyCookieJar(),
            proxy=proxy,
        )

    async def _connector(self, shared: bool) -> aiohttp.BaseConnector:
        if self._connector_factory is not None:
            return self._connector_factory()
        import aiohttp

        # Loading the CA store reads files: do it off the event loop (once per process).
        if shared_ssl_context.cache_info().currsize:
            ssl_context = shared_ssl_context()
        else:
            ssl_context = await asyncio.to_thread(shared_ssl_context)
        # Connections kept across polls (aiohttp's 15 s default is shorter than many poll
        # intervals, which would mean a new TCP and TLS handshake per poll).
        return aiohttp.TCPConnector(
            limit=SHARED_POOL_MAX_CONNECTIONS if shared else ASYNC_MAX_CONNECTIONS,
            ssl=ssl_context,
            keepalive_timeout=ASYNC_KEEPALIVE_EXPIRY_S,
        )

    async def aclose(self) -> None:
        """Let go of the session (the last client of a shared one closes it, and its connections)
        and of the shared connection lookup."""
        self.shared.release()
        if self._session is None:
            return
        session, self._session = self._session, None
        key, self._shared_key = self._shared_key, None
        if key is not None:
            entry = _SHARED_SESSIONS.get(key)
            if entry is not None and entry.session is session:
                entry.users -= 1
                if entry.users > 0:
                    return
                del _SHARED_SESSIONS[key]
        await session.close()
