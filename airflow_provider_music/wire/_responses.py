"""Reading answers: statuses, error classification, failure texts, ``Retry-After``, the connection test."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

from airflow_provider_music.defaults import FAILURE_MESSAGE_MAX_CHARS, RETRY_AFTER_MAX_S
from airflow_provider_music.exceptions import (
    MusicAPIError,
    MusicAuthError,
    MusicCreditsError,
    MusicInputError,
    MusicRejectedError,
    MusicSubmitUncertainError,
    MusicTransientError,
)
from airflow_provider_music.wire._models import Generation, GenerationStatus, Operation, Submission
from airflow_provider_music.wire._redaction import redact, shown
from airflow_provider_music.wire._requests import validate_generation_id
from airflow_provider_music.wire._usage import parse_usage

# Nested failure payloads ({"error": {"error": ...}}) are followed this deep, then printed.
_FAILURE_NESTING = 8


class StatusClass(str, Enum):
    """What an HTTP status means to this client: the one classification every caller shares."""

    SUCCESS = "success"  # 2xx
    AUTH = "auth"  # 401: the key was refused
    CREDITS = "credits"  # 403: out of credits or not allowed
    THROTTLED = "throttled"  # 429: slow down; nothing was done
    REQUEST_TIMEOUT = "request_timeout"  # 408
    SERVER = "server"  # 5xx
    REJECTED = "rejected"  # any other answer: the request itself is wrong


def classify_status(status_code: int) -> StatusClass:
    """Fold an HTTP status into a ``StatusClass``."""
    if 200 <= status_code < 300:
        return StatusClass.SUCCESS
    by_code = {401: StatusClass.AUTH, 403: StatusClass.CREDITS, 429: StatusClass.THROTTLED}
    if status_code in by_code:
        return by_code[status_code]
    if status_code == 408:
        return StatusClass.REQUEST_TIMEOUT
    if status_code >= 500:
        return StatusClass.SERVER
    return StatusClass.REJECTED


class ProbeVerdict(str, Enum):
    """The connection test's reading of the probe's answer (a status read of a missing generation)."""

    KEY_REFUSED = "key_refused"  # 401
    FORBIDDEN = "forbidden"  # 403: out of credits, or the key may not use this model
    TRY_LATER = "try_later"  # 429 or 5xx: the service could not tell
    ACCEPTED = "accepted"  # anything else (typically 404 for the unknown id): the key works


_VERDICTS = {
    StatusClass.AUTH: ProbeVerdict.KEY_REFUSED,
    StatusClass.CREDITS: ProbeVerdict.FORBIDDEN,
    StatusClass.THROTTLED: ProbeVerdict.TRY_LATER,
    StatusClass.SERVER: ProbeVerdict.TRY_LATER,
}


def classify_probe_status(status_code: int) -> ProbeVerdict:
    """The verdict on the probe's HTTP status (a 404 for the unknown id means the key was accepted)."""
    return _VERDICTS.get(classify_status(status_code), ProbeVerdict.ACCEPTED)


def connection_test_result(status: int, shown_url: str) -> tuple[bool, str]:
    """``test_connection``'s verdict on the probe's HTTP status (the messages docs/connection.md lists)."""
    verdict = classify_probe_status(status)
    if verdict is ProbeVerdict.KEY_REFUSED:
        return False, f"The AI/ML API at {shown_url} refused the API key (HTTP 401): check the password field"
    if verdict is ProbeVerdict.FORBIDDEN:
        return False, (
            f"The AI/ML API at {shown_url} answered HTTP 403: the account is out of credits "
            "or the key may not use this model"
        )
    if verdict is ProbeVerdict.TRY_LATER:
        return False, f"The AI/ML API at {shown_url} answered HTTP {status}; try again later"
    return True, f"The AI/ML API at {shown_url} accepted the API key"


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
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
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
        text = _mapping_failure_text(payload, depth)
        if text:
            return text
    if payload in (None, "", {}, []):
        return ""
    try:
        return json.dumps(payload, sort_keys=True, default=str)[:FAILURE_MESSAGE_MAX_CHARS]
    except (ValueError, RecursionError):  # nested too deep to print
        return f"an unreadable {type(payload).__name__}"


def _mapping_failure_text(payload: Mapping[str, Any], depth: int) -> str:
    for key in ("message", "msg", "error_description", "title"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    for key in ("detail", "details", "errors"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, list):
            msgs = [m for m in (_detail_text(item) for item in value) if m]
            if msgs:
                return "; ".join(msgs)
    nested = payload.get("error")
    if nested is not None and nested is not payload and depth < _FAILURE_NESTING:
        return _failure_text(nested, depth + 1)
    return ""


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


def _request_id(
    body: Mapping[str, Any] | None, headers: Mapping[str, str], secrets: tuple[str, ...]
) -> str | None:
    rid = (body.get("requestId") or body.get("request_id")) if body is not None else None
    if rid:
        return shown(rid, secrets)
    header = next((v for k, v in headers.items() if k.lower() in ("x-request-id", "request-id")), None)
    return shown(header, secrets) if header else None


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
    service_message = ""
    if body is not None:
        service_message = failure_message(body)
    elif content:
        service_message = content[:300].decode("utf-8", "replace").strip()
    request_id = _request_id(body, headers, secrets)
    service_message = redact(service_message, secrets)
    what = "creating the generation" if operation == "submit" else "reading the generation"
    detail = f": {service_message}" if service_message else ""
    rid_note = f" [requestId={request_id}]" if request_id else ""
    kwargs: dict[str, Any] = {
        "http_status": status_code,
        "request_id": request_id,
        "service_message": service_message or None,
    }
    kind = classify_status(status_code)
    if kind is StatusClass.AUTH:
        return MusicAuthError(
            f"AI/ML API refused the API key (HTTP 401) while {what}{detail}{rid_note}. "
            "Check the password field of the connection.",
            **kwargs,
        )
    if kind is StatusClass.CREDITS:
        return MusicCreditsError(
            f"AI/ML API answered HTTP 403 (out of credits or not allowed) while {what}{detail}{rid_note}",
            **kwargs,
        )
    if kind in (StatusClass.THROTTLED, StatusClass.REQUEST_TIMEOUT, StatusClass.SERVER):
        message = f"AI/ML API answered HTTP {status_code} while {what}{detail}{rid_note}"
        if operation == "submit" and kind is not StatusClass.THROTTLED:
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
    status = GenerationStatus.parse(body.get("status"))
    audio = body.get("audio_file")
    # Documented: audio_file.url; also seen in the wild: audio_file as the URL itself, audio_url.
    candidates = (audio.get("url") if isinstance(audio, Mapping) else audio, body.get("audio_url"))
    audio_url = next((u.strip() for u in candidates if isinstance(u, str) and u.strip()), None)
    error_message = None
    if status is GenerationStatus.ERROR or status is GenerationStatus.UNKNOWN:
        error_message = redact(failure_message(body.get("error")), secrets) or None
    return Generation(
        id=generation_id,  # the id asked for, not whatever the body echoes back
        status=status,
        raw_status=shown(body.get("status"), secrets, limit=60),
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
