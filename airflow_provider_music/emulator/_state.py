"""The emulator's mutable state: generations (their status machine), counters and fault rules.

All of it is touched only from the event loop thread, so there are no locks; the thread-side
`Emulator` API reaches it through ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._character import AudioCharacter
from ._config import Config, check_number
from ._faults import FaultBook
from ._models import ELEVEN_MUSIC, LYRIA2, MINIMAX_MUSIC, MODELS, MS_PER_SECOND, STABLE_AUDIO
from ._synthesis import CONTENT_TYPES, EXTENSIONS, FORMATS, audio_problem, audio_size

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ELEVEN_MUSIC", "LYRIA2", "MINIMAX_MUSIC", "MODELS", "MS_PER_SECOND", "STABLE_AUDIO"]
#: The statuses a generation reports while it runs (the vendor SDK's pending set).
PENDING_STATUSES: tuple[str, ...] = ("queued", "generating", "waiting", "active", "processing")
#: Credits per second of requested music, and the vendor's rate (2,000,000 credits = 1 USD).
CREDITS_PER_SECOND = 2_100
CREDITS_PER_USD = 2_000_000
#: Decimal places of the USD figure (``x-aimlapi-usd-spent``, the stats' ``usage``).
USD_PLACES = 9
#: Bytes of the per-state key that signs audio links (a reset keeps it: links stay verifiable).
SECRET_BYTES = 32
#: What the service accepts as ``X-Client-Request-Id``; anything else is silently dropped.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def valid_client_request_id(value: str | None) -> str | None:
    """The header's value when the service would keep it, else None (dropped, as the service does)."""
    if value is None or CLIENT_REQUEST_ID.fullmatch(value) is None:
        return None
    return value


def usage_for(music_length_ms: int) -> tuple[int, Decimal]:
    """The emulator's deterministic price: 2,100 credits per second of music asked for (rounded up)."""
    credits = -(-music_length_ms * CREDITS_PER_SECOND // MS_PER_SECOND)
    return credits, Decimal(credits) / Decimal(CREDITS_PER_USD)


def utc_now_iso() -> str:
    """Now, as the vendor writes timestamps (``2026-01-01T12:00:00.000Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class EmulatedGeneration:
    """
    One submitted task, as the emulator keeps it (the provider's `Generation` is what a client sees).
    Its status is, in this order of precedence: the status it was pinned to
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
    character: AudioCharacter = field(default_factory=AudioCharacter)
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
        """Whether it is pinned at a pending status until released."""
        return self.pinned is not None and self.pinned != "completed"

    @property
    def usage(self) -> dict[str, Any]:
        """What it cost, as the stats report it (the USD figure as a decimal string)."""
        credits, usd = usage_for(self.music_length_ms)
        return {"credits_used": credits, "usd_spent": f"{usd:.{USD_PLACES}f}"}

    def status(self, now: float | None = None) -> str:
        """The status a poll reports now (or at monotonic time ``now``)."""
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
        """The audio file extension."""
        return EXTENSIONS[self.audio_format]

    @property
    def content_type(self) -> str:
        """The audio content type."""
        return CONTENT_TYPES[self.audio_format]

    @property
    def file_name(self) -> str:
        """The audio file name in its link (an unguessable token plus the extension)."""
        return f"{self.token}.{self.ext}"

    @property
    def audio_key(self) -> tuple[str, int, AudioCharacter]:
        """(format, length, character): what its audio file is a pure function of."""
        return self.audio_format, self.music_length_ms, self.character

    @property
    def size_bytes(self) -> int:
        """Size of the audio file (an MP3 of a music character is encoded for it, once)."""
        return audio_size(*self.audio_key)

    def update(self, data: Mapping[str, Any]) -> None:
        """Admin override of one generation (format, audio character, timing)."""
        allowed = {"audio_format", "audio_character", "generation_seconds", "queued_seconds"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown generation key(s): {', '.join(sorted(unknown))}")
        fmt = data.get("audio_format", self.audio_format)
        if fmt not in FORMATS:
            raise ValueError(f"audio_format must be one of {', '.join(FORMATS)}")
        character = self.character
        if "audio_character" in data:
            try:
                character = AudioCharacter.parse(data["audio_character"])
            except ValueError as exc:
                raise ValueError(f"audio_character: {exc}") from None
        problem = audio_problem(fmt, character)
        if problem is not None:
            raise ValueError(problem)
        gen_s = check_number("generation_seconds", data.get("generation_seconds", self.generation_seconds))
        queued = check_number("queued_seconds", data.get("queued_seconds", self.queued_seconds))
        self.audio_format, self.generation_seconds, self.queued_seconds = fmt, gen_s, queued
        self.character = character


@dataclass
class Counters:
    """Request counts since the last reset, reported by the stats."""

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
        self.secret = secrets.token_bytes(SECRET_BYTES)
        self.generations: dict[str, EmulatedGeneration] = {}
        self.by_token: dict[str, EmulatedGeneration] = {}
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
        character: AudioCharacter | None = None,
    ) -> EmulatedGeneration:
        """Record a new generation with the current config's timing, hold, format and character."""
        cfg = self.config
        gen = EmulatedGeneration(
            id=f"{uuid.uuid4()}:{model}",
            model=model,
            prompt=prompt,
            music_length_ms=music_length_ms,
            audio_format=audio_format or cfg.audio_format,
            generation_seconds=cfg.generation_seconds,
            queued_seconds=cfg.effective_queued_seconds(),
            character=character or cfg.audio_character,
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
