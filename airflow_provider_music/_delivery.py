"""
From a completed generation to an object in storage plus its manifest: shared by the sensor and the
one-task operator, run on a worker (never in the triggerer: storage clients block).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from airflow_provider_music import _wire
from airflow_provider_music._storage import LOCAL_PROTOCOLS as LOCAL_SCHEMES
from airflow_provider_music._storage import is_local, object_uri
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


@dataclass(frozen=True)
class Destination:
    """
    Where a track goes, resolved from the options: the folder and as much of the name as is known.

    ``name``: the object's full name (the destination ended in an audio extension). ``stem``: the
    name without extension (``object_name``, or a destination whose last segment has no audio
    extension); the extension then follows the audio's format. Neither: a folder, the name is
    derived from the generation id.
    """

    folder: ObjectStoragePath
    name: str | None = None
    stem: str | None = None
    conn_id: str | None = None

    def target(self) -> ObjectStoragePath | None:
        """The object, when its full name is known now."""
        return self.folder / self.name if self.name is not None else None

    def shown(self) -> str:
        """The destination as a URI for messages: no connection id, no credentials."""
        uri = object_uri(self.folder).rstrip("/")
        if self.name is not None:
            return f"{uri}/{self.name}"
        return f"{uri}/{self.stem}.<ext>" if self.stem is not None else f"{uri}/"


#: How Airflow, universal_pathlib and fsspec say that no filesystem serves a scheme.
_NO_FILESYSTEM_MESSAGES = ("No filesystem registered", "Unsupported filesystem", "Protocol not known")
#: Schemes whose filesystem comes with a package: the line that installs it.
_SCHEME_PACKAGES: dict[str, str] = {
    **dict.fromkeys(("s3", "s3a", "s3n"), 'pip install "airflow-provider-music[amazon]"'),
    **dict.fromkeys(("gs", "gcs"), 'pip install "apache-airflow-providers-google" gcsfs'),
    **dict.fromkeys(
        ("abfs", "abfss", "adl", "az"), 'pip install "apache-airflow-providers-microsoft-azure" adlfs'
    ),
}


_BUCKET_SCHEMES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "adl", "az"})


def _split_text_destination(text: str) -> tuple[str, str | None]:
    """The scheme of a string destination and the connection id written into it (``s3://conn@bucket``)."""
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise MusicInputError(f"destination {text!r} is not a valid URI or path: {exc}") from None
    scheme = parts.scheme.lower()
    userinfo, has_userinfo, _ = parts.netloc.rpartition("@")
    if scheme in LOCAL_SCHEMES:
        if scheme and parts.netloc:  # fsspec would read file://host/x as the relative path host/x
            raise MusicInputError(
                f"destination {text!r} names a host ({parts.netloc!r}) in a file URI; for an absolute "
                f"path write three slashes: file:///{parts.netloc}{parts.path}"
            )
        if not parts.path.startswith("/"):
            hint = " ('~' is not expanded)" if parts.path.startswith("~") else ""
            raise MusicInputError(
                f"destination {text!r} is a relative path{hint}: it would resolve against each worker's "
                "working directory, which differs between workers and tries. Give an absolute path, "
                "e.g. '/data/music/' or 'file:///data/music/'"
            )
    return scheme, (userinfo or None) if has_userinfo else None


def resolve_destination(
    destination: Any, storage_conn_id: str | None, object_name: str | None = None
) -> Destination:
    """
    The destination as a folder plus what is known of the object's name (see ``Destination``).

    A string ending in ``/``, a destination with ``object_name``, an ``ObjectStoragePath`` that is an
    existing folder, or a bucket without a key is a folder. A relative local path is refused: it
    would be written under whatever the worker's working directory is while the manifest claimed
    otherwise.
    """
    from airflow.sdk import ObjectStoragePath

    url_conn: str | None = None
    if isinstance(destination, ObjectStoragePath):
        path = destination
        # Airflow 3.1's ObjectStoragePath has no conn_id attribute; its str() carries the conn id.
        url_conn = getattr(path, "conn_id", None) or _conn_in_text(str(path))
        if (path.protocol or "") in LOCAL_SCHEMES and not str(path.path).startswith("/"):
            _split_text_destination(str(path.path))  # raises: a relative local path
        if storage_conn_id and not url_conn:
            path = ObjectStoragePath(str(path), conn_id=storage_conn_id)
        is_folder = object_name is not None or path.is_dir()
    else:
        text = str(destination).strip()
        _, url_conn = _split_text_destination(text)
        path = ObjectStoragePath(text, conn_id=storage_conn_id)
        is_folder = text.endswith("/") or object_name is not None
    conn_id = url_conn or storage_conn_id
    if path.protocol in _BUCKET_SCHEMES and "/" not in str(path.path).strip("/"):
        is_folder = True  # a bucket (or container) without a key
    if is_folder:
        return Destination(path, stem=object_name, conn_id=conn_id)
    name = path.name
    if _audio_extension(name):
        return Destination(path.parent, name=name, conn_id=conn_id)
    return Destination(path.parent, stem=name, conn_id=conn_id)


def _audio_extension(name: str) -> bool:
    from airflow_provider_music import _audio

    return _audio.has_audio_extension(name)


def _conn_in_text(text: str) -> str | None:
    netloc = text.split("://", 1)[1].split("/", 1)[0] if "://" in text else ""
    userinfo, has_userinfo, _ = netloc.rpartition("@")
    return userinfo or None if has_userinfo else None


def check_destination(
    options: DeliveryOptions, log: logging.Logger | Any = None, *, checked_before: str = ""
) -> Destination:
    """
    Everything about the destination that can be known without the audio, checked before anything is
    paid for (or waited for): the options, an absolute local path, the storage connection exists, the
    storage filesystem can be built (a missing extra names the ``pip install`` line), and one cheap
    call reaches the folder or bucket with the given credentials (see ``_storage.probe_folder``).
    Raises ``MusicInputError`` for what only a change of the DAG or the deployment can fix,
    ``MusicDeliveryError`` for a storage that could not be reached (a retry may succeed); their
    message ends with ``checked_before`` (what the failure spared: "this try created no generation").
    """
    try:
        return _check_destination(options, log)
    except (MusicInputError, MusicDeliveryError) as exc:
        if not checked_before:
            raise
        text = str(exc)
        raise type(exc)(text + ("" if text.endswith("\n") else " ") + checked_before) from None


def _check_destination(options: DeliveryOptions, log: logging.Logger | Any) -> Destination:
    from airflow_provider_music._storage import probe_folder

    validate_options(options)
    dest = options.destination
    if isinstance(dest, str):
        scheme, url_conn = _split_text_destination(dest.strip())
        if scheme not in LOCAL_SCHEMES:
            # Before any ObjectStoragePath exists: building one with a missing connection already logs
            # "switching to empty" and falls back to whatever credentials the worker happens to have.
            for conn_id in dict.fromkeys(c for c in (url_conn, options.storage_conn_id) if c):
                _require_connection(conn_id, scheme)
    try:
        resolved = resolve_destination(dest, options.storage_conn_id, options.object_name)
        fs = resolved.folder.fs
    except MusicInputError:
        raise
    except (ImportError, ValueError) as exc:
        scheme = _scheme_of(dest)
        if isinstance(exc, ImportError) or any(m in str(exc) for m in _NO_FILESYSTEM_MESSAGES):
            raise _missing_filesystem(scheme, exc) from None
        raise MusicInputError(f"The destination cannot be used: {exc}") from None
    if not isinstance(dest, str) and not is_local(resolved.folder) and resolved.conn_id:
        _require_connection(resolved.conn_id, resolved.folder.protocol)
    probe_folder(resolved.folder, fs, conn_id=resolved.conn_id)
    if is_local(resolved.folder):
        import os

        for name in (resolved.name, resolved.stem):
            if name is not None and os.path.isdir(os.path.join(str(resolved.folder.path), name)):
                raise MusicInputError(
                    f"destination {object_uri(resolved.folder / name)} is an existing folder: end the "
                    "destination with '/' to store into it"
                )
    if log is not None:
        log.info("Destination %s checked: it can take the audio", resolved.shown())
    return resolved


def _scheme_of(destination: Any) -> str:
    if isinstance(destination, str):
        return urlsplit(destination.strip()).scheme.lower() if "://" in destination else ""
    return str(getattr(destination, "protocol", "") or "")


def _missing_filesystem(scheme: str, exc: BaseException) -> MusicInputError:
    line = _SCHEME_PACKAGES.get(scheme)
    if line is not None:
        return MusicInputError(
            f"Storing to {scheme}:// needs a package this environment lacks ({exc}). Install it with:\n"
            f"{line}\n"
        )
    return MusicInputError(
        f"No storage filesystem is available for {scheme or 'this'}:// destinations ({exc}); install the "
        "Airflow provider (and fsspec package) that registers it."
    )


def _require_connection(conn_id: str, scheme: str) -> None:
    """A named storage connection must exist: a typo must not fall back to some other credentials."""
    from airflow.sdk import BaseHook
    from airflow.sdk import exceptions as sdk_exceptions

    found = getattr(sdk_exceptions, "AirflowNotFoundException", None)
    if found is None:  # pragma: no cover - Airflow 3.1: the Task SDK raises Airflow's own
        import airflow.exceptions

        found = getattr(airflow.exceptions, "AirflowNotFoundException")  # noqa: B009
    not_found: type[Exception] = found

    try:
        BaseHook.get_connection(conn_id)
    except not_found:
        raise MusicInputError(
            f"The storage connection {conn_id!r} (for the {scheme}:// destination) does not exist; "
            "create it or fix storage_conn_id."
        ) from None


def existing_object(resolved: Destination, options: DeliveryOptions) -> ObjectStoragePath | None:
    """
    With ``if_exists`` ``"skip"`` or ``"fail"``: the object already at the destination, when its name
    is known before the audio is (a full name, or a stem: ``<stem>.<any audio extension>``).
    """
    from airflow_provider_music import _audio
    from airflow_provider_music._storage import find_by_stem

    if options.if_exists == "overwrite":
        return None
    if resolved.name is not None:
        target = resolved.folder / resolved.name
        return target if target.exists() else None
    if resolved.stem is not None:
        return find_by_stem(resolved.folder, resolved.stem, _audio.AUDIO_EXTENSIONS)
    return None


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
    resolved = resolve_destination(options.destination, options.storage_conn_id, options.object_name)
    base = resolved.folder
    base_name = resolved.stem or _wire.safe_object_name(generation_id)
    meta = _meta(request_info, task_info)

    target = resolved.target()
    # An explicit name, or a name known up to its extension (<stem>.<any audio extension>).
    found = target if target is not None else existing_object(resolved, options)
    if found is not None and (existing := _check_existing(found, options, generation_id, meta)):
        return existing
    # A worker killed mid-download (SIGKILL, OOM) could not remove its temporary object: this try does.
    # Temporaries are named after the object (a name known only up to its extension: that stem).
    stem = base_name if target is None else target.name
    removed = remove_leftovers(base, stem)
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
        if target is None:
            guess = _audio.format_for(url_path=_url_path(url))
            if guess is not None:
                target = base / f"{base_name}.{guess.extension}"
                if existing := _check_existing(target, options, generation_id, meta):
                    return existing
        try:
            with hook.open_audio(url, chunk_size=options.chunk_size) as stream:
                if target is None:
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
        "Stored generation %s at %s (%d bytes, sha256 %s); usage: %s; client request id: %s",
        generation_id, manifest["uri"], stored.size_bytes, stored.sha256,
        describe_usage(manifest.get("usage")), manifest.get("client_request_id") or "none",
    )  # fmt: skip
    return manifest


def describe_usage(usage: Mapping[str, Any] | None) -> str:
    """What the service reported a generation cost, for a log line (never an estimate)."""
    if not usage:
        return "not reported by the service"
    credits, usd = usage.get("credits_used"), usage.get("usd_spent")
    parts = [f"{credits} credits" if credits is not None else None, f"USD {usd}" if usd is not None else None]
    return ", ".join(p for p in parts if p) or "not reported by the service"


def _meta(request_info: Mapping[str, Any] | None, task_info: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request and task facts every manifest carries; cost and tracing are null when unknown."""
    return {"usage": None, "client_request_id": None, **(request_info or {}), **(task_info or {})}


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
    return _check_existing(found, options, None, _meta(request_info, task_info))


def _check_existing(
    target: ObjectStoragePath, options: DeliveryOptions, generation_id: str | None, meta: Mapping[str, Any]
) -> dict[str, Any] | None:
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
    from airflow_provider_music import _audio

    side = sidecar_path(target)
    try:
        recorded = json.loads(side.read_text())
        if isinstance(recorded, dict) and recorded.get("uri") == object_uri(target):
            return {"usage": None, "client_request_id": None, **recorded, "skipped": True}
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
        # Not this task's generation: what it cost, and under which request id, is unknown.
        "usage": None,
        "client_request_id": None,
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


#: Manifest fields an asset event carries in its extra.
ASSET_EXTRA_FIELDS = (
    "generation_id",
    "sha256",
    "size_bytes",
    "duration_seconds",
    "content_type",
    "sidecar_uri",
    "usage",
    "client_request_id",
)
#: The name of this provider's OpenLineage run facet, and where its fields are described.
LINEAGE_RUN_FACET = "aimlapi_music"
LINEAGE_FACET_SCHEMA_URL = (
    "https://github.com/airflow-provider-music/airflow-provider-music/blob/main/docs/operators.md"
    "#asset-events-and-lineage-generatemusicoperator-and-the-sensor"
)


class PublishesAudio:
    """
    What the sensor and the one-task operator share after a track is stored: an Airflow asset event
    (through an alias, since the URI is only known at run time) and the OpenLineage output dataset
    plus run facets (the generation id, what it cost, the client request id).
    """

    asset_alias: str | None
    _stored_uri: str | None = None
    _stored_manifest: Mapping[str, Any] | None = None

    def _publish(self, context: Mapping[str, Any], manifest: Mapping[str, Any]) -> None:
        self._stored_uri = str(manifest["uri"])
        self._stored_manifest = dict(manifest)
        if not self.asset_alias or manifest.get("skipped"):
            return
        from airflow.sdk import Asset, AssetAlias

        extra = {key: manifest.get(key) for key in ASSET_EXTRA_FIELDS}
        context["outlet_events"][AssetAlias(self.asset_alias)].add(Asset(uri=self._stored_uri), extra=extra)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        The stored object as the task's output dataset (with its size), and run facets naming the
        generation: ``externalQuery`` (the generation id, source ``aimlapi``) and ``aimlapi_music``
        (generation id, usage, client request id, model, whether it was skipped). Called only when
        OpenLineage is installed.
        """
        from airflow.providers.common.compat.openlineage.facet import (
            ExternalQueryRunFacet,
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
        )
        from airflow.providers.openlineage.extractors import OperatorLineage

        if not self._stored_uri:
            return OperatorLineage()
        manifest = self._stored_manifest or {}
        namespace, name = lineage_dataset(self._stored_uri)
        size = manifest.get("size_bytes")
        facets: dict[str, Any] = {}
        if size:
            facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(size=size, fileCount=1)
        output = OutputDataset(namespace=namespace, name=name, outputFacets=facets)
        run_facets: dict[str, Any] = {}
        generation_id = manifest.get("generation_id")
        if generation_id:
            run_facets["externalQuery"] = ExternalQueryRunFacet(
                externalQueryId=str(generation_id), source="aimlapi"
            )
        run_facets[LINEAGE_RUN_FACET] = music_run_facet(manifest)
        return OperatorLineage(outputs=[output], run_facets=run_facets)


def music_run_facet(manifest: Mapping[str, Any]) -> Any:
    """This provider's OpenLineage run facet for a stored (or kept) track."""
    usage = manifest.get("usage")
    return _music_run_facet_class()(
        generationId=manifest.get("generation_id"),
        usage=dict(usage) if isinstance(usage, Mapping) else None,
        clientRequestId=manifest.get("client_request_id"),
        model=manifest.get("model"),
        skipped=bool(manifest.get("skipped")),
    )


@functools.cache
def _music_run_facet_class() -> type:
    """Defined on first use, so that OpenLineage is imported only where it is installed and used."""
    import attr
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attr.define
    class AimlapiMusicRunFacet(RunFacet):  # type: ignore[misc]
        """The music generation behind a task's output: id, what the service reported it cost, tracing."""

        generationId: str | None = attr.field(default=None)
        usage: dict[str, Any] | None = attr.field(default=None)
        clientRequestId: str | None = attr.field(default=None)
        model: str | None = attr.field(default=None)
        skipped: bool = attr.field(default=False)

        _additional_skip_redact: ClassVar[list[str]] = ["generationId", "usage", "clientRequestId", "model"]

        @staticmethod
        def _get_schema() -> str:
            return LINEAGE_FACET_SCHEMA_URL

    # Importable by name (module __getattr__ below), so that the facet pickles like a top-level class.
    AimlapiMusicRunFacet.__qualname__ = "AimlapiMusicRunFacet"
    AimlapiMusicRunFacet.__module__ = __name__
    return AimlapiMusicRunFacet


def __getattr__(name: str) -> Any:
    if name == "AimlapiMusicRunFacet":
        return _music_run_facet_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
