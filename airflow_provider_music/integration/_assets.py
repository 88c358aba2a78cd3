"""
What the sensor and the one-task operator do once a track is stored: an Airflow asset event through
an alias, the OpenLineage output, and the task coordinates recorded with every track.

Airflow's asset classes and OpenLineage are imported where used: the operator modules import this
one at DAG-parse time, which must stay cheap (and OpenLineage is optional).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    # With the audio extra: the track's figures and, with a quality gate, its verdict.
    "analysis",
    "quality",
)


def task_info(context: Mapping[str, Any]) -> dict[str, Any]:
    """The Airflow coordinates recorded with every track."""
    ti = context.get("ti")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", -1),
    }


def alias_outlets(outlets: Any, asset_alias: str | None) -> list[Any]:
    """The task's outlets plus the alias its asset events go through (declared at DAG-parse time)."""
    declared = list(outlets or [])
    if asset_alias:
        from airflow.sdk import AssetAlias  # Airflow's asset classes: see the module docstring

        declared.append(AssetAlias(asset_alias))
    return declared


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
        from airflow.sdk import Asset, AssetAlias  # Airflow's asset classes: see the module docstring

        extra = {key: manifest.get(key) for key in ASSET_EXTRA_FIELDS if key in manifest}
        context["outlet_events"][AssetAlias(self.asset_alias)].add(Asset(uri=self._stored_uri), extra=extra)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        The stored object as the task's output dataset (with its size), and run facets naming the
        generation: ``externalQuery`` (the generation id, source ``aimlapi``) and ``aimlapi_music``
        (generation id, usage, client request id, model, whether it was skipped). Called only when
        OpenLineage is installed.
        """
        # OpenLineage is optional: see the module docstring.
        from airflow.providers.common.compat.openlineage.facet import (
            ExternalQueryRunFacet,
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
        )
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_provider_music.integration._lineage import (
            LINEAGE_RUN_FACET,
            lineage_dataset,
            music_run_facet,
        )

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
