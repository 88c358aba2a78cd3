"""
The app's routes in-process: Airflow's access checks replaced by "allowed" (the real ones are proved
against a real api-server in tests/ui/test_listen.py), the task instance's XComs by a stand-in.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_music.ui import _app
from airflow_provider_music.ui._page import TaskInstanceView

pytestmark = pytest.mark.filterwarnings(
    # Airflow 3.1's API modules import starlette's test client (through svcs), which trips anyio's
    # deprecation of an alias; inside the libraries, on 3.1 only.
    "ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning"
)

PAGE = "/listen/d/manual__1%2B00%3A00/t"


def _wav(frames: int) -> bytes:
    data = bytes((i * 7) % 251 for i in range(frames * 4))
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data


@pytest.fixture
def track(tmp_path: Path) -> Path:
    path = tmp_path / "track.wav"
    path.write_bytes(_wav(300_000))  # 1.2 MB: several chunks
    return path


@pytest.fixture
def client(track: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    manifests = {
        -1: {"return_value": {"uri": f"file://{track}", "size_bytes": track.stat().st_size, "prompt": "p"}},
    }
    seen: list[tuple[str, str, str, int | None]] = []

    def fake_read(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> list[TaskInstanceView]:
        seen.append((dag_id, run_id, task_id, map_index))
        return [
            TaskInstanceView(mi, 1, "success", dict(values))
            for mi, values in manifests.items()
            if map_index is None or mi == map_index
        ]

    monkeypatch.setattr(_app, "read_task_instances", fake_read)
    app = _app.create_app()
    for route in app.routes:
        for dependant in getattr(route, "dependencies", []):
            app.dependency_overrides[dependant.dependency] = lambda: None
    with TestClient(app) as test_client:
        test_client.seen = seen  # type: ignore[attr-defined]
        yield test_client


def test_page_reads_the_task_instance_named_in_the_path(client: Any) -> None:
    response = client.get(PAGE + "?map_index=%7BMAP_INDEX%7D&try_number=1")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no script
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert 'src="./t/-1/return_value/track"' in response.text
    assert client.seen == [("d", "manual__1+00:00", "t", None)]
    client.get(PAGE + "?map_index=-1")
    assert client.seen[-1][-1] == -1


def test_page_of_nothing_is_404(client: Any) -> None:
    assert client.get("/listen/d/r/t?map_index=7").status_code == 404


def test_whole_and_ranged(client: Any, track: Path) -> None:
    data = track.read_bytes()
    size = len(data)
    whole = client.get(PAGE + "/-1/return_value/track")
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/wav"
    part = client.get(PAGE + "/-1/return_value/track", headers={"Range": "bytes=300000-900000"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 300000-900000/{size}"
    assert part.content == data[300000:900001]
    head = client.head(PAGE + "/-1/return_value/track", headers={"Range": "bytes=-10"})
    assert (head.status_code, head.headers["content-length"], head.content) == (206, "10", b"")
    beyond = client.get(PAGE + "/-1/return_value/track", headers={"Range": f"bytes={size}-"})
    assert (beyond.status_code, beyond.headers["content-range"]) == (416, f"bytes */{size}")
    several = client.get(PAGE + "/-1/return_value/track", headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200
    assert len(several.content) == size


def test_unknown_keys_ids_and_indexes(client: Any) -> None:
    for path in (
        "/-1/other/track",
        "/-1/return_value/waveform",
        "/-1/return_value/attempt-0",
        "/-1/return_value/..",
        "/3/return_value/track",
    ):
        assert client.get(PAGE + path).status_code == 404, path
    assert client.get(PAGE + "/-2/return_value/track").status_code == 422
    assert client.get(PAGE + "/x/return_value/track").status_code == 422


def test_a_changed_object_is_refused(client: Any, track: Path) -> None:
    track.write_bytes(track.read_bytes() + b"extra")  # no longer the size the manifest records
    response = client.get(PAGE + "/-1/return_value/track")
    assert response.status_code == 404
    assert "size" in response.json()["detail"]
    track.unlink()
    assert client.get(PAGE + "/-1/return_value/track").status_code == 404


def test_no_documentation_routes(client: Any) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404
