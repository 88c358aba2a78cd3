"""Keeping secrets out of messages: API keys echoed back, signed URLs, user info."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit


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


def shown(value: object, secrets: Iterable[str], limit: int = 80) -> str:
    """A value from the service fit for a message: redacted and short (it may echo anything back)."""
    text = redact(str(value), secrets)
    return text if len(text) <= limit else text[:limit] + "..."
