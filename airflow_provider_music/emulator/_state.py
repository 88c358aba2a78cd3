"""The emulator's mutable state: runtime config, generations, counters and fault rules.

All of it is touched only from the event loop thread, so there are no locks; the thread-side
`Emulator` API reaches it through ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._audio import CONTENT_TYPES, EXTENSIONS, FORMATS, audio_size
from ._faults import FaultBook

if TYPE_CHECKING:
    from collections.abc import Mapping

MODELS: tuple[str, ...] = ("elevenlabs/eleven_music", "stable-audio", "google/lyria2", "minimax/music-2.0")
ELEVEN_MUSIC = "elevenlabs/eleven_music"

#: Where the POST answer reports what the generation cost (``Config.usage``).
USAGE_MODES: tuple[str, ...] = ("both", "body", "headers", "none")
#: The statuses a generation reports while it runs (the vendor SDK's pending set).
PENDING_STATUSES: tuple[str, ...] = ("queued", "generating", "waiting", "active", "processing")
#: Credits per second of requested music, and the vendor's rate (2,000,000 credits = 1 USD).
CREDITS_PER_SECOND = 2_100
CREDITS_PER_USD = 2_000_000
#: What the service accepts as ``X-Client-Request-Id``; anything else is silently dropped.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def valid_client_request_id(value: str | None) -> str | None:
    """The header's value when the service would keep it, else None (dropped, as the service does)."""
    if value is None or CLIENT_REQUEST_ID.fullmatch(value) is None:
        return None
    return value


def usage_for(music_length_ms: int) -> tuple[int, Decimal]:
    """The emulator's deterministic price: 2,100 credits per second of music asked for (rounded up)."""
    credits = -(-music_length_ms * CREDITS_PER_SECOND // 1000)
    return credits, Decimal(credits) / Decimal(CREDITS_PER_USD)


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(key: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{key} must be a number >= {minimum:g}, got {value!r}")
    return float(value)


@dataclass
class Config:
    """Settings that may change at runtime (``POST /_emulator/config``); new generations snapshot them."""

    generation_seconds: float = 3.0
    queued_seconds: float | None = None  # None: 25% of generation_seconds
    audio_format: str = "wav"
    url_ttl: float = 900.0
    submit_status: int = 200
    usage: str = "both"  # where POST answers report the cost: both, body, headers, none
    hold: bool = False  # new generations stay "queued" until released
    polls_to_complete: int | None = None  # new generations complete on their Nth GET (timers ignored)

    def __post_init__(self) -> None:
        self.update(self.to_dict())

    def effective_queued_seconds(self) -> float:
        if self.queued_seconds is None:
            return self.generation_seconds * 0.25
        return self.queued_seconds

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def update(self, data: Mapping[str, Any]) -> None:
        """Validate everything first, then apply, so a bad key changes nothing."""
        known = {f.name for f in fields(self)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown config key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        new: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("generation_seconds", "url_ttl"):
                new[key] = _number(key, value)
            elif key == "queued_seconds":
                new[key] = None if value is None else _number(key, value)
            elif key == "audio_format":
                if value not in FORMATS:
                    raise ValueError(f"audio_format must be one of {', '.join(FORMATS)}, got {value!r}")
                new[key] = value
            elif key == "submit_status":
                if isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 299:
                    raise ValueError(f"submit_status must be a 2xx integer, got {value!r}")
                new[key] = value
            elif key == "usage":
                if isinstance(value, bool):  # the switch's earlier form: True = body and headers
                    value = "both" if value else "none"
                if value not in USAGE_MODES:
                    raise ValueError(f"usage must be one of {', '.join(USAGE_MODES)}, got {value!r}")
                new[key] = value
            elif key == "hold":
                if not isinstance(value, bool):
                    raise ValueError("hold must be a boolean")
                new[key] = value
            elif key == "polls_to_complete":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                    raise ValueError(f"polls_to_complete must be null or an integer >= 1, got {value!r}")
                new[key] = value
        for key, value in new.items():
            setattr(self, key, value)


@dataclass
class Generation:
    """
    One submitted task. Its status is, in this order of precedence: the status it was pinned to
    (held, or released), a function of how many times it was polled (``polls_to_complete``), or a
    function of the time since the POST.
    """

    id: str
    model: str
    prompt: str
    music_length_ms: int
    audio_format: str
    generation_seconds: float
    queued_seconds: float
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: str = field(default_factory=utc_now_iso)
    started: float = field(default_factory=time.monotonic)
    gets: int = 0
    downloads: int = 0
    downloads_completed: int = 0
    heads: int = 0
    last_reported_status: str | None = None
    client_request_id: str | None = None
    polls_to_complete: int | None = None
    pinned: str | None = None  # a pending status while held; "completed" once released

    @property
    def held(self) -> bool:
        return self.pinned is not None and self.pinned != "completed"

    @property
    def usage(self) -> dict[str, Any]:
        credits, usd = usage_for(self.music_length_ms)
        return {"credits_used": credits, "usd_spent": f"{usd:.9f}"}

    def status(self, now: float | None = None) -> str:
        if self.pinned is not None:
            return self.pinned
        if self.polls_to_complete is not None:
            if self.gets >= self.polls_to_complete:
                return "completed"
            return "queued" if self.gets <= 1 else "generating"
        elapsed = (time.monotonic() if now is None else now) - self.started
        if elapsed >= self.generation_seconds:
            return "completed"
        if elapsed < self.queued_seconds:
            return "queued"
        return "generating"

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.audio_format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.audio_format]

    @property
    def file_name(self) -> str:
        return f"{self.token}.{self.ext}"

    @property
    def size_bytes(self) -> int:
        return audio_size(self.audio_format, self.music_length_ms)

    def update(self, data: Mapping[str, Any]) -> None:
        """Admin override of one generation (format, timing)."""
        allowed = {"audio_format", "generation_seconds", "queued_seconds"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown generation key(s): {', '.join(sorted(unknown))}")
        fmt = data.get("audio_format", self.audio_format)
        if fmt not in FORMATS:
            raise ValueError(f"audio_format must be one of {', '.join(FORMATS)}")
        gen_s = _number("generation_seconds", data.get("generation_seconds", self.generation_seconds))
        queued = _number("queued_seconds", data.get("queued_seconds", self.queued_seconds))
        self.audio_format, self.generation_seconds, self.queued_seconds = fmt, gen_s, queued


@dataclass
class Counters:
    posts: int = 0
    posts_created: int = 0
    gets: int = 0
    downloads: int = 0
    downloads_completed: int = 0
    heads: int = 0
    auth_failures: int = 0
    client_request_ids_dropped: int = 0


class State:
    """Everything the API and audio handlers share."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.secret = secrets.token_bytes(32)
        self.generations: dict[str, Generation] = {}
        self.by_token: dict[str, Generation] = {}
        self.counters = Counters()
        self.faults = FaultBook()

    def reset(self) -> None:
        """Forget generations, counters and faults (config is kept)."""
        self.generations.clear()
        self.by_token.clear()
        self.counters = Counters()
        self.faults = FaultBook()

    def create(
        self,
        model: str,
        prompt: str,
        music_length_ms: int,
        audio_format: str | None = None,
        client_request_id: str | None = None,
    ) -> Generation:
        cfg = self.config
        gen = Generation(
            id=f"{uuid.uuid4()}:{model}",
            model=model,
            prompt=prompt,
            music_length_ms=music_length_ms,
            audio_format=audio_format or cfg.audio_format,
            generation_seconds=cfg.generation_seconds,
            queued_seconds=cfg.effective_queued_seconds(),
            client_request_id=client_request_id,
            polls_to_complete=cfg.polls_to_complete,
            pinned="queued" if cfg.hold else None,
        )
        self.generations[gen.id] = gen
        self.by_token[gen.token] = gen
        self.counters.posts_created += 1
        return gen

    def release(self, generation_id: str | None = None, status: str = "completed") -> list[str]:
        """
        Move one generation (any, held or not) or, with no id, every held one to ``status``:
        ``completed`` from now on, or a pending status at which it stays held. Returns the ids moved.
        """
        if status != "completed" and status not in PENDING_STATUSES:
            raise ValueError(
                f"status must be 'completed' or one of {', '.join(PENDING_STATUSES)}, got {status!r}"
            )
        if generation_id is None:
            targets = [g for g in self.generations.values() if g.held]
        else:
            gen = self.generations.get(generation_id)
            if gen is None:
                raise KeyError(generation_id)
            targets = [gen]
        for gen in targets:
            gen.pinned = status
        return [g.id for g in targets]

    def hold(self, generation_id: str | None = None, status: str | None = None) -> list[str]:
        """Pin one generation (or every unfinished one) at ``status`` (default: the status it has now)."""
        if status is not None and status not in PENDING_STATUSES:
            raise ValueError(f"status must be one of {', '.join(PENDING_STATUSES)}, got {status!r}")
        if generation_id is None:
            targets = [g for g in self.generations.values() if g.status() != "completed"]
        else:
            gen = self.generations.get(generation_id)
            if gen is None:
                raise KeyError(generation_id)
            targets = [gen]
        pins = []
        for gen in targets:
            pin = status or gen.status()
            if pin == "completed":
                raise ValueError(f"{gen.id} has completed: name the pending status to hold it at")
            pins.append((gen, pin))
        for gen, pin in pins:
            gen.pinned = pin
        return [g.id for g, _ in pins]
