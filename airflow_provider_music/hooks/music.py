"""The one Airflow connection to the AI/ML API: sync calls for workers, async calls for the triggerer."""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from airflow.sdk import BaseHook

from airflow_provider_music import _wire
from airflow_provider_music._wire import ApiRequest, Generation, Submission
from airflow_provider_music.defaults import (
    ASYNC_KEEPALIVE_EXPIRY_S,
    ASYNC_MAX_CONNECTIONS,
    CONN_TYPE,
    CONNECT_TIMEOUT_S,
    CONNECTION_HIDDEN_FIELDS,
    CONNECTION_PLACEHOLDERS,
    CONNECTION_RELABELING,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_MAX_AUDIO_BYTES,
    DEFAULT_MODEL,
    HOOK_NAME,
    MAX_API_RESPONSE_BYTES,
    MAX_REQUEST_ATTEMPTS,
    NETWORK_READ_SIZE,
    READ_TIMEOUT_S,
    SHARED_CONNECTION_TTL_S,
)
from airflow_provider_music.exceptions import (
    MusicAPIError,
    MusicAudioInvalidError,
    MusicAudioURLExpired,
    MusicAuthError,
    MusicCreditsError,
    MusicDeliveryError,
    MusicInputError,
    MusicProviderError,
    MusicTransientError,
)

if TYPE_CHECKING:
    import aiohttp
    import requests
    import yarl
    from airflow.sdk import Connection, ObjectStoragePath

    from airflow_provider_music._storage import StoredAudio

__all__ = ["ApiSettings", "Generation", "MusicGenerationHook", "Submission"]

T = TypeVar("T")

# A syntactically valid id that names no generation: a cheap, authenticated, side-effect-free call.
_PROBE_GENERATION_ID = "airflow-provider-music-connection-test"


@dataclass(frozen=True)
class ApiSettings:
    """What a connection resolves to; the key lives only here and in request headers."""

    base_url: str
    api_key: str = ""
    timeout: float | None = None  # read timeout from the connection's extra {"timeout": seconds}
    scheme_assumed: bool = False  # the host had no scheme, so https:// was assumed

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"ApiSettings(base_url={self.base_url!r}, api_key='***', timeout={self.timeout!r})"

    @classmethod
    def from_connection(cls, conn: Connection) -> ApiSettings:
        conn_type = conn.conn_type
        if not isinstance(conn_type, str) or conn_type.strip().lower() != CONN_TYPE:
            # Another service's connection: its secret must not go to the AI/ML API as a bearer token.
            shown = repr(conn_type[:40]) if isinstance(conn_type, str) else "no type"
            raise MusicInputError(
                f"Connection {conn.conn_id!r} is of type {shown}, not {CONN_TYPE!r}: it was not used. "
                f"Point conn_id at a connection of type {CONN_TYPE!r} (its password is the API key)."
            )
        api_key = (conn.password or "").strip()
        if not api_key:
            raise MusicInputError(
                f"Connection {conn.conn_id!r} has no API key: put it in the connection's password field"
            )
        timeout = None
        raw = (conn.extra_dejson or {}).get("timeout")
        if raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
                raise MusicInputError(
                    f"Connection {conn.conn_id!r}: extra 'timeout' must be positive seconds"
                )
            timeout = float(raw)
        host = (conn.host or "").strip()
        return cls(
            base_url=_wire.normalize_base_url(conn.host, conn.port),
            api_key=api_key,
            timeout=timeout,
            scheme_assumed=bool(host) and "://" not in host,
        )


class _SharedSettings:
    """One connection lookup, used by every hook of the process that runs at the same time."""

    __slots__ = ("fetched_at", "settings", "users")

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.fetched_at = time.monotonic()
        self.users = 0

    def age(self) -> float:
        return time.monotonic() - self.fetched_at


# conn_id -> the lookup that running hooks share (see MusicGenerationHook.aget_settings).
_SHARED_SETTINGS: dict[str, _SharedSettings] = {}


@lru_cache(maxsize=1)
def _shared_ssl_context() -> ssl.SSLContext:
    # One context for every async client in a triggerer: building one per trigger costs ~1 MB and
    # milliseconds of CPU, which adds up at a thousand concurrent triggers.
    return ssl.create_default_context()


class MusicGenerationHook(BaseHook):
    """
    Talk to the AI/ML API music endpoint (``POST``/``GET /v2/generate/audio``).

    The connection (type ``aimlapi``) keeps the API key in its password field; the host is optional
    and defaults to ``https://api.aimlapi.com`` (point it at the local emulator for tests).

    :param conn_id: Airflow connection id of type ``aimlapi``.
    :param timeout: Read timeout in seconds for each request (connect timeout is fixed at 10 s);
        default: the connection's extra ``{"timeout": seconds}``, else 60 s.
    :param max_attempts: Attempts per API call for transient faults (429, 5xx, resets, timeouts),
        spaced by exponential backoff with jitter, honouring ``Retry-After``.
    """

    conn_name_attr = "conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(
        self,
        conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout: float | None = None,
        max_attempts: int = MAX_REQUEST_ATTEMPTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self._timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self._async_client: aiohttp.ClientSession | None = None
        self._async_settings: ApiSettings | None = None
        self._shared: _SharedSettings | None = None
        self._settings_read_here = False
        self._async_urls: dict[tuple[str, tuple[tuple[str, str], ...]], yarl.URL] = {}

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel the generic connection form: the key is the password, the host is optional."""
        return {
            "hidden_fields": list(CONNECTION_HIDDEN_FIELDS),
            "relabeling": dict(CONNECTION_RELABELING),
            "placeholders": dict(CONNECTION_PLACEHOLDERS),
        }

    # --- settings --------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ApiSettings:
        """The connection, read once per hook (sync side)."""
        return ApiSettings.from_connection(self.get_connection(self.conn_id))

    async def aget_settings(self) -> ApiSettings:
        """
        The connection, read without blocking the event loop (async side).

        Hooks running at the same time in one process share one lookup per connection for up to
        ``SHARED_CONNECTION_TTL_S``: a lookup costs more CPU than several polls, and a triggerer
        starts trigger runs all the time. Once no hook uses it, or it is older, the next run reads
        the connection afresh; a 401/403 with a shared lookup reads it afresh at once.
        """
        if self._async_settings is None:
            shared = _SHARED_SETTINGS.get(self.conn_id)
            if shared is None or shared.users <= 0 or shared.age() >= SHARED_CONNECTION_TTL_S:
                conn = await self.aget_connection(self.conn_id)
                shared = _SharedSettings(ApiSettings.from_connection(conn))
                _SHARED_SETTINGS[self.conn_id] = shared
                self._settings_read_here = True
            else:
                self._settings_read_here = False
            shared.users += 1
            self._shared, self._async_settings = shared, shared.settings
        return self._async_settings

    def _release_settings(self) -> None:
        shared, self._shared, self._async_settings = self._shared, None, None
        if shared is not None:
            shared.users -= 1
            if shared.users <= 0 and _SHARED_SETTINGS.get(self.conn_id) is shared:
                del _SHARED_SETTINGS[self.conn_id]

    def _read_timeout(self, settings: ApiSettings) -> float:
        return self._timeout or settings.timeout or READ_TIMEOUT_S

    @property
    def _secrets(self) -> tuple[str, ...]:
        cached = self.__dict__.get("settings") or self._async_settings
        return (cached.api_key,) if cached is not None else ()

    # --- sync side (workers) -----------------------------------------------------------------------

    @cached_property
    def session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.headers.update(_wire.auth_headers(self.settings.api_key))
        return session

    def create_generation(
        self,
        prompt: str,
        music_length_ms: int | None = None,
        model: str = DEFAULT_MODEL,
        extra_body: Mapping[str, Any] | None = None,
        *,
        client_request_id: str | None = None,
    ) -> Submission:
        """
        Create a generation: its id, the usage the service reported, and the ``X-Client-Request-Id``
        sent (only a valid one is sent). A POST is resent only when it cannot have arrived.
        """
        request = _wire.build_submit_request(
            self.settings.base_url, prompt, music_length_ms, model, extra_body, client_request_id
        )
        sent_id = (request.headers or {}).get(_wire.CLIENT_REQUEST_ID_HEADER)
        if client_request_id is not None and sent_id is None:
            self.log.warning(
                "client_request_id %r is not 1-128 characters of [A-Za-z0-9._:-]; not sent",
                client_request_id[:200] if isinstance(client_request_id, str) else client_request_id,
            )
        made = self._call(request, lambda s, h, c: _wire.parse_submission(s, h, c, self._secrets))
        submission = Submission(id=made.id, usage=made.usage, client_request_id=sent_id)
        self.log.info(
            "Created generation %s (model %s, client request id %s); usage reported: %s",
            submission.id, model, sent_id or "none", _usage_text(submission.usage),
        )  # fmt: skip
        return submission

    def submit_generation(
        self,
        prompt: str,
        music_length_ms: int | None = None,
        model: str = DEFAULT_MODEL,
        extra_body: Mapping[str, Any] | None = None,
        *,
        client_request_id: str | None = None,
    ) -> str:
        """``create_generation(...).id``."""
        return self.create_generation(
            prompt, music_length_ms, model, extra_body, client_request_id=client_request_id
        ).id

    def get_generation(self, generation_id: str) -> Generation:
        """Read a generation's status (and, when completed, a fresh audio URL)."""
        request = _wire.build_status_request(self.settings.base_url, generation_id)
        return self._call(
            request,
            lambda s, h, c: _wire.parse_generation_response(s, h, c, generation_id, self._secrets),
        )

    def test_connection(self) -> tuple[bool, str]:
        """Ask for a generation that does not exist: a good key gets 'not found', a bad one gets 401."""
        try:
            settings = self.settings
            request = _wire.build_status_request(settings.base_url, _PROBE_GENERATION_ID)
            status, _, _ = self._send(request)
        except MusicProviderError as err:
            return False, str(err)
        except Exception as err:  # the Test button shows whatever this returns: never a traceback
            return False, f"The connection test failed: {_wire.exception_text(err, self._secrets)}"
        return connection_test_result(status, _wire.redact_url(settings.base_url))

    def _call(self, request: ApiRequest, parse: Callable[[int, Mapping[str, str], bytes], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(*self._send(request))
            except MusicTransientError as err:
                if attempt >= self.max_attempts:
                    raise
                delay = _wire.backoff_delay(attempt, err.retry_after)
                self.log.warning(
                    "Attempt %d/%d of %s %s failed (%s); retrying in %.1fs",
                    attempt, self.max_attempts, request.method, request.operation, err, delay,
                )  # fmt: skip
                time.sleep(delay)

    def _send(self, request: ApiRequest) -> tuple[int, Mapping[str, str], bytes]:
        read_timeout = self._read_timeout(self.settings)
        # The whole answer within connect + read timeout: a body dripping a byte per read timeout
        # would otherwise hold the worker for ever.
        deadline = time.monotonic() + CONNECT_TIMEOUT_S + read_timeout
        try:
            with self.session.request(
                request.method,
                request.url,
                params=request.params,
                json=request.json_body,
                headers=request.headers,
                timeout=(CONNECT_TIMEOUT_S, read_timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                return response.status_code, response.headers, _read_bounded(response, deadline)
        except MusicProviderError:
            raise
        except Exception as exc:  # whatever the transport raised, the caller gets a provider error
            raise self._transport_error(request, exc, _requests_causes()) from None

    def _transport_error(
        self,
        request: ApiRequest,
        exc: BaseException,
        causes: tuple[tuple[type[BaseException], _wire.TransportCause], ...],
    ) -> MusicAPIError:
        settings = self.__dict__.get("settings") or self._async_settings
        return _wire.transport_error(
            request.operation,
            exc,
            base_url=settings.base_url if settings is not None else request.url,
            library_causes=causes,
            scheme_assumed=settings.scheme_assumed if settings is not None else False,
            secrets=self._secrets,
        )

    # --- delivery (workers) -----------------------------------------------------------------------

    @contextmanager
    def open_audio(self, url: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[_AudioStream]:
        """Open the audio URL for streaming; the API key is never sent to the CDN host."""
        import requests

        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  # raises ValueError for a port that is not a number in range
            scheme = parts.scheme.lower()
        except ValueError:
            raise MusicAudioInvalidError(f"The audio URL {_wire.redact_url(url)} cannot be parsed") from None
        if scheme not in ("http", "https"):
            raise MusicAudioInvalidError(
                f"Refusing to fetch audio from a {scheme or 'scheme-less'} URL: only http(s) is allowed"
            )
        if not parts.hostname:
            raise MusicAudioInvalidError(f"The audio URL {_wire.redact_url(url)} has no host")
        shown = _wire.redact_url(url)
        try:
            response = requests.get(
                url,
                stream=True,
                timeout=(CONNECT_TIMEOUT_S, self._read_timeout(self.settings)),
                # identity: the bytes stored are the bytes counted against Content-Length.
                headers={
                    "User-Agent": _wire.USER_AGENT,
                    "Accept": "audio/*, */*;q=0.1",
                    "Accept-Encoding": "identity",
                },
            )
        except requests.RequestException as exc:
            raise MusicDeliveryError(
                f"Could not download the audio from {shown}: {type(exc).__name__}"
            ) from None
        try:
            if response.status_code in (401, 403, 404, 410):
                raise MusicAudioURLExpired(
                    f"The audio URL {shown} answered HTTP {response.status_code} (expired or revoked)"
                )
            if not 200 <= response.status_code < 300:
                raise MusicDeliveryError(f"The audio URL {shown} answered HTTP {response.status_code}")
            yield _AudioStream(response, chunk_size, shown)
        finally:
            response.close()

    def download_audio(
        self,
        url: str,
        destination: ObjectStoragePath,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
    ) -> StoredAudio:
        """
        Stream ``url`` into ``destination``, visible only when whole: an S3 upload is committed at the
        end; elsewhere a temporary object is moved into place.
        """
        from airflow_provider_music._storage import finalize, remove_leftovers, write_stream

        remove_leftovers(destination.parent, destination.name)
        with self.open_audio(url, chunk_size=chunk_size) as stream:
            stored = write_stream(
                stream,
                destination.parent,
                name=destination.name,
                target=destination,
                max_bytes=max_bytes,
                chunk_size=chunk_size,
            )
        return finalize(stored, destination)

    # --- async side (triggerer) -------------------------------------------------------------------

    async def aget_generation(self, generation_id: str) -> Generation:
        """Async ``get_generation``: one client per hook, so one per trigger run."""
        try:
            return await self._aget_generation(generation_id)
        except (MusicAuthError, MusicCreditsError):
            if self._settings_read_here:
                raise
            # The key was read by another run, maybe before it was rotated: read it afresh once.
            self._forget_shared_settings()
            await self.aclose()
            return await self._aget_generation(generation_id)

    async def _aget_generation(self, generation_id: str) -> Generation:
        settings = await self.aget_settings()
        request = _wire.build_status_request(settings.base_url, generation_id)
        return await self._acall(
            request,
            lambda s, h, c: _wire.parse_generation_response(s, h, c, generation_id, self._secrets),
        )

    def _forget_shared_settings(self) -> None:
        if self._shared is not None and _SHARED_SETTINGS.get(self.conn_id) is self._shared:
            del _SHARED_SETTINGS[self.conn_id]

    async def aclose(self) -> None:
        """Close the async client (its pooled connection) and let go of the shared connection lookup."""
        self._release_settings()
        if self._async_client is not None:
            client, self._async_client = self._async_client, None
            await client.close()

    async def _aclient(self) -> aiohttp.ClientSession:
        if self._async_client is None:
            import asyncio

            import aiohttp

            settings = await self.aget_settings()
            # Loading the CA store reads files: do it off the event loop (once per process).
            if _shared_ssl_context.cache_info().currsize:
                ssl_context = _shared_ssl_context()
            else:
                ssl_context = await asyncio.to_thread(_shared_ssl_context)
            self._async_client = aiohttp.ClientSession(
                headers=_wire.auth_headers(settings.api_key),
                # total: a body dripping a byte per read timeout cannot hold a poll for ever.
                timeout=aiohttp.ClientTimeout(
                    total=CONNECT_TIMEOUT_S + self._read_timeout(settings),
                    sock_connect=CONNECT_TIMEOUT_S,
                    sock_read=self._read_timeout(settings),
                ),
                # One pooled connection, kept across polls (aiohttp's 15 s default is shorter than
                # many poll intervals, which would mean a new TCP and TLS handshake per poll).
                connector=aiohttp.TCPConnector(
                    limit=ASYNC_MAX_CONNECTIONS, ssl=ssl_context, keepalive_timeout=ASYNC_KEEPALIVE_EXPIRY_S
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                # The proxy is resolved once here: trust_env=True would redo it on every request.
                proxy=_env_proxy(settings.base_url),
            )
        return self._async_client

    async def _acall(self, request: ApiRequest, parse: Callable[[int, Mapping[str, str], bytes], T]) -> T:
        # Retries here stay short; the trigger adds its own budget of consecutive failed polls.
        import asyncio

        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(*await self._asend(request))
            except MusicTransientError as err:
                if attempt >= self.max_attempts:
                    raise
                delay = _wire.backoff_delay(attempt, err.retry_after)
                self.log.warning(
                    "Attempt %d of %s failed (%s); retrying in %.1fs", attempt, request.operation, err, delay
                )
                await asyncio.sleep(delay)

    async def _asend(self, request: ApiRequest) -> tuple[int, Mapping[str, str], bytes]:
        session = await self._aclient()
        # A trigger sends the same GET every poll: encode its URL once per run, not once per poll.
        key = (request.url, tuple((request.params or {}).items()))
        url = self._async_urls.get(key)
        if url is None:
            from yarl import URL

            url = self._async_urls[key] = URL(request.url).with_query(request.params or {})
        try:
            async with session.request(
                request.method, url, json=request.json_body, headers=request.headers, allow_redirects=False
            ) as response:
                # Bounded: an endless body cannot fill the triggerer's memory. A cut body fails to
                # parse (a garbled answer), and the unread rest closes the connection, not reuses it.
                body = b""
                async for piece in response.content.iter_any():
                    body += piece
                    if len(body) >= MAX_API_RESPONSE_BYTES:
                        body = body[:MAX_API_RESPONSE_BYTES]
                        break
                return response.status, response.headers, body
        except MusicProviderError:
            raise
        except Exception as exc:  # whatever the transport raised (not a cancellation): a provider error
            raise self._transport_error(request, exc, _aiohttp_causes()) from None


def _env_proxy(base_url: str) -> str | None:
    """
    The ``<scheme>_proxy`` that applies to ``base_url``, honouring ``no_proxy`` (as requests and curl
    do). Only the few variables involved are read: scanning the whole environment on every trigger
    run, as ``urllib.request.getproxies()`` does, costs more than a poll.
    """
    import os
    from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed

    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    proxy = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
    if not proxy:
        return None
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    if no_proxy and parts.hostname and proxy_bypass_environment(parts.hostname, {"no": no_proxy}):
        return None
    return proxy


def _read_bounded(response: requests.Response, deadline: float) -> bytes:
    """
    The body, cut at MAX_API_RESPONSE_BYTES (a cut body fails to parse: a garbled answer) and read
    by ``deadline`` (else a ReadTimeout, which a POST treats as "may have been created"). ``read1``
    returns what has arrived, so a body that drips a byte at a time still meets the deadline check.
    """
    import requests

    raw = response.raw
    pieces: list[bytes] = []
    size = 0
    while size < MAX_API_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise requests.exceptions.ReadTimeout("the answer did not arrive within the read timeout")
        piece = raw.read1(64 * 1024, decode_content=True)
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)[:MAX_API_RESPONSE_BYTES]


def connection_test_result(status: int, shown_url: str) -> tuple[bool, str]:
    """``test_connection``'s verdict on the probe's HTTP status (the messages docs/connection.md lists)."""
    if status == 401:
        return False, f"The AI/ML API at {shown_url} refused the API key (HTTP 401): check the password field"
    if status == 403:
        return False, (
            f"The AI/ML API at {shown_url} answered HTTP 403: the account is out of credits "
            "or the key may not use this model"
        )
    if status >= 500 or status == 429:
        return False, f"The AI/ML API at {shown_url} answered HTTP {status}; try again later"
    return True, f"The AI/ML API at {shown_url} accepted the API key"


def _usage_text(usage: Mapping[str, Any] | None) -> str:
    if not usage:
        return "none"
    return f"credits_used={usage.get('credits_used')}, usd_spent={usage.get('usd_spent')}"


@lru_cache(maxsize=1)
def _requests_causes() -> tuple[tuple[type[BaseException], _wire.TransportCause], ...]:
    """requests' and urllib3's exception types, most specific first (see ``_wire.classify_transport``)."""
    import requests
    from urllib3 import exceptions as u3

    pairs: list[tuple[type[BaseException], _wire.TransportCause]] = [
        (requests.exceptions.ProxyError, "proxy"),
        (u3.ProxyError, "proxy"),
        (requests.exceptions.ConnectTimeout, "connect_timeout"),
    ]
    name_resolution = getattr(u3, "NameResolutionError", None)  # urllib3 >= 2.0
    if name_resolution is not None:
        pairs.append((name_resolution, "dns"))
    pairs += [
        (u3.NewConnectionError, "connect"),  # a subclass of ConnectTimeoutError: before it
        (u3.ConnectTimeoutError, "connect_timeout"),
        (requests.exceptions.ReadTimeout, "read_timeout"),
        (u3.ReadTimeoutError, "read_timeout"),
        (u3.ProtocolError, "reset"),
    ]
    return tuple(pairs)


@lru_cache(maxsize=1)
def _aiohttp_causes() -> tuple[tuple[type[BaseException], _wire.TransportCause], ...]:
    """aiohttp's exception types, most specific first: anything from its connector never left."""
    import aiohttp

    pairs: list[tuple[type[BaseException], _wire.TransportCause]] = [
        (aiohttp.ClientProxyConnectionError, "proxy"),
        (aiohttp.ClientHttpProxyError, "proxy"),
        (aiohttp.ClientSSLError, "tls"),  # its subclasses are raised by the connector: handshake
    ]
    dns = getattr(aiohttp, "ClientConnectorDNSError", None)  # aiohttp >= 3.10.9
    if dns is not None:
        pairs.append((dns, "dns"))
    pairs.append((aiohttp.ClientConnectorError, "connect"))
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", None)  # aiohttp >= 3.10
    if connect_timeout is not None:
        pairs.append((connect_timeout, "connect_timeout"))
    pairs += [
        (aiohttp.ServerTimeoutError, "read_timeout"),
        (aiohttp.ServerDisconnectedError, "reset"),
        (aiohttp.ClientPayloadError, "reset"),
        (aiohttp.ClientOSError, "reset"),
    ]
    return tuple(pairs)


class _AudioStream:
    """An open download: headers plus an iterator of chunks that enforces the announced length."""

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
            int(length) if encoding == "identity" and re.fullmatch(r"[0-9]{1,18}", length) else None
        )
        self.url_path = urlsplit(response.url or "").path

    def chunks(self) -> Iterator[bytes]:
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
