"""Cost: the usage the service reported (body ``meta.usage`` or ``x-aimlapi-*`` headers), never estimated."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

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
        with contextlib.suppress(Exception):  # likewise for headers that misbehave
            found = {k.strip().lower(): v for k, v in (headers or {}).items() if isinstance(k, str)}
            if credits is None:
                credits = _credits(found.get(CREDITS_HEADER))
            if usd is None:
                usd = _usd(found.get(USD_HEADER))
    if credits is None and usd is None:
        return None
    return {"credits_used": credits, "usd_spent": usd}


def usage_text(usage: Mapping[str, Any] | None) -> str:
    """The usage as a log line shows it: ``credits_used=..., usd_spent=...`` or ``none``."""
    if not usage:
        return "none"
    return f"credits_used={usage.get('credits_used')}, usd_spent={usage.get('usd_spent')}"


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
