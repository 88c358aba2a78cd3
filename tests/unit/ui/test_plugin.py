"""The plugin: found through the package's entry point, light to load, its app built on first use."""

from __future__ import annotations

import importlib.metadata

import pytest

from airflow_provider_music.integration import LISTEN_URL_PREFIX
from airflow_provider_music.ui.plugin import VIEW_PATH, MusicListenPlugin, task_instance_view


def test_registered_through_the_airflow_plugins_entry_point() -> None:
    found = [
        ep for ep in importlib.metadata.entry_points(group="airflow.plugins") if ep.name == "music_listen"
    ]
    assert len(found) == 1
    assert found[0].load() is MusicListenPlugin


def test_plugin_is_valid_for_airflow() -> None:
    from airflow.plugins_manager import AirflowPlugin

    assert issubclass(MusicListenPlugin, AirflowPlugin)
    MusicListenPlugin.validate()  # what Airflow's loader checks: a name
    assert MusicListenPlugin.name == "music_listen"


def test_task_instance_view_uses_airflow_placeholders() -> None:
    view = task_instance_view("http://127.0.0.1:8080/")
    assert view["destination"] == "task_instance"
    assert (
        view["href"]
        == f"{LISTEN_URL_PREFIX}/listen/{{DAG_ID}}/{{RUN_ID}}/{{TASK_ID}}?map_index={{MAP_INDEX}}"
    )
    assert view["href"] == VIEW_PATH
    assert task_instance_view("")["href"] == VIEW_PATH
    views = MusicListenPlugin.external_views
    assert views is MusicListenPlugin().external_views
    assert [v["name"] for v in views] == ["Listen"]


def test_task_instance_view_under_a_url_prefix() -> None:
    assert task_instance_view("https://example.com/airflow/")["href"] == "/airflow" + VIEW_PATH
    assert task_instance_view("https://example.com/team/a")["href"] == "/team/a" + VIEW_PATH


# Airflow 3.1's API modules import starlette's test client (through svcs), which trips anyio's
# deprecation of an alias; inside the libraries, on 3.1 only.
@pytest.mark.filterwarnings("ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning")
def test_fastapi_app_is_built_once_on_first_use() -> None:
    plugin = MusicListenPlugin()
    apps = plugin.fastapi_apps
    assert apps is MusicListenPlugin.fastapi_apps
    ((entry,),) = (apps,)
    assert entry["url_prefix"] == LISTEN_URL_PREFIX
    paths = {route.path for route in entry["app"].routes}  # type: ignore[attr-defined]
    assert "/listen/{dag_id}/{run_id}/{task_id}" in paths
    assert "/listen/{dag_id}/{run_id}/{task_id}/{map_index}/{key}/{object_id}" in paths
    # No documentation routes: the app's surface is these two routes.
    assert not {"/docs", "/openapi.json", "/redoc"} & paths
