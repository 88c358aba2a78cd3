"""One cheap call before anything is paid for, showing that a destination folder can take the audio."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from airflow_provider_music.exceptions import MusicDeliveryError, MusicInputError
from airflow_provider_music.storage._paths import describe, is_local, is_s3, object_uri, s3_prefix

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

#: S3 error codes that mean the credentials themselves were refused (not merely a missing permission).
_S3_BAD_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "InvalidSecurity",
        "AuthorizationHeaderMalformed",
    }
)
_S3_ACCESS_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "403", "Forbidden"})
#: Exception names botocore gives a missing credential (matched by name: botocore is not imported here).
_NO_CREDENTIALS = ("NoCredentialsError", "PartialCredentialsError")
#: Client errors (4xx) that are worth retrying: the request may well succeed later.
_RETRYABLE_CLIENT_STATUSES = (408, 429)


def probe_folder(folder: ObjectStoragePath, fs: Any, *, conn_id: str | None) -> None:
    """
    One cheap call showing that ``folder`` can take the audio, made before anything is paid for.

    S3: a listing of at most one key under the folder's prefix (it needs ``s3:ListBucket``, which
    may be limited to that prefix): a missing bucket, refused credentials, or no credentials at all
    (anonymous access refused) raise ``MusicInputError``; an ``AccessDenied`` with credentials only
    warns (a policy may allow writing without listing), and an unreachable endpoint raises
    ``MusicDeliveryError`` (retryable: nothing was paid). A local folder: its nearest existing
    ancestor must be a folder this worker can write into (a missing folder is created when the audio
    is stored). Any other store: the folder's ``exists()`` must answer.
    """
    shown = object_uri(folder)
    if is_local(folder):
        _probe_local(str(folder.path), shown)
    elif is_s3(folder, fs):
        _probe_s3(folder, fs, shown, conn_id)
    else:
        try:
            folder.exists()
        except PermissionError as exc:
            raise MusicInputError(f"The storage refused to look into {shown} ({describe(exc)})") from None
        except FileNotFoundError:
            return
        except Exception as exc:
            raise MusicDeliveryError(f"Could not reach the storage of {shown} ({describe(exc)})") from None


def _probe_local(folder: str, shown: str) -> None:
    nearest = folder
    while not os.path.exists(nearest):
        parent = os.path.dirname(nearest)
        if parent == nearest:
            break
        nearest = parent
    if not os.path.isdir(nearest):
        raise MusicInputError(
            f"The destination folder {shown} cannot be created: {nearest} is a file, not a folder"
        )
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise MusicInputError(f"This worker cannot write into {nearest} (needed for {shown})")


def _probe_s3(folder: ObjectStoragePath, fs: Any, shown: str, conn_id: str | None) -> None:
    bucket, prefix = s3_prefix(folder, fs)
    via = f"storage connection {conn_id!r}" if conn_id else "the default AWS credentials (no storage_conn_id)"
    try:
        fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except Exception as exc:
        _refuse_or_warn(exc, fs, bucket=bucket, shown=shown, via=via)


def _refuse_or_warn(exc: Exception, fs: Any, *, bucket: str, shown: str, via: str) -> None:
    """Turn a failed S3 listing into the error that says what to fix; a mere AccessDenied only warns."""
    code, http_status = _s3_error(exc)
    detail = describe(exc)
    if code == "NoSuchBucket":
        raise MusicInputError(f"The bucket {bucket!r} of {shown} does not exist (asked with {via})") from None
    if code in _S3_BAD_CREDENTIALS:
        raise MusicInputError(f"S3 refused the credentials of {via} for {shown} ({code})") from None
    if type(exc).__name__ in _NO_CREDENTIALS:
        raise MusicInputError(f"No S3 credentials were found for {shown} ({via})") from None
    if code in _S3_ACCESS_DENIED or http_status == 403 or isinstance(exc, PermissionError):
        if getattr(fs, "anon", False):
            raise MusicInputError(
                f"S3 refused anonymous access to {shown}: no credentials were found ({via})"
            ) from None
        log.warning(
            "S3 does not let %s list %s (%s); going on, since a policy may allow writing without "
            "listing: the write itself will tell",
            via, shown, detail,
        )  # fmt: skip
        return
    if http_status is not None and 400 <= http_status < 500 and http_status not in _RETRYABLE_CLIENT_STATUSES:
        raise MusicInputError(f"S3 refused to list {shown} with {via} ({detail})") from None
    raise MusicDeliveryError(f"Could not reach the storage of {shown} with {via} ({detail})") from None


def _s3_error(exc: BaseException | None) -> tuple[str | None, int | None]:
    """The S3 error code and HTTP status of ``exc`` or of the error it was translated from (s3fs keeps it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            return (str(code) if code else None), (status if isinstance(status, int) else None)
        exc = exc.__cause__ or exc.__context__
    return None, None
