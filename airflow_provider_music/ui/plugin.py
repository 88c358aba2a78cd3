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
from urllib.parse import urlsplit

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_music.integration import LISTEN_PAGE, LISTEN_URL_PREFIX

PLUGIN_NAME = "music_listen"
VIEW_NAME = "Listen"
#: The page's address as the task-instance tab asks for it: the UI fills in ``{DAG_ID}``, ``{RUN_ID}``,
#: ``{TASK_ID}`` and (mapped task instances only) ``{MAP_INDEX}``.
VIEW_PATH = f"{LISTEN_URL_PREFIX}{LISTEN_PAGE}/{{DAG_ID}}/{{RUN_ID}}/{{TASK_ID}}?map_index={{MAP_INDEX}}"


def task_instance_view(base_url: str | None = None) -> dict[str, Any]:
    """
    The tab on the task-instance page: an external view the UI shows in a same-origin iframe.

    Its address carries the path of ``[api] base_url`` (an api-server served under ``/airflow/``
    serves the app at ``/airflow/music``): the iframe's address is taken from the origin's root.
    """
    if base_url is None:
        from airflow_provider_music.version_compat import conf

        base_url = str(conf.get("api", "base_url", fallback="") or "")
    root = urlsplit(base_url).path.rstrip("/")
    return {
        "name": VIEW_NAME,
        "href": f"{root}{VIEW_PATH}",
        "destination": "task_instance",
        "url_route": "music-listen",
        "icon": None,
    }


class _LazyViews:
    """``external_views``, made once on first access (it reads ``[api] base_url``)."""

    def __init__(self) -> None:
        self._views: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[dict[str, Any]]:
        if self._views is None:
            self._views = [task_instance_view()]
        return self._views


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
    external_views = _LazyViews()  # type: ignore[assignment]
