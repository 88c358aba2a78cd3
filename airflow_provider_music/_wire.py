"""
The AI/ML API's wire format, and nothing else: URLs, request bodies, response parsing, statuses.

It performs no I/O, so the sync hook (requests), the async hook side (aiohttp), the emulator's tests
and the unit tests all share this one reading of the service. It imports nothing heavy: operator
modules use it at DAG-parse time to validate input.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_music import __version__
from airflow_provider_music.defaults import (
    BACKOFF_BASE_S,
    BACKOFF_MAX_S,
    DEFAULT_HOST,
    DEFAULT_MODEL,
    FAILURE_MESSAGE_MAX_CHARS,
    GENERATE_AUDIO_PATH,
    MUSIC_LENGTH_MAX_MS,
    MUSIC_LENGTH_MIN_MS,
    PROMPT_MAX_CHARS,
    RETRY_AFTER_MAX_S,
)
from airflow_provider_music.exceptions import (
    MusicAPIError,
    MusicAuthError,
    MusicCreditsError,
    MusicInputError,
    MusicRejectedError,
    MusicSubmitUncertainError,
    MusicTransientError,
    MusicUnreachableError,
)

USER_AGENT = f"airflow-provider-music/{__version__}"

Operation = Literal["submit", "status"]

# Fields the vendor documents for each model. For eleven_music the list is complete (confirmed),
# so anything else is refused before it costs a request; other models are passed through.
MODEL_FIELDS: dict[str, frozenset[str]] = {
    DEFAULT_MODEL: frozenset({"model", "prompt", "music_length_ms"}),
}


class GenerationStatus(str, Enum):
    """A generation's status as the service reports it, folded into what a waiter needs to know."""

    QUEUED = "queued"
    GENERATING = "generating"
    WAITING = "waiting"  # seen by older clients
    ACTIVE = "active"  # seen by older clients
    PROCESSING = "processing"  # pending in the vendor's own Python SDK
    COMPLETED = "completed"
    ERROR = "error"
    UNKNOWN = "unknown"  # anything else: treated as a failure, never as "keep waiting"

    @classmethod
    def parse(cls, raw: object) -> GenerationStatus:
        """Map the service's string to a member; unknown or missing values become ``UNKNOWN``."""
        if isinstance(raw, str):
            try:
                status = cls(raw.strip().lower())
            except ValueError:
                return cls.UNKNOWN
            return status
        return cls.UNKNOWN

    def is_pending(self) -> bool:
        return self in _PENDING

    def is_terminal(self) -> bool:
        return not self.is_pending()

    def is_success(self) -> bool:
        return self is GenerationStatus.COMPLETED


# The vendor SDK's pending set (aimlapi/api-sdk-python, resources/audio/_polling.py).
_PENDING = frozenset(
    {
        GenerationStatus.QUEUED,
        GenerationStatus.GENERATING,
        GenerationStatus.WAITING,
        GenerationStatus.ACTIVE,
        GenerationStatus.PROCESSING,
    }
)


@dataclass(frozen=True)
class Generation:
    """One parsed answer of ``GET /v2/generate/audio``."""

    id: str
    status: GenerationStatus
    raw_status: str
    audio_url: str | None = None
    error_message: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    usage: Mapping[str, Any] | None = None  # parse_usage of this answer


@dataclass(frozen=True)
class Submission:
    """A created generation: its id, the cost the service reported, and the client request id sent."""

    id: str
    usage: dict[str, Any] | None = None
    client_request_id: str | None = None


@dataclass(frozen=True)
class ApiRequest:
    """A request, described as data so each transport sends the very same thing."""

    method: Literal["GET", "POST"]
    url: str
    operation: Operation
    params: Mapping[str, str] | None = None
    json_body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None  # per request, beside the session's auth headers


# --- building requests ---------------------------------------------------------------------------


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
    if not isinstance(model, str) or not model.strip():
        raise MusicInputError(f"model must be a non-empty string, got {model!r}")
    if not isinstance(prompt, str):
        raise MusicInputError(f"prompt must be a string, got {type(prompt).__name__}")
    if not prompt.strip():
        raise MusicInputError("prompt must not be empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise MusicInputError(
            f"prompt is {len(prompt)} characters long; the limit is {PROMPT_MAX_CHARS} characters"
        )
    if music_length_ms is not None:
        if isinstance(music_length_ms, bool) or not isinstance(music_length_ms, int):
            raise MusicInputError(
                f"music_length_ms must be an integer number of milliseconds, got {music_length_ms!r}"
            )
        if not MUSIC_LENGTH_MIN_MS <= music_length_ms <= MUSIC_LENGTH_MAX_MS:
            raise MusicInputError(
                f"music_length_ms is {music_length_ms}; it must be from {MUSIC_LENGTH_MIN_MS} "
                f"to {MUSIC_LENGTH_MAX_MS} (10 s to 5 min)"
            )
    if extra_body is None:
        return
    if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
        raise MusicInputError(f"extra_body must be a mapping of field names to values, got {extra_body!r}")
    clash = sorted({"model", "prompt", "music_length_ms"} & set(extra_body))
    if clash:
        raise MusicInputError(f"extra_body must not set {', '.join(clash)}: pass them as parameters")
    documented = MODEL_FIELDS.get(model)
    if documented is not None:
        extra_ok = sorted(documented - {"model", "prompt", "music_length_ms"})
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


# --- tracing: the client request id ----------------------------------------------------------------

CLIENT_REQUEST_ID_HEADER = "X-Client-Request-Id"
CLIENT_REQUEST_ID_MAX_CHARS = 128
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_READABLE_PART = re.compile(r"[A-Za-z0-9._-]+")
_HASH_CHARS = 24  # hex digits of sha256: 96 bits


def is_valid_client_request_id(value: object) -> bool:
    """What the service keeps: 1-128 characters of ``[A-Za-z0-9._:-]`` (it drops anything else)."""
    return isinstance(value, str) and _CLIENT_REQUEST_ID.fullmatch(value) is not None


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
    if len(readable) <= CLIENT_REQUEST_ID_MAX_CHARS and all(_READABLE_PART.fullmatch(p) for p in parts):
        return readable
    digest = hashlib.sha256(json.dumps([*parts[:3], index]).encode("utf-8")).hexdigest()[:_HASH_CHARS]
    shown = ":".join(re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in parts)
    return f"{shown[: CLIENT_REQUEST_ID_MAX_CHARS - 2 - _HASH_CHARS]}::{digest}"


def build_status_request(base_url: str, generation_id: str) -> ApiRequest:
    """Describe ``GET /v2/generate/audio?generation_id=...`` (the transport URL-encodes the id)."""
    validate_generation_id(generation_id)
    return ApiRequest(
        "GET", base_url + GENERATE_AUDIO_PATH, "status", params={"generation_id": generation_id}
    )


def model_of(generation_id: str) -> str | None:
    """The model named by an id's ``:<model>`` suffix (``<uuid>:elevenlabs/eleven_music``), if any."""
    _, sep, model = generation_id.partition(":")
    return model if sep and model else None


_CONTROL_CHARS = re.compile(r"[\x00-\x1f]")


def validate_generation_id(generation_id: object) -> str:
    if not isinstance(generation_id, str) or not generation_id.strip():
        raise MusicInputError(f"generation_id must be a non-empty string, got {generation_id!r}")
    if len(generation_id) > 512 or _CONTROL_CHARS.search(generation_id):
        raise MusicInputError("generation_id contains control characters or is longer than 512 characters")
    return generation_id


# --- parsing responses ---------------------------------------------------------------------------


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested deep
        return None
    return data if isinstance(data, dict) else None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), capped; None if absent."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        import time

        seconds = when.timestamp() - time.time()
    return max(0.0, min(seconds, RETRY_AFTER_MAX_S))


def failure_message(payload: object) -> str:
    """The most useful text in a failure payload: ``message``, then ``detail[].msg``, then raw JSON."""
    text = _failure_text(payload, depth=0)
    if len(text) > FAILURE_MESSAGE_MAX_CHARS:  # a service may send megabytes: a message stays readable
        return text[:FAILURE_MESSAGE_MAX_CHARS] + "..."
    return text


def _failure_text(payload: object, depth: int) -> str:
    if isinstance(payload, str) and payload.strip():
        return payload.strip()
    if isinstance(payload, Mapping):
        for key in ("message", "msg", "error_description", "title"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        for key in ("detail", "details", "errors"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, list):
                msgs = [_detail_text(item) for item in value]
                msgs = [m for m in msgs if m]
                if msgs:
                    return "; ".join(msgs)
        nested = payload.get("error")
        if nested is not None and nested is not payload and depth < 8:  # {"error": {"error": ...}}
            text = _failure_text(nested, depth + 1)
            if text:
                return text
    if payload in (None, "", {}, []):
        return ""
    try:
        return json.dumps(payload, sort_keys=True, default=str)[:FAILURE_MESSAGE_MAX_CHARS]
    except (ValueError, RecursionError):  # nested too deep to print
        return f"an unreadable {type(payload).__name__}"


def _detail_text(item: object) -> str:
    if isinstance(item, Mapping):
        msg = item.get("msg") or item.get("message")
        loc = item.get("loc") or item.get("field")
        if isinstance(loc, list):
            loc = ".".join(str(p) for p in loc)
        if msg:
            return f"{loc}: {msg}" if loc else str(msg)
        return json.dumps(item, sort_keys=True, default=str)
    return str(item) if item else ""


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove secrets from text that came from outside (a service may echo what it was sent)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def redact_url(url: str) -> str:
    """A URL fit for logs: no query string, no fragment, no user info (signed URLs are credentials)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.hostname or ""
    if port:
        netloc = f"{netloc}:{port}"
    suffix = "?..." if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) + suffix


def error_from_response(
    operation: Operation,
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    secrets: Iterable[str] = (),
) -> MusicAPIError:
    """Classify a non-2xx answer (the caller raises it): what retrying can fix, and what it cannot."""
    secrets = tuple(secrets)
    body = _json_object(content)
    request_id = None
    service_message = ""
    if body is not None:
        rid = body.get("requestId") or body.get("request_id")
        request_id = _shown(rid, secrets) if rid else None
        service_message = failure_message(body)
    elif content:
        service_message = content[:300].decode("utf-8", "replace").strip()
    if request_id is None:
        header = next((v for k, v in headers.items() if k.lower() in ("x-request-id", "request-id")), None)
        request_id = _shown(header, secrets) if header else None
    service_message = redact(service_message, secrets)
    what = "creating the generation" if operation == "submit" else "reading the generation"
    detail = f": {service_message}" if service_message else ""
    rid_note = f" [requestId={request_id}]" if request_id else ""
    kwargs: dict[str, Any] = {
        "http_status": status_code,
        "request_id": request_id,
        "service_message": service_message or None,
    }
    if status_code == 401:
        return MusicAuthError(
            f"AI/ML API refused the API key (HTTP 401) while {what}{detail}{rid_note}. "
            "Check the password field of the connection.",
            **kwargs,
        )
    if status_code == 403:
        return MusicCreditsError(
            f"AI/ML API answered HTTP 403 (out of credits or not allowed) while {what}{detail}{rid_note}",
            **kwargs,
        )
    if status_code == 429 or status_code == 408 or status_code >= 500:
        message = f"AI/ML API answered HTTP {status_code} while {what}{detail}{rid_note}"
        if operation == "submit" and status_code != 429:
            return MusicSubmitUncertainError(
                message + ". The generation may have been created (and billed), so it is not resent; "
                "check the AI/ML API dashboard before running the task again.",
                **kwargs,
            )
        return MusicTransientError(message, retry_after=parse_retry_after(headers), **kwargs)
    return MusicRejectedError(
        f"AI/ML API rejected the request (HTTP {status_code}){detail}{rid_note}", **kwargs
    )


def _garbled(
    operation: Operation, status_code: int, content: bytes, why: str, secrets: Iterable[str]
) -> MusicAPIError:
    message = (
        f"AI/ML API answered HTTP {status_code} with {why} while "
        f"{'creating' if operation == 'submit' else 'reading'} the generation: {_preview(content, secrets)}"
    )
    if operation == "submit":
        return MusicSubmitUncertainError(
            message + ". The generation may have been created, so it is not resent.", http_status=status_code
        )
    return MusicTransientError(message, http_status=status_code)


def _preview(content: bytes, secrets: Iterable[str]) -> str:
    text = redact(content[:120].decode("utf-8", "replace").replace("\n", " ").strip(), secrets)
    return repr(text) if text else "an empty body"


def _shown(value: object, secrets: Iterable[str], limit: int = 80) -> str:
    """A value from the service fit for a message: redacted and short (it may echo anything back)."""
    text = redact(str(value), secrets)
    return text if len(text) <= limit else text[:limit] + "..."


# --- cost: what the service reported --------------------------------------------------------------

CREDITS_HEADER = "x-aimlapi-credits-used"
USD_HEADER = "x-aimlapi-usd-spent"
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


def parse_usage(headers: Mapping[str, str] | None, body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """
    ``{"credits_used": int | None, "usd_spent": str | None}`` as the service reported it: the body's
    ``meta.usage`` first, else the ``x-aimlapi-*`` headers, field by field. ``None`` when neither
    carries a readable figure; unreadable values count as absent (never estimated).
    """
    credits: int | None = None
    usd: str | None = None
    try:
        meta = body.get("meta") if isinstance(body, Mapping) else None
        usage = meta.get("usage") if isinstance(meta, Mapping) else None
        if isinstance(usage, Mapping):
            credits, usd = _credits(usage.get("credits_used")), _usd(usage.get("usd_spent"))
    except Exception:  # a mapping that misbehaves: its figures count as absent
        credits = usd = None
    if credits is None or usd is None:
        try:
            found = {k.strip().lower(): v for k, v in (headers or {}).items() if isinstance(k, str)}
            if credits is None:
                credits = _credits(found.get(CREDITS_HEADER))
            if usd is None:
                usd = _usd(found.get(USD_HEADER))
        except Exception:
            pass
    if credits is None and usd is None:
        return None
    return {"credits_used": credits, "usd_spent": usd}


def _credits(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[0-9]{1,30}", value):
            return None
        return int(value)
    if isinstance(value, int):
        return value if 0 <= value < 10**30 else None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 1e30:
        return int(value)
    return None


def _usd(value: object) -> str | None:
    """A non-negative decimal as plain text: the service's own text when it is one, else normalized."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if _PLAIN_DECIMAL.fullmatch(text):
            return text
        if len(text) > 40:
            return None
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number < 0 or abs(number.adjusted()) > 20:
        return None
    return format(number, "f")


def parse_submit_response(
    status_code: int, headers: Mapping[str, str], content: bytes, secrets: Iterable[str] = ()
) -> str:
    """The new generation's id from a POST answer (any 2xx), or the classified error."""
    return parse_submission(status_code, headers, content, secrets).id


def parse_submission(
    status_code: int, headers: Mapping[str, str], content: bytes, secrets: Iterable[str] = ()
) -> Submission:
    """A POST answer (any 2xx) as a ``Submission`` (id and usage), or the classified error."""
    if not 200 <= status_code < 300:
        raise error_from_response("submit", status_code, headers, content, secrets)
    secrets = tuple(secrets)
    body = _json_object(content)
    if body is None:
        raise _garbled("submit", status_code, content, "a body that is not a JSON object", secrets)
    gen_id = body.get("id") or body.get("generation_id")
    if not isinstance(gen_id, str) or not gen_id.strip():
        raise _garbled("submit", status_code, content, "no generation id", secrets)
    try:
        validate_generation_id(gen_id)
    except MusicInputError:  # it could never be polled: as good as no id
        raise _garbled("submit", status_code, content, "an unusable generation id", secrets) from None
    return Submission(id=gen_id, usage=parse_usage(headers, body))


def parse_generation_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    generation_id: str,
    secrets: Iterable[str] = (),
) -> Generation:
    """A status answer, parsed loosely: optional fields may be missing, unknown statuses stay visible."""
    if not 200 <= status_code < 300:
        raise error_from_response("status", status_code, headers, content, secrets)
    secrets = tuple(secrets)
    body = _json_object(content)
    if body is None:
        raise _garbled("status", status_code, content, "a body that is not a JSON object", secrets)
    if "status" not in body:
        raise _garbled("status", status_code, content, "no status", secrets)
    raw_status = _shown(body.get("status"), secrets, limit=60)
    status = GenerationStatus.parse(body.get("status"))
    audio = body.get("audio_file")
    # Documented: audio_file.url; also seen in the wild: audio_file as the URL itself, audio_url.
    candidates = (audio.get("url") if isinstance(audio, Mapping) else audio, body.get("audio_url"))
    audio_url = next((u.strip() for u in candidates if isinstance(u, str) and u.strip()), None)
    error_message = None
    if status is GenerationStatus.ERROR or status is GenerationStatus.UNKNOWN:
        payload = body.get("error")
        error_message = redact(failure_message(payload), secrets) or None
    return Generation(
        id=generation_id,  # the id asked for, not whatever the body echoes back
        status=status,
        raw_status=raw_status,
        audio_url=audio_url,
        error_message=error_message,
        raw=body,
        usage=parse_usage(headers, body),
    )


def generation_failure_text(generation: Generation) -> str:
    """The message a task fails with when a generation ends without audio."""
    if generation.status is GenerationStatus.ERROR:
        why = generation.error_message or "no reason given"
        return f"Generation {generation.id} failed on the service: {why}"
    if generation.status is GenerationStatus.COMPLETED:
        return f"Generation {generation.id} is completed but the service gave no audio URL"
    extra = f" ({generation.error_message})" if generation.error_message else ""
    return (
        f"Generation {generation.id} reported the unknown status {generation.raw_status!r}{extra}; "
        "treating it as a failure rather than waiting forever"
    )


# --- transport faults and retrying ---------------------------------------------------------------

# Why a request failed below HTTP. The first six mean the request never left this machine.
TransportCause = Literal[
    "proxy", "tls", "dns", "refused", "connect", "connect_timeout",
    "read_timeout", "tls_late", "reset", "other",
]  # fmt: skip
NOT_SENT_CAUSES: frozenset[str] = frozenset({"proxy", "tls", "dns", "refused", "connect", "connect_timeout"})
_RANK: dict[str, int] = {
    c: i
    for i, c in enumerate(
        ("proxy", "tls", "dns", "refused", "connect", "connect_timeout", "read_timeout", "tls_late", "reset")
    )
}
_CAUSE_TEXT: dict[str, str] = {
    "proxy": "the proxy could not be used",
    "tls": "the TLS handshake failed",
    "certificate": "the server's TLS certificate was not accepted",
    "dns": "the host name could not be resolved",
    "refused": "the connection was refused",
    "connect": "no connection could be made",
    "connect_timeout": "no connection within the connect timeout",
    "read_timeout": "no complete answer within the read timeout",
    "tls_late": "the TLS connection failed",
    "reset": "the connection broke off",
    "other": "the transport failed",
}
# Where Python's ssl module performs the handshake (a TLS error raised below these is a handshake one).
_HANDSHAKE_FRAMES = frozenset({"do_handshake", "_validate_conn", "_ssl_wrap_socket_and_match_hostname"})
# OpenSSL reasons that only a handshake produces (when a traceback does not tell).
_HANDSHAKE_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "UNSUPPORTED_PROTOCOL",
        "UNKNOWN_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "NO_SHARED_CIPHER",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_UNRECOGNIZED_NAME",
        "TLSV1_ALERT_INTERNAL_ERROR",
        "CERTIFICATE_VERIFY_FAILED",
    }
)
_CHAIN_LIMIT = 64
_LINKS = ("__cause__", "__context__", "reason", "os_error", "certificate_error", "original_error")
_QUERY = re.compile(r"\?[^\s'\"()<>?=&]+=[^\s'\"()<>]*")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]*@")


def exception_chain(exc: BaseException, limit: int = _CHAIN_LIMIT) -> list[BaseException]:
    """
    ``exc`` and every exception reachable from it (cause, context, ``reason``, ``os_error``, ``args``,
    group members), outermost first, each once. Anything that is not an exception is skipped, as is
    an attribute that raises when read; cycles and endless chains stop at ``limit``.
    """
    seen: set[int] = set()
    out: list[BaseException] = []
    queue: list[object] = [exc]
    while queue and len(out) < limit:
        item = queue.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        out.append(item)
        for name in _LINKS:
            queue.append(_safe_attr(item, name))
        args = _safe_attr(item, "args")
        if isinstance(args, tuple):
            queue.extend(a for a in args[:8] if isinstance(a, BaseException))
        members = _safe_attr(item, "exceptions")
        if isinstance(members, (tuple, list)):
            queue.extend(m for m in members[:8] if isinstance(m, BaseException))
    return out


def _safe_attr(obj: object, name: str) -> object:
    try:
        return getattr(obj, name, None)
    except Exception:  # a property that raises: nothing to follow
        return None


def _stdlib_cause(exc: BaseException) -> str | None:
    import socket
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls"
    if isinstance(exc, ssl.SSLError):
        reason = _safe_attr(exc, "reason")
        in_handshake = isinstance(reason, str) and reason in _HANDSHAKE_REASONS
        return "tls" if in_handshake or _raised_in_handshake(exc) else "tls_late"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "read_timeout"  # which phase is unknown: assume the request left
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset"
    return None


def _is_certificate_error(exc: BaseException) -> bool:
    import ssl

    return isinstance(exc, ssl.SSLCertVerificationError)


def _raised_in_handshake(exc: BaseException) -> bool:
    tb = _safe_attr(exc, "__traceback__")
    steps = 0
    while tb is not None and steps < 200:
        code = getattr(getattr(tb, "tb_frame", None), "f_code", None)
        if getattr(code, "co_name", "") in _HANDSHAKE_FRAMES:
            return True
        tb = getattr(tb, "tb_next", None)
        steps += 1
    return False


def classify_transport(
    exc: BaseException,
    library_causes: Sequence[tuple[type[BaseException], TransportCause]] = (),
) -> tuple[str, BaseException]:
    """
    The cause of a failure below HTTP and the exception that shows it. ``library_causes`` maps a
    transport's own exception types (most specific first); the standard library's (``ssl``,
    ``socket.gaierror``, refused, timeouts, resets) are known here. The most telling cause wins,
    a "never sent" one before any other.
    """
    best: tuple[int, str, BaseException] = (len(_RANK), "other", exc)
    for item in exception_chain(exc):
        cause = next((c for t, c in library_causes if isinstance(item, t)), None) or _stdlib_cause(item)
        if cause is not None and _RANK.get(cause, len(_RANK)) < best[0]:
            best = (_RANK.get(cause, len(_RANK)), cause, item)
    return best[1], best[2]


def exception_text(exc: BaseException, secrets: Iterable[str] = (), limit: int = 200) -> str:
    """``Type: message`` fit for a message: never raises, no key, no query string, no user info."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:  # a __str__ that raises (or returns something else than a str)
        text = ""
    text = " ".join(text.split())
    text = _USERINFO.sub(r"\1", _QUERY.sub("?...", redact(text, secrets)))
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"{name}: {text}" if text else name


def transport_error(
    operation: Operation,
    exc: BaseException,
    *,
    base_url: str,
    library_causes: Sequence[tuple[type[BaseException], TransportCause]] = (),
    scheme_assumed: bool = False,
    secrets: Iterable[str] = (),
) -> MusicAPIError:
    """
    A failure below HTTP as a provider error naming the host and the cause. A request that never
    left (proxy, TLS handshake, DNS, refused, connect timeout) is ``MusicUnreachableError``: safe to
    resend, even a POST. After it left, a POST is ``MusicSubmitUncertainError`` (never resent).
    """
    certificate = False
    try:
        cause, shown = classify_transport(exc, library_causes)
        detail = exception_text(shown, secrets)
        if cause == "tls":
            certificate = any(_is_certificate_error(item) for item in exception_chain(exc))
    except Exception:  # the classification itself must never be what fails
        cause, detail = "other", type(exc).__name__
    host = redact_url(base_url)
    what = _CAUSE_TEXT["certificate" if certificate else cause if cause in _CAUSE_TEXT else "other"]
    if cause in NOT_SENT_CAUSES:
        hint = ""
        if cause == "tls" and scheme_assumed and not certificate:
            plain = "http://" + host.split("://", 1)[-1]
            hint = (
                " The connection's host has no scheme, so https:// was assumed; if the server speaks "
                f"plain HTTP (like the local emulator), set the host to {plain}."
            )
        return MusicUnreachableError(
            f"Could not reach the AI/ML API at {host}: {what} ({detail}); the request was not sent.{hint}",
            cause=cause,
        )
    if operation == "submit":
        return MusicSubmitUncertainError(
            f"The POST to the AI/ML API at {host} failed after it was sent: {what} ({detail}). "
            "The generation may have been created (and billed), so it is not resent; "
            "check the AI/ML API dashboard before running the task again."
        )
    return MusicTransientError(
        f"The AI/ML API at {host} failed while waiting for the answer: {what} ({detail})"
    )


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the server's Retry-After, else full-jitter backoff."""
    if retry_after is not None:
        return retry_after
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * (2 ** max(0, attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


# --- naming stored objects -------------------------------------------------------------------------


def safe_object_name(generation_id: str) -> str:
    """One safe path segment from an opaque id that contains ``:`` and ``/``; distinct ids stay distinct."""
    import hashlib

    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", generation_id).strip("._-")[:80] or "generation"
    digest = hashlib.sha256(generation_id.encode("utf-8")).hexdigest()[:10]
    return f"{readable}-{digest}"
