"""
OpenLineage for a stored track: the dataset of a stored object, and this provider's run facet.

OpenLineage (and ``attr``, which its facets are built with) is imported on first use only: it is an
optional dependency, and DAG parsing must not pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

#: The name of this provider's OpenLineage run facet, and where its fields are described.
LINEAGE_RUN_FACET = "aimlapi_music"
LINEAGE_FACET_SCHEMA_URL = (
    "https://github.com/airflow-provider-music/airflow-provider-music/blob/main/docs/operators.md"
    "#asset-events-and-lineage-generatemusicoperator-and-the-sensor"
)


def lineage_dataset(uri: str) -> tuple[str, str]:
    """OpenLineage (namespace, name) of a stored object: ``s3://bucket`` + key, ``file`` + path."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


def music_run_facet(manifest: Mapping[str, Any]) -> Any:
    """This provider's OpenLineage run facet for a stored (or kept) track."""
    usage = manifest.get("usage")
    return _music_run_facet_class()(
        generationId=manifest.get("generation_id"),
        usage=dict(usage) if isinstance(usage, Mapping) else None,
        clientRequestId=manifest.get("client_request_id"),
        model=manifest.get("model"),
        skipped=bool(manifest.get("skipped")),
        analysis=_mapping(manifest.get("analysis")),
        quality=_mapping(manifest.get("quality")),
    )


def _mapping(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


@functools.cache
def _music_run_facet_class() -> type:
    """Defined on first use, so that OpenLineage is imported only where it is installed and used."""
    import attr  # optional, with OpenLineage: see the module docstring
    from airflow.providers.common.compat.openlineage.facet import RunFacet

    @attr.define
    class AimlapiMusicRunFacet(RunFacet):  # type: ignore[misc]
        """The music generation behind a task's output: id, what the service reported it cost, tracing."""

        generationId: str | None = attr.field(default=None)  # noqa: N815  # OpenLineage's camelCase
        usage: dict[str, Any] | None = attr.field(default=None)
        clientRequestId: str | None = attr.field(default=None)  # noqa: N815
        model: str | None = attr.field(default=None)
        skipped: bool = attr.field(default=False)
        #: The track's analysis (loudness, true peak, silence, clipping, length) and the quality verdict.
        analysis: dict[str, Any] | None = attr.field(default=None)
        quality: dict[str, Any] | None = attr.field(default=None)

        _additional_skip_redact: ClassVar[list[str]] = [
            "generationId",
            "usage",
            "clientRequestId",
            "model",
            "analysis",
            "quality",
        ]

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
