"""The sync client (requests): what workers use to submit and poll."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from airflow_provider_music.clients._faults import requests_causes, transport_error
from airflow_provider_music.clients._retry import BoundedBody, RetryLog, RetryPolicy
from airflow_provider_music.defaults import CONNECT_TIMEOUT_S, READ_TIMEOUT_S
from airflow_provider_music.exceptions import MusicProviderError, MusicTransientError
from airflow_provider_music.wire import ApiRequest, auth_headers

if TYPE_CHECKING:
    import requests

    from airflow_provider_music.clients._settings import ApiSettings

T = TypeVar("T")
Answer = tuple[int, Mapping[str, str], bytes]
Parse = Callable[[int, Mapping[str, str], bytes], T]

# Bytes asked of the socket per read of an API answer (a few hundred bytes, usually).
_READ_PIECE = 64 * 1024


class SyncClient:
    """
    One requests session for the API: bounded reads, the whole answer within connect + read timeout,
    and transient failures retried by the ``RetryPolicy``. Built on first use by the hook.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        retry: RetryPolicy,
        log: RetryLog,
        timeout: float | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.retry = retry
        self.log = log
        self.read_timeout = timeout or settings.timeout or READ_TIMEOUT_S
        self.connect_timeout = connect_timeout

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message."""
        return (self.settings.api_key,)

    @cached_property
    def session(self) -> requests.Session:
        """The session, with the auth headers (mount an adapter on it to change the transport)."""
        # requests is imported on first use: the hook's module is imported at DAG-parse time.
        import requests

        session = requests.Session()
        session.headers.update(auth_headers(self.settings.api_key))
        return session

    def call(self, request: ApiRequest, parse: Parse[T]) -> T:
        """Send ``request`` and parse the answer, retrying transient failures by the policy."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(*self.send(request))
            except MusicTransientError as err:
                delay = self.retry.next_delay(attempt, err)
                if delay is None:
                    raise
                self.retry.log_retry(self.log, attempt, request, err, delay)
                time.sleep(delay)

    def send(self, request: ApiRequest) -> Answer:
        """One attempt: the status, headers and (bounded) body, or a provider error."""
        # The whole answer within connect + read timeout: a body dripping a byte per read timeout
        # would otherwise hold the worker for ever.
        deadline = time.monotonic() + self.connect_timeout + self.read_timeout
        try:
            with self.session.request(
                request.method,
                request.url,
                params=request.params,
                json=request.json_body,
                headers=request.headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                return response.status_code, response.headers, _read_bounded(response, deadline)
        except MusicProviderError:
            raise
        except Exception as exc:  # whatever the transport raised, the caller gets a provider error
            raise transport_error(
                request.operation,
                exc,
                base_url=self.settings.base_url,
                library_causes=requests_causes(),
                scheme_assumed=self.settings.scheme_assumed,
                secrets=self.secrets,
            ) from None


def _read_bounded(response: requests.Response, deadline: float) -> bytes:
    """
    The body, cut at the ``BoundedBody`` limit and read by ``deadline`` (else a ReadTimeout, which a
    POST treats as "may have been created"). ``read1`` returns what has arrived, so a body that
    drips a byte at a time still meets the deadline check.
    """
    import requests  # already loaded here (a response exists): no import cost

    body = BoundedBody()
    while not body.full:
        if time.monotonic() > deadline:
            raise requests.exceptions.ReadTimeout("the answer did not arrive within the read timeout")
        piece = response.raw.read1(_READ_PIECE, decode_content=True)
        if not piece or body.add(piece):
            break
    return body.value()
