"""
A durable record of the generation a task created, so a retry reattaches instead of paying again.

Airflow 3.3 offers ``context["task_state_store"]`` (kept across tries of one task instance); on
older versions an Airflow Variable keyed by dag, task, run and map index (never the try number)
does the same job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow_provider_music.defaults import STATE_KEY_GENERATION_ID

log = logging.getLogger(__name__)


class GenerationRecord:
    """Get, set and clear the recorded generation id of the running task instance."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._store = context.get("task_state_store")
        ti = context.get("ti")
        parts = [
            getattr(ti, "dag_id", "dag"),
            getattr(ti, "task_id", "task"),
            getattr(ti, "run_id", None) or str(context.get("run_id", "run")),
            str(getattr(ti, "map_index", -1)),
        ]
        self.variable_key = "aimlapi_generation__" + "__".join(str(p) for p in parts)

    @property
    def backend(self) -> str:
        return "task_state_store" if self._store is not None else "variable"

    def get(self) -> str | None:
        if self._store is not None:
            value = self._store.get(STATE_KEY_GENERATION_ID)
        else:
            from airflow.sdk import Variable

            try:
                value = Variable.get(self.variable_key, default=None)
            except Exception:  # an unreachable variable store must not stop a first try
                log.warning("Could not read the generation record %s", self.variable_key, exc_info=True)
                value = None
        return value if isinstance(value, str) and value else None

    def set(self, generation_id: str) -> None:
        if self._store is not None:
            self._store.set(STATE_KEY_GENERATION_ID, generation_id)
        else:
            from airflow.sdk import Variable

            Variable.set(
                self.variable_key,
                generation_id,
                description="airflow-provider-music: generation created by this task instance",
            )

    def clear(self) -> None:
        try:
            if self._store is not None:
                self._store.delete(STATE_KEY_GENERATION_ID)
            else:
                from airflow.sdk import Variable

                Variable.delete(self.variable_key)
        except Exception:  # a stale record only costs one status GET on a later rerun
            log.warning("Could not clear the generation record", exc_info=True)
