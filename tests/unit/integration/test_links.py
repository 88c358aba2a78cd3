"""The "Listen" and "S3 console" operator extra links: addresses, per try, and light to import."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import airflow_env

from airflow_provider_music.integration import (
    LISTEN_LINK_NAME,
    MUSIC_EXTRA_LINKS,
    S3_CONSOLE_LINK_NAME,
    ListenLink,
    S3ConsoleLink,
    listen_path,
    s3_console_url,
)
from airflow_provider_music.operators.music import GenerateMusicOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor

RUN_ID = "manual__2026-01-02T03:04:05+00:00"


def _key(try_number: int = 1, map_index: int = -1) -> SimpleNamespace:
    return SimpleNamespace(dag_id="d", run_id=RUN_ID, task_id="t", map_index=map_index, try_number=try_number)


def _operator(stored_uri: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(dag_id="d", task_id="t", _stored_uri=stored_uri)


def test_listen_path_escapes_every_id() -> None:
    path = listen_path("d/x", RUN_ID, "t?x", map_index=3, try_number=2)
    assert path == (
        "/music/listen/d%2Fx/manual__2026-01-02T03%3A04%3A05%2B00%3A00/t%3Fx?map_index=3&try_number=2"
    )
    assert listen_path("d", "r", "t") == "/music/listen/d/r/t"


def test_listen_link_names_the_try_and_map_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example/base/")
    first = ListenLink().get_link(_operator(), ti_key=_key(try_number=1))  # type: ignore[arg-type]
    retried = ListenLink().get_link(_operator(), ti_key=_key(try_number=2, map_index=4))  # type: ignore[arg-type]
    assert first.startswith("https://airflow.example/base/music/listen/d/")
    assert parse_qs(urlsplit(first).query) == {"map_index": ["-1"], "try_number": ["1"]}
    assert parse_qs(urlsplit(retried).query) == {"map_index": ["4"], "try_number": ["2"]}


def test_listen_link_is_relative_without_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    link = ListenLink().get_link(_operator(), ti_key=_key())  # type: ignore[arg-type]
    assert link.startswith("/music/listen/d/")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "s3://bucket/music/a b.mp3",
            "https://s3.console.aws.amazon.com/s3/object/bucket?prefix=music%2Fa+b.mp3",
        ),
        ("s3://aws_conn@bucket/k.wav", "https://s3.console.aws.amazon.com/s3/object/bucket?prefix=k.wav"),
        ("s3://bucket", ""),
        ("s3://bucket/", ""),
        ("file:///tmp/a.wav", ""),
        ("gs://bucket/a.wav", ""),
        (None, ""),
        ("", ""),
    ],
)
def test_s3_console_url(uri: str | None, expected: str) -> None:
    assert s3_console_url(uri) == expected


def test_s3_console_link_is_the_object_this_try_stored() -> None:
    link = S3ConsoleLink()
    assert link.get_link(_operator("s3://b/k.mp3"), ti_key=_key()).endswith("/b?prefix=k.mp3")  # type: ignore[arg-type]
    # A try that stored nothing (or not on S3) has no console link: the UI shows none.
    assert link.get_link(_operator(None), ti_key=_key(2)) == ""  # type: ignore[arg-type]
    assert link.get_link(_operator("file:///x.wav"), ti_key=_key()) == ""  # type: ignore[arg-type]


def test_the_operator_and_the_sensor_declare_both_links() -> None:
    for cls in (GenerateMusicOperator, MusicGenerationSensor):
        names = [link.name for link in cls.operator_extra_links]
        assert names == [LISTEN_LINK_NAME, S3_CONSOLE_LINK_NAME], cls
    assert [link.xcom_key for link in MUSIC_EXTRA_LINKS] == ["_link_ListenLink", "_link_S3ConsoleLink"]


def test_links_module_imports_no_web_or_storage_library() -> None:
    code = (
        "import sys, airflow_provider_music.integration._links, airflow_provider_music.ui.plugin\n"
        "names = ('fastapi', 'starlette', 's3fs', 'airflow_provider_music.ui._app')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=airflow_env({}), check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
