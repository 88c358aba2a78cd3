"""Validation of a ``POST /v2/generate/audio`` body, with the vendor's field-by-field messages."""

from __future__ import annotations

from typing import Any

from ._state import ELEVEN_MUSIC, MINIMAX_MUSIC, MODELS, MS_PER_SECOND, STABLE_AUDIO

MAX_PROMPT = 2000
MIN_LENGTH_MS, MAX_LENGTH_MS, DEFAULT_LENGTH_MS = 10_000, 300_000, 10_000
#: ``stable-audio`` takes its length as ``seconds_total`` in this range.
STABLE_AUDIO_MIN_SECONDS, STABLE_AUDIO_MAX_SECONDS = 1, 47
#: The keys ``elevenlabs/eleven_music`` accepts (the service rejects any other).
ELEVEN_MUSIC_KEYS: tuple[str, ...] = ("model", "prompt", "music_length_ms")
#: The formats ``minimax/music-2.0`` may ask for in ``audio_setting.format``.
MINIMAX_FORMATS: tuple[str, ...] = ("mp3", "wav")

Details = list[dict[str, str]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _detail(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message}


def _check_model(model: Any) -> Details:
    if model is None:
        return [_detail("model", "model should not be empty")]
    if model not in MODELS:
        return [_detail("model", f"model must be one of the following values: {', '.join(MODELS)}")]
    return []


def _check_prompt(body: dict[str, Any], model: Any) -> Details:
    prompt = body.get("prompt")
    prompt_required = not (model == MINIMAX_MUSIC and isinstance(body.get("lyrics"), str))
    if prompt is None:
        return [_detail("prompt", "prompt should not be empty")] if prompt_required else []
    if not isinstance(prompt, str):
        return [_detail("prompt", "prompt must be a string")]
    if not prompt.strip():
        return [_detail("prompt", "prompt should not be empty")]
    if len(prompt) > MAX_PROMPT:
        return [_detail("prompt", f"prompt must be shorter than or equal to {MAX_PROMPT} characters")]
    return []


def _check_length(body: dict[str, Any]) -> tuple[Details, int]:
    if "music_length_ms" not in body:
        return [], DEFAULT_LENGTH_MS
    value = body["music_length_ms"]
    if not _is_int(value):
        return [_detail("music_length_ms", "music_length_ms must be an integer number")], DEFAULT_LENGTH_MS
    if value < MIN_LENGTH_MS:
        message = f"music_length_ms must not be less than {MIN_LENGTH_MS}"
        return [_detail("music_length_ms", message)], DEFAULT_LENGTH_MS
    if value > MAX_LENGTH_MS:
        message = f"music_length_ms must not be greater than {MAX_LENGTH_MS}"
        return [_detail("music_length_ms", message)], DEFAULT_LENGTH_MS
    return [], int(value)


def _check_model_fields(body: dict[str, Any], model: Any, length_ms: int) -> tuple[Details, int, str | None]:
    """The model-specific keys: returns (details, length_ms, audio_format)."""
    if model == ELEVEN_MUSIC:
        extra = [
            _detail(key, f"property {key} should not exist") for key in body if key not in ELEVEN_MUSIC_KEYS
        ]
        return extra, length_ms, None
    if model == STABLE_AUDIO and "seconds_total" in body:
        seconds = body["seconds_total"]
        low, high = STABLE_AUDIO_MIN_SECONDS, STABLE_AUDIO_MAX_SECONDS
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not low <= seconds <= high:
            return (
                [_detail("seconds_total", f"seconds_total must be a number between {low} and {high}")],
                length_ms,
                None,
            )
        return [], round(seconds * MS_PER_SECOND), None
    if model == MINIMAX_MUSIC:
        setting = body.get("audio_setting")
        if isinstance(setting, dict) and setting.get("format") in MINIMAX_FORMATS:
            return [], length_ms, str(setting["format"])
    return [], length_ms, None


def validate_submission(body: Any) -> tuple[Details, dict[str, Any]]:
    """Check a POST body; return (details, normalized) where details is empty when valid."""
    if not isinstance(body, dict):
        return [_detail("body", "body must be a JSON object")], {}
    model = body.get("model")
    length_details, length_ms = _check_length(body)
    model_details, length_ms, audio_format = _check_model_fields(body, model, length_ms)
    details = [*_check_model(model), *_check_prompt(body, model), *length_details, *model_details]
    prompt = body.get("prompt")
    text = prompt if isinstance(prompt, str) else str(body.get("lyrics", ""))
    return details, {
        "model": model,
        "prompt": text,
        "music_length_ms": length_ms,
        "audio_format": audio_format,
    }
