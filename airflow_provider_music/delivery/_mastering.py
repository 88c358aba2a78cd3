"""
A stored track into a mastered derivative in storage, plus its manifest: the source read into a local
temporary file (its sha256 verified on the way), normalised there (``analysis.master``), then stored
through the same path as a download (``storage.store_stream``): written whole or not at all,
``if_exists``, local folders and S3. Runs on a worker; the analysis package (numpy, scipy,
soundfile) is imported only when a mastering runs.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_music.audio import FLAC, MP3, OGG, WAV, AudioFormat, has_audio_extension
from airflow_provider_music.delivery._destination import Destination, check_destination
from airflow_provider_music.delivery._manifest import (
    MANIFEST_VERSION,
    check_existing,
    manifest_meta,
    sidecar_path,
    write_json_atomically,
)
from airflow_provider_music.delivery._master_options import (
    MASTER_NAME_SUFFIX,
    MasteringOptions,
    SourceTrack,
    source_track,
)
from airflow_provider_music.delivery._options import DeliveryOptions
from airflow_provider_music.exceptions import (
    MusicDeliveryError,
    MusicDestinationExistsError,
    MusicInputError,
)
from airflow_provider_music.storage import LocalFileStream, object_uri, remove_leftovers, store_stream

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music.analysis import MasteringResult
    from airflow_provider_music.storage import StoredAudio

log = logging.getLogger(__name__)

#: The stored format of each output format, and the extensions a destination may end in for it.
_OUTPUT_FORMATS: dict[str, tuple[AudioFormat, tuple[str, ...]]] = {
    "wav": (WAV, ("wav", "wave")),
    "flac": (FLAC, ("flac",)),
    "ogg": (OGG, ("ogg", "oga")),
    "mp3": (MP3, ("mp3",)),
}


def mastered_target(resolved: Destination, source_uri: str, output_format: str) -> ObjectStoragePath:
    """
    The derivative's object: the destination's full name (its extension must be the format's), its
    name plus the format's extension, or, for a folder, ``<source name>-master.<extension>``.
    """
    audio_format, extensions = _OUTPUT_FORMATS[output_format]
    if resolved.name is not None:
        extension = resolved.name.rsplit(".", 1)[1].lower()
        if extension not in extensions:
            raise MusicInputError(
                f"destination {resolved.shown()} ends in .{extension} but output_format is "
                f"{output_format!r}: name it .{audio_format.extension} or change output_format"
            )
        return resolved.folder / resolved.name
    if resolved.stem is not None:
        return resolved.folder / f"{resolved.stem}.{audio_format.extension}"
    name = source_uri.rstrip("/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if has_audio_extension(name) else name
    return resolved.folder / f"{stem}{MASTER_NAME_SUFFIX}.{audio_format.extension}"


def master_track(
    source: object,
    mastering: MasteringOptions,
    options: DeliveryOptions,
    *,
    source_conn_id: str | None = None,
    task_info: Mapping[str, Any] | None = None,
    task_log: logging.Logger | Any = None,
) -> dict[str, Any]:
    """
    Master the stored track ``source`` (a manifest, a URI or an ObjectStoragePath) into storage.

    Before any work the destination is checked (``check_destination``) and ``if_exists`` applied.
    The source's sha256, when its manifest gives one, is verified while it is read; a mismatch raises
    `MusicInputError` and nothing is written. Returns the derivative's manifest (also written beside
    it when ``options.write_sidecar``).
    """
    out = task_log if task_log is not None else log
    track = source_track(source)
    resolved = check_destination(options, out)
    source_path = _source_path(track, source_conn_id or options.storage_conn_id)
    source_uri = object_uri(source_path)
    target = mastered_target(resolved, source_uri, mastering.output_format)
    if object_uri(target) == source_uri:
        raise MusicInputError(f"The master would overwrite its own source {source_uri}; choose another name")
    meta = manifest_meta(None, task_info)
    if options.if_exists == "fail" and target.exists():
        raise MusicDestinationExistsError(
            f"{object_uri(target)} already exists and if_exists='fail'; nothing was mastered"
        )
    kept = check_existing(target, options, None, meta)
    if kept is not None:
        return kept
    removed = remove_leftovers(target.parent, target.name)
    if removed:
        out.info("Removed %d temporary object(s) left by an interrupted earlier try", removed)

    from airflow_provider_music.analysis import master  # numpy, scipy, soundfile: only when it runs

    with tempfile.TemporaryDirectory(prefix="music-master-") as scratch:
        local_source = Path(scratch) / "source"
        size, sha256 = _fetch_source(source_path, track, local_source, options)
        out.info("Read the source %s (%d bytes, sha256 %s)", source_uri, size, sha256)
        rendered = Path(scratch) / f"master.{mastering.output_format}"
        result = master(
            local_source,
            rendered,
            target_lufs=mastering.target_lufs,
            true_peak_ceiling_dbtp=mastering.true_peak_ceiling_dbtp,
            output_format=mastering.output_format,
            sample_rate=mastering.sample_rate,
            max_passes=mastering.max_passes,
        )
        audio_format = _OUTPUT_FORMATS[mastering.output_format][0]
        existing: dict[str, Any] = {}

        def keep_existing(path: ObjectStoragePath) -> bool:
            found = check_existing(path, options, None, meta)
            if found is not None:
                existing.update(found)
            return found is not None

        stored = store_stream(
            LocalFileStream(rendered, content_type=audio_format.content_type),
            target,
            temp_name=target.name,
            sweep=False,  # swept above
            keep_existing=keep_existing,
            max_bytes=options.max_bytes,
            chunk_size=options.chunk_size,
        )
    if stored is None:  # if_exists='skip' and the object appeared while this task worked
        return existing
    source_facts = {
        "uri": source_uri,
        "sha256": sha256,
        "sha256_verified": track.sha256 is not None,
        "size_bytes": size,
        "generation_id": (track.manifest or {}).get("generation_id"),
    }
    return _record(stored, audio_format, result, source_facts, meta, options, out)


def _source_path(track: SourceTrack, conn_id: str | None) -> ObjectStoragePath:
    """The source as an ObjectStoragePath (with the storage connection for a remote one)."""
    from airflow.sdk import ObjectStoragePath  # heavy (fsspec, upath): only when a task runs

    if isinstance(track.uri, ObjectStoragePath):
        return track.uri
    try:
        return ObjectStoragePath(track.uri, conn_id=conn_id)
    except (ImportError, ValueError) as exc:
        raise MusicInputError(f"The source {track.uri} cannot be opened: {exc}") from None


def _fetch_source(
    path: ObjectStoragePath, track: SourceTrack, local: Path, options: DeliveryOptions
) -> tuple[int, str]:
    """Copy the source into ``local`` in chunks (bounded memory), hashing it; verify the manifest's sha256."""
    digest = hashlib.sha256()
    size = 0
    uri = object_uri(path)
    try:
        with path.open("rb", block_size=options.chunk_size) as handle, local.open("wb") as sink:
            while chunk := handle.read(options.chunk_size):
                size += len(chunk)
                if size > options.max_bytes:
                    raise MusicInputError(f"The source {uri} is larger than max_bytes={options.max_bytes}")
                digest.update(chunk)
                sink.write(chunk)
    except (FileNotFoundError, IsADirectoryError):
        raise MusicInputError(
            f"The source {uri} does not exist (or is a folder); nothing was mastered"
        ) from None
    except MusicInputError:
        raise
    except Exception as exc:
        raise MusicDeliveryError(f"Reading the source {uri} failed: {type(exc).__name__}: {exc}") from None
    found = digest.hexdigest()
    if track.sha256 is not None and found != track.sha256:
        raise MusicInputError(
            f"The source {uri} has sha256 {found}, but its manifest records {track.sha256}: it changed "
            "after it was stored. Nothing was mastered; master the track the manifest describes."
        )
    return size, found


def _record(
    stored: StoredAudio,
    audio_format: AudioFormat,
    result: MasteringResult,
    source: Mapping[str, Any],
    meta: Mapping[str, Any],
    options: DeliveryOptions,
    out: logging.Logger | Any,
) -> dict[str, Any]:
    """The derivative's manifest, written beside it when asked, and the figures logged."""
    target = stored.path
    sidecar = sidecar_path(target) if options.write_sidecar else None
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "uri": object_uri(target),
        "generation_id": source.get("generation_id"),
        "size_bytes": stored.size_bytes,
        "content_type": audio_format.content_type,
        "format": audio_format.name,
        "sha256": stored.sha256,
        "duration_seconds": round(result.output.duration_seconds, 3),
        "sample_rate": result.sample_rate,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sidecar_uri": object_uri(sidecar) if sidecar is not None else None,
        "skipped": False,
        **meta,
        "source": dict(source),
        "mastering": result.to_manifest(),
        "analysis": result.output.to_manifest(),
    }
    if sidecar is not None:
        write_json_atomically(sidecar, manifest)
    out.info("Mastered %s into %s: %s", source["uri"], manifest["uri"], result.summary())
    if result.limited_by_ceiling:
        out.warning(
            "The true-peak ceiling of %.2f dBTP limited the gain: the master is %.2f LUFS, "
            "not the target %.2f",
            result.true_peak_ceiling_dbtp, result.achieved_lufs, result.target_lufs,
        )  # fmt: skip
    if not result.ceiling_met:
        out.warning(
            "The master's true peak %.2f dBTP is over the ceiling %.2f after %d passes",
            result.achieved_true_peak_dbtp, result.true_peak_ceiling_dbtp, result.passes,
        )  # fmt: skip
    out.info(
        "Stored the master at %s (%d bytes, sha256 %s)", manifest["uri"], stored.size_bytes, stored.sha256
    )
    return manifest
