"""
The music models of ``POST /v2/generate/audio``, as data: each field's rule from the vendor's JSON schema.

Every model cites the schema it was read from (``aimlapi/api-docs:<path>@<commit>``). Where a schema
and its page text disagree, the schema wins (the service validates against the schema); each such
place says so. ``model`` itself is not listed among a model's fields: it is always sent.

Two choices of this provider, not of the vendor:
- ``prompt`` is always a required, non-empty string here (music-2.6 makes it optional at the vendor).
- MiniMax's ``audio_setting.format: "pcm"`` is refused before paying: raw PCM has no header, so the
  stored audio could not be verified as audio (delivery sniffs MP3/WAV). Choose mp3 or wav.
"""

# No `from __future__ import annotations` here: NamedTuple would compile every string annotation
# (typing.ForwardRef) while a DAG file imports this module; evaluated annotations cost nothing.

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

FieldType = Literal["string", "integer", "boolean", "object"]


# The records are NamedTuples, not frozen dataclasses: operator modules load this at DAG-parse time,
# and a dataclass, which compiles its generated methods with exec, costs six times as much to define.
class FieldRule(NamedTuple):
    """
    One field of a model's request body, as its JSON schema declares it.

    ``fields`` are an object's own keys (``audio_setting``); ``open_keys`` lets other keys of that
    object through as given. ``hint`` is the limit in words when the bounds alone do not say it.
    """

    type: FieldType
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    enum: tuple[Any, ...] | None = None
    default: Any = None
    fields: Mapping[str, "FieldRule"] = MappingProxyType({})
    open_keys: bool = False
    hint: str | None = None


class MusicModel(NamedTuple):
    """
    A model: its schema's source, its fields (``prompt`` included, ``model`` not), the field that takes
    ``music_length_ms`` (in ``length_unit_ms`` milliseconds per unit; None: the model has no length),
    the output formats this provider can deliver and the one given when none is asked for.
    """

    name: str
    source: str
    fields: Mapping[str, FieldRule]
    length_field: str | None
    length_unit_ms: int
    output_formats: tuple[str, ...]
    default_format: str
    legacy: bool = False

    def accepted(self) -> tuple[str, ...]:
        """The fields a body may carry besides ``model``, sorted."""
        return tuple(sorted(self.fields))


def _fields(**rules: FieldRule) -> Mapping[str, FieldRule]:
    return MappingProxyType(dict(rules))


# The formats MiniMax can be asked for; "pcm" is in the vendor's enum but refused here (see above).
PCM_FORMAT: Final = "pcm"
_AUDIO_FORMATS = ("mp3", "wav", PCM_FORMAT)
_SAMPLE_RATES = (16000, 24000, 32000, 44100)
_BITRATES = (32000, 64000, 128000, 256000)
_LYRICS = FieldRule("string", required=True, min_length=10, max_length=3000)


def _audio_setting(*, rate_key: str, format_required: bool, open_keys: bool = False) -> FieldRule:
    """MiniMax's ``audio_setting`` object; the schemas differ in the rate's key and in what is required."""
    fmt = (
        FieldRule("string", required=True, enum=_AUDIO_FORMATS)
        if format_required
        else FieldRule("string", enum=_AUDIO_FORMATS, default="mp3")
    )
    # Defaults, where declared, are the schema's own: strings although the type is integer.
    declared_defaults = not format_required
    return FieldRule(
        "object",
        fields=_fields(
            **{
                rate_key: FieldRule(
                    "integer", enum=_SAMPLE_RATES, default="44100" if declared_defaults else None
                ),
                "bitrate": FieldRule(
                    "integer", enum=_BITRATES, default="256000" if declared_defaults else None
                ),
                "format": fmt,
            }
        ),
        open_keys=open_keys,
    )


_MODELS: tuple[MusicModel, ...] = (
    # aimlapi/api-docs:docs/api-references/music-models/elevenlabs/eleven_music.json@297285f61b30e0b2d273af53c1fd74b9215ff5a3  # noqa: E501
    # (the page says only prompt is required; the schema also requires model, which is always sent)
    MusicModel(
        name="elevenlabs/eleven_music",
        source="aimlapi/api-docs:docs/api-references/music-models/elevenlabs/eleven_music.json"
        "@297285f61b30e0b2d273af53c1fd74b9215ff5a3",
        fields=_fields(
            prompt=FieldRule("string", required=True, max_length=2000),
            music_length_ms=FieldRule(
                "integer", minimum=10_000, maximum=300_000, default=10_000, hint="10 s to 5 min"
            ),
        ),
        length_field="music_length_ms",
        length_unit_ms=1,
        output_formats=("mp3",),
        default_format="mp3",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/Google/Lyria-2.json@59b3bb22df70cc815e8e36da47fe93dc04db3d54  # noqa: E501
    # (no length limits on prompt; seed has a minimum and no maximum; output WAV per the page's example)
    MusicModel(
        name="google/lyria2",
        source="aimlapi/api-docs:docs/api-references/music-models/Google/Lyria-2.json"
        "@59b3bb22df70cc815e8e36da47fe93dc04db3d54",
        fields=_fields(
            prompt=FieldRule("string", required=True),
            negative_prompt=FieldRule("string"),
            seed=FieldRule("integer", minimum=0),
        ),
        length_field=None,
        length_unit_ms=1,
        output_formats=("wav",),
        default_format="wav",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/Stability-AI/stable-audio.json@e55d0cdbb2b407f42b23cd7b05488779aab9b7aa  # noqa: E501
    # (the page's samples send model "elevenlabs/eleven_music": a copy-paste slip; the schema wins)
    MusicModel(
        name="stable-audio",
        source="aimlapi/api-docs:docs/api-references/music-models/Stability-AI/stable-audio.json"
        "@e55d0cdbb2b407f42b23cd7b05488779aab9b7aa",
        fields=_fields(
            prompt=FieldRule("string", required=True),
            seconds_start=FieldRule("integer", minimum=1, maximum=47),
            seconds_total=FieldRule("integer", minimum=1, maximum=47, default=30),
            steps=FieldRule("integer", minimum=1, maximum=1000, default=100),
        ),
        length_field="seconds_total",
        length_unit_ms=1000,
        output_formats=("wav",),
        default_format="wav",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-1.5.json@b0557c44d58fc0e080e41db562f9d80b80ad89ab  # noqa: E501
    MusicModel(
        name="minimax/music-1.5",
        source="aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-1.5.json"
        "@b0557c44d58fc0e080e41db562f9d80b80ad89ab",
        fields=_fields(
            prompt=FieldRule("string", required=True, min_length=10, max_length=300),
            lyrics=_LYRICS,
            audio_setting=_audio_setting(rate_key="sample_rate", format_required=True),
        ),
        length_field=None,
        length_unit_ms=1,
        output_formats=("mp3", "wav"),
        default_format="mp3",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-2.0.json@89664f43e0e8e55b1817f232b348396cb030368c  # noqa: E501
    MusicModel(
        name="minimax/music-2.0",
        source="aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-2.0.json"
        "@89664f43e0e8e55b1817f232b348396cb030368c",
        fields=_fields(
            prompt=FieldRule("string", required=True, min_length=10, max_length=2000),
            lyrics=_LYRICS,
            audio_setting=_audio_setting(rate_key="sample_rate", format_required=True),
        ),
        length_field=None,
        length_unit_ms=1,
        output_formats=("mp3", "wav"),
        default_format="mp3",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-2.6.json@c241ec46dffb9128e4d7244bd2764f45dd88dd10  # noqa: E501
    # (the later version; 2e9493e5 was a copy of music-2.0's). Schema wins over the page text: the
    # descriptions say "Length: 10-2000" / "10-3000" characters but the schema has no minLength, and
    # "lyrics required unless is_instrumental or lyrics_optimizer" is text only: lyrics is optional.
    # audio_setting's rate key is audio_sample_rate here (sample_rate elsewhere, and in the first 2.6
    # schema): ambiguous, so other keys of audio_setting are passed through as given.
    MusicModel(
        name="minimax/music-2.6",
        source="aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-2.6.json"
        "@c241ec46dffb9128e4d7244bd2764f45dd88dd10",
        fields=_fields(
            prompt=FieldRule("string", required=True, max_length=2000),  # required: our decision
            lyrics=FieldRule("string", max_length=3000),
            audio_setting=_audio_setting(rate_key="audio_sample_rate", format_required=False, open_keys=True),
            lyrics_optimizer=FieldRule("boolean", default=False),
            is_instrumental=FieldRule("boolean", default=False),
        ),
        length_field=None,
        length_unit_ms=1,
        output_formats=("mp3", "wav"),
        default_format="mp3",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-cover.json@cc46a2f726d0b326bf5ca319e69c448bc3f2b5ed  # noqa: E501
    # (lyrics optional here; required in version 8aba68aa, which the rendered docs do not follow).
    # reference_audio_url: the schema says format "uri" but its description accepts Base64: only a
    # non-empty string is checked.
    MusicModel(
        name="minimax/music-cover",
        source="aimlapi/api-docs:docs/api-references/music-models/MiniMax/music-cover.json"
        "@cc46a2f726d0b326bf5ca319e69c448bc3f2b5ed",
        fields=_fields(
            prompt=FieldRule("string", required=True, min_length=10, max_length=2000),
            reference_audio_url=FieldRule(
                "string", required=True, min_length=1, hint="a URL or Base64 of the reference audio"
            ),
            lyrics=FieldRule("string", min_length=10, max_length=3000),
            audio_setting=_audio_setting(rate_key="sample_rate", format_required=False),
        ),
        length_field=None,
        length_unit_ms=1,
        output_formats=("mp3", "wav"),
        default_format="mp3",
    ),
    # aimlapi/api-docs:docs/api-references/music-models/MiniMax/minimax-music-[legacy].json@9bde03ee385e9023b32c26b5ee2f186c0bc1b9b2  # noqa: E501
    # (legacy; the description asks for a .wav or .mp3 reference longer than 15 s: not checkable here)
    MusicModel(
        name="minimax-music",
        source="aimlapi/api-docs:docs/api-references/music-models/MiniMax/minimax-music-[legacy].json"
        "@9bde03ee385e9023b32c26b5ee2f186c0bc1b9b2",
        fields=_fields(
            prompt=FieldRule("string", required=True),
            reference_audio_url=FieldRule(
                "string", required=True, min_length=1, hint="a URL of a .wav or .mp3 song longer than 15 s"
            ),
        ),
        length_field=None,
        length_unit_ms=1,
        output_formats=("mp3",),
        default_format="mp3",
        legacy=True,
    ),
)

#: Every model this provider knows, by name (the value of the body's ``model``).
MUSIC_MODELS: Final[Mapping[str, MusicModel]] = MappingProxyType({m.name: m for m in _MODELS})

#: Fields the hook and the operators take as keyword arguments (None: not sent).
TYPED_FIELDS: Final = ("lyrics", "negative_prompt", "seed")
