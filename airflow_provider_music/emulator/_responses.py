"""The answers both apps build: the vendor's JSON errors, the CDN's XML errors, canned fault answers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ._faults import FaultRule
from ._messages import Response
from ._state import utc_now_iso

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "application/xml"
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
BINARY_TYPE = "application/octet-stream"
REQUEST_ID_HEADER = "x-request-id"
#: The body of an ``html`` fault (a proxy's error page where JSON was expected).
HTML_ERROR = "<html><body>Bad Gateway</body></html>"
#: The body of a ``bad_json`` fault: JSON cut short.
BAD_JSON = '{"id": "'
#: The body of an audio ``json`` fault: a JSON error where audio was expected.
AUDIO_JSON_ERROR: dict[str, Any] = {"error": {"code": "AccessDenied", "message": "The file is not available"}}
#: The codes of ``status`` and ``expired`` faults that name none, and of the other canned answers.
DEFAULT_FAULT_STATUS = 500
DEFAULT_EXPIRED_STATUS = 403
DEFAULT_CANNED_STATUS = 200

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: "A valid API key is required",
    403: "Insufficient credits",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Payload too large",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable: the model is under maintenance",
    504: "Generation timeout",
    505: "HTTP version not supported",
}
CDN_ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidRequest", "Invalid request"),
    403: ("AccessDenied", "Request has expired"),
    404: ("NoSuchKey", "The specified key does not exist."),
    405: ("MethodNotAllowed", "The specified method is not allowed against this resource."),
    410: ("Gone", "The requested resource is no longer available."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}


def message_for(code: int) -> str:
    """The vendor's default message for an error status."""
    return DEFAULT_MESSAGES.get(code, "Error")


def error_body(
    code: int, message: str, path: str, request_id: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The vendor's error shape (NestJS-style)."""
    body: dict[str, Any] = {
        "message": message,
        "path": path,
        "requestId": request_id,
        "statusCode": code,
        "timestamp": utc_now_iso(),
    }
    if details is not None:
        body["details"] = details
    return body


def json_response(
    status: int, obj: Any, request_id: str, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """``obj`` as a JSON answer carrying the request id."""
    return Response(status, json.dumps(obj).encode(), JSON_TYPE, [(REQUEST_ID_HEADER, request_id), *headers])


def api_error(
    code: int, message: str, path: str, request_id: str, details: list[dict[str, str]] | None = None
) -> Response:
    """An API error answer in the vendor's shape."""
    return json_response(code, error_body(code, message, path, request_id, details), request_id)


def cdn_error_body(code: int, message: str | None = None) -> bytes:
    """An S3-style XML error document."""
    name, default = CDN_ERRORS.get(code, ("Error", message_for(code)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{name}</Code><Message>{message or default}</Message></Error>\n"
    ).encode()


def cdn_error(code: int, request_id: str, message: str | None = None) -> Response:
    """A CDN error answer (XML, as object stores send)."""
    return Response(code, cdn_error_body(code, message), XML_TYPE, [(REQUEST_ID_HEADER, request_id)])


def _encode_body(body: Any, content_type: str | None) -> tuple[bytes, str]:
    if isinstance(body, str):
        return body.encode(), content_type or TEXT_TYPE
    if isinstance(body, bytes):
        return body, content_type or BINARY_TYPE
    return json.dumps(body).encode(), content_type or JSON_TYPE


def _status_fault(
    rule: FaultRule, headers: list[tuple[str, str]], request_id: str, path: str, cdn: bool
) -> Response:
    p = rule.params
    code: int = p.get("code", DEFAULT_FAULT_STATUS if rule.action == "status" else DEFAULT_EXPIRED_STATUS)
    if "body" in p:
        body, ctype = _encode_body(p["body"], p.get("content_type"))
    elif cdn:
        body, ctype = cdn_error_body(code), XML_TYPE
    elif p.get("shape") == "title":
        title = "Forbidden" if code == 403 else message_for(code)
        body = json.dumps({"title": title, "status": code, "message": message_for(code)}).encode()
        ctype = JSON_TYPE
    else:
        body, ctype = json.dumps(error_body(code, message_for(code), path, request_id)).encode(), JSON_TYPE
    return Response(code, body, ctype, headers)


#: Canned-body actions: their default body and the content type they answer with.
_CANNED: dict[str, tuple[Any, str]] = {
    "html": (HTML_ERROR, HTML_TYPE),
    "bad_json": (BAD_JSON, JSON_TYPE),
    "json": (AUDIO_JSON_ERROR, JSON_TYPE),
}


def fault_response(rule: FaultRule, request_id: str, path: str, *, cdn: bool) -> Response:
    """The canned answer for the actions every target shares (and the audio-only error ones)."""
    p = rule.params
    headers = [(REQUEST_ID_HEADER, request_id), *((k, str(v)) for k, v in p.get("headers", {}).items())]
    action = rule.action
    if action == "reset":
        return Response(0, abort=True)
    if action in ("status", "expired"):
        return _status_fault(rule, headers, request_id, path, cdn)
    if action in _CANNED:
        default, ctype = _CANNED[action]
        body, _ = _encode_body(p.get("body", default), None)
        return Response(p.get("code", DEFAULT_CANNED_STATUS), body, ctype, headers)
    raise ValueError(f"no canned response for action {action!r}")  # pragma: no cover
