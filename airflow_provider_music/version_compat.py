"""
Every difference between the Airflow versions this provider supports (3.1 to 3.3), in one place.

As in apache/airflow's providers, the flags are computed once from Airflow's own version and the
imports below are chosen by them, so no other module of the package tries one import and falls
back to another. The differences:

- Airflow 3.2 moved the task-facing exceptions (``AirflowException``, ``AirflowFailException``,
  ``AirflowNotFoundException``, ``TaskDeferred``) into the Task SDK (``airflow.sdk.exceptions``);
  3.1 keeps them in ``airflow.exceptions``.
- Airflow 3.2 added ``airflow.sdk.conf``; 3.1 has ``airflow.configuration.conf`` (``conf`` here,
  loaded on first use).
- Airflow 3.2's ``ObjectStoragePath`` has a ``conn_id`` attribute; 3.1's carries the connection id
  only in its text (``s3://conn@bucket/key``).
- Airflow 3.2 draws the provider's ``conn-fields`` as typed fields of the connection form; 3.1
  ignores them (the Extra box, with its placeholder, still works there).
- Airflow 3.3 offers ``context["task_state_store"]`` (kept across the tries of one task instance);
  older versions have none, and the generation record falls back to an Airflow Variable.

Imported at DAG-parse time (by the exceptions, hence by every operator module): it imports only
what ``airflow.sdk`` has loaded already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow import __version__ as _airflow_version
from packaging.version import Version

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath, conf

__all__ = [
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "CONN_FIELDS_SUPPORTED",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "TaskDeferred",
    "conf",
    "get_base_airflow_version_tuple",
    "storage_path_conn_id",
    "task_state_store",
]


def get_base_airflow_version_tuple() -> tuple[int, int, int]:
    """Airflow's version as ``(major, minor, micro)``, pre-releases counted as their release."""
    version = Version(_airflow_version)
    return version.major, version.minor, version.micro


AIRFLOW_V_3_2_PLUS: bool = get_base_airflow_version_tuple() >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS: bool = get_base_airflow_version_tuple() >= (3, 3, 0)

#: Whether the connection form draws ``conn-fields`` of ``get_provider_info`` (3.2+); they are listed
#: on every version (3.1 ignores them), so this only tells what a user will see.
CONN_FIELDS_SUPPORTED: bool = AIRFLOW_V_3_2_PLUS

if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        TaskDeferred,
    )
else:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import (  # type: ignore[attr-defined,no-redef]
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        TaskDeferred,
    )


def __getattr__(name: str) -> Any:
    """
    ``conf`` on first use: the configuration of this Airflow (``airflow.sdk.conf`` on 3.2+).

    Not loaded at import: the exceptions import this module, and importing them must not load
    Airflow's configuration (for example while Airflow itself reads this provider's info).
    """
    if name != "conf":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk import conf as loaded
    else:  # pragma: no cover - Airflow 3.1
        from airflow.configuration import conf as loaded  # type: ignore[assignment]
    globals()["conf"] = loaded  # once loaded, a plain module attribute
    return loaded


def storage_path_conn_id(path: ObjectStoragePath) -> str | None:
    """The connection id an ``ObjectStoragePath`` carries, from its attribute (3.2+) or its text."""
    conn_id: str | None = path.conn_id if AIRFLOW_V_3_2_PLUS else None
    return conn_id or _conn_in_text(str(path))


def _conn_in_text(text: str) -> str | None:
    """The ``conn`` of ``scheme://conn@host/...``: where Airflow 3.1 keeps a path's connection id."""
    netloc = text.split("://", 1)[1].split("/", 1)[0] if "://" in text else ""
    userinfo, has_userinfo, _ = netloc.rpartition("@")
    return userinfo or None if has_userinfo else None


def task_state_store(context: Mapping[str, Any]) -> Any | None:
    """
    The task instance's durable key-value store, or None where Airflow offers none.

    Airflow 3.3+ puts it in the context. Looked up by key, not by version, so that a stand-in
    store in a test context is used on every version.
    """
    return context.get("task_state_store")
