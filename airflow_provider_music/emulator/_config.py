"""The emulator's own defaults and its runtime `Config` (what ``POST /_emulator/config`` changes).

These are the emulator's settings, not the provider's (``airflow_provider_music.defaults``): the
emulator imports nothing from the provider, so it runs on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ._character import DEFAULT, AudioCharacter
from ._synthesis import FORMATS

# ----------------------------------------------------------------------------------- listeners

DEFAULT_HOST = "127.0.0.1"
#: The CLI's API port (8080 is the Airflow api-server's); in-process emulators pick a free one (0).
DEFAULT_CLI_PORT = 8090
DEFAULT_API_KEY = "emulator-key"
#: The CLI reads its key from this variable when ``--api-key`` is not given.
API_KEY_ENV = "AIMLAPI_EMULATOR_API_KEY"
DEFAULT_KEEPALIVE_TIMEOUT = 75.0
#: Seconds a client has to send a whole request (and its first one on a new connection).
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_BACKLOG = 4096
SERVER_HEADER = "aimlapi-emulator"
#: With no hard open-files limit, the soft one is lifted to at least this (1,000 clients need > 1,024).
FD_LIMIT_WHEN_UNLIMITED = 65536

# ----------------------------------------------------------------------------- runtime config

DEFAULT_GENERATION_SECONDS = 3.0
#: With no ``queued_seconds``, a generation spends this share of ``generation_seconds`` "queued".
DEFAULT_QUEUED_SHARE = 0.25
DEFAULT_AUDIO_FORMAT = "wav"
DEFAULT_URL_TTL = 900.0
DEFAULT_SUBMIT_STATUS = 200
#: The 2xx codes a POST may answer with (the CLI offers the two the service has been seen to send).
CLI_SUBMIT_STATUSES: tuple[int, ...] = (200, 201)
SUBMIT_STATUS_RANGE = (200, 299)
DEFAULT_USAGE = "both"

#: Where the POST answer reports what the generation cost (``Config.usage``).
USAGE_MODES: tuple[str, ...] = ("both", "body", "headers", "none")


def check_number(key: str, value: Any, minimum: float = 0.0) -> float:
    """``value`` as a float when it is a number >= ``minimum``; ValueError naming ``key`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{key} must be a number >= {minimum:g}, got {value!r}")
    return float(value)


def _optional_number(key: str, value: Any) -> float | None:
    return None if value is None else check_number(key, value)


def _audio_format(key: str, value: Any) -> str:
    if value not in FORMATS:
        raise ValueError(f"{key} must be one of {', '.join(FORMATS)}, got {value!r}")
    return str(value)


def _audio_character(key: str, value: Any) -> AudioCharacter:
    try:
        return AudioCharacter.parse(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _submit_status(key: str, value: Any) -> int:
    low, high = SUBMIT_STATUS_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be a 2xx integer, got {value!r}")
    return int(value)


def _usage(key: str, value: Any) -> str:
    if isinstance(value, bool):  # the switch's earlier form: True = body and headers
        value = "both" if value else "none"
    if value not in USAGE_MODES:
        raise ValueError(f"{key} must be one of {', '.join(USAGE_MODES)}, got {value!r}")
    return str(value)


def _hold(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a boolean")
    return bool(value)


def _polls_to_complete(key: str, value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{key} must be null or an integer >= 1, got {value!r}")
    return None if value is None else int(value)


#: One validator per config key: it returns the normalized value or raises ValueError.
_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "generation_seconds": check_number,
    "queued_seconds": _optional_number,
    "audio_format": _audio_format,
    "audio_character": _audio_character,
    "url_ttl": check_number,
    "submit_status": _submit_status,
    "usage": _usage,
    "hold": _hold,
    "polls_to_complete": _polls_to_complete,
}


@dataclass
class Config:
    """Settings that may change at runtime (``POST /_emulator/config``); new generations snapshot them."""

    generation_seconds: float = DEFAULT_GENERATION_SECONDS
    queued_seconds: float | None = None  # None: DEFAULT_QUEUED_SHARE of generation_seconds
    audio_format: str = DEFAULT_AUDIO_FORMAT  # eleven_music's; the other models have their own (_models)
    # What new generations' audio sounds like (every model's); a POST rule can set one generation's.
    audio_character: AudioCharacter = DEFAULT
    url_ttl: float = DEFAULT_URL_TTL
    submit_status: int = DEFAULT_SUBMIT_STATUS
    usage: str = DEFAULT_USAGE  # where POST answers report the cost: both, body, headers, none
    hold: bool = False  # new generations stay "queued" until released
    polls_to_complete: int | None = None  # new generations complete on their Nth GET (timers ignored)

    def __post_init__(self) -> None:
        self.update({f.name: getattr(self, f.name) for f in fields(self)})

    def effective_queued_seconds(self) -> float:
        """How long new generations stay "queued"."""
        if self.queued_seconds is None:
            return self.generation_seconds * DEFAULT_QUEUED_SHARE
        return self.queued_seconds

    def to_dict(self) -> dict[str, Any]:
        """The whole config, as ``GET /_emulator/config`` answers it (the character as its spec string)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["audio_character"] = self.audio_character.spec
        return out

    def update(self, data: Mapping[str, Any]) -> None:
        """Validate everything first, then apply, so a bad key changes nothing."""
        known = {f.name for f in fields(self)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown config key(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        new = {key: _VALIDATORS[key](key, value) for key, value in data.items()}
        for key, value in new.items():
            setattr(self, key, value)
