"""
From a completed generation to an object in storage plus its manifest: shared by the sensor and the
one-task operator, run on a worker (never in the triggerer: storage clients block).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_music import _wire
from airflow_provider_music.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_IF_EXISTS,
    DEFAULT_MAX_AUDIO_BYTES,
    IF_EXISTS_CHOICES,
    MAX_URL_REFRESHES,
    SIDECAR_SUFFIX,
)
from airflow_provider_music.exceptions import (
    MusicAudioURLExpired,
    MusicDeliveryError,
    MusicDestinationExistsError,
    MusicGenerationFailed,
    MusicInputError,
)

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music._storage import StoredAudio
    from airflow_provider_music._wire import Generation
    from airflow_provider_music.hooks.music import MusicGenerationHook

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class DeliveryOptions:
    """How and where a track is stored; plain values so operators can hold it cheaply."""

    destination: Any  # str URI or ObjectStoragePath
    storage_conn_id: str | None = None
    if_exists: str = DEFAULT_IF_EXISTS
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_bytes: int = DEFAULT_MAX_AUDIO_BYTES
    write_sidecar: bool = True
    # The stored object's name without extension (the extension follows the audio's format);
    # when set, ``destination`` is the folder. Default: a safe name derived from the generation id.
    object_name: str | None = None


def validate_options(options: DeliveryOptions) -> None:
    """Refuse bad delivery settings before anything is requested."""
    if options.if_exists not in IF_EXISTS_CHOICES:
        raise MusicInputError(
            f"if_exists is {options.if_exists!r}; it must be one of {', '.join(IF_EXISTS_CHOICES)}"
        )
    if not isinstance(options.chunk_size, int) or options.chunk_size < 64 * 1024:
        raise MusicInputError(
            f"chunk_size must be an integer of at least 65536 bytes, got {options.chunk_size!r}"
        )
    if not isinstance(options.max_bytes, int) or options.max_bytes <= 0:
        raise MusicInputError(f"max_bytes must be a positive integer, got {options.max_bytes!r}")
    name = options.object_name
    if name is not None and (
        not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name or name in (".", "..")
    ):
        raise MusicInputError(f"object_name must be a single path segment without '/', got {name!r}")
    dest = options.destination
    if isinstance(dest, str):
        if not dest.strip():
            raise MusicInputError("destination must not be empty")
    elif type(dest).__name__ != "ObjectStoragePath":
        raise MusicInputError(
            f"destination must be a URI string or an ObjectStoragePath, got {type(dest).__name__}"
        )


def resolve_destination(destination: Any, storage_conn_id: str | None) -> tuple[ObjectStoragePath, bool]:
    """The destination as a path, and whether it names a folder (a string ending in ``/``)."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(destination, ObjectStoragePath):
        path = destination
        # Airflow 3.1's ObjectStoragePath has no conn_id attribute; its str() carries the conn id.
        has_conn = getattr(path, "conn_id", None) or "@" in str(path).split("://", 1)[-1].split("/", 1)[0]
        if storage_conn_id and not has_conn:
            path = ObjectStoragePath(str(path), conn_id=storage_conn_id)
        is_folder = path.is_dir()
        return path, is_folder
    text = str(destination).strip()
    is_folder = text.endswith("/")
    return ObjectStoragePath(text, conn_id=storage_conn_id), is_folder


def object_uri(path: ObjectStoragePath) -> str:
    """A stable URI without connection id or credentials (used in manifests and Asset URIs)."""
    protocol = path.protocol or "file"
    if protocol in ("file", "local"):
        return "file://" + str(path.path if str(path.path).startswith("/") else "/" + str(path.path))
    return f"{protocol}://{str(path.path).lstrip('/')}"


def sidecar_path(target: ObjectStoragePath) -> ObjectStoragePath:
    stem = target.name.rsplit(".", 1)[0] if "." in target.name else target.name
    return target.parent / f"{stem}{SIDECAR_SUFFIX}"


def deliver_generation(
    hook: MusicGenerationHook,
    generation_id: str,
    options: DeliveryOptions,
    *,
    request_info: Mapping[str, Any] | None = None,
    task_info: Mapping[str, Any] | None = None,
    generation: Generation | None = None,
) -> dict[str, Any]:
    """
    Stream a completed generation's audio to storage (straight to its final name where an upload is
    invisible until complete, else under a temporary name moved into place), then write the sidecar.
    ``generation``, when given, is a status just read (saving one GET). An expired URL is refreshed
    by a new GET of the generation, never by a new POST.
    """
    from airflow_provider_music import _audio
    from airflow_provider_music._storage import discard, finalize, remove_leftovers, write_stream

    validate_options(options)
    base, is_folder = resolve_destination(options.destination, options.storage_conn_id)
    is_folder = is_folder or options.object_name is not None
    base_name = options.object_name or _wire.safe_object_name(generation_id)
    meta = {**(request_info or {}), **(task_info or {})}

    target: ObjectStoragePath | None = None if is_folder else base
    if target is not None and (existing := _check_existing(target, options, generation_id, meta)):
        return existing
    # A worker killed mid-download (SIGKILL, OOM) could not remove its temporary object: this try does.
    # Temporaries are named after the object (a folder destination: its name without extension).
    stem = base_name if target is None else target.name
    removed = remove_leftovers(base if target is None else target.parent, stem)
    if removed:
        hook.log.info("Removed %d temporary object(s) left by an interrupted earlier try", removed)

    stored: StoredAudio | None = None
    refreshes = 0
    while stored is None:
        if generation is None:
            generation = hook.get_generation(generation_id)
        if not (generation.status.is_success() and generation.audio_url):
            raise MusicGenerationFailed(
                _wire.generation_failure_text(generation),
                generation_id=generation_id,
                status=generation.raw_status,
            )
        url = generation.audio_url
        if is_folder and target is None:
            guess = _audio.format_for(url_path=_url_path(url))
            if guess is not None:
                target = base / f"{base_name}.{guess.extension}"
                if existing := _check_existing(target, options, generation_id, meta):
                    return existing
        try:
            with hook.open_audio(url, chunk_size=options.chunk_size) as stream:
                if is_folder and target is None:
                    guess = _audio.format_for(content_type=stream.content_type)
                    if guess is not None:
                        target = base / f"{base_name}.{guess.extension}"
                        if existing := _check_existing(target, options, generation_id, meta):
                            return existing
                folder = target.parent if target is not None else base
                hook.log.info("Downloading generation %s from %s", generation_id, stream.shown_url)
                stored = write_stream(
                    stream,
                    folder,
                    name=stem,
                    target=target,
                    max_bytes=options.max_bytes,
                    chunk_size=options.chunk_size,
                )
        except MusicAudioURLExpired as err:
            refreshes += 1
            if refreshes > MAX_URL_REFRESHES:
                raise MusicDeliveryError(
                    f"The audio URL of generation {generation_id} kept failing after {MAX_URL_REFRESHES} "
                    f"refreshes: {err}"
                ) from None
            hook.log.warning("%s; asking the API for a fresh URL (%d/%d)", err, refreshes, MAX_URL_REFRESHES)
            generation = None

    if target is None:
        target = base / f"{base_name}.{stored.audio_format.extension}"
    if not stored.in_place:  # written in place: the name was known, and checked, before the download
        try:
            existing = _check_existing(target, options, generation_id, meta)
        except BaseException:
            discard(stored)
            raise
        if existing:
            discard(stored)
            return existing
        stored = finalize(stored, target)
    sidecar = sidecar_path(target) if options.write_sidecar else None
    manifest = _manifest(target, stored, generation_id, meta, sidecar)
    if sidecar is not None:
        _write_json_atomically(sidecar, manifest)
    hook.log.info(
        "Stored generation %s at %s (%d bytes, sha256 %s)",
        generation_id, manifest["uri"], stored.size_bytes, stored.sha256,
    )  # fmt: skip
    return manifest


def existing_manifest(
    options: DeliveryOptions, request_info: Mapping[str, Any], task_info: Mapping[str, Any]
) -> dict[str, Any] | None:
    """
    Before paying for a generation: with a destination naming one object that already exists,
    ``if_exists='skip'`` returns its manifest and ``'fail'`` raises; otherwise None.
    """
    base, is_folder = resolve_destination(options.destination, options.storage_conn_id)
    if options.if_exists == "overwrite" or is_folder or options.object_name is not None:
        return None
    return _check_existing(base, options, None, {**request_info, **task_info})


def _check_existing(
    target: ObjectStoragePath, options: DeliveryOptions, generation_id: str | None, meta: Mapping[str, Any]
) -> dict[str, Any] | None:
    if options.if_exists == "overwrite" or not target.exists():
        return None
    if options.if_exists == "fail":
        raise MusicDestinationExistsError(
            f"{object_uri(target)} already exists and if_exists='fail'; nothing was generated or downloaded"
        )
    log.info("%s already exists; if_exists='skip' keeps it", object_uri(target))
    return _manifest_of_existing(target, generation_id, meta)


def _manifest_of_existing(
    target: ObjectStoragePath, generation_id: str | None, meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The manifest of an object kept by ``if_exists='skip'``: its sidecar if it matches, else re-hashed."""
    from airflow_provider_music import _audio

    side = sidecar_path(target)
    try:
        recorded = json.loads(side.read_text())
        if isinstance(recorded, dict) and recorded.get("uri") == object_uri(target):
            return {**recorded, "skipped": True}
    except Exception:  # no sidecar, or an unreadable one: fall back to hashing the object
        pass
    digest = hashlib.sha256()
    size = 0
    head = b""
    with target.open("rb") as handle:
        while chunk := handle.read(DEFAULT_CHUNK_SIZE):
            if len(head) < _audio.HEADER_BYTES:
                head += chunk[: _audio.HEADER_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
    fmt = _audio.sniff(head)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "uri": object_uri(target),
        "generation_id": generation_id,
        "size_bytes": size,
        "content_type": fmt.content_type if fmt else "application/octet-stream",
        "format": fmt.name if fmt else None,
        "sha256": digest.hexdigest(),
        "duration_seconds": _audio.duration_seconds(head, size),
        "created_at": None,
        "sidecar_uri": None,
        "skipped": True,
        **meta,
    }
    return manifest


def _manifest(
    target: ObjectStoragePath,
    stored: StoredAudio,
    generation_id: str,
    meta: Mapping[str, Any],
    sidecar: ObjectStoragePath | None,
) -> dict[str, Any]:
    from airflow_provider_music import _audio

    duration = _audio.duration_seconds(stored.head, stored.size_bytes)
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


def _write_json_atomically(path: ObjectStoragePath, data: Mapping[str, Any]) -> None:
    """One PUT where that is atomic (S3: no temporary object to copy), else a temporary object renamed."""
    from airflow_provider_music._storage import commits_atomically, partial_name, remove_quietly

    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    temp: ObjectStoragePath | None = None
    try:
        if commits_atomically(path):
            path.fs.pipe_file(path.path, text.encode())
            return
        temp = path.parent / partial_name(path.name)
        with temp.open("w") as handle:
            handle.write(text)
        temp.rename(path)
    except Exception as exc:
        if temp is not None:
            remove_quietly(temp)
        raise MusicDeliveryError(
            f"The audio is stored but its manifest {object_uri(path)} could not be written: {exc}"
        ) from None


def task_info(context: Mapping[str, Any]) -> dict[str, Any]:
    """The Airflow coordinates recorded with every track."""
    ti = context.get("ti")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", -1),
    }


def lineage_dataset(uri: str) -> tuple[str, str]:
    """OpenLineage (namespace, name) of a stored object: ``s3://bucket`` + key, ``file`` + path."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


class PublishesAudio:
    """
    What the sensor and the one-task operator share after a track is stored: an Airflow asset event
    (through an alias, since the URI is only known at run time) and the OpenLineage output dataset.
    """

    asset_alias: str | None
    _stored_uri: str | None = None

    def _publish(self, context: Mapping[str, Any], manifest: Mapping[str, Any]) -> None:
        self._stored_uri = str(manifest["uri"])
        if not self.asset_alias or manifest.get("skipped"):
            return
        from airflow.sdk import Asset, AssetAlias

        extra = {
            key: manifest.get(key)
            for key in (
                "generation_id",
                "sha256",
                "size_bytes",
                "duration_seconds",
                "content_type",
                "sidecar_uri",
            )
        }
        context["outlet_events"][AssetAlias(self.asset_alias)].add(Asset(uri=self._stored_uri), extra=extra)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The stored object as the task's output dataset (called only when OpenLineage is installed)."""
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        if not self._stored_uri:
            return OperatorLineage()
        namespace, name = lineage_dataset(self._stored_uri)
        return OperatorLineage(outputs=[Dataset(namespace=namespace, name=name)])


def alias_outlets(outlets: Any, asset_alias: str | None) -> list[Any]:
    """The task's outlets plus the alias its asset events go through (declared at DAG-parse time)."""
    declared = list(outlets or [])
    if asset_alias:
        from airflow.sdk import AssetAlias

        declared.append(AssetAlias(asset_alias))
    return declared


def _url_path(url: str) -> str:
    """The path of ``url``; empty when it cannot be parsed (``open_audio`` then says why)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""
