"""
One delivery path, from a completed generation to an object in storage plus its manifest: the options
and their checks, the destination and its pre-POST checks, object naming, ``if_exists``, the manifest.

DAG files import the operator modules, which need only the options and their checks at parse time.
Every name loads its module on first use (PEP 562), so a DAG pays for the options it uses (the
mastering ones only with ``MasterAudioOperator``) and the rest (storage and audio code) costs
nothing until a task runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_music._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_music.delivery._deliver import AudioSource, Manifest, TaskLog, deliver_generation
    from airflow_provider_music.delivery._destination import (
        Destination,
        check_destination,
        existing_object,
        resolve_destination,
    )
    from airflow_provider_music.delivery._judge import (
        REJECTED_FOLDER,
        WAVEFORM_PEAKS_SUFFIX,
        WAVEFORM_PNG_SUFFIX,
        audio_extra_installed,
        requested_seconds,
        require_audio_extra,
    )
    from airflow_provider_music.delivery._manifest import (
        MANIFEST_VERSION,
        build_manifest,
        check_existing,
        describe_usage,
        existing_manifest,
        manifest_meta,
        sidecar_path,
        write_json_atomically,
    )
    from airflow_provider_music.delivery._master_options import (
        DEFAULT_MASTER_FORMAT,
        DEFAULT_MASTER_PASSES,
        DEFAULT_TARGET_LUFS,
        DEFAULT_TRUE_PEAK_CEILING_DBTP,
        MASTER_FORMATS,
        MP3_SAMPLE_RATES,
        MasteringOptions,
        SourceTrack,
        check_absolute,
        check_destination_format,
        coerce_ceiling,
        coerce_max_passes,
        coerce_output_format,
        coerce_sample_rate,
        coerce_target_lufs,
        mastering_options,
        source_track,
    )
    from airflow_provider_music.delivery._mastering import master_track, mastered_target
    from airflow_provider_music.delivery._naming import format_from_url, object_file_name, safe_object_name
    from airflow_provider_music.delivery._options import (
        MIN_CHUNK_SIZE,
        DeliveryOptions,
        validate_chunk_size,
        validate_destination,
        validate_if_exists,
        validate_max_bytes,
        validate_object_name,
        validate_options,
        validate_static_options,
    )

#: The names loaded on first use, and the module of this package that holds each.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "DEFAULT_MASTER_FORMAT",
            "DEFAULT_MASTER_PASSES",
            "DEFAULT_TARGET_LUFS",
            "DEFAULT_TRUE_PEAK_CEILING_DBTP",
            "MASTER_FORMATS",
            "MP3_SAMPLE_RATES",
            "MasteringOptions",
            "SourceTrack",
            "check_absolute",
            "check_destination_format",
            "coerce_ceiling",
            "coerce_max_passes",
            "coerce_output_format",
            "coerce_sample_rate",
            "coerce_target_lufs",
            "mastering_options",
            "source_track",
        ),
        "._master_options",
    ),
    **dict.fromkeys(
        (
            "MIN_CHUNK_SIZE",
            "DeliveryOptions",
            "validate_chunk_size",
            "validate_destination",
            "validate_if_exists",
            "validate_max_bytes",
            "validate_object_name",
            "validate_options",
            "validate_static_options",
        ),
        "._options",
    ),
    **dict.fromkeys(("AudioSource", "Manifest", "TaskLog", "deliver_generation"), "._deliver"),
    **dict.fromkeys(
        ("Destination", "check_destination", "existing_object", "resolve_destination"), "._destination"
    ),
    **dict.fromkeys(
        (
            "MANIFEST_VERSION",
            "build_manifest",
            "check_existing",
            "describe_usage",
            "existing_manifest",
            "manifest_meta",
            "sidecar_path",
            "write_json_atomically",
        ),
        "._manifest",
    ),
    **dict.fromkeys(("format_from_url", "object_file_name", "safe_object_name"), "._naming"),
    **dict.fromkeys(("master_track", "mastered_target"), "._mastering"),
    **dict.fromkeys(
        (
            "REJECTED_FOLDER",
            "WAVEFORM_PEAKS_SUFFIX",
            "WAVEFORM_PNG_SUFFIX",
            "audio_extra_installed",
            "require_audio_extra",
            "requested_seconds",
        ),
        "._judge",
    ),
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "DEFAULT_MASTER_FORMAT",
    "DEFAULT_MASTER_PASSES",
    "DEFAULT_TARGET_LUFS",
    "DEFAULT_TRUE_PEAK_CEILING_DBTP",
    "MANIFEST_VERSION",
    "MASTER_FORMATS",
    "MIN_CHUNK_SIZE",
    "MP3_SAMPLE_RATES",
    "REJECTED_FOLDER",
    "WAVEFORM_PEAKS_SUFFIX",
    "WAVEFORM_PNG_SUFFIX",
    "AudioSource",
    "DeliveryOptions",
    "Destination",
    "Manifest",
    "MasteringOptions",
    "SourceTrack",
    "TaskLog",
    "audio_extra_installed",
    "build_manifest",
    "check_absolute",
    "check_destination",
    "check_destination_format",
    "check_existing",
    "coerce_ceiling",
    "coerce_max_passes",
    "coerce_output_format",
    "coerce_sample_rate",
    "coerce_target_lufs",
    "deliver_generation",
    "describe_usage",
    "existing_manifest",
    "existing_object",
    "format_from_url",
    "manifest_meta",
    "master_track",
    "mastered_target",
    "mastering_options",
    "object_file_name",
    "requested_seconds",
    "require_audio_extra",
    "resolve_destination",
    "safe_object_name",
    "sidecar_path",
    "source_track",
    "validate_chunk_size",
    "validate_destination",
    "validate_if_exists",
    "validate_max_bytes",
    "validate_object_name",
    "validate_options",
    "validate_static_options",
    "write_json_atomically",
]
