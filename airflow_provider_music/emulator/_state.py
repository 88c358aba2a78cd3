"""The emulator's mutable state: runtime config, generations, counters and fault rules.

All of it is touched only from the event loop thread, so there are no locks; the thread-side
`Emulator` API reaches it through ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._audio import CONTENT_TYPES, EXTENSIONS, FORMATS, audio_size
from ._faults import FaultBook

if TYPE_CHECKING:
    from collections.abc import Mapping

MODELS: tuple[str, ...] = ("elevenlabs/eleven_music", "stable-audio", "google/lyria2", "minimax/music-2.0")
ELEVEN_MUSIC = "elevenlabs/eleven_music"


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
    usage: bool = False  # add meta.usage to POST answers

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
                if not isinstance(value, bool):
                    raise ValueError("usage must be a boolean")
                new[key] = value
        for key, value in new.items():
            setattr(self, key, value)


@dataclass
class Generation:
    """One submitted task; its status is a pure function of the time since the POST."""

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

    def status(self, now: float | None = None) -> str:
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
        self, model: str, prompt: str, music_length_ms: int, audio_format: str | None = None
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
        )
        self.generations[gen.id] = gen
        self.by_token[gen.token] = gen
        self.counters.posts_created += 1
        return gen
