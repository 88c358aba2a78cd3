"""
The operator extra links of the tasks that store a track: "Listen" (the provider's page in the
api-server, ``airflow_provider_music.ui``) and "S3 console" (the stored object in the AWS console).

Airflow 3 computes an operator's links in the worker when a try ends (success or failure) and keeps
each in an XCom of that try; a retry clears the task instance's XComs first, so a link never
outlives the try that made it. The links here read only the task's own attributes (the URI it stored
in this try) and the ``[api] base_url`` option: no storage, HTTP or UI library is imported, so the
operator modules stay cheap to import at DAG-parse time.

The page's address is defined here, below the ``ui`` layer that serves it, so that the operators
(which may not import ``ui``) and the plugin agree on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

#: Where the plugin's FastAPI app is mounted in the api-server.
LISTEN_URL_PREFIX = "/music"
#: The page of one task instance, below the prefix: ``/listen/{dag_id}/{run_id}/{task_id}``.
LISTEN_PAGE = "/listen"
LISTEN_LINK_NAME = "Listen"
S3_CONSOLE_LINK_NAME = "S3 console"
S3_CONSOLE_OBJECT_URL = "https://s3.console.aws.amazon.com/s3/object/"


def listen_path(
    dag_id: str, run_id: str, task_id: str, map_index: int | None = None, try_number: int | None = None
) -> str:
    """
    The page's path (without the api-server's base URL) for one task instance.

    ``map_index`` None shows every map index of the task; ``try_number`` only labels the page (the
    XComs it shows are always those of the task instance's latest try).
    """
    parts = "/".join(quote(str(part), safe="") for part in (dag_id, run_id, task_id))
    query = {
        name: value
        for name, value in (("map_index", map_index), ("try_number", try_number))
        if value is not None
    }
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{LISTEN_URL_PREFIX}{LISTEN_PAGE}/{parts}{suffix}"


def s3_console_url(uri: str | None) -> str:
    """The AWS console page of an ``s3://bucket/key`` object, or "" for any other URI."""
    if not uri or not uri.startswith("s3://"):
        return ""
    bucket, _, key = uri[len("s3://") :].partition("/")
    bucket = bucket.rpartition("@")[2]  # Airflow 3.1 paths may carry a connection id: s3://conn@bucket
    if not bucket or not key:
        return ""
    return f"{S3_CONSOLE_OBJECT_URL}{quote(bucket, safe='')}?{urlencode({'prefix': key})}"


def _base_url() -> str:
    """The api-server's public address (``[api] base_url``), without a trailing slash; "" if unset."""
    from airflow_provider_music.version_compat import conf

    try:
        return str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
    except Exception:  # a worker without that section: the link stays relative to the UI's origin
        return ""


def _key_field(ti_key: Any, name: str, default: Any = None) -> Any:
    return getattr(ti_key, name, default)


class ListenLink(BaseOperatorLink):
    """ "Listen": the provider's page with the player, the waveform and the manifest of this try."""

    name = LISTEN_LINK_NAME

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The page of this task instance, in the api-server this Airflow is served from."""
        map_index = _key_field(ti_key, "map_index", -1)
        path = listen_path(
            _key_field(ti_key, "dag_id", operator.dag_id),
            _key_field(ti_key, "run_id"),
            _key_field(ti_key, "task_id", operator.task_id),
            map_index=-1 if map_index is None else int(map_index),
            try_number=_key_field(ti_key, "try_number"),
        )
        return _base_url() + path


class S3ConsoleLink(BaseOperatorLink):
    """ "S3 console": the object this try stored, in the AWS console; no link for other storage."""

    name = S3_CONSOLE_LINK_NAME

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The console page of the S3 object stored by this try ("" when none was stored on S3)."""
        return s3_console_url(getattr(operator, "_stored_uri", None))


#: What the sensor and the one-task operator declare as ``operator_extra_links``.
MUSIC_EXTRA_LINKS: tuple[BaseOperatorLink, ...] = (ListenLink(), S3ConsoleLink())
