"""
The provider's errors: one root, a few branches, each raised (never returned) and free of I/O.

    MusicProviderError                      root: catch this to catch everything below
    ├── MusicInputError                     bad input, refused before any request   (fails, no retry)
    ├── MusicAPIError                       the service answered with an error
    │   ├── MusicAuthError                  401: the API key is missing or wrong    (fails, no retry)
    │   ├── MusicCreditsError               403: out of credits or forbidden        (fails, no retry)
    │   ├── MusicRejectedError              other 4xx: the request itself is wrong  (fails, no retry)
    │   ├── MusicTransientError             429, 5xx, resets, timeouts, bad bodies  (retried with backoff)
    │   │   └── MusicUnreachableError       the request never left: proxy, TLS, DNS, refused (retried)
    │   └── MusicSubmitUncertainError       a POST that may have created a generation (fails, no retry)
    ├── MusicGenerationFailed               the generation ended in `error` or an unknown status
    ├── MusicTimeoutError                   the generation was not done by the deadline
    ├── MusicQualityError                   the track failed the gate (kept in rejected/)   (fails, no retry)
    └── MusicDeliveryError                  the audio could not be fetched or stored
        ├── MusicAudioURLExpired            the audio URL answered 401/403/404/410: fetch a fresh one
        ├── MusicAudioInvalidError          what was served is not acceptable audio
        └── MusicDestinationExistsError     if_exists="fail" and the object is already there

Classes marked "fails, no retry" also derive from Airflow's ``AirflowFailException`` so that a task
fails at once instead of burning its retries on something a retry cannot fix (and, for a POST,
could bill twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Airflow 3.2+ keeps the task-facing exceptions in the Task SDK, 3.1 in airflow.exceptions.
from airflow_provider_music.version_compat import AirflowException, AirflowFailException

__all__ = [
    "AirflowFailException",
    "MusicAPIError",
    "MusicAudioInvalidError",
    "MusicAudioURLExpired",
    "MusicAuthError",
    "MusicCreditsError",
    "MusicDeliveryError",
    "MusicDestinationExistsError",
    "MusicGenerationFailed",
    "MusicInputError",
    "MusicProviderError",
    "MusicQualityError",
    "MusicRejectedError",
    "MusicSubmitUncertainError",
    "MusicTimeoutError",
    "MusicTransientError",
    "MusicUnreachableError",
]


class MusicProviderError(AirflowException):
    """Root of every error this provider raises."""


class MusicInputError(MusicProviderError, AirflowFailException, ValueError):
    """Input that the service would refuse; raised before any request is sent."""


class MusicAPIError(MusicProviderError):
    """The AI/ML API answered with an error (or did not answer usably)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        service_message: str | None = None,
    ) -> None:
        # Not `status_code`: AirflowException already uses that name for its own HTTP mapping.
        self.http_status = http_status
        self.request_id = request_id
        self.service_message = service_message
        super().__init__(message)


class MusicAuthError(MusicAPIError, AirflowFailException):
    """The API key was refused (HTTP 401)."""


class MusicCreditsError(MusicAPIError, AirflowFailException):
    """The account is out of credits or the key may not use this model (HTTP 403)."""


class MusicRejectedError(MusicAPIError, AirflowFailException):
    """The service refused the request itself (HTTP 400 and other 4xx)."""


class MusicTransientError(MusicAPIError):
    """A fault that a later attempt may not meet: throttling, 5xx, resets, timeouts, garbled bodies."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class MusicUnreachableError(MusicTransientError):
    """
    The request never left this machine (proxy, TLS handshake or certificate, DNS, refused, connect
    timeout), so nothing was created or billed and even a POST may be resent. ``cause`` names which.
    """

    def __init__(self, message: str, *, cause: str = "other", **kwargs: object) -> None:
        self.cause = cause
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class MusicSubmitUncertainError(MusicAPIError, AirflowFailException):
    """A POST failed after it was sent, so a billed generation may exist; it is never resent blindly."""


# Public names since 0.1.0 (users catch them), so they keep their names without the Error suffix.
class MusicGenerationFailed(MusicProviderError, AirflowFailException):  # noqa: N818
    """The generation ended in ``error`` or in a status this provider does not know."""

    def __init__(self, message: str, *, generation_id: str, status: str) -> None:
        self.generation_id = generation_id
        self.status = status
        super().__init__(message)


class MusicTimeoutError(MusicProviderError):
    """The generation was still pending when the wall-clock deadline passed."""


class MusicQualityError(MusicProviderError, AirflowFailException):
    """The stored track failed the quality gate; it is kept under ``rejected/`` with its manifest."""

    def __init__(self, message: str, *, manifest: Mapping[str, Any]) -> None:
        #: The rejected track's manifest (its ``quality.failures`` name each rule and measured value).
        self.manifest = dict(manifest)
        super().__init__(message)


class MusicDeliveryError(MusicProviderError):
    """The audio could not be downloaded or written to storage; nothing partial was left behind."""


class MusicAudioInvalidError(MusicDeliveryError):
    """The audio URL served something that is not acceptable audio (a page, too short, too large)."""


class MusicAudioURLExpired(MusicDeliveryError):  # noqa: N818 (a public name since 0.1.0, see above)
    """The time-limited audio URL answered 401, 403, 404 or 410; a fresh GET of the generation mints one."""


class MusicDestinationExistsError(MusicDeliveryError, AirflowFailException):
    """The destination already holds an object and ``if_exists="fail"`` was asked for."""
