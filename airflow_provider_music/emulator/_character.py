"""`AudioCharacter`: what the served audio sounds like, so every audio-quality rule can be tested.

A character is a name plus its optional parameters. It is given as a name (``"quiet"``), a spec
string (``"lead_silence:seconds=3"``, handy on a command line), a mapping (``{"name": "short",
"ratio": 0.25}``) or an `AudioCharacter`; `AudioCharacter.parse` takes all four and rejects an
unknown name or parameter, or a bad value, with a ValueError naming it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

#: The characters, in the order the docs list them. ``default`` is the emulator's historical audio
#: (a quiet arpeggio in WAV/PCM, silent frames in MP3); every other one is a real musical signal.
CHARACTERS: tuple[str, ...] = (
    "default",
    "music",
    "quiet",
    "loud",
    "clipping",
    "lead_silence",
    "trail_silence",
    "short",
)
DEFAULT_CHARACTER = "default"
#: Seconds of digital silence of ``lead_silence`` and ``trail_silence`` when the rule names none.
DEFAULT_SILENCE_SECONDS = 5.0
#: ``short``: the track is this share of the requested length when the rule names none.
DEFAULT_SHORT_RATIO = 0.5
#: The parameters each character takes, with their defaults.
CHARACTER_PARAMS: Mapping[str, Mapping[str, float]] = {
    "lead_silence": {"seconds": DEFAULT_SILENCE_SECONDS},
    "trail_silence": {"seconds": DEFAULT_SILENCE_SECONDS},
    "short": {"ratio": DEFAULT_SHORT_RATIO},
}
_NAME_SEP, _PARAM_SEP, _VALUE_SEP = ":", ",", "="

#: Anything `AudioCharacter.parse` takes.
CharacterLike = Union[str, Mapping[str, Any], "AudioCharacter"]


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _format_number(value: float) -> str:
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


@dataclass(frozen=True)
class AudioCharacter:
    """A character name and its parameters (defaults filled in); hashable, so it keys the caches."""

    name: str = DEFAULT_CHARACTER
    seconds: float | None = None  # lead_silence, trail_silence: seconds of digital silence
    ratio: float | None = None  # short: share of the requested length actually served

    def __post_init__(self) -> None:
        if self.name not in CHARACTERS:
            raise ValueError(
                f"unknown audio character {self.name!r}; expected one of {', '.join(CHARACTERS)}"
            )
        allowed = CHARACTER_PARAMS.get(self.name, {})
        for key in ("seconds", "ratio"):
            value = getattr(self, key)
            if value is None:
                if key in allowed:
                    object.__setattr__(self, key, float(allowed[key]))
                continue
            if key not in allowed:
                raise ValueError(
                    f"audio character {self.name!r} takes no parameter {key!r}; "
                    f"allowed: {', '.join(allowed) or 'none'}"
                )
            if not _number(value):
                raise ValueError(f"audio character {self.name!r}: {key} must be a number, got {value!r}")
            object.__setattr__(self, key, float(value))
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"audio character {self.name!r}: seconds must be >= 0, got {self.seconds:g}")
        if self.ratio is not None and not 0 < self.ratio <= 1:
            raise ValueError(f"audio character {self.name!r}: ratio must be > 0 and <= 1, got {self.ratio:g}")

    @property
    def params(self) -> dict[str, float]:
        """The parameters this character takes, with their values."""
        return {key: getattr(self, key) for key in CHARACTER_PARAMS.get(self.name, {})}

    @property
    def spec(self) -> str:
        """The character as one string, ``name`` or ``name:key=value`` (what the config reports)."""
        params = self.params
        if not params:
            return self.name
        joined = _PARAM_SEP.join(f"{k}{_VALUE_SEP}{_format_number(v)}" for k, v in params.items())
        return f"{self.name}{_NAME_SEP}{joined}"

    def __str__(self) -> str:
        return self.spec

    @classmethod
    def parse(cls, value: CharacterLike, **params: Any) -> AudioCharacter:
        """A character from a name, a spec string, a mapping or a character, plus ``params``."""
        if isinstance(value, AudioCharacter):
            name, given = value.name, {k: v for k, v in value.params.items()}
        elif isinstance(value, str):
            name, given = _parse_spec(value)
        elif isinstance(value, Mapping):
            if not isinstance(value.get("name"), str):
                raise ValueError(f"an audio character object needs a string 'name', got {dict(value)!r}")
            name, given = value["name"], {k: v for k, v in value.items() if k != "name"}
        else:
            raise ValueError(
                f"an audio character is a name, a 'name:key=value' string or an object, got {value!r}"
            )
        twice = set(given) & set(params)
        if twice and not isinstance(value, AudioCharacter):
            raise ValueError(f"audio character parameter(s) given twice: {', '.join(sorted(twice))}")
        merged = {**given, **params}
        unknown = set(merged) - {"seconds", "ratio"}
        if unknown:
            allowed = ", ".join(CHARACTER_PARAMS.get(name, {})) or "none"
            names = ", ".join(sorted(unknown))
            raise ValueError(f"audio character {name!r} takes no parameter(s) {names}; allowed: {allowed}")
        return cls(name, **merged)


def _parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"short:ratio=0.3"`` -> (``"short"``, ``{"ratio": 0.3}``)."""
    name, sep, rest = spec.strip().partition(_NAME_SEP)
    params: dict[str, Any] = {}
    if sep:
        for item in rest.split(_PARAM_SEP):
            key, eq, raw = item.partition(_VALUE_SEP)
            if not eq or not key.strip():
                raise ValueError(f"bad audio character {spec!r}: expected name:key=value[,key=value]")
            try:
                params[key.strip()] = float(raw)
            except ValueError:
                raise ValueError(f"bad audio character {spec!r}: {key.strip()} must be a number") from None
    return name.strip(), params


DEFAULT = AudioCharacter()
