"""
What a submitting task sends: the typed model fields (``lyrics``, ``negative_prompt``, ``seed``), the
checks of literal values at DAG-parse time with the model's own rules, and the body as sent, which
the manifest records under ``request``.

Pure: it imports only ``wire`` (no hook, no HTTP), so it is safe at DAG-parse time.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.wire import (
    build_body,
    coerce_music_length,
    redact_url,
    unknown_model_warning,
    validate_model,
    validate_submission,
)

# Patterns are compiled on first use (re caches them), not while a DAG file imports this module.
_INTEGER_TEXT: Final = r"\s*-?\d+\s*"

_REFERENCE_AUDIO: Final = "reference_audio_url"

#: The manifest's key for the request body as sent (model, prompt, length field, model fields).
REQUEST_KEY: Final = "request"

# Stand-ins for values Airflow fills in only at run time (a Jinja template, an XCom reference), so the
# literal values beside them are still checked at parse time with the model's rules. Each is valid for
# every model of the catalogue (the shortest prompt limit is 10-300 characters, lyrics 10-3000, seed
# from 0); the rendered values are checked again, in full, before the POST.
_STAND_INS: Final[Mapping[str, object]] = {
    "prompt": "A stand-in prompt for checks at parse time",
    "lyrics": "[Verse]\nA stand-in line of lyrics for checks at parse time",
    "negative_prompt": "A stand-in negative prompt",
    "seed": 0,
}


def is_pending(value: object) -> bool:
    """A value Airflow fills in at run time: a Jinja template, or an XCom reference (``task.output``)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    return hasattr(value, "resolve") and hasattr(value, "iter_references")


def typed_fields(lyrics: object, negative_prompt: object, seed: object) -> dict[str, Any]:
    """The typed keyword arguments given (None: not sent); a rendered seed's digits become an integer."""
    if isinstance(seed, str) and re.fullmatch(_INTEGER_TEXT, seed):
        seed = int(seed)  # a rendered template: "42", or "-1" (refused as out of range, not as text)
    given = {"lyrics": lyrics, "negative_prompt": negative_prompt, "seed": seed}
    return {name: value for name, value in given.items() if value is not None}


def check_literals(
    prompt: object,
    music_length_ms: object,
    model: object,
    extra_body: object,
    fields: Mapping[str, object],
) -> str | None:
    """
    At DAG-parse time: refuse what is wrong whatever the templates render to, with the model's rules.

    Values filled in at run time stand in as values every model accepts (a templated
    ``music_length_ms`` as not sent), so the literal values beside them are checked in full, and a
    field given both as a keyword argument and in ``extra_body`` is refused whatever its values.
    Returns the warning to log for a model the catalogue does not know, if any.
    """
    name = validate_model(model)
    length = None if is_pending(music_length_ms) else coerce_music_length(music_length_ms)
    known_prompt = _STAND_INS["prompt"] if is_pending(prompt) else prompt
    known_fields = {
        key: _STAND_INS.get(key, 0) if is_pending(value) else value for key, value in fields.items()
    }
    validate_submission(known_prompt, length, name, extra_body, fields=known_fields)
    return unknown_model_warning(name)


def request_body(
    prompt: object,
    music_length_ms: object,
    model: str,
    extra_body: Mapping[str, Any] | None,
    fields: Mapping[str, object],
) -> dict[str, Any]:
    """The body the POST carries, validated with the model's rules (rendered values only)."""
    return build_body(
        model, prompt, coerce_music_length(music_length_ms), fields=fields, extra_body=extra_body
    )


def recorded_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """
    The body as the manifest and the XCom record it: as sent (lyrics as given), except the reference
    audio of the cover models, which may be a signed URL (a credential: recorded without its query
    string) or the audio itself in Base64 (up to 50 MB: recorded as its length and SHA-256).
    """
    recorded = dict(body)
    reference = recorded.get(_REFERENCE_AUDIO)
    if isinstance(reference, str):
        if reference.lower().startswith(("http://", "https://")):
            recorded[_REFERENCE_AUDIO] = redact_url(reference)
        else:
            digest = hashlib.sha256(reference.encode()).hexdigest()
            recorded[_REFERENCE_AUDIO] = f"<inline audio: {len(reference)} characters, sha256 {digest}>"
    return recorded


def mapping_value(value: object, name: str, hint: str) -> dict[str, Any] | None:
    """An XCom as rendered (a mapping, None, or its JSON/Python-literal text) as a dict, or None."""
    if value is None or isinstance(value, Mapping):
        return dict(value) if value is not None else None
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "None", "null"):
            return None
        for parse in (json.loads, ast.literal_eval):
            try:
                parsed = parse(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if parsed is None or isinstance(parsed, Mapping):
                return dict(parsed) if parsed is not None else None
    raise MusicInputError(
        f"{name} must be what the submit task pushed under the XCom key {name!r} (a mapping or None, "
        f"e.g. {hint}), got {value!r:.200}"
    )
