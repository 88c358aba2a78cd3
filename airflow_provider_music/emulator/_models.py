"""The service side's table of music models: each one's request fields, output format and length.

This is the emulator's own copy of the vendor's rules (it imports nothing from the provider, whose
catalogue is ``airflow_provider_music.wire``): the rules come from the vendor's JSON schemas in the
public ``aimlapi/api-docs`` repository, cited per model as ``aimlapi/api-docs:<path>@<commit>``.
Where a schema and its page text disagree, the schema wins.

What the emulator serves for a model (no schema states the codec; the vendor's examples do):

- ``elevenlabs/eleven_music``: length ``music_length_ms`` (default 10 s). Its format is the emulator's
  configured ``audio_format`` (default ``wav``; the service sends mp3: configure ``mp3`` or
  ``mp3_id3`` to see it), as it has always been, so tests can pick the format.
- ``google/lyria2``: wav, 30 s (the model makes fixed-length clips).
- ``stable-audio``: wav, ``seconds_total`` seconds (default 30).
- ``minimax/*``: ``audio_setting.format`` (mp3 by default, or wav, or pcm), 30 s (the service's songs
  run as long as the lyrics need, up to 4 minutes; the emulator keeps downloads small).
- ``minimax-music`` (legacy): mp3, 30 s.

Whatever the model, the audio has the generation's character (``_character``: ``default`` unless the
config or a POST rule says otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

ELEVEN_MUSIC = "elevenlabs/eleven_music"
STABLE_AUDIO = "stable-audio"
LYRIA2 = "google/lyria2"
MINIMAX_MUSIC_15 = "minimax/music-1.5"
MINIMAX_MUSIC = "minimax/music-2.0"
MINIMAX_MUSIC_26 = "minimax/music-2.6"
MINIMAX_COVER = "minimax/music-cover"
MINIMAX_LEGACY = "minimax-music"

MS_PER_SECOND = 1000
#: Length of a track from a model that takes no length (and of stable-audio with no seconds_total).
FIXED_LENGTH_MS = 30_000
SAMPLE_RATES: tuple[int, ...] = (16000, 24000, 32000, 44100)
BITRATES: tuple[int, ...] = (32000, 64000, 128000, 256000)
MINIMAX_FORMATS: tuple[str, ...] = ("mp3", "wav", "pcm")
MINIMAX_DEFAULT_FORMAT = "mp3"


@dataclass(frozen=True)
class Rule:
    """One request field as the service checks it (class-validator style, unknown keys refused)."""

    kind: str  # "string", "integer", "boolean" or "object"
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[object, ...] | None = None
    fields: Mapping[str, Rule] = field(default_factory=dict)  # an object's own fields
    open_keys: bool = False  # an object that takes keys besides its fields (passed as given)


@dataclass(frozen=True)
class ModelSpec:
    """A model as the service knows it."""

    name: str
    source: str
    fields: Mapping[str, Rule]  # every accepted key but ``model``
    audio_format: str | None  # None: the emulator's configured format
    length_field: str | None = None
    length_unit_ms: int = 1
    default_length_ms: int = FIXED_LENGTH_MS
    format_from_audio_setting: bool = False


def _str(required: bool = False, low: int | None = None, high: int | None = None) -> Rule:
    return Rule("string", required=required, min_length=low, max_length=high)


def _audio_setting(rate_keys: tuple[str, ...], format_required: bool, open_keys: bool = False) -> Rule:
    nested = {key: Rule("integer", enum=SAMPLE_RATES) for key in rate_keys}
    nested["bitrate"] = Rule("integer", enum=BITRATES)
    nested["format"] = Rule("string", required=format_required, enum=MINIMAX_FORMATS)
    return Rule("object", fields=MappingProxyType(nested), open_keys=open_keys)


def _minimax(name: str, source: str, fields: dict[str, Rule]) -> ModelSpec:
    return ModelSpec(
        name,
        source,
        MappingProxyType(fields),
        audio_format=MINIMAX_DEFAULT_FORMAT,
        format_from_audio_setting=True,
    )


_DOCS = "aimlapi/api-docs:docs/api-references/music-models"

_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        ELEVEN_MUSIC,
        f"{_DOCS}/elevenlabs/eleven_music.json@297285f61b30e0b2d273af53c1fd74b9215ff5a3",
        MappingProxyType(
            {
                "prompt": _str(required=True, high=2000),
                "music_length_ms": Rule("integer", minimum=10_000, maximum=300_000),
            }
        ),
        audio_format=None,
        length_field="music_length_ms",
        default_length_ms=10_000,
    ),
    ModelSpec(
        LYRIA2,
        f"{_DOCS}/Google/Lyria-2.json@59b3bb22df70cc815e8e36da47fe93dc04db3d54",
        MappingProxyType(
            {"prompt": _str(required=True), "negative_prompt": _str(), "seed": Rule("integer", minimum=0)}
        ),
        audio_format="wav",
    ),
    ModelSpec(
        STABLE_AUDIO,
        f"{_DOCS}/Stability-AI/stable-audio.json@e55d0cdbb2b407f42b23cd7b05488779aab9b7aa",
        MappingProxyType(
            {
                "prompt": _str(required=True),
                "seconds_start": Rule("integer", minimum=1, maximum=47),
                "seconds_total": Rule("integer", minimum=1, maximum=47),
                "steps": Rule("integer", minimum=1, maximum=1000),
            }
        ),
        audio_format="wav",
        length_field="seconds_total",
        length_unit_ms=MS_PER_SECOND,
    ),
    _minimax(
        MINIMAX_MUSIC_15,
        f"{_DOCS}/MiniMax/music-1.5.json@b0557c44d58fc0e080e41db562f9d80b80ad89ab",
        {
            "prompt": _str(required=True, low=10, high=300),
            "lyrics": _str(required=True, low=10, high=3000),
            "audio_setting": _audio_setting(("sample_rate",), format_required=True),
        },
    ),
    _minimax(
        MINIMAX_MUSIC,
        f"{_DOCS}/MiniMax/music-2.0.json@89664f43e0e8e55b1817f232b348396cb030368c",
        {
            "prompt": _str(required=True, low=10, high=2000),
            "lyrics": _str(required=True, low=10, high=3000),
            "audio_setting": _audio_setting(("sample_rate",), format_required=True),
        },
    ),
    # Only ``model`` is required; the descriptions' "Length: 10-2000" (prompt) and "10-3000" (lyrics)
    # have no minLength in the schema, which wins. The schema names the rate ``audio_sample_rate``
    # (the first 2.6 schema, 2e9493e5, said ``sample_rate``): both are checked, and as the key names are
    # in doubt its ``audio_setting`` takes other keys too (as the provider passes them).
    _minimax(
        MINIMAX_MUSIC_26,
        f"{_DOCS}/MiniMax/music-2.6.json@c241ec46dffb9128e4d7244bd2764f45dd88dd10",
        {
            "prompt": _str(high=2000),
            "lyrics": _str(high=3000),
            "audio_setting": _audio_setting(
                ("audio_sample_rate", "sample_rate"), format_required=False, open_keys=True
            ),
            "lyrics_optimizer": Rule("boolean"),
            "is_instrumental": Rule("boolean"),
        },
    ),
    # ``reference_audio_url`` is "a URL or a Base64-encoded" audio: a non-empty string, not a URI check.
    _minimax(
        MINIMAX_COVER,
        f"{_DOCS}/MiniMax/music-cover.json@cc46a2f726d0b326bf5ca319e69c448bc3f2b5ed",
        {
            "prompt": _str(required=True, low=10, high=2000),
            "reference_audio_url": _str(required=True),
            "lyrics": _str(low=10, high=3000),
            "audio_setting": _audio_setting(("sample_rate",), format_required=False),
        },
    ),
    ModelSpec(
        MINIMAX_LEGACY,
        f"{_DOCS}/MiniMax/minimax-music-[legacy].json@9bde03ee385e9023b32c26b5ee2f186c0bc1b9b2",
        MappingProxyType({"prompt": _str(required=True), "reference_audio_url": _str(required=True)}),
        audio_format="mp3",
    ),
)

#: Every model the emulated service accepts, by name.
MODEL_SPECS: Mapping[str, ModelSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
MODELS: tuple[str, ...] = tuple(MODEL_SPECS)
