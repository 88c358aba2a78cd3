"""
The provider's Airflow plugin: the listening page's FastAPI app in the api-server and its tab on
the task-instance page.

Registered through the ``airflow.plugins`` entry point of the package, so installing the provider
is enough. (Airflow also reads ``plugins`` from a provider's info, but only when
``[core] lazy_discover_providers`` is False; listing it in both places would load it twice.)

Every Airflow process that loads plugins imports this module, so it stays light: the app (FastAPI,
Airflow's API modules) is built on first access to ``fastapi_apps``, which only the api-server and
``airflow plugins`` make.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_music.integration import LISTEN_PAGE, LISTEN_URL_PREFIX

PLUGIN_NAME = "music_listen"
VIEW_NAME = "Listen"
#: The tab on the task-instance page: an external view the UI shows in a same-origin iframe, with
#: ``{DAG_ID}``, ``{RUN_ID}``, ``{TASK_ID}`` and (mapped task instances only) ``{MAP_INDEX}`` filled in.
TASK_INSTANCE_VIEW: dict[str, Any] = {
    "name": VIEW_NAME,
    "href": f"{LISTEN_URL_PREFIX}{LISTEN_PAGE}/{{DAG_ID}}/{{RUN_ID}}/{{TASK_ID}}?map_index={{MAP_INDEX}}",
    "destination": "task_instance",
    "url_route": "music-listen",
    "icon": None,
}


class _LazyApps:
    """``fastapi_apps``, built once on first access, from the class or an instance."""

    def __init__(self) -> None:
        self._apps: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[dict[str, Any]]:
        if self._apps is None:
            from airflow_provider_music.ui._app import create_app  # FastAPI: api-server only

            self._apps = [{"app": create_app(), "url_prefix": LISTEN_URL_PREFIX, "name": "Music: listen"}]
        return self._apps


class MusicListenPlugin(AirflowPlugin):
    """The listening page (player, waveform, manifest) of the tasks that store a track."""

    name = PLUGIN_NAME
    fastapi_apps = _LazyApps()  # type: ignore[assignment]
    external_views = [TASK_INSTANCE_VIEW]
