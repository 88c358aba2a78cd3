"""
What the listening page may serve, decided from the task instance's manifests alone.

A request names an object by ids only: the map index, the XCom key (``return_value`` or
``rejected``) and an object id (``track``, ``source``, ``waveform``, ``attempt-N``). The URI is
then read from that manifest, never from the request, and checked: a known storage scheme, no
credentials, no host in a file URI, an absolute path without ``.``/``..`` segments, no query or
fragment. Pure: no Airflow, no I/O (the app opens the object and checks its bytes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: XCom keys whose values are manifests: the stored (or mastered) track, and a rejected one.
MANIFEST_KEYS: tuple[str, ...] = ("return_value", "rejected")
#: Object ids a request may name; ``attempt-N`` is the N-th rejected earlier generation.
OBJECT_ID = re.compile(r"(track|source|waveform|attempt-(0|[1-9][0-9]{0,2}))")
#: Storage schemes served (what ``ObjectStoragePath`` opens through a provider's filesystem).
SERVED_SCHEMES = frozenset({"file", "s3", "s3a", "gs", "gcs", "abfs", "abfss", "az"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RefusedObjectError(ValueError):
    """The request names nothing servable: no such manifest or object, or a URI that is refused."""


@dataclass(frozen=True)
class ServedObject:
    """One object a manifest records: where it is, how big the manifest says it is, what kind."""

    uri: str
    kind: str  # "audio" or "image"
    size_bytes: int | None
    storage_conn_id: str | None


def check_uri(uri: Any) -> str:
    """``uri`` if it is a plain object URI this app may open, else ``RefusedObjectError``."""
    if not isinstance(uri, str) or not uri or len(uri) > 4096:
        raise RefusedObjectError("no object URI recorded")
    if any(ord(ch) < 32 or ch == "\\" for ch in uri):
        raise RefusedObjectError("control characters or backslashes in the recorded URI")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in SERVED_SCHEMES:
        raise RefusedObjectError(f"scheme {scheme!r} is not served")
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise RefusedObjectError("a query or fragment in the recorded URI")
    if "@" in parts.netloc or ":" in parts.netloc:
        raise RefusedObjectError("credentials, a connection id or a port in the recorded URI")
    if scheme == "file" and parts.netloc:
        raise RefusedObjectError("a host in a file URI")
    if scheme != "file" and not parts.netloc:
        raise RefusedObjectError("no bucket in the recorded URI")
    if not parts.path.startswith("/") or parts.path.endswith("/"):
        raise RefusedObjectError("not the absolute path of an object")
    if any(segment in ("", ".", "..") for segment in parts.path[1:].split("/")):
        raise RefusedObjectError("empty, '.' or '..' path segments in the recorded URI")
    if "%" in parts.path:
        raise RefusedObjectError("percent-escapes in the recorded URI")
    return uri


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def storage_conn_id(manifest: Mapping[str, Any]) -> str | None:
    """The storage connection the task used, as its manifest records it (None: no connection)."""
    conn_id = manifest.get("storage_conn_id")
    return conn_id if isinstance(conn_id, str) and conn_id else None


def object_entries(manifest: Mapping[str, Any]) -> dict[str, tuple[Any, str, int | None]]:
    """Every object id of ``manifest`` with its recorded URI, kind and size (URIs not checked yet)."""
    entries: dict[str, tuple[Any, str, int | None]] = {}
    if manifest.get("uri"):
        entries["track"] = (manifest.get("uri"), "audio", _size(manifest.get("size_bytes")))
    source = _mapping(manifest.get("source"))
    if source.get("uri"):
        entries["source"] = (source.get("uri"), "audio", _size(source.get("size_bytes")))
    waveform = _mapping(manifest.get("waveform"))
    if waveform.get("png_uri"):
        entries["waveform"] = (waveform.get("png_uri"), "image", None)
    attempts = manifest.get("attempts")
    if isinstance(attempts, list):
        for number, attempt in enumerate(attempts[:1000]):
            attempt = _mapping(attempt)
            if attempt.get("uri"):
                entries[f"attempt-{number}"] = (attempt.get("uri"), "audio", _size(attempt.get("size_bytes")))
    return entries


def resolve_object(manifest: Any, object_id: str) -> ServedObject:
    """The object ``object_id`` of ``manifest``, its URI checked; ``RefusedObjectError`` otherwise."""
    if not OBJECT_ID.fullmatch(object_id):
        raise RefusedObjectError(f"unknown object id {object_id!r}")
    if not isinstance(manifest, Mapping):
        raise RefusedObjectError("no manifest")
    found = object_entries(manifest).get(object_id)
    if found is None:
        raise RefusedObjectError(f"the manifest records no {object_id!r}")
    uri, kind, size = found
    return ServedObject(check_uri(uri), kind, size, storage_conn_id(manifest))


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """
    The one byte range ``[start, end]`` (inclusive) a ``Range`` header asks of ``size`` bytes.

    None: no usable single range (absent, malformed or several ranges), so the whole object is
    sent with 200. ``ValueError``: a well-formed range that lies beyond the object (416).
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()):
        return None
    if last and not last.isdigit():
        return None
    if not first:  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored, as RFC 9110 says
    if start >= size:
        raise ValueError("range starts past the end")
    return start, min(end, size - 1)


def sniff_kind(head: bytes, kind: str) -> str | None:
    """The Content-Type of an object whose first bytes are ``head``, if it is of ``kind``; else None."""
    if kind == "image":
        return "image/png" if head.startswith(PNG_SIGNATURE) else None
    from airflow_provider_music.audio import sniff

    found = sniff(head)
    return found.content_type if found is not None and found.content_type.startswith("audio/") else None
