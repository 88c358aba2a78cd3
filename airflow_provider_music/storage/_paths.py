"""Where objects go: URIs for messages, which stores commit atomically, temporaries and their leftovers."""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from airflow_provider_music.exceptions import MusicDeliveryError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

#: Temporary objects start with this, then the name of the object they will become.
PARTIAL_PREFIX = ".partial-"
LOCAL_PROTOCOLS = ("", "file", "local")
# Stores whose uploads stay invisible until committed (an S3 multipart upload; a small object is one
# PUT): there the audio is written straight to its final key, without a temporary object to copy.
DIRECT_WRITE_PROTOCOLS = ("s3", "s3a")
S3_PROTOCOLS = ("s3", "s3a", "s3n")


def object_uri(path: ObjectStoragePath) -> str:
    """A stable URI without connection id or credentials (used in messages, manifests and Asset URIs)."""
    protocol = path.protocol or "file"
    if protocol in LOCAL_PROTOCOLS:
        return "file://" + str(path.path if str(path.path).startswith("/") else "/" + str(path.path))
    return f"{protocol}://{str(path.path).lstrip('/')}"


def is_local(path: ObjectStoragePath) -> bool:
    """Whether ``path`` is on this worker's own filesystem."""
    return (path.protocol or "") in LOCAL_PROTOCOLS


def is_s3(path: ObjectStoragePath, fs: Any) -> bool:
    """Whether ``path`` is on S3 through s3fs (whose S3 calls the probes and the uploads make)."""
    return path.protocol in S3_PROTOCOLS and hasattr(fs, "_call_s3")


def s3_prefix(folder: ObjectStoragePath, fs: Any) -> tuple[str, str]:
    """``(bucket, key prefix)`` of an S3 folder; the prefix is empty or ends in ``/``."""
    bucket, key, _ = fs.split_path(str(folder.path))
    return bucket, (key.rstrip("/") + "/" if key.strip("/") else "")


def describe(exc: BaseException) -> str:
    """``Type: message``; for an error translated without a message (s3fs does that), the original's."""
    if str(exc) in ("", "None") and exc.__cause__ is not None:
        return describe(exc.__cause__)
    return f"{type(exc).__name__}: {exc}"


def partial_name(name: str) -> str:
    """A hidden temporary name that still says which object it will become (so leftovers can be found)."""
    return f"{leftovers_prefix(name)}{uuid.uuid4().hex}"


def leftovers_prefix(name: str) -> str:
    """The start of every temporary name of the object ``name``."""
    return f"{PARTIAL_PREFIX}{name}-"


def commits_atomically(path: ObjectStoragePath) -> bool:
    """
    Whether an upload to ``path`` stays invisible until committed, so a failed one leaves nothing.

    S3 multipart uploads (and single PUTs) do; a local file or most other stores do not.
    """
    return path.protocol in DIRECT_WRITE_PROTOCOLS and hasattr(path.fs, "_call_s3")


def remove_quietly(path: ObjectStoragePath) -> None:
    """Best-effort clean-up: the original error matters more than a failed delete."""
    with suppress(Exception):
        path.unlink(missing_ok=True)


def ensure_folder(folder: ObjectStoragePath) -> None:
    """Create a missing local folder (object stores have none to create)."""
    if is_local(folder):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MusicDeliveryError(
                f"Could not create the folder {object_uri(folder)}: {describe(exc)}"
            ) from None


def remove_leftovers(folder: ObjectStoragePath, name: str) -> int:
    """
    Delete temporaries of ``name`` that a killed worker could not clean up; returns how many.

    On stores that commit atomically (S3) the upload itself sweeps them, in the background.
    """
    if commits_atomically(folder):
        return 0
    prefix = leftovers_prefix(name)
    removed = 0
    try:
        if not folder.exists():
            return 0
        for child in folder.iterdir():
            if child.name.startswith(prefix):
                remove_quietly(child)
                removed += 1
    except (FileNotFoundError, NotADirectoryError):
        return removed
    return removed


def find_by_stem(
    folder: ObjectStoragePath, stem: str, extensions: tuple[str, ...]
) -> ObjectStoragePath | None:
    """
    The object ``<stem>.<extension>`` in ``folder`` for the first of ``extensions`` that exists, or None.

    On S3 with one listing of the keys starting with ``<stem>.``, elsewhere one ``exists()`` per extension.
    """
    fs = folder.fs
    if is_s3(folder, fs):
        bucket, prefix = s3_prefix(folder, fs)
        names: set[str] = set()
        marker: dict[str, str] = {}
        while True:
            page = fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=f"{prefix}{stem}.", **marker)
            names.update(item["Key"][len(prefix) :] for item in page.get("Contents") or [])
            if not page.get("IsTruncated"):
                break
            marker = {"ContinuationToken": page["NextContinuationToken"]}
        for extension in extensions:
            if f"{stem}.{extension}" in names:
                return folder / f"{stem}.{extension}"
        return None
    for extension in extensions:
        candidate = folder / f"{stem}.{extension}"
        if candidate.exists():
            return candidate
    return None
