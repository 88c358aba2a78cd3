"""Building requests: the base URL, auth headers, input validation, and the two calls of the API."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_music.defaults import (
    DEFAULT_HOST,
    DEFAULT_MODEL,
)
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.wire._models import MODEL_FIELDS, USER_AGENT, ApiRequest
from airflow_provider_music.wire._tracing import CLIENT_REQUEST_ID_HEADER, is_valid_client_request_id

# The one endpoint: POST creates a generation, GET reads one (not a default: it is the API's path).
GENERATE_AUDIO_PATH: Final = "/v2/generate/audio"
# Longer ids, or ids with control characters, could never be polled.
GENERATION_ID_MAX_CHARS: Final = 512
# A syntactically valid id that names no generation: a cheap, authenticated, side-effect-free call.
PROBE_GENERATION_ID: Final = "airflow-provider-music-connection-test"

_PARAMETER_FIELDS = frozenset({"model", "prompt", "music_length_ms"})
_CONTROL_CHARS = re.compile(r"[\x00-\x1f]")

# The vendor's documented limits for elevenlabs/eleven_music (docs: aimlapi-music-api.md).
PROMPT_MAX_CHARS: Final = 2000
MUSIC_LENGTH_MIN_MS: Final = 10_000
MUSIC_LENGTH_MAX_MS: Final = 300_000


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


def validate_submission(
    prompt: object,
    music_length_ms: object = None,
    model: object = DEFAULT_MODEL,
    extra_body: object = None,
) -> None:
    """Refuse what the service would refuse, naming the field, the problem and the limit."""
    model = validate_model(model)
    validate_prompt(prompt)
    if music_length_ms is not None:
        validate_music_length(music_length_ms)
    if extra_body is not None:
        validate_extra_body(extra_body, model)


def validate_model(model: object) -> str:
    """The model itself when it is a non-empty string."""
    if not isinstance(model, str) or not model.strip():
        raise MusicInputError(f"model must be a non-empty string, got {model!r}")
    return model


def validate_prompt(prompt: object) -> None:
    """A non-empty string within the vendor's length limit."""
    if not isinstance(prompt, str):
        raise MusicInputError(f"prompt must be a string, got {type(prompt).__name__}")
    if not prompt.strip():
        raise MusicInputError("prompt must not be empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise MusicInputError(
            f"prompt is {len(prompt)} characters long; the limit is {PROMPT_MAX_CHARS} characters"
        )


def validate_music_length(music_length_ms: object) -> None:
    """An integer number of milliseconds within the vendor's range (None is the caller's business)."""
    if isinstance(music_length_ms, bool) or not isinstance(music_length_ms, int):
        raise MusicInputError(
            f"music_length_ms must be an integer number of milliseconds, got {music_length_ms!r}"
        )
    if not MUSIC_LENGTH_MIN_MS <= music_length_ms <= MUSIC_LENGTH_MAX_MS:
        raise MusicInputError(
            f"music_length_ms is {music_length_ms}; it must be from {MUSIC_LENGTH_MIN_MS} "
            f"to {MUSIC_LENGTH_MAX_MS} (10 s to 5 min)"
        )


def validate_extra_body(extra_body: object, model: str) -> None:
    """A JSON-serializable mapping of fields the model accepts beside the parameters."""
    if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
        raise MusicInputError(f"extra_body must be a mapping of field names to values, got {extra_body!r}")
    clash = sorted(_PARAMETER_FIELDS & set(extra_body))
    if clash:
        raise MusicInputError(f"extra_body must not set {', '.join(clash)}: pass them as parameters")
    documented = MODEL_FIELDS.get(model)
    if documented is not None:
        extra_ok = sorted(documented - _PARAMETER_FIELDS)
        unknown = sorted(set(extra_body) - set(extra_ok))
        if unknown:
            accepts = (
                f"extra_body accepts only: {', '.join(extra_ok)}"
                if extra_ok
                else f"extra_body accepts no fields for {model} (its documented fields "
                f"{', '.join(sorted(documented))} are set through parameters)"
            )
            raise MusicInputError(
                f"extra_body field(s) {', '.join(unknown)} are not accepted by {model}; {accepts}"
            )
    try:
        json.dumps(dict(extra_body))
    except (TypeError, ValueError) as err:
        raise MusicInputError(f"extra_body must be JSON-serializable: {err}") from None


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
) -> ApiRequest:
    """Validate, then describe ``POST /v2/generate/audio`` (with the client request id when valid)."""
    validate_submission(prompt, music_length_ms, model, extra_body)
    body: dict[str, Any] = {"model": model, "prompt": prompt}
    if music_length_ms is not None:
        body["music_length_ms"] = music_length_ms
    if extra_body:
        body.update(extra_body)
    headers = None
    if client_request_id is not None and is_valid_client_request_id(client_request_id):
        headers = {CLIENT_REQUEST_ID_HEADER: client_request_id}
    return ApiRequest("POST", base_url + GENERATE_AUDIO_PATH, "submit", json_body=body, headers=headers)


def build_status_request(base_url: str, generation_id: str) -> ApiRequest:
    """Describe ``GET /v2/generate/audio?generation_id=...`` (the transport URL-encodes the id)."""
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
    if len(generation_id) > GENERATION_ID_MAX_CHARS or _CONTROL_CHARS.search(generation_id):
        raise MusicInputError("generation_id contains control characters or is longer than 512 characters")
    return generation_id
