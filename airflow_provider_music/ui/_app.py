"""
The FastAPI app the plugin mounts in the api-server (at ``LISTEN_URL_PREFIX``).

- ``GET /listen/{dag_id}/{run_id}/{task_id}[?map_index=N]``: the page (every map index without one).
- ``GET|HEAD /listen/{dag_id}/{run_id}/{task_id}/{map_index}/{key}/{object_id}``: one object a
  manifest of that task instance records, streamed from its storage with HTTP Range support.

Every route first asks Airflow's auth manager, through Airflow's own FastAPI dependency
(``requires_access_dag``: the JWT of the ``Authorization`` header or of the UI's session cookie),
whether the user may read that DAG's task instances and XComs: 401 without a valid session or
token, 403 without the permission. Objects are named by ids only; their URIs come from the
manifests (``ui._objects``), and the bytes must be what the id says (audio that sniffs as audio,
a PNG for the waveform, the size the manifest records) before anything is sent.

Imported only by the api-server (the plugin builds the app on first use): FastAPI, Starlette and
Airflow's API modules are never loaded at DAG-parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from airflow_provider_music.integration import LISTEN_PAGE
from airflow_provider_music.ui._objects import (
    MANIFEST_KEYS,
    RefusedObjectError,
    ServedObject,
    parse_range,
    resolve_object,
    sniff_kind,
)
from airflow_provider_music.ui._page import TaskInstanceView, render_page

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

#: Bytes read from storage per step of a response.
STREAM_CHUNK = 256 * 1024
#: The file object's own buffer (s3fs would otherwise read ahead 50 MiB per request): a response holds
#: about this plus one chunk, whatever the object's size.
READ_BLOCK = 1024 * 1024
#: Bytes read to check what an object is before serving it.
HEAD_BYTES = 4096
_NO_STORE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
#: The page runs no script of its own, loads only this app's objects and may be framed only by the
#: Airflow UI of the same origin (the task-instance tab).
_PAGE_HEADERS = {
    **_NO_STORE,
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
}


def _access_checks() -> list[Any]:
    """Airflow's own checks: read this DAG's task instances and its XComs (``dag_id`` from the path)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return [
        Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.TASK_INSTANCE)),
        Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.XCOM)),
    ]


def read_task_instances(
    dag_id: str, run_id: str, task_id: str, map_index: int | None
) -> list[TaskInstanceView]:
    """The task instances (one, or every map index) and their manifest XComs, from Airflow's database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(TaskInstance.map_index, TaskInstance.try_number, TaskInstance.state).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id
        )
        if map_index is not None:
            query = query.where(TaskInstance.map_index == map_index)
        views = {
            row.map_index: TaskInstanceView(
                row.map_index, row.try_number, str(row.state) if row.state is not None else None
            )
            for row in session.execute(query.order_by(TaskInstance.map_index))
        }
        xcoms = select(XComModel.map_index, XComModel.key, XComModel.value).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.key.in_(MANIFEST_KEYS),
        )
        if map_index is not None:
            xcoms = xcoms.where(XComModel.map_index == map_index)
        for row in session.execute(xcoms):
            view = views.get(row.map_index)
            if view is not None:
                view.manifests[row.key] = XComModel.deserialize_value(row)
    return list(views.values())


def _open_path(served: ServedObject) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(served.uri, conn_id=served.storage_conn_id)


def _stat(path: ObjectStoragePath) -> int:
    return int(path.stat().st_size)


def _read(path: ObjectStoragePath, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``start``, ``STREAM_CHUNK`` at a time (the file stays open while sent)."""
    with path.open("rb", block_size=READ_BLOCK) as handle:
        if start:
            handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(STREAM_CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data


def _head(path: ObjectStoragePath) -> bytes:
    with path.open("rb", block_size=HEAD_BYTES) as handle:
        return bytes(handle.read(HEAD_BYTES))


def _checked(served: ServedObject) -> tuple[ObjectStoragePath, int, str]:
    """The object opened and checked: its size and its Content-Type; 404 when it is not what it claims."""
    try:
        path = _open_path(served)
        size = _stat(path)
        content_type = sniff_kind(_head(path), served.kind)
    except Exception as exc:  # missing object, unreachable storage, unknown connection, no filesystem
        log.warning("cannot open %s: %s", served.uri, exc)
        raise HTTPException(404, "The recorded object cannot be read") from None
    if content_type is None:
        raise HTTPException(404, f"The recorded object is not {served.kind}")
    if served.size_bytes is not None and served.size_bytes != size:
        raise HTTPException(404, "The object's size differs from what the manifest records")
    return path, size, content_type


def create_app() -> FastAPI:
    """The plugin's app: the page and the objects, each behind Airflow's access checks."""
    app = FastAPI(title="Music: listen", docs_url=None, redoc_url=None, openapi_url=None)
    checks = _access_checks()

    @app.get(LISTEN_PAGE + "/{dag_id}/{run_id}/{task_id}", dependencies=checks, response_class=HTMLResponse)
    def page(
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: Annotated[str | None, Query(max_length=12)] = None,
        try_number: Annotated[int | None, Query(ge=0)] = None,
    ) -> HTMLResponse:
        """The listening page of a task instance (every map index when ``map_index`` is not a number)."""
        # The task-instance tab substitutes {MAP_INDEX} only for mapped task instances: anything that
        # is not an integer shows them all.
        wanted = int(map_index) if map_index and map_index.lstrip("-").isdigit() else None
        views = read_task_instances(dag_id, run_id, task_id, wanted)
        if not views:
            raise HTTPException(404, "No such task instance")
        # Relative to the page's own address, whatever prefix a proxy serves Airflow under.
        base = "./" + quote(task_id, safe="")
        html = render_page(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            objects_base=base,
            views=views,
            link_try=try_number,
        )
        return HTMLResponse(html, headers=_PAGE_HEADERS)

    @app.api_route(
        LISTEN_PAGE + "/{dag_id}/{run_id}/{task_id}/{map_index}/{key}/{object_id}",
        methods=["GET", "HEAD"],
        dependencies=checks,
    )
    def stream(
        request: Request,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: Annotated[int, Path(ge=-1)],
        key: Annotated[str, Path(max_length=32)],
        object_id: Annotated[str, Path(max_length=32)],
    ) -> Response:
        """One object of a manifest of this task instance, whole (200) or the range asked (206)."""
        if key not in MANIFEST_KEYS:
            raise HTTPException(404, "Unknown manifest")
        views = read_task_instances(dag_id, run_id, task_id, map_index)
        manifest = views[0].manifests.get(key) if views else None
        try:
            served = resolve_object(manifest, object_id)
        except RefusedObjectError as exc:
            raise HTTPException(404, f"Nothing to serve: {exc}") from None
        path, size, content_type = _checked(served)
        headers = {**_NO_STORE, "Accept-Ranges": "bytes", "Content-Type": content_type}
        try:
            wanted = parse_range(request.headers.get("range"), size)
        except ValueError:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, end = wanted if wanted is not None else (0, size - 1)
        length = max(0, end - start + 1)
        status = 206 if wanted is not None else 200
        headers["Content-Length"] = str(length)
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        if request.method == "HEAD" or length == 0:
            return Response(status_code=status, headers=headers)
        return StreamingResponse(_read(path, start, length), status_code=status, headers=headers)

    return app
