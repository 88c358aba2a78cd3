"""
A durable record of the generation a task created, so a retry reattaches instead of paying again.

Airflow 3.3 offers ``context["task_state_store"]`` (kept across tries of one task instance); on
older versions an Airflow Variable keyed by dag, task, run and map index (never the try number)
does the same job (``version_compat.task_state_store``).

The record is one JSON object written in one go right after the POST: the generation id, what the
service reported it cost (``usage``) and the ``X-Client-Request-Id`` the POST carried, so a deferral,
a retry or a worker crash loses none of them. Records written by earlier versions of the provider
(the bare generation id as a string) are still read: their usage and client request id are unknown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow.sdk import Variable

from airflow_provider_music.version_compat import task_state_store

log = logging.getLogger(__name__)

# The task-state key of the record (Airflow 3.3's task_state_store); records written under it stay readable.
STATE_KEY_GENERATION_ID = "aimlapi_generation_id"


@dataclass(frozen=True)
class RecordedGeneration:
    """What an earlier try (or the try before the deferral) knew about its generation."""

    generation_id: str
    usage: Mapping[str, Any] | None = None
    client_request_id: str | None = None
    #: Earlier generations of this task instance that the quality gate rejected (each was paid for):
    #: id, usage, client request id, where the track is kept and why it failed.
    attempts: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> str:
        """The record as stored: one JSON object with sorted keys."""
        record: dict[str, Any] = {
            "generation_id": self.generation_id,
            "usage": dict(self.usage) if self.usage is not None else None,
            "client_request_id": self.client_request_id,
        }
        if self.attempts:  # only after a rejection: a plain record keeps the layout of earlier versions
            record["attempts"] = [dict(attempt) for attempt in self.attempts]
        return json.dumps(record, sort_keys=True, default=str)

    @classmethod
    def parse(cls, value: object) -> RecordedGeneration | None:
        """A stored value: the JSON object of this version, or the bare id earlier versions wrote."""
        if not isinstance(value, str) or not value:
            return None
        data: object = None
        if value.startswith("{"):  # generation ids are never JSON objects: this version's record
            try:
                data = json.loads(value)
            except ValueError:
                data = None
        generation_id = data.get("generation_id") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(generation_id, str) or not generation_id:
            return cls(value)  # an earlier version's record: the bare id
        usage = data.get("usage")
        request_id = data.get("client_request_id")
        attempts = data.get("attempts")
        return cls(
            generation_id,
            usage if isinstance(usage, dict) else None,
            request_id if isinstance(request_id, str) else None,
            tuple(a for a in attempts if isinstance(a, dict)) if isinstance(attempts, list) else (),
        )


class GenerationRecord:
    """Get, set and clear the recorded generation of the running task instance."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._store = task_state_store(context)
        ti = context.get("ti")
        parts = [
            getattr(ti, "dag_id", "dag"),
            getattr(ti, "task_id", "task"),
            getattr(ti, "run_id", None) or str(context.get("run_id", "run")),
            str(getattr(ti, "map_index", -1)),
        ]
        self.variable_key = "aimlapi_generation__" + "__".join(str(p) for p in parts)

    def get(self) -> RecordedGeneration | None:
        """The recorded generation, or None (none recorded, or the variable store unreachable)."""
        if self._store is not None:
            value = self._store.get(STATE_KEY_GENERATION_ID)
        else:
            try:
                value = Variable.get(self.variable_key, default=None)
            except Exception:  # an unreachable variable store must not stop a first try
                log.warning("Could not read the generation record %s", self.variable_key, exc_info=True)
                value = None
        return RecordedGeneration.parse(value)

    def set(self, record: RecordedGeneration) -> None:
        """Record the generation this task instance created (right after its POST)."""
        value = record.to_json()
        if self._store is not None:
            self._store.set(STATE_KEY_GENERATION_ID, value)
        else:
            Variable.set(
                self.variable_key,
                value,
                description="airflow-provider-music: generation created by this task instance",
            )

    def clear(self) -> None:
        """Forget the record (quietly: a stale one only costs one status GET on a later rerun)."""
        try:
            if self._store is not None:
                self._store.delete(STATE_KEY_GENERATION_ID)
            else:
                Variable.delete(self.variable_key)
        except Exception:  # a stale record only costs one status GET on a later rerun
            log.warning("Could not clear the generation record", exc_info=True)
