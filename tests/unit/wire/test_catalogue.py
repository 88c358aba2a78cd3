"""The model catalogue: every model's every rule refuses a bad value before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_music import wire
from airflow_provider_music.exceptions import AirflowFailException, MusicInputError
from airflow_provider_music.wire import MUSIC_MODELS, TYPED_FIELDS, FieldRule, MusicModel

CATALOGUE_SOURCE = Path(wire.__file__).with_name("_catalogue.py").read_text()
SOURCE = re.compile(r"aimlapi/api-docs:docs/api-references/music-models/[^@\s]+\.json@[0-9a-f]{40}")

# The smallest body each model accepts, beside model and prompt (prompt: within every model's limits).
PROMPT = "lofi piano with soft rain"
MINIMAL: dict[str, dict[str, Any]] = {
    "elevenlabs/eleven_music": {},
    "google/lyria2": {},
    "stable-audio": {},
    "minimax/music-1.5": {"lyrics": "[Verse]\nla la la la"},
    "minimax/music-2.0": {"lyrics": "[Verse]\nla la la la"},
    "minimax/music-2.6": {},
    "minimax/music-cover": {"reference_audio_url": "https://example.com/song.mp3"},
    "minimax-music": {"reference_audio_url": "https://example.com/song.wav"},
}
# A body setting every field the model has, each to a valid value.
FULL: dict[str, dict[str, Any]] = {
    "elevenlabs/eleven_music": {"music_length_ms": 300_000},
    "google/lyria2": {"negative_prompt": "drums", "seed": 0},
    "stable-audio": {"seconds_start": 1, "seconds_total": 47, "steps": 1000},
    "minimax/music-1.5": {
        "lyrics": "l" * 3000,
        "audio_setting": {"sample_rate": 16000, "bitrate": 32000, "format": "wav"},
    },
    "minimax/music-2.0": {
        "lyrics": "l" * 10,
        "audio_setting": {"sample_rate": 44100, "bitrate": 256000, "format": "mp3"},
    },
    "minimax/music-2.6": {
        "lyrics": "",
        "audio_setting": {"audio_sample_rate": 44100, "bitrate": 128000, "format": "wav"},
        "lyrics_optimizer": True,
        "is_instrumental": False,
    },
    "minimax/music-cover": {
        "reference_audio_url": "data:audio/mpeg;base64,SUQz",  # Base64 is fine: no strict URI check
        "lyrics": "l" * 10,
        "audio_setting": {"sample_rate": 24000, "bitrate": 64000, "format": "mp3"},
    },
    "minimax-music": {"reference_audio_url": "https://example.com/song.wav"},
}


def _send(model: str, key: str, value: object) -> dict[str, Any]:
    """``build_body`` of the model's minimal body with ``key`` set to ``value`` (each the way it is given)."""
    extra = dict(MINIMAL[model])
    prompt: object = PROMPT
    length: object = None
    if key == "prompt":
        prompt = value
    elif key == "music_length_ms":
        length = value
    elif "." in key:
        outer, inner = key.split(".")
        fmt = {} if inner == "format" else {"format": "mp3"}
        extra[outer] = {**fmt, inner: value}
    else:
        extra[key] = value
    return wire.build_body(model, prompt, length, extra_body=extra)


def _rules(spec: MusicModel) -> Iterator[tuple[str, FieldRule]]:
    for key, rule in spec.fields.items():
        yield key, rule
        for sub, sub_rule in rule.fields.items():
            yield f"{key}.{sub}", sub_rule


_WRONG_TYPE: dict[str, object] = {"string": 5, "integer": "5", "boolean": "yes", "object": ["x"]}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "boolean": "a boolean", "object": "a mapping"}


def _bad_values(rule: FieldRule) -> Iterator[tuple[object, str]]:
    """(a value the rule refuses, the limit its message must name)."""
    yield _WRONG_TYPE[rule.type], _TYPE_WORDS[rule.type]
    if rule.type == "integer" and not rule.enum:
        yield 1.5, "an integer"
        yield True, "an integer"
    if rule.enum is not None:
        yield ("flac" if rule.type == "string" else 12345), "one of"
    if rule.minimum is not None:
        yield rule.minimum - 1, str(rule.minimum)
    if rule.maximum is not None:
        yield rule.maximum + 1, str(rule.maximum)
    if rule.min_length is not None:
        short = "x" * (rule.min_length - 1)
        yield short, (str(rule.min_length) if short else "must not be empty")
    if rule.max_length is not None:
        yield "x" * (rule.max_length + 1), str(rule.max_length)


def _cases() -> Iterator[Any]:
    for name, spec in MUSIC_MODELS.items():
        for key, rule in _rules(spec):
            for value, limit in _bad_values(rule):
                yield pytest.param(name, key, value, limit, id=f"{name}-{key}-{str(value)[:12]}")


def test_the_catalogue_holds_every_model_of_the_endpoint() -> None:
    assert set(MUSIC_MODELS) == set(MINIMAL) == set(FULL)
    assert [n for n, s in MUSIC_MODELS.items() if s.legacy] == ["minimax-music"]


@pytest.mark.parametrize("name", sorted(MUSIC_MODELS))
def test_every_model_cites_its_vendor_schema_in_a_comment(name: str) -> None:
    spec = MUSIC_MODELS[name]
    assert spec.name == name
    assert SOURCE.fullmatch(spec.source), spec.source
    assert f"# {spec.source}" in CATALOGUE_SOURCE  # the citation a reviewer reads beside the data
    assert "model" not in spec.fields  # always sent; never a field to give
    assert spec.fields["prompt"].required  # our API's decision, for every model
    assert spec.default_format in spec.output_formats
    assert set(spec.output_formats) <= {"mp3", "wav"}  # pcm is refused: stored audio must be verifiable
    assert spec.length_unit_ms in (1, 1000)
    assert spec.length_field is None or spec.length_field in spec.fields


def test_every_typed_field_is_some_models_field() -> None:
    assert TYPED_FIELDS == ("lyrics", "negative_prompt", "seed")
    for key in TYPED_FIELDS:
        assert any(key in spec.fields for spec in MUSIC_MODELS.values()), key


@pytest.mark.parametrize("name", sorted(MUSIC_MODELS))
def test_the_minimal_and_the_full_body_are_accepted(name: str) -> None:
    minimal = wire.build_body(name, PROMPT, extra_body=MINIMAL[name])
    assert minimal == {"model": name, "prompt": PROMPT, **MINIMAL[name]}
    full = dict(FULL[name])
    length = full.pop("music_length_ms", None)
    body = wire.build_body(name, PROMPT, length, extra_body=full)
    assert body == {"model": name, "prompt": PROMPT, **FULL[name]}
    assert set(body) - {"model"} == set(MUSIC_MODELS[name].fields)  # FULL sets every field


@pytest.mark.parametrize(("name", "key", "value", "limit"), list(_cases()))
def test_every_rule_refuses_a_bad_value_naming_model_field_and_limit(
    name: str, key: str, value: object, limit: str
) -> None:
    with pytest.raises(MusicInputError) as info:
        _send(name, key, value)
    text = str(info.value)
    assert isinstance(info.value, AirflowFailException)  # no retry of input errors
    assert text.startswith(name), text
    assert key in text, text
    assert limit in text, text


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (name, key)
        for name, spec in MUSIC_MODELS.items()
        for key, rule in spec.fields.items()
        if rule.required and key != "prompt"
    ],
)
def test_every_required_field_is_required(name: str, key: str) -> None:
    extra = {k: v for k, v in MINIMAL[name].items() if k != key}
    with pytest.raises(MusicInputError, match=rf"^{re.escape(name)}: {key} is required \(.+\)$"):
        wire.build_body(name, PROMPT, extra_body=extra)


@pytest.mark.parametrize("name", sorted(MUSIC_MODELS))
def test_prompt_is_a_required_non_empty_string_for_every_model(name: str) -> None:
    for prompt, problem in [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        (None, "must be a string"),
    ]:
        with pytest.raises(MusicInputError, match=rf"^{re.escape(name)}: prompt {problem}"):
            wire.build_body(name, prompt, extra_body=MINIMAL[name])


@pytest.mark.parametrize("name", ["minimax/music-1.5", "minimax/music-2.0"])
def test_audio_setting_needs_its_format_where_the_schema_says_so(name: str) -> None:
    with pytest.raises(
        MusicInputError,
        match=rf"{re.escape(name)}: audio_setting.format is required when audio_setting is given "
        r"\(one of mp3, wav\)",
    ):
        _send(name, "audio_setting", {"bitrate": 128000})
    # music-2.6 and music-cover declare a default format (mp3) instead
    for other in ("minimax/music-2.6", "minimax/music-cover"):
        assert _send(other, "audio_setting", {"bitrate": 128000})["audio_setting"] == {"bitrate": 128000}


@pytest.mark.parametrize("name", [n for n, s in MUSIC_MODELS.items() if "audio_setting" in s.fields])
def test_pcm_is_refused_before_paying(name: str) -> None:
    with pytest.raises(MusicInputError) as info:
        _send(name, "audio_setting", {"format": "pcm"})
    assert str(info.value) == (
        f"{name}: audio_setting.format 'pcm' is not supported by this provider (raw PCM has no header, "
        "so the stored audio could not be verified); choose mp3 or wav"
    )


def test_unknown_audio_setting_keys_pass_only_where_the_schema_is_ambiguous() -> None:
    # music-2.6's schema names the rate audio_sample_rate, the others (and its first version) sample_rate
    body = _send("minimax/music-2.6", "audio_setting", {"sample_rate": 44100, "format": "wav"})
    assert body["audio_setting"] == {"sample_rate": 44100, "format": "wav"}
    with pytest.raises(
        MusicInputError,
        match=r"minimax/music-2.0: audio_setting.audio_sample_rate is not accepted; audio_setting accepts: "
        r"bitrate, format, sample_rate",
    ):
        _send("minimax/music-2.0", "audio_setting", {"audio_sample_rate": 44100, "format": "wav"})


@pytest.mark.parametrize(
    ("name", "field", "accepts"),
    [
        ("google/lyria2", "steps", "negative_prompt, prompt, seed"),
        ("stable-audio", "seed", "prompt, seconds_start, seconds_total, steps"),
        ("minimax/music-2.0", "seed", "audio_setting, lyrics, prompt"),
        ("elevenlabs/eleven_music", "lyrics", "music_length_ms, prompt"),
    ],
)
def test_a_field_the_model_does_not_take_is_refused_with_what_it_takes(
    name: str, field: str, accepts: str
) -> None:
    with pytest.raises(MusicInputError) as info:
        wire.build_body(name, PROMPT, extra_body={**MINIMAL[name], field: 1})
    assert str(info.value).startswith(f"{name}: field '{field}' is not accepted; it accepts: {accepts}")


# --- the length ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "length", "sent"),
    [
        ("elevenlabs/eleven_music", 10_000, {"music_length_ms": 10_000}),
        ("elevenlabs/eleven_music", 300_000, {"music_length_ms": 300_000}),
        ("stable-audio", 1_000, {"seconds_total": 1}),
        ("stable-audio", 20_000, {"seconds_total": 20}),
        ("stable-audio", 47_000, {"seconds_total": 47}),
        ("acme/new-model", 12, {"music_length_ms": 12}),  # unknown: sent as given
    ],
)
def test_music_length_goes_into_the_models_own_field(name: str, length: int, sent: dict[str, int]) -> None:
    assert wire.build_body(name, PROMPT, length) == {"model": name, "prompt": PROMPT, **sent}


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (48_000, "stable-audio: seconds_total is 48 (from music_length_ms=48000); it must be from 1 to 47 "
         "seconds (1000 to 47000 ms)"),
        (60_000, "stable-audio: seconds_total is 60 (from music_length_ms=60000); it must be from 1 to 47 "
         "seconds (1000 to 47000 ms)"),
        (0, "stable-audio: seconds_total is 0 (from music_length_ms=0); it must be from 1 to 47 seconds "
         "(1000 to 47000 ms)"),
        (1_500, "stable-audio: music_length_ms=1500 is not a whole number of seconds; seconds_total takes "
         "whole seconds from 1 to 47 seconds (1000 to 47000 ms)"),
    ],
)  # fmt: skip
def test_stable_audio_length_names_both_units(length: int, message: str) -> None:
    with pytest.raises(MusicInputError) as info:
        wire.build_body("stable-audio", PROMPT, length)
    assert str(info.value) == message


@pytest.mark.parametrize("name", [n for n, s in MUSIC_MODELS.items() if s.length_field is None])
def test_a_model_without_a_length_refuses_music_length_ms(name: str) -> None:
    with pytest.raises(MusicInputError) as info:
        wire.build_body(name, PROMPT, 30_000, extra_body=MINIMAL[name])
    assert str(info.value) == (
        f"{name} has no length parameter: its tracks are as long as the model makes them; "
        "leave music_length_ms unset"
    )


@pytest.mark.parametrize("length", [30_000.0, "30000", True])
def test_music_length_is_an_integer_for_every_model(length: object) -> None:
    with pytest.raises(MusicInputError, match="stable-audio: music_length_ms must be an integer"):
        wire.build_body("stable-audio", PROMPT, length)


def test_validate_music_length_with_a_model_uses_its_rules() -> None:
    wire.validate_music_length(20_000, "stable-audio")
    wire.validate_music_length(5, "acme/new-model")
    with pytest.raises(MusicInputError, match="seconds_total is 48"):
        wire.validate_music_length(48_000, "stable-audio")
    with pytest.raises(MusicInputError, match="has no length parameter"):
        wire.validate_music_length(30_000, "google/lyria2")
    with pytest.raises(MusicInputError, match="music_length_ms is 400000; it must be from 10000 to 300000"):
        wire.validate_music_length(400_000, "elevenlabs/eleven_music")


# --- one field, one way ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("google/lyria2", {"seed": 3}),
        ("google/lyria2", {"negative_prompt": "drums"}),
        ("minimax/music-2.0", {"lyrics": "[Verse]\nla la la la"}),
    ],
)
def test_typed_fields_are_sent_and_refused_when_also_in_extra_body(name: str, fields: dict[str, Any]) -> None:
    body = wire.build_body(name, PROMPT, fields={**fields, "lyrics": fields.get("lyrics")})
    assert body == {"model": name, "prompt": PROMPT, **fields}
    (key,) = fields
    with pytest.raises(MusicInputError) as info:
        wire.build_body(name, PROMPT, fields=fields, extra_body=fields)
    assert (
        str(info.value)
        == f"{name}: {key} is given both as a parameter ({key}=) and in extra_body; give it once"
    )
    # None is "not given": the extra_body value is sent
    assert wire.build_body(name, PROMPT, fields={key: None}, extra_body=fields) == body


def test_the_length_field_is_refused_both_ways() -> None:
    with pytest.raises(MusicInputError) as info:
        wire.build_body("stable-audio", PROMPT, 20_000, extra_body={"seconds_total": 20})
    assert str(info.value) == (
        "stable-audio: seconds_total is given both in extra_body and through music_length_ms=20000; "
        "give it once"
    )
    assert wire.build_body("stable-audio", PROMPT, extra_body={"seconds_total": 20})["seconds_total"] == 20
    with pytest.raises(
        MusicInputError, match="extra_body must not set music_length_ms: pass them as parameters"
    ):
        wire.build_body("elevenlabs/eleven_music", PROMPT, extra_body={"music_length_ms": 20_000})


def test_the_body_order_is_model_prompt_length_fields_extra() -> None:
    body = wire.build_body("stable-audio", PROMPT, 20_000, extra_body={"steps": 5, "seconds_start": 2})
    assert list(body) == ["model", "prompt", "seconds_total", "steps", "seconds_start"]
    body = wire.build_body("google/lyria2", PROMPT, fields={"seed": 1}, extra_body={"negative_prompt": "x"})
    assert list(body) == ["model", "prompt", "seed", "negative_prompt"]


def test_validate_submission_is_build_body_without_the_body() -> None:
    wire.validate_submission(PROMPT, None, "minimax/music-2.0", None, fields={"lyrics": "[Verse]\nla la la"})
    with pytest.raises(MusicInputError, match=r"minimax/music-2\.0: lyrics is required"):
        wire.validate_submission(PROMPT, None, "minimax/music-2.0")
    request = wire.build_submit_request(
        "http://h", PROMPT, None, "google/lyria2", {"negative_prompt": "x"}, "cid", fields={"seed": 7}
    )
    assert request.json_body == {
        "model": "google/lyria2",
        "prompt": PROMPT,
        "seed": 7,
        "negative_prompt": "x",
    }


# --- unknown models -------------------------------------------------------------------------------


def test_an_unknown_model_gets_the_generic_checks_only() -> None:
    model = "acme/new-model"
    body = wire.build_body(model, "x" * 5000, 7, fields={"seed": "any"}, extra_body={"whatever": [1, 2]})
    assert body == {
        "model": model,
        "prompt": "x" * 5000,
        "music_length_ms": 7,
        "seed": "any",
        "whatever": [1, 2],
    }
    bads: list[tuple[dict[str, Any], str]] = [
        ({"prompt": ""}, "acme/new-model: prompt must not be empty"),
        ({"prompt": 3}, "acme/new-model: prompt must be a string"),
        ({"music_length_ms": 1.5}, "acme/new-model: music_length_ms must be an integer"),
        ({"extra_body": ["x"]}, "acme/new-model: extra_body must be a mapping"),
        ({"extra_body": {"prompt": "y"}}, "acme/new-model: extra_body must not set prompt"),
        ({"extra_body": {"x": float("nan")}}, "acme/new-model: the request body (extra_body and the typed"),
        ({"fields": {"seed": object()}}, "fields) must be JSON-serializable (no NaN or infinity)"),
        ({"fields": {"prompt": "y"}}, "acme/new-model: fields must not set prompt: pass them as parameters"),
    ]
    for bad, needle in bads:
        args: dict[str, Any] = {"model": model, "prompt": "p", **bad}
        with pytest.raises(MusicInputError, match=re.escape(needle)):
            wire.build_body(**args)
    with pytest.raises(MusicInputError, match="model must be a non-empty string"):
        wire.build_body(" ", PROMPT)


def test_the_unknown_model_warning_names_the_known_models() -> None:
    for name in MUSIC_MODELS:
        assert wire.unknown_model_warning(name) is None
    text = wire.unknown_model_warning("acme/new-model")
    assert text is not None
    assert text.startswith("model 'acme/new-model' is not in this provider's catalogue: it is sent as given")
    assert text.endswith("known models: " + ", ".join(sorted(MUSIC_MODELS)))


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("elevenlabs/eleven_music", {}, "mp3"),
        ("google/lyria2", {}, "wav"),
        ("stable-audio", {"seconds_total": 5}, "wav"),
        ("minimax/music-2.0", {}, "mp3"),
        ("minimax/music-2.0", {"audio_setting": {"format": "wav"}}, "wav"),
        ("minimax/music-2.6", {"audio_setting": {"bitrate": 128000}}, "mp3"),
        ("minimax/music-cover", {"audio_setting": {"format": "mp3"}}, "mp3"),
        ("minimax-music", {}, "mp3"),
        ("acme/new-model", {}, None),
    ],
)
def test_expected_format(name: str, body: Mapping[str, Any], expected: str | None) -> None:
    assert wire.expected_format(name, body) == expected
    assert (
        wire.expected_format(
            name, wire.build_body(name, PROMPT, extra_body={**MINIMAL.get(name, {}), **body})
        )
        == expected
    )
