"""The mastering operator: a stored track normalised to a loudness target under a true-peak ceiling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_music import delivery
from airflow_provider_music.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_IF_EXISTS, DEFAULT_MAX_AUDIO_BYTES
from airflow_provider_music.delivery import (
    DEFAULT_MASTER_FORMAT,
    DEFAULT_MASTER_PASSES,
    DEFAULT_TARGET_LUFS,
    DEFAULT_TRUE_PEAK_CEILING_DBTP,
    DeliveryOptions,
    check_absolute,
    check_destination_format,
    coerce_ceiling,
    coerce_max_passes,
    coerce_output_format,
    coerce_sample_rate,
    coerce_target_lufs,
    mastering_options,
    source_track,
    validate_destination,
    validate_object_name,
    validate_static_options,
)
from airflow_provider_music.integration import PublishesAudio, alias_outlets, is_pending, task_info

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath, XComArg

__all__ = ["MasterAudioOperator"]


class MasterAudioOperator(PublishesAudio, BaseOperator):
    """
    Write a mastered copy of a stored track: its integrated loudness brought to ``target_lufs`` by gain
    alone, never with its true peak above ``true_peak_ceiling_dbtp``; returns the copy's manifest.

    When the target would cross the ceiling, the gain stops at the ceiling: the master is quieter than
    the target, and the manifest (``mastering.limited_by_ceiling``, ``mastering.achieved_lufs``) and
    the log say so. No limiter or compressor is applied. The written file is decoded and measured
    (BS.1770-4); a lossy codec or a resampler that pushed its true peak over the ceiling makes the
    gain drop by the overshoot and the audio render again (at most ``max_passes`` renders). The copy
    is stored like a download (whole or not at all, ``if_exists``, local or S3); its manifest
    points at the source (uri, sha256), records the parameters and figures and the copy's own
    ``analysis``. Needs the ``audio`` extra on the worker (not to parse the DAG).

    :param source: The track (templated): its manifest from XCom (``generate.output``, a dict with
        ``uri`` and ``sha256``; the source's sha256 is verified while it is read and a mismatch
        fails the task), a URI string or an ``ObjectStoragePath``.
    :param destination: Where the master goes (templated): a folder ending in ``/`` (the master is
        named ``<source name>-master.<ext>``), a full object path ending in the output format's
        extension, or a name without extension. A relative local path is refused.
    :param target_lufs: Integrated loudness to reach, LUFS (templated; -70 to 0): -14 for streaming
        services (the default), -16 for podcasts, -23 for broadcast (EBU R128).
    :param true_peak_ceiling_dbtp: The highest true peak allowed, dBTP (templated; -20 to 0;
        default -1, what streaming services ask of lossy deliveries).
    :param output_format: ``"wav"`` (default: lossless, 24-bit PCM), ``"flac"`` (24-bit),
        ``"ogg"`` (Vorbis) or ``"mp3"`` (320 kbit/s) (templated).
    :param sample_rate: Output rate in Hz (templated); None keeps the source's. MP3 takes only
        32000, 44100, 48000 and their halves and quarters.
    :param object_name: The master's name without extension (templated); ``destination`` is then
        the folder.
    :param storage_conn_id: Airflow connection of the destination's storage (e.g. ``aws``).
    :param source_conn_id: Connection to read the source with; default ``storage_conn_id``.
    :param if_exists: ``"overwrite"`` (default), ``"skip"`` (keep the object there and return its
        manifest; nothing is read or rendered) or ``"fail"``.
    :param write_sidecar: Also write ``<name>.json`` with the manifest next to the master.
    :param chunk_size: Bytes read and written at a time (memory stays bounded).
    :param max_bytes: Largest source read, and largest master stored.
    :param max_passes: Renders allowed to bring a lossy codec's true peak under the ceiling (1-10).
    :param asset_alias: Name of an Airflow ``AssetAlias`` through which the master is emitted as an
        asset event.
    """

    template_fields: Sequence[str] = (
        "source",
        "destination",
        "object_name",
        "target_lufs",
        "true_peak_ceiling_dbtp",
        "output_format",
        "sample_rate",
    )
    ui_color = "#b39ddb"

    def __init__(
        self,
        *,
        source: Mapping[str, Any] | str | ObjectStoragePath | XComArg,
        destination: str | ObjectStoragePath,
        target_lufs: float | str = DEFAULT_TARGET_LUFS,
        true_peak_ceiling_dbtp: float | str = DEFAULT_TRUE_PEAK_CEILING_DBTP,
        output_format: str = DEFAULT_MASTER_FORMAT,
        sample_rate: int | str | None = None,
        object_name: str | None = None,
        storage_conn_id: str | None = None,
        source_conn_id: str | None = None,
        if_exists: str = DEFAULT_IF_EXISTS,
        write_sidecar: bool = True,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
        max_passes: int = DEFAULT_MASTER_PASSES,
        asset_alias: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["outlets"] = alias_outlets(kwargs.get("outlets"), asset_alias)
        super().__init__(**kwargs)
        validate_static_options(if_exists=if_exists, chunk_size=chunk_size, max_bytes=max_bytes)
        coerce_max_passes(max_passes)
        _check_literals(source, destination, object_name, target_lufs, true_peak_ceiling_dbtp, output_format,
                        sample_rate)  # fmt: skip
        self.source = source
        self.destination = destination
        self.object_name = object_name
        self.target_lufs = target_lufs
        self.true_peak_ceiling_dbtp = true_peak_ceiling_dbtp
        self.output_format = output_format
        self.sample_rate = sample_rate
        self.storage_conn_id = storage_conn_id
        self.source_conn_id = source_conn_id
        self.if_exists = if_exists
        self.write_sidecar = write_sidecar
        self.chunk_size = chunk_size
        self.max_bytes = max_bytes
        self.max_passes = max_passes
        self.asset_alias = asset_alias

    def execute(self, context: Context) -> dict[str, Any]:
        """Check the rendered parameters and the destination, then master, store and publish."""
        _check_literals(self.source, self.destination, self.object_name, self.target_lufs,
                        self.true_peak_ceiling_dbtp, self.output_format, self.sample_rate)  # fmt: skip
        mastering = mastering_options(
            self.target_lufs,
            self.true_peak_ceiling_dbtp,
            self.output_format,
            self.sample_rate,
            self.max_passes,
        )
        options = DeliveryOptions(
            destination=self.destination,
            storage_conn_id=self.storage_conn_id,
            if_exists=self.if_exists,
            chunk_size=self.chunk_size,
            max_bytes=self.max_bytes,
            write_sidecar=self.write_sidecar,
            object_name=None if self.object_name is None else str(self.object_name),
        )
        manifest = delivery.master_track(
            self.source,
            mastering,
            options,
            source_conn_id=self.source_conn_id,
            task_info=task_info(context),
            task_log=self.log,
        )
        if manifest.get("skipped"):
            self.log.info("%s already exists and if_exists='skip': nothing was mastered", manifest["uri"])
        self._publish(context, manifest)
        return manifest


def _check_literals(
    source: object,
    destination: object,
    object_name: object,
    target_lufs: object,
    ceiling: object,
    output_format: object,
    sample_rate: object,
) -> None:
    """Refuse every value known now (literal at DAG-parse time; all of them once rendered)."""
    if not is_pending(source):
        source_track(source)
    if not is_pending(target_lufs):
        coerce_target_lufs(target_lufs)
    if not is_pending(ceiling):
        coerce_ceiling(ceiling)
    fmt = None if is_pending(output_format) else coerce_output_format(output_format)
    if not is_pending(sample_rate):
        coerce_sample_rate(sample_rate, fmt)
    if not is_pending(object_name):
        validate_object_name(object_name)
    if not is_pending(destination):
        validate_destination(destination)
        check_absolute(destination)
        if fmt is not None and object_name is None:
            check_destination_format(destination, fmt)
