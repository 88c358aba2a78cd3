"""
One delivery path, from a completed generation to an object in storage plus its manifest: the options
and their checks, the destination and its pre-POST checks, object naming, ``if_exists``, the manifest.

DAG files import the operator modules, which need only the options and their checks at parse time:
those load with the package; the rest (which brings storage and audio code) loads on first use
(PEP 562 ``__getattr__``), so ``delivery.deliver_generation`` costs nothing until a task runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from airflow_provider_music.delivery._deliver import AudioSource, Manifest, TaskLog, deliver_generation
    from airflow_provider_music.delivery._destination import (
        Destination,
        check_destination,
        existing_object,
        resolve_destination,
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
    from airflow_provider_music.delivery._naming import format_from_url, object_file_name, safe_object_name

#: The names loaded on first use, and the module of this package that holds each.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("AudioSource", "Manifest", "TaskLog", "deliver_generation"), "_deliver"),
    **dict.fromkeys(
        ("Destination", "check_destination", "existing_object", "resolve_destination"), "_destination"
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
        "_manifest",
    ),
    **dict.fromkeys(("format_from_url", "object_file_name", "safe_object_name"), "_naming"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "MANIFEST_VERSION",
    "MIN_CHUNK_SIZE",
    "AudioSource",
    "DeliveryOptions",
    "Destination",
    "Manifest",
    "TaskLog",
    "build_manifest",
    "check_destination",
    "check_existing",
    "deliver_generation",
    "describe_usage",
    "existing_manifest",
    "existing_object",
    "format_from_url",
    "manifest_meta",
    "object_file_name",
    "resolve_destination",
    "safe_object_name",
    "sidecar_path",
    "validate_chunk_size",
    "validate_destination",
    "validate_if_exists",
    "validate_max_bytes",
    "validate_object_name",
    "validate_options",
    "validate_static_options",
    "write_json_atomically",
]
