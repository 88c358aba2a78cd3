"""Tracing: the ``X-Client-Request-Id`` a task sends with its POST (the same for every try)."""

from __future__ import annotations

import hashlib
import json
import re

CLIENT_REQUEST_ID_HEADER = "X-Client-Request-Id"
CLIENT_REQUEST_ID_MAX_CHARS = 128
# Compiled on first use (re caches them), not while a DAG file imports this module.
_CLIENT_REQUEST_ID = r"[A-Za-z0-9._:-]{1,128}"
_READABLE_PART = r"[A-Za-z0-9._-]+"
_HASH_CHARS = 24  # hex digits of sha256: 96 bits


def is_valid_client_request_id(value: object) -> bool:
    """What the service keeps: 1-128 characters of ``[A-Za-z0-9._:-]`` (it drops anything else)."""
    return isinstance(value, str) and re.fullmatch(_CLIENT_REQUEST_ID, value) is not None


def client_request_id(dag_id: str, run_id: str, task_id: str, map_index: int | None = None) -> str:
    """
    A task's ``X-Client-Request-Id``: the same for every try of the same task instance.

    ``dag:run:task`` (``:map_index`` when mapped) when that fits the service's alphabet and length;
    otherwise a sanitized, shortened form followed by ``::`` and a sha256 of the exact inputs, so
    distinct task instances keep distinct ids (a readable id never contains ``::``).
    """
    index = -1 if map_index is None else int(map_index)
    parts = [str(dag_id), str(run_id), str(task_id)] + ([str(index)] if index != -1 else [])
    readable = ":".join(parts)
    if len(readable) <= CLIENT_REQUEST_ID_MAX_CHARS and all(re.fullmatch(_READABLE_PART, p) for p in parts):
        return readable
    digest = hashlib.sha256(json.dumps([*parts[:3], index]).encode("utf-8")).hexdigest()[:_HASH_CHARS]
    shown = ":".join(re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in parts)
    return f"{shown[: CLIENT_REQUEST_ID_MAX_CHARS - 2 - _HASH_CHARS]}::{digest}"
