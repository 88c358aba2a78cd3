"""
From a completed generation to an object in storage plus its manifest: the one delivery path, shared
by the sensor and the one-task operator, run on a worker (never in the triggerer: storage clients block).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_music.audio import format_for
from airflow_provider_music.defaults import MAX_URL_REFRESHES
from airflow_provider_music.delivery._destination import existing_object, resolve_destination
from airflow_provider_music.delivery._judge import (
    Judgement,
    judge,
    local_folder,
    rejected_path,
    requested_seconds,
    spool_folder,
    tee_stream,
    write_waveform,
)
from airflow_provider_music.delivery._manifest import (
    build_manifest,
    check_existing,
    describe_usage,
    manifest_meta,
    sidecar_path,
    write_json_atomically,
)
from airflow_provider_music.delivery._naming import (
    format_from_url,
    object_file_name,
    safe_object_name,
)
from airflow_provider_music.delivery._options import DeliveryOptions, validate_options
from airflow_provider_music.exceptions import (
    MusicAudioURLExpired,
    MusicDeliveryError,
    MusicGenerationFailed,
    MusicQualityError,
)
from airflow_provider_music.storage import LocalFileStream, object_uri, remove_leftovers, store_stream
from airflow_provider_music.wire import generation_failure_text

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music.audio import AudioFormat
    from airflow_provider_music.storage import AudioStream, StoredAudio
    from airflow_provider_music.wire import Generation

#: A manifest: what ``deliver_generation`` returns (also for an object kept by ``if_exists='skip'``).
Manifest = dict[str, Any]


class TaskLog(Protocol):
    """The log levels delivery writes at: a stdlib ``Logger`` and Airflow's task log both fit."""

    def info(self, msg: Any, /, *args: Any) -> Any:
        """Log at INFO."""
        ...

    def warning(self, msg: Any, /, *args: Any) -> Any:
        """Log at WARNING."""
        ...


class AudioSource(Protocol):
    """What delivery needs of the hook: a status read, the audio download, and its task log."""

    @property
    def log(self) -> TaskLog:
        """The log that delivery messages go to (the task's)."""
        ...

    def get_generation(self, generation_id: str) -> Generation:
        """A generation's status, with a fresh audio URL once it is completed."""
        ...

    def open_audio(self, url: str, *, chunk_size: int = ...) -> AbstractContextManager[AudioStream]:
        """The download of ``url``: a stream of chunks with a length and a type."""
        ...


@dataclass
class _Delivery:
    """One delivery under way: where it goes, and the object's name once it is known."""

    source: AudioSource
    generation_id: str
    options: DeliveryOptions
    folder: ObjectStoragePath
    #: The object's name without extension (``object_name``, else derived from the generation id).
    stem: str
    #: The facts every manifest carries (request, task).
    meta: Mapping[str, Any]
    #: The object, once its full name is known (given, or from the audio's format).
    target: ObjectStoragePath | None
    #: What temporaries are named after (so a later try can find what a killed one left).
    temp_name: str
    #: The manifest of an object ``if_exists='skip'`` kept instead of the new audio.
    kept: Manifest | None = None
    #: The analysis and verdict of a judged track.
    judgement: Judgement | None = None

    def existing(self, target: ObjectStoragePath) -> Manifest | None:
        """``if_exists`` applied to ``target``: the kept object's manifest, a raise, or None."""
        return check_existing(target, self.options, self.generation_id, self.meta)

    def keep_existing(self, target: ObjectStoragePath) -> bool:
        """Asked by storage before the new audio replaces ``target``: whether ``if_exists`` keeps it."""
        self.kept = self.existing(target)
        return self.kept is not None

    def name_from(self, audio_format: AudioFormat | None) -> Manifest | None:
        """Name the object after a format learned before the download; checked against ``if_exists``."""
        if self.target is not None or audio_format is None:
            return None
        self.target = self.folder / object_file_name(self.stem, audio_format)
        return self.existing(self.target)


def deliver_generation(
    hook: AudioSource,
    generation_id: str,
    options: DeliveryOptions,
    *,
    request_info: Mapping[str, Any] | None = None,
    task_info: Mapping[str, Any] | None = None,
    generation: Generation | None = None,
) -> Manifest:
    """
    Stream a completed generation's audio to storage (straight to its final name where an upload is
    invisible until complete, else under a temporary name moved into place), then write the sidecar.
    ``generation``, when given, is a status just read (saving one GET). An expired URL is refreshed
    by a new GET of the generation, never by a new POST.
    """
    validate_options(options)
    resolved = resolve_destination(options.destination, options.storage_conn_id, options.object_name)
    stem = resolved.stem or safe_object_name(generation_id)
    target = resolved.target()
    job = _Delivery(
        source=hook,
        generation_id=generation_id,
        options=options,
        folder=resolved.folder,
        stem=stem,
        # The storage connection as resolved (the argument, or the one written into the URI): the
        # listening page opens the track through it (its id only, never its secrets).
        meta=manifest_meta(request_info, {**(task_info or {}), "storage_conn_id": resolved.conn_id}),
        target=target,
        # A name known only up to its extension: temporaries are named after that stem.
        temp_name=stem if target is None else target.name,
    )
    # An explicit name, or a name known up to its extension (<stem>.<any audio extension>).
    found = target if target is not None else existing_object(resolved, options)
    if found is not None and (kept := job.existing(found)):
        return kept
    # A worker killed mid-download (SIGKILL, OOM) could not remove its temporary object: this try does.
    removed = remove_leftovers(job.folder, job.temp_name)
    if removed:
        hook.log.info("Removed %d temporary object(s) left by an interrupted earlier try", removed)
    stored = _download(job, generation)
    return stored if isinstance(stored, dict) else _record(job, stored)


def _download(job: _Delivery, generation: Generation | None) -> StoredAudio | Manifest:
    """The audio written into storage; an expired URL is refreshed (a GET) up to ``MAX_URL_REFRESHES``."""
    refreshes = 0
    while True:
        if generation is None:
            generation = job.source.get_generation(job.generation_id)
        try:
            return _download_once(job, _audio_url(generation, job.generation_id))
        except MusicAudioURLExpired as err:
            refreshes += 1
            if refreshes > MAX_URL_REFRESHES:
                raise MusicDeliveryError(
                    f"The audio URL of generation {job.generation_id} kept failing after "
                    f"{MAX_URL_REFRESHES} refreshes: {err}"
                ) from None
            job.source.log.warning(
                "%s; asking the API for a fresh URL (%d/%d)", err, refreshes, MAX_URL_REFRESHES
            )
            generation = None


def _audio_url(generation: Generation, generation_id: str) -> str:
    """The audio URL of a completed generation; a failed one (or one without audio) raises."""
    if not (generation.status.is_success() and generation.audio_url):
        raise MusicGenerationFailed(
            generation_failure_text(generation),
            generation_id=generation_id,
            status=generation.raw_status,
        )
    return generation.audio_url


def _download_once(job: _Delivery, url: str) -> StoredAudio | Manifest:
    """
    One download of ``url`` into storage. The object's name follows the URL's or the response's
    format when either names one (then on S3 the upload goes straight to that name), else the audio's
    sniffed format; ``if_exists`` is applied to the name once it is known. A track to be analysed is
    copied to a local file as it streams; one to be judged by a gate is spooled there first and
    reaches the destination only with its verdict.
    """
    if kept := job.name_from(format_from_url(url)):
        return kept
    with spool_folder() if job.options.analyses else nullcontext() as spool:
        with job.source.open_audio(url, chunk_size=job.options.chunk_size) as stream:
            if kept := job.name_from(format_for(content_type=stream.content_type)):
                return kept
            job.source.log.info("Downloading generation %s from %s", job.generation_id, stream.shown_url)
            destination = job.target if job.target is not None else job.folder / job.stem
            if spool is None:
                return _store(job, stream, destination)
            if job.options.quality is None:
                with tee_stream(stream, os.path.join(spool, "audio")) as copy:
                    stored = _store(job, copy, destination)
                if not isinstance(stored, dict):
                    job.judgement = _judge(job, copy.copy_path)
                return stored
            spooled = store_stream(
                stream, local_folder(spool) / job.stem, add_extension=True, temp_name=job.stem,
                max_bytes=job.options.max_bytes, chunk_size=job.options.chunk_size,
            )  # fmt: skip
        return _judge_and_store(job, spooled)


def _judge(job: _Delivery, local_file: str) -> Judgement:
    """The analysis (and the gate's verdict) of a local copy of the track."""
    return judge(
        local_file, job.options.quality, requested=requested_seconds(job.meta), waveform=job.options.waveform
    )


def _store(job: _Delivery, stream: AudioStream, destination: ObjectStoragePath) -> StoredAudio | Manifest:
    """Write ``stream`` at ``destination`` (its extension added from the audio when not named yet)."""
    stored = store_stream(
        stream,
        destination,
        add_extension=job.target is None,
        temp_name=job.temp_name,
        sweep=False,  # swept once, before the first try of the URL
        keep_existing=job.keep_existing,
        max_bytes=job.options.max_bytes,
        chunk_size=job.options.chunk_size,
    )
    if stored is None:  # if_exists='skip' kept an object that appeared during the download
        assert job.kept is not None
        return job.kept
    return stored


def _judge_and_store(job: _Delivery, spooled: StoredAudio) -> StoredAudio | Manifest:
    """Analyse the spooled track; store it under its name, or under ``rejected/`` and raise."""
    local = spooled.path.path
    job.judgement = _judge(job, local)
    stream = LocalFileStream(local, spooled.audio_format.content_type, job.options.chunk_size)
    if job.judgement.passed:
        if job.target is None:
            job.target = job.folder / object_file_name(job.stem, spooled.audio_format)
            if kept := job.existing(job.target):
                return kept
        return _store(job, stream, job.target)
    final = job.target or job.folder / object_file_name(job.stem, spooled.audio_format)
    rejected = rejected_path(job.folder, final.name, safe_object_name(job.generation_id))
    stored = store_stream(
        stream,
        rejected,
        temp_name=rejected.name,
        max_bytes=job.options.max_bytes,
        chunk_size=job.options.chunk_size,
    )
    manifest = _record(job, stored, rejected={"intended_uri": object_uri(final)})
    verdict = job.judgement.verdict
    assert verdict is not None
    raise MusicQualityError(
        f"Generation {job.generation_id} failed the quality gate, so it was not published; it is kept at "
        f"{manifest['uri']} with its manifest:\n{verdict.describe()}",
        manifest=manifest,
    )


def _record(job: _Delivery, stored: StoredAudio, rejected: Mapping[str, Any] | None = None) -> Manifest:
    """
    The manifest of the stored track (with its analysis and verdict when judged), written beside it as
    a sidecar when asked (always for a rejected track), with its waveform when asked, and logged.
    """
    target = stored.path
    sidecar = sidecar_path(target) if job.options.write_sidecar or rejected else None
    manifest = build_manifest(target, stored, job.generation_id, job.meta, sidecar)
    if job.judgement is not None:
        manifest.update(job.judgement.manifest_fields())
        if job.judgement.waveform is not None:
            manifest["waveform"] = write_waveform(target, job.judgement.waveform)
    if rejected is not None:
        manifest.update(rejected=True, **rejected)
    if sidecar is not None:
        write_json_atomically(sidecar, manifest)
    job.source.log.info(
        "Stored generation %s at %s (%d bytes, sha256 %s); usage: %s; client request id: %s",
        job.generation_id, manifest["uri"], stored.size_bytes, stored.sha256,
        describe_usage(manifest.get("usage")), manifest.get("client_request_id") or "none",
    )  # fmt: skip
    if job.judgement is not None:
        job.source.log.info("Analysis of %s: %s", manifest["uri"], _describe_analysis(job.judgement))
    return manifest


def _describe_analysis(judgement: Judgement) -> str:
    """One log line of the figures a person checks first."""
    a = judgement.analysis

    def level(key: str, unit: str) -> str:
        return "silence" if a.get(key) is None else f"{a[key]:.1f} {unit}"

    ratio = "" if a.get("length_ratio") is None else f" ({a['length_ratio']:.0%} of the request)"
    verdict = (
        ""
        if judgement.verdict is None
        else ("; quality gate: passed" if judgement.passed else "; quality gate: FAILED")
    )
    return (
        f"{a['duration_seconds']:.2f} s{ratio}, {level('integrated_loudness_lufs', 'LUFS')}, "
        f"true peak {level('true_peak_dbtp', 'dBTP')}, silence {a['leading_silence_seconds']:.2f} s / "
        f"{a['trailing_silence_seconds']:.2f} s, {a['clipped_samples']} clipped samples{verdict}"
    )
