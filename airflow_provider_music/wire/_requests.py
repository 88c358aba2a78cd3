"""Building requests: the base URL, auth headers, input validation, and the two calls of the API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_music import __version__
from airflow_provider_music.defaults import (
    DEFAULT_HOST,
    DEFAULT_MODEL,
)
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.wire._tracing import CLIENT_REQUEST_ID_HEADER, is_valid_client_request_id
from airflow_provider_music.wire._validation import build_body

if TYPE_CHECKING:
    from airflow_provider_music.wire._models import ApiRequest

USER_AGENT = f"airflow-provider-music/{__version__}"

# The one endpoint: POST creates a generation, GET reads one (not a default: it is the API's path).
GENERATE_AUDIO_PATH: Final = "/v2/generate/audio"
# Longer ids, or ids with control characters, could never be polled.
GENERATION_ID_MAX_CHARS: Final = 512
# A syntactically valid id that names no generation: a cheap, authenticated, side-effect-free call.
PROBE_GENERATION_ID: Final = "airflow-provider-music-connection-test"

_CONTROL_CHARS = r"[\x00-\x1f]"  # compiled on first use (re caches it), not at DAG-parse time


def normalize_base_url(host: str | None, port: int | None = None, schema: str | None = None) -> str:
    """Turn an Airflow connection's host (with or without scheme) into a base URL with no trailing slash."""
    host = (host or "").strip()
    if not host:
        return DEFAULT_HOST
    if "://" not in host:
        host = f"https://{host}"
    try:
        parts = urlsplit(host)
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise MusicInputError(f"connection host {host!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MusicInputError(f"connection host {host!r} is not an http(s) URL")
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    if schema and not path:
        path = "/" + schema.strip("/")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def auth_headers(api_key: str) -> dict[str, str]:
    """Headers for every API call; the key is only ever put here."""
    return {
        "Authorization": f"Bearer {api_key}",
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }


def coerce_music_length(value: object) -> object:
    """Accept a rendered template's digits ("30000") as an integer; leave anything else for validation."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return value


def build_submit_request(
    base_url: str,
    prompt: str,
    music_length_ms: int | None = None,
    model: str = DEFAULT_MODEL,
    extra_body: Mapping[str, Any] | None = None,
    client_request_id: str | None = None,
    *,
    fields: Mapping[str, Any] | None = None,
) -> ApiRequest:
    """
    Validate, then describe ``POST /v2/generate/audio`` (with the client request id when valid): the
    body is ``build_body``'s (the length in the model's own field, then ``fields``, then ``extra_body``).
    """
    from airflow_provider_music.wire._models import ApiRequest  # run time only: not at DAG parse

    body = build_body(model, prompt, music_length_ms, fields=fields, extra_body=extra_body)
    headers = None
    if client_request_id is not None and is_valid_client_request_id(client_request_id):
        headers = {CLIENT_REQUEST_ID_HEADER: client_request_id}
    return ApiRequest("POST", base_url + GENERATE_AUDIO_PATH, "submit", json_body=body, headers=headers)


def build_status_request(base_url: str, generation_id: str) -> ApiRequest:
    """Describe ``GET /v2/generate/audio?generation_id=...`` (the transport URL-encodes the id)."""
    from airflow_provider_music.wire._models import ApiRequest  # run time only: not at DAG parse

    validate_generation_id(generation_id)
    return ApiRequest(
        "GET", base_url + GENERATE_AUDIO_PATH, "status", params={"generation_id": generation_id}
    )


def build_probe_request(base_url: str) -> ApiRequest:
    """The connection test's request: a status read of a generation that does not exist."""
    return build_status_request(base_url, PROBE_GENERATION_ID)


def model_of(generation_id: str) -> str | None:
    """The model named by an id's ``:<model>`` suffix (``<uuid>:elevenlabs/eleven_music``), if any."""
    _, sep, model = generation_id.partition(":")
    return model if sep and model else None


def validate_generation_id(generation_id: object) -> str:
    """The id itself when it can be polled: a non-empty string, short, without control characters."""
    if not isinstance(generation_id, str) or not generation_id.strip():
        raise MusicInputError(f"generation_id must be a non-empty string, got {generation_id!r}")
    if len(generation_id) > GENERATION_ID_MAX_CHARS or re.search(_CONTROL_CHARS, generation_id):
        raise MusicInputError("generation_id contains control characters or is longer than 512 characters")
    return generation_id
