"""
The manifest of a stored track (what was stored, where, what it cost, which task stored it), the
manifest of an object already there (``if_exists``), and its JSON sidecar written without ever
leaving half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_music.audio import HEADER_BYTES, duration_seconds, sniff
from airflow_provider_music.defaults import DEFAULT_CHUNK_SIZE
from airflow_provider_music.delivery._destination import Destination, existing_object, resolve_destination
from airflow_provider_music.delivery._options import DeliveryOptions
from airflow_provider_music.exceptions import MusicDeliveryError, MusicDestinationExistsError
from airflow_provider_music.storage import commits_atomically, object_uri, partial_name, remove_quietly

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music.storage import StoredAudio

log = logging.getLogger(__name__)

#: The version of the manifest's layout, recorded in every manifest.
MANIFEST_VERSION = 1
# The manifest beside a track: the track's name with its extension replaced by this.
SIDECAR_SUFFIX = ".json"


def sidecar_path(target: ObjectStoragePath) -> ObjectStoragePath:
    """The sidecar of ``target``: its name with the extension replaced by ``SIDECAR_SUFFIX``."""
    stem = target.name.rsplit(".", 1)[0] if "." in target.name else target.name
    return target.parent / f"{stem}{SIDECAR_SUFFIX}"


def describe_usage(usage: Mapping[str, Any] | None) -> str:
    """What the service reported a generation cost, for a log line (never an estimate)."""
    if not usage:
        return "not reported by the service"
    credits, usd = usage.get("credits_used"), usage.get("usd_spent")
    parts = [f"{credits} credits" if credits is not None else None, f"USD {usd}" if usd is not None else None]
    return ", ".join(p for p in parts if p) or "not reported by the service"


def manifest_meta(
    request_info: Mapping[str, Any] | None, task_info: Mapping[str, Any] | None
) -> dict[str, Any]:
    """
    The request and task facts every manifest carries; cost, tracing and the body as sent
    (``request``: the model's fields, lyrics as given, never the API key) are null when unknown.
    """
    meta = {"usage": None, "client_request_id": None, "request": None, **(request_info or {})}
    return {**meta, **(task_info or {})}


def existing_manifest(
    options: DeliveryOptions,
    request_info: Mapping[str, Any],
    task_info: Mapping[str, Any],
    resolved: Destination | None = None,
) -> dict[str, Any] | None:
    """
    Before paying for a generation: when the object's name is known up to its extension and the
    object (any audio extension) already exists, ``if_exists='skip'`` returns its manifest and
    ``'fail'`` raises; otherwise None.
    """
    if options.if_exists == "overwrite":
        return None
    if resolved is None:
        resolved = resolve_destination(options.destination, options.storage_conn_id, options.object_name)
    found = existing_object(resolved, options)
    if found is None:
        return None
    meta = manifest_meta(request_info, {**task_info, "storage_conn_id": resolved.conn_id})
    return check_existing(found, options, None, meta)


def check_existing(
    target: ObjectStoragePath, options: DeliveryOptions, generation_id: str | None, meta: Mapping[str, Any]
) -> dict[str, Any] | None:
    """
    ``target`` already exists: ``if_exists='fail'`` raises, ``'skip'`` returns the kept object's
    manifest; None when it does not exist or with ``'overwrite'``.
    """
    if options.if_exists == "overwrite" or not target.exists():
        return None
    if options.if_exists == "fail":
        done = "nothing was generated" if generation_id is None else f"generation {generation_id} not stored"
        raise MusicDestinationExistsError(f"{object_uri(target)} already exists and if_exists='fail'; {done}")
    log.info("%s already exists; if_exists='skip' keeps it", object_uri(target))
    return _manifest_of_existing(target, generation_id, meta)


def _manifest_of_existing(
    target: ObjectStoragePath, generation_id: str | None, meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The manifest of an object kept by ``if_exists='skip'``: its sidecar if it matches, else re-hashed."""
    side = sidecar_path(target)
    try:
        recorded = json.loads(side.read_text())
        if isinstance(recorded, dict) and recorded.get("uri") == object_uri(target):
            return {"usage": None, "client_request_id": None, "request": None, **recorded, "skipped": True}
    except Exception:  # no sidecar, or an unreadable one: fall back to hashing the object
        pass
    digest = hashlib.sha256()
    size = 0
    head = b""
    with target.open("rb") as handle:
        while chunk := handle.read(DEFAULT_CHUNK_SIZE):
            if len(head) < HEADER_BYTES:
                head += chunk[: HEADER_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
    fmt = sniff(head)
    return {
        "manifest_version": MANIFEST_VERSION,
        "uri": object_uri(target),
        "generation_id": generation_id,
        "size_bytes": size,
        "content_type": fmt.content_type if fmt else "application/octet-stream",
        "format": fmt.name if fmt else None,
        "sha256": digest.hexdigest(),
        "duration_seconds": duration_seconds(head, size),
        "created_at": None,
        "sidecar_uri": None,
        "skipped": True,
        **meta,
        # Not this task's generation: what it cost, and under which request id, is unknown.
        "usage": None,
        "client_request_id": None,
    }


def build_manifest(
    target: ObjectStoragePath,
    stored: StoredAudio,
    generation_id: str,
    meta: Mapping[str, Any],
    sidecar: ObjectStoragePath | None,
) -> dict[str, Any]:
    """The manifest of a track this task stored."""
    duration = duration_seconds(stored.head, stored.size_bytes)
    return {
        "manifest_version": MANIFEST_VERSION,
        "uri": object_uri(target),
        "generation_id": generation_id,
        "size_bytes": stored.size_bytes,
        "content_type": stored.audio_format.content_type,
        "format": stored.audio_format.name,
        "sha256": stored.sha256,
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sidecar_uri": object_uri(sidecar) if sidecar is not None else None,
        "skipped": False,
        **meta,
    }


def write_json_atomically(
    path: ObjectStoragePath, data: Mapping[str, Any], what: str = "its manifest"
) -> None:
    """The manifest (or any JSON) as one object, written whole or not at all."""
    write_bytes_atomically(path, json.dumps(data, indent=2, sort_keys=True, default=str).encode(), what)


def write_bytes_atomically(path: ObjectStoragePath, data: bytes, what: str = "its manifest") -> None:
    """One PUT where that is atomic (S3: no temporary object to copy), else a temporary object renamed."""
    temp: ObjectStoragePath | None = None
    try:
        if commits_atomically(path):
            path.fs.pipe_file(path.path, data)
            return
        temp = path.parent / partial_name(path.name)
        with temp.open("wb") as handle:
            handle.write(data)
        temp.rename(path)
    except Exception as exc:
        if temp is not None:
            remove_quietly(temp)
        raise MusicDeliveryError(
            f"The audio is stored but {what} {object_uri(path)} could not be written: {exc}"
        ) from None
