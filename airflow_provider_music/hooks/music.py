"""The one Airflow connection to the AI/ML API: sync calls for workers, async calls for the triggerer."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_music import clients
from airflow_provider_music.audio import AudioFormat
from airflow_provider_music.clients import ApiSettings, AsyncClient, HttpAudioStream, RetryPolicy, SyncClient
from airflow_provider_music.defaults import (
    CONN_TYPE,
    CONNECTION_HIDDEN_FIELDS,
    CONNECTION_PLACEHOLDERS,
    CONNECTION_RELABELING,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_MAX_AUDIO_BYTES,
    DEFAULT_MODEL,
    HOOK_NAME,
)
from airflow_provider_music.exceptions import MusicProviderError
from airflow_provider_music.storage import StoredAudio, store_stream
from airflow_provider_music.wire import (
    CLIENT_REQUEST_ID_HEADER,
    Generation,
    GenerationStatus,
    Submission,
    build_probe_request,
    build_status_request,
    build_submit_request,
    connection_test_result,
    parse_generation_response,
    parse_submission,
    redact_url,
    unknown_model_warning,
    usage_text,
)

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

# The hook and the types its methods return.
__all__ = [
    "ApiSettings",
    "AudioFormat",
    "Generation",
    "GenerationStatus",
    "MusicGenerationHook",
    "RetryPolicy",
    "StoredAudio",
    "Submission",
]


class MusicGenerationHook(BaseHook):
    """
    Talk to the AI/ML API music endpoint (``POST``/``GET /v2/generate/audio``).

    The connection (type ``aimlapi``) keeps the API key in its password field; the host is optional
    and defaults to ``https://api.aimlapi.com`` (point it at the local emulator for tests).

    :param conn_id: Airflow connection id of type ``aimlapi``.
    :param timeout: Read timeout in seconds for each request (connect timeout is fixed at 10 s);
        default: the connection's extra ``{"timeout": seconds}``, else 60 s.
    :param max_attempts: Attempts per API call for transient faults (429, 5xx, resets, timeouts),
        spaced by exponential backoff with jitter, honouring ``Retry-After``; default: the retry
        policy's (5).
    :param retry_policy: The ``RetryPolicy`` of both clients; default: the class attribute
        ``MusicGenerationHook.retry_policy``.
    """

    conn_name_attr = "conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME
    retry_policy: RetryPolicy = RetryPolicy()

    def __init__(
        self,
        conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self._timeout = timeout
        policy = retry_policy or type(self).retry_policy
        self.retry_policy = policy if max_attempts is None else policy.with_attempts(max_attempts)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel the generic connection form: the key is the password, the host is optional."""
        return {
            "hidden_fields": list(CONNECTION_HIDDEN_FIELDS),
            "relabeling": dict(CONNECTION_RELABELING),
            "placeholders": dict(CONNECTION_PLACEHOLDERS),
        }

    @property
    def max_attempts(self) -> int:
        """Attempts per API call (the retry policy's)."""
        return self.retry_policy.max_attempts

    # --- settings and clients (built on first use: never at DAG-parse time) -----------------------

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
        return await self.async_client.settings()

    @cached_property
    def sync_client(self) -> SyncClient:
        """The requests client of this hook (workers)."""
        return SyncClient(self.settings, retry=self.retry_policy, log=self.log, timeout=self._timeout)

    @cached_property
    def async_client(self) -> AsyncClient:
        """The aiohttp client of this hook (the triggerer): one per hook, so one per trigger run."""
        return AsyncClient(
            self.conn_id, self.aget_connection, retry=self.retry_policy, log=self.log, timeout=self._timeout
        )

    @property
    def session(self) -> Any:
        """The sync client's ``requests.Session`` (mount an adapter on it to change the transport)."""
        return self.sync_client.session

    def _secrets(self) -> tuple[str, ...]:
        settings = self.__dict__.get("settings")
        if settings is None and "async_client" in self.__dict__:
            settings = self.async_client.shared.current
        return (settings.api_key,) if settings is not None else ()

    # --- sync side (workers) -----------------------------------------------------------------------

    def create_generation(
        self,
        prompt: str,
        music_length_ms: int | None = None,
        model: str = DEFAULT_MODEL,
        extra_body: Mapping[str, Any] | None = None,
        *,
        client_request_id: str | None = None,
        lyrics: str | None = None,
        negative_prompt: str | None = None,
        seed: int | None = None,
    ) -> Submission:
        """
        Create a generation: its id, the usage the service reported, and the ``X-Client-Request-Id``
        sent (only a valid one is sent). A POST is resent only when it cannot have arrived.

        The body is checked by the model's own rules first (``wire.MUSIC_MODELS``): ``music_length_ms``
        goes into the model's length field, ``lyrics``, ``negative_prompt`` and ``seed`` are sent when
        not None, and any other field the model takes comes through ``extra_body`` (one way only). A
        model outside the catalogue is sent as given, with a warning.
        """
        warning = unknown_model_warning(model)
        if warning is not None:
            self.log.warning("%s", warning)
        fields = {"lyrics": lyrics, "negative_prompt": negative_prompt, "seed": seed}
        request = build_submit_request(
            self.settings.base_url,
            prompt,
            music_length_ms,
            model,
            extra_body,
            client_request_id,
            fields={k: v for k, v in fields.items() if v is not None},
        )
        sent_id = (request.headers or {}).get(CLIENT_REQUEST_ID_HEADER)
        if client_request_id is not None and sent_id is None:
            self.log.warning(
                "client_request_id %r is not 1-128 characters of [A-Za-z0-9._:-]; not sent",
                client_request_id[:200] if isinstance(client_request_id, str) else client_request_id,
            )
        client = self.sync_client
        made = client.call(request, lambda s, h, c: parse_submission(s, h, c, client.secrets))
        submission = Submission(id=made.id, usage=made.usage, client_request_id=sent_id)
        self.log.info(
            "Created generation %s (model %s, client request id %s); usage reported: %s",
            submission.id, model, sent_id or "none", usage_text(submission.usage),
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
        lyrics: str | None = None,
        negative_prompt: str | None = None,
        seed: int | None = None,
    ) -> str:
        """``create_generation(...).id``."""
        return self.create_generation(
            prompt,
            music_length_ms,
            model,
            extra_body,
            client_request_id=client_request_id,
            lyrics=lyrics,
            negative_prompt=negative_prompt,
            seed=seed,
        ).id

    def get_generation(self, generation_id: str) -> Generation:
        """Read a generation's status (and, when completed, a fresh audio URL)."""
        request = build_status_request(self.settings.base_url, generation_id)
        client = self.sync_client
        return client.call(
            request, lambda s, h, c: parse_generation_response(s, h, c, generation_id, client.secrets)
        )

    def test_connection(self) -> tuple[bool, str]:
        """Ask for a generation that does not exist: a good key gets 'not found', a bad one gets 401."""
        try:
            settings = self.settings
            status, _, _ = self.sync_client.send(build_probe_request(settings.base_url))
        except MusicProviderError as err:
            return False, str(err)
        except Exception as err:  # the Test button shows whatever this returns: never a traceback
            return False, f"The connection test failed: {clients.exception_text(err, self._secrets())}"
        return connection_test_result(status, redact_url(settings.base_url))

    # --- delivery (workers) -----------------------------------------------------------------------

    def open_audio(
        self, url: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AbstractContextManager[HttpAudioStream]:
        """Open the audio URL for streaming; the API key is never sent to the CDN host."""
        return clients.open_audio(
            url, chunk_size=chunk_size, read_timeout=lambda: self.sync_client.read_timeout
        )

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
        with self.open_audio(url, chunk_size=chunk_size) as stream:
            return store_stream(stream, destination, max_bytes=max_bytes, chunk_size=chunk_size)

    # --- async side (triggerer) -------------------------------------------------------------------

    async def aget_generation(self, generation_id: str) -> Generation:
        """Async ``get_generation``: one client per hook, so one per trigger run."""
        client = self.async_client
        return await client.call(
            lambda settings: build_status_request(settings.base_url, generation_id),
            lambda s, h, c: parse_generation_response(s, h, c, generation_id, client.secrets),
        )

    async def aclose(self) -> None:
        """Close the async client (its pooled connection) and let go of the shared connection lookup."""
        if "async_client" in self.__dict__:
            await self.async_client.aclose()
