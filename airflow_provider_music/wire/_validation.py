"""
A request body, checked by its model's own rules before anything is sent.

Errors read "<model>: <field> <problem>; <the limit>". A model outside the catalogue gets the
generic checks only (prompt, music_length_ms, extra_body) and is sent as given: the caller logs
``unknown_model_warning``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from airflow_provider_music.defaults import DEFAULT_MODEL
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.wire._catalogue import MUSIC_MODELS, PCM_FORMAT, FieldRule, MusicModel

# What the parameters set: never through extra_body.
PARAMETER_FIELDS: Final = frozenset({"model", "prompt", "music_length_ms"})
# The limits of the default model, for the checks that take no model.
PROMPT_MAX_CHARS: Final = 2000
MUSIC_LENGTH_MIN_MS: Final = 10_000
MUSIC_LENGTH_MAX_MS: Final = 300_000

_TYPE_WORDS: Final = {
    "string": "a string",
    "integer": "an integer",
    "boolean": "a boolean (true or false)",
    "object": "a mapping of names to values",
}


def build_body(
    model: object,
    prompt: object,
    music_length_ms: object = None,
    *,
    fields: Mapping[str, Any] | None = None,
    extra_body: object = None,
) -> dict[str, Any]:
    """
    The body of ``POST /v2/generate/audio``: ``model``, ``prompt``, the length in the model's own field,
    the given ``fields`` (None values are not sent), then ``extra_body``; all checked by the model's rules.
    """
    name = validate_model(model)
    spec = MUSIC_MODELS.get(name)
    validate_prompt(prompt, name)
    body: dict[str, Any] = {"model": name, "prompt": prompt}
    if music_length_ms is not None:
        field_name, value = _length_field(spec, name, _check_length_type(music_length_ms, f"{name}: "))
        body[field_name] = value
    given = _given_fields(fields, f"{name}: ")
    body.update(given)
    if extra_body is not None:
        extra = _check_extra_body_shape(extra_body, f"{name}: ")
        _refuse_twice(name, body, given, extra, music_length_ms)
        body.update(extra)
    _check_json(body, f"{name}: ", "the request body (extra_body and the typed fields)")
    if spec is not None:
        _check_body(spec, body)
    return body


def validate_submission(
    prompt: object,
    music_length_ms: object = None,
    model: object = DEFAULT_MODEL,
    extra_body: object = None,
    *,
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Refuse what the service would refuse (``build_body`` without the body)."""
    build_body(model, prompt, music_length_ms, fields=fields, extra_body=extra_body)


def unknown_model_warning(model: object) -> str | None:
    """The warning to log for a model outside the catalogue (None for a known one)."""
    if isinstance(model, str) and model in MUSIC_MODELS:
        return None
    known = ", ".join(sorted(MUSIC_MODELS))
    return (
        f"model {model!r} is not in this provider's catalogue: it is sent as given, with only the "
        f"generic checks (prompt, music_length_ms, extra_body), and the service judges the rest; "
        f"known models: {known}"
    )


def expected_format(model: object, body: Mapping[str, Any] | None = None) -> str | None:
    """The audio format the model answers with for this body (mp3 / wav); None for an unknown model."""
    spec = MUSIC_MODELS.get(model) if isinstance(model, str) else None
    if spec is None:
        return None
    setting = (body or {}).get("audio_setting")
    if "audio_setting" in spec.fields and isinstance(setting, Mapping):
        fmt = setting.get("format")
        if isinstance(fmt, str):
            return fmt
    return spec.default_format


# --- the generic checks (any model) -----------------------------------------------------------------


def validate_model(model: object) -> str:
    """The model itself when it is a non-empty string."""
    if not isinstance(model, str) or not model.strip():
        raise MusicInputError(f"model must be a non-empty string, got {model!r}")
    return model


def validate_prompt(prompt: object, model: str | None = None) -> None:
    """A non-empty string (our API requires it for every model) within the model's length limits."""
    where = f"{model}: " if model else ""
    if not isinstance(prompt, str):
        raise MusicInputError(f"{where}prompt must be a string, got {type(prompt).__name__}")
    if not prompt.strip():
        raise MusicInputError(f"{where}prompt must not be empty")
    if model is None:
        rule: FieldRule | None = FieldRule("string", required=True, max_length=PROMPT_MAX_CHARS)
    else:
        spec = MUSIC_MODELS.get(model)
        rule = spec.fields.get("prompt") if spec is not None else None
    if rule is not None:
        _check_length(where, "prompt", prompt, rule)


def validate_music_length(music_length_ms: object, model: str | None = None) -> None:
    """
    An integer number of milliseconds the model can take (None is the caller's business); without a
    model, within the default model's range.
    """
    length = _check_length_type(music_length_ms)
    if model is None:
        if not MUSIC_LENGTH_MIN_MS <= length <= MUSIC_LENGTH_MAX_MS:
            raise MusicInputError(
                f"music_length_ms is {music_length_ms}; it must be from {MUSIC_LENGTH_MIN_MS} "
                f"to {MUSIC_LENGTH_MAX_MS} (10 s to 5 min)"
            )
        return
    spec = MUSIC_MODELS.get(model)
    name, value = _length_field(spec, model, length)
    if spec is not None:
        _check_value(spec.name, name, value, spec.fields[name])


def validate_extra_body(extra_body: object, model: str) -> None:
    """A JSON-serializable mapping of fields the model accepts beside the parameters, each by its rule."""
    extra = _check_extra_body_shape(extra_body, f"{model}: ")
    _check_json(extra, f"{model}: ")
    spec = MUSIC_MODELS.get(model)
    if spec is not None:
        _check_unknown(spec, extra)
        for key, value in extra.items():
            _check_value(spec.name, key, value, spec.fields[key])


def _check_length_type(music_length_ms: object, where: str = "") -> int:
    if isinstance(music_length_ms, bool) or not isinstance(music_length_ms, int):
        raise MusicInputError(
            f"{where}music_length_ms must be an integer number of milliseconds, got {music_length_ms!r}"
        )
    return music_length_ms


def _check_extra_body_shape(extra_body: object, where: str = "") -> Mapping[str, Any]:
    if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
        raise MusicInputError(
            f"{where}extra_body must be a mapping of field names to values, got {extra_body!r}"
        )
    clash = sorted(PARAMETER_FIELDS & set(extra_body))
    if clash:
        raise MusicInputError(f"{where}extra_body must not set {', '.join(clash)}: pass them as parameters")
    return extra_body


def _given_fields(fields: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """The fields given as parameters (None: not given); never the parameters themselves."""
    given = {k: v for k, v in (fields or {}).items() if v is not None}
    clash = sorted(k for k in given if not isinstance(k, str) or k in PARAMETER_FIELDS)
    if clash:
        raise MusicInputError(
            f"{where}fields must not set {', '.join(map(str, clash))}: pass them as parameters"
        )
    return given


def _check_json(body: Mapping[str, Any], where: str = "", what: str = "extra_body") -> None:
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise MusicInputError(
            f"{where}{what} must be JSON-serializable (no NaN or infinity): {err}"
        ) from None


def _refuse_twice(
    model: str,
    body: Mapping[str, Any],
    given: Mapping[str, Any],
    extra_body: Mapping[str, Any],
    music_length_ms: object,
) -> None:
    """One field, one way: a typed field or the length field also in extra_body is refused."""
    twice = sorted(set(extra_body) & set(body))
    if not twice:
        return
    key = twice[0]
    if key in given:
        raise MusicInputError(
            f"{model}: {key} is given both as a parameter ({key}=) and in extra_body; give it once"
        )
    raise MusicInputError(
        f"{model}: {key} is given both in extra_body and through music_length_ms={music_length_ms}; "
        f"give it once"
    )


# --- the model's own rules ------------------------------------------------------------------------


def _length_field(spec: MusicModel | None, model: str, music_length_ms: int) -> tuple[str, int]:
    """``music_length_ms`` in the model's own length field and unit."""
    if spec is None:
        return "music_length_ms", music_length_ms
    name = spec.length_field
    if name is None:
        raise MusicInputError(
            f"{model} has no length parameter: its tracks are as long as the model makes them; "
            f"leave music_length_ms unset"
        )
    unit = spec.length_unit_ms
    if unit == 1:
        return name, music_length_ms
    rule = spec.fields[name]
    low, high = rule.minimum, rule.maximum
    limit = f"from {low} to {high} seconds ({_ms(low, unit)} to {_ms(high, unit)} ms)"
    if music_length_ms % unit:
        raise MusicInputError(
            f"{model}: music_length_ms={music_length_ms} is not a whole number of seconds; "
            f"{name} takes whole seconds {limit}"
        )
    value = music_length_ms // unit
    if (low is not None and value < low) or (high is not None and value > high):
        raise MusicInputError(
            f"{model}: {name} is {value} (from music_length_ms={music_length_ms}); it must be {limit}"
        )
    return name, value


def _ms(value: int | None, unit: int) -> str:
    return "?" if value is None else str(value * unit)


def _check_body(spec: MusicModel, body: Mapping[str, Any]) -> None:
    _check_unknown(spec, body)
    for key, rule in spec.fields.items():
        if key in body:
            _check_value(spec.name, key, body[key], rule)
        elif rule.required:
            raise MusicInputError(f"{spec.name}: {key} is required ({_describe(rule)})")


def _check_unknown(spec: MusicModel, body: Mapping[str, Any]) -> None:
    unknown = sorted(set(body) - set(spec.fields) - {"model"})
    if not unknown:
        return
    names = ", ".join(repr(k) for k in unknown)
    what = f"field {names} is" if len(unknown) == 1 else f"fields {names} are"
    accepts = ", ".join(spec.accepted())
    tail = ""
    if set(spec.fields) <= PARAMETER_FIELDS:
        tail = f" (set through parameters; extra_body accepts no fields for {spec.name})"
    raise MusicInputError(f"{spec.name}: {what} not accepted; it accepts: {accepts}{tail}")


def _check_value(model: str, key: str, value: object, rule: FieldRule) -> None:
    """One value against its rule (nested objects key by key)."""
    if not _is_type(value, rule.type):
        raise MusicInputError(f"{model}: {key} must be {_TYPE_WORDS[rule.type]}, got {value!r}")
    if rule.enum is not None and value not in rule.enum:
        raise MusicInputError(f"{model}: {key} is {value!r}; it must be one of {_words(rule.enum)}")
    if isinstance(value, str):
        _check_length(f"{model}: ", key, value, rule)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_range(model, key, value, rule)
    elif isinstance(value, Mapping):
        _check_object(model, key, value, rule)


def _check_object(model: str, key: str, value: Mapping[str, Any], rule: FieldRule) -> None:
    unknown = sorted(set(value) - set(rule.fields))
    if unknown and not rule.open_keys:
        raise MusicInputError(
            f"{model}: {key}.{unknown[0]} is not accepted; {key} accepts: {', '.join(sorted(rule.fields))}"
        )
    for sub, sub_rule in rule.fields.items():
        if sub in value:
            _check_value(model, f"{key}.{sub}", value[sub], sub_rule)
        elif sub_rule.required:
            raise MusicInputError(
                f"{model}: {key}.{sub} is required when {key} is given ({_describe(sub_rule)})"
            )
    if key == "audio_setting" and value.get("format") == PCM_FORMAT:
        raise MusicInputError(
            f"{model}: audio_setting.format 'pcm' is not supported by this provider (raw PCM has no header, "
            f"so the stored audio could not be verified); choose mp3 or wav"
        )


def _check_length(where: str, key: str, value: str, rule: FieldRule) -> None:
    low, high = rule.min_length, rule.max_length
    if low is not None and not value.strip():
        raise MusicInputError(f"{where}{key} must not be empty ({_describe(rule)})")
    if high is not None and len(value) > high and low is None:
        raise MusicInputError(f"{where}{key} is {len(value)} characters long; the limit is {high} characters")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        limit = _bounds(low, high, "characters", plain=False)
        raise MusicInputError(f"{where}{key} is {len(value)} characters long; it must be {limit}")


def _check_range(model: str, key: str, value: int, rule: FieldRule) -> None:
    low, high = rule.minimum, rule.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise MusicInputError(f"{model}: {key} is {value}; it must be {_describe(rule)}")


def _is_type(value: object, type_: str) -> bool:
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "object":
        return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)
    return isinstance(value, str)


def _describe(rule: FieldRule) -> str:
    """The limit in words: '10 to 3000 characters', 'from 1 to 47', 'one of mp3, wav'."""
    if rule.enum is not None:
        return f"one of {_words(rule.enum)}"
    if rule.type == "string":
        text = _bounds(rule.min_length, rule.max_length, "characters", plain=True)
    elif rule.type == "integer":
        text = _bounds(rule.minimum, rule.maximum, "", plain=False)
    else:
        text = _TYPE_WORDS[rule.type]
    if rule.hint:
        return rule.hint if rule.type == "string" else f"{text} ({rule.hint})"
    return text


def _bounds(low: int | None, high: int | None, unit: str, *, plain: bool) -> str:
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low} to {high}{suffix}" if plain else f"from {low} to {high}{suffix}"
    if low is not None:
        return f"at least {low}{suffix}"
    if high is not None:
        return f"at most {high}{suffix}"
    return "a string" if unit == "characters" else "an integer"


def _words(values: tuple[Any, ...]) -> str:
    """The allowed values, less those this provider refuses (pcm)."""
    return ", ".join(str(v) for v in values if v != PCM_FORMAT)
