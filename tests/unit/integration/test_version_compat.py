"""``version_compat``: every Airflow-version difference, chosen once from Airflow's version."""

from __future__ import annotations

import importlib

import airflow
import pytest
from airflow.sdk import ObjectStoragePath
from helpers import make_context

from airflow_provider_music import exceptions, version_compat
from airflow_provider_music.version_compat import (
    AIRFLOW_V_3_2_PLUS,
    AIRFLOW_V_3_3_PLUS,
    CONN_FIELDS_SUPPORTED,
    get_base_airflow_version_tuple,
    storage_path_conn_id,
    task_state_store,
)


def test_the_flags_follow_airflow_s_version() -> None:
    major, minor, _ = (int(part) for part in airflow.__version__.split(".")[:3])
    assert get_base_airflow_version_tuple()[:2] == (major, minor)
    assert AIRFLOW_V_3_2_PLUS is ((major, minor) >= (3, 2))
    assert AIRFLOW_V_3_3_PLUS is ((major, minor) >= (3, 3))
    assert CONN_FIELDS_SUPPORTED is AIRFLOW_V_3_2_PLUS


@pytest.mark.parametrize(
    "name", ["AirflowException", "AirflowFailException", "AirflowNotFoundException", "TaskDeferred"]
)
def test_the_exceptions_come_from_where_this_airflow_keeps_them(name: str) -> None:
    home = "airflow.sdk.exceptions" if AIRFLOW_V_3_2_PLUS else "airflow.exceptions"
    assert getattr(version_compat, name) is getattr(importlib.import_module(home), name)


def test_the_provider_s_errors_are_airflow_s() -> None:
    assert issubclass(exceptions.MusicProviderError, version_compat.AirflowException)
    assert issubclass(exceptions.MusicInputError, version_compat.AirflowFailException)
    assert exceptions.AirflowFailException is version_compat.AirflowFailException


def test_conf_is_the_configuration_tasks_read() -> None:
    home = "airflow.sdk" if AIRFLOW_V_3_2_PLUS else "airflow.configuration"
    assert version_compat.conf is importlib.import_module(home).conf


@pytest.mark.parametrize(
    ("uri", "conn_id"),
    [
        ("s3://aws_music@bucket/key.wav", "aws_music"),
        ("s3://bucket/key.wav", None),
        ("file:///tmp/music/", None),
    ],
)
def test_storage_path_conn_id_from_the_path_on_every_version(uri: str, conn_id: str | None) -> None:
    assert storage_path_conn_id(ObjectStoragePath(uri)) == conn_id


def test_storage_path_conn_id_given_as_an_argument() -> None:
    path = ObjectStoragePath("s3://bucket/key.wav", conn_id="aws_music")
    assert storage_path_conn_id(path) == "aws_music"


def test_task_state_store_is_the_context_s_when_airflow_offers_one() -> None:
    context = make_context()
    assert task_state_store(context) is context["task_state_store"]
    assert task_state_store({"ti": context["ti"]}) is None
