"""Validation of a ``POST /v2/generate/audio`` body, with the vendor's field-by-field messages.

Each model's rules are its table entry (`MODEL_SPECS`): required fields, types, lengths, ranges and
enums, nested ``audio_setting`` included; a key the model does not take is refused ("property x
should not exist"), as the service does. Every problem is one ``{"field", "message"}`` detail;
nested fields are named with a dot (``audio_setting.format``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._models import MODEL_SPECS, MODELS, ModelSpec, Rule

Details = list[dict[str, str]]

_TYPE_MESSAGES = {
    "string": "must be a string",
    "integer": "must be an integer number",
    "boolean": "must be a boolean value",
    "object": "must be an object",
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _detail(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message}


def _has_type(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return _is_int(value)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, dict)


def _check_string(name: str, rule: Rule, value: str) -> str | None:
    if rule.required and not value.strip():
        return f"{name} should not be empty"
    if rule.min_length is not None and len(value) < rule.min_length:
        return f"{name} must be longer than or equal to {rule.min_length} characters"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"{name} must be shorter than or equal to {rule.max_length} characters"
    return None


def _check_number(name: str, rule: Rule, value: int) -> str | None:
    if rule.minimum is not None and value < rule.minimum:
        return f"{name} must not be less than {rule.minimum}"
    if rule.maximum is not None and value > rule.maximum:
        return f"{name} must not be greater than {rule.maximum}"
    return None


def _check_value(name: str, rule: Rule, value: Any) -> Details:
    """One present field against its rule (an object's fields are checked in turn)."""
    if not _has_type(rule.kind, value):
        return [_detail(name, f"{name} {_TYPE_MESSAGES[rule.kind]}")]
    if rule.enum is not None and value not in rule.enum:
        allowed = ", ".join(str(v) for v in rule.enum)
        return [_detail(name, f"{name} must be one of the following values: {allowed}")]
    problem: str | None = None
    if rule.kind == "string":
        problem = _check_string(name, rule, value)
    elif rule.kind == "integer":
        problem = _check_number(name, rule, value)
    elif rule.kind == "object":
        return _check_fields(value, rule.fields, f"{name}.", open_keys=rule.open_keys)
    return [] if problem is None else [_detail(name, problem)]


def _check_fields(
    body: Mapping[str, Any], rules: Mapping[str, Rule], prefix: str = "", *, open_keys: bool = False
) -> Details:
    """Every rule against ``body`` (absent required fields, bad values), then the keys no rule names."""
    details: Details = []
    for key, rule in rules.items():
        name = prefix + key
        if body.get(key) is None:
            if rule.required:
                details.append(_detail(name, f"{name} should not be empty"))
            continue
        details += _check_value(name, rule, body[key])
    for key in () if open_keys else body:
        if key not in rules and not (prefix == "" and key == "model"):
            details.append(_detail(prefix + key, f"property {prefix}{key} should not exist"))
    return details


def _length_ms(spec: ModelSpec, body: Mapping[str, Any]) -> int:
    value = body.get(spec.length_field) if spec.length_field else None
    return spec.default_length_ms if value is None else int(value) * spec.length_unit_ms


def _audio_format(spec: ModelSpec, body: Mapping[str, Any]) -> str | None:
    if spec.format_from_audio_setting:
        setting = body.get("audio_setting")
        if isinstance(setting, dict) and isinstance(setting.get("format"), str):
            return str(setting["format"])
    return spec.audio_format


def _check_unknown_model(body: Mapping[str, Any]) -> Details:
    model = body.get("model")
    if model is None:
        details = [_detail("model", "model should not be empty")]
    else:
        details = [_detail("model", f"model must be one of the following values: {', '.join(MODELS)}")]
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        message = "prompt should not be empty" if prompt is None else "prompt must be a string"
        details.append(_detail("prompt", message))
    return details


def validate_submission(body: Any) -> tuple[Details, dict[str, Any]]:
    """Check a POST body; return (details, normalized) where details is empty when valid.

    ``normalized`` holds ``model``, ``prompt`` (the prompt, else the lyrics, for fault matching),
    ``music_length_ms`` (the track's length) and ``audio_format`` (None: the configured one).
    """
    if not isinstance(body, dict):
        return [_detail("body", "body must be a JSON object")], {}
    spec = MODEL_SPECS.get(body["model"]) if isinstance(body.get("model"), str) else None
    if spec is None:
        return _check_unknown_model(body), {}
    details = _check_fields(body, spec.fields)
    if details:
        return details, {}
    prompt = body.get("prompt")
    return [], {
        "model": spec.name,
        "prompt": prompt if isinstance(prompt, str) else str(body.get("lyrics") or ""),
        "music_length_ms": _length_ms(spec, body),
        "audio_format": _audio_format(spec, body),
    }
