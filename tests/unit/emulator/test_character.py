"""Audio characters as values: parsing, defaults, the spec string, and loud rejection of bad ones."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_music.emulator import (
    ACTIONS,
    CHARACTER_PARAMS,
    CHARACTERS,
    AudioCharacter,
    Config,
    FaultRule,
)


def test_the_public_names() -> None:
    assert CHARACTERS == (
        "default",
        "music",
        "quiet",
        "loud",
        "clipping",
        "lead_silence",
        "trail_silence",
        "short",
    )
    assert dict(CHARACTER_PARAMS) == {
        "lead_silence": {"seconds": 5.0},
        "trail_silence": {"seconds": 5.0},
        "short": {"ratio": 0.5},
    }


@pytest.mark.parametrize(
    ("value", "spec", "params"),
    [
        ("default", "default", {}),
        ("quiet", "quiet", {}),
        (" loud ", "loud", {}),
        ("lead_silence", "lead_silence:seconds=5", {"seconds": 5.0}),
        ("trail_silence:seconds=2.5", "trail_silence:seconds=2.5", {"seconds": 2.5}),
        ("short", "short:ratio=0.5", {"ratio": 0.5}),
        ("short: ratio = 0.25", "short:ratio=0.25", {"ratio": 0.25}),
        ({"name": "short", "ratio": 1}, "short:ratio=1", {"ratio": 1.0}),
        ({"name": "lead_silence", "seconds": 0}, "lead_silence:seconds=0", {"seconds": 0.0}),
        ({"name": "clipping"}, "clipping", {}),
        (AudioCharacter("music"), "music", {}),
        ("short:ratio=0.1234567891", "short:ratio=0.1234567891", {"ratio": 0.1234567891}),
    ],
)
def test_parse_every_form(value: Any, spec: str, params: dict[str, float]) -> None:
    character = AudioCharacter.parse(value)
    assert character.spec == spec == str(character)
    assert character.params == params
    assert AudioCharacter.parse(character.spec) == character  # the spec round-trips
    assert hash(AudioCharacter.parse(spec)) == hash(character)


def test_parse_with_separate_parameters() -> None:
    assert AudioCharacter.parse("short", ratio=0.2) == AudioCharacter("short", ratio=0.2)
    assert AudioCharacter.parse(AudioCharacter("short"), ratio=0.2).ratio == 0.2
    assert AudioCharacter() == AudioCharacter.parse("default")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("loudd", "unknown audio character 'loudd'; expected one of default, music"),
        ("", "unknown audio character ''"),
        ("quiet:seconds=3", "'quiet' takes no parameter 'seconds'; allowed: none"),
        ("short:seconds=3", "'short' takes no parameter 'seconds'; allowed: ratio"),
        ("short:ratio=0", "ratio must be > 0 and <= 1, got 0"),
        ("short:ratio=1.5", "ratio must be > 0 and <= 1, got 1.5"),
        ("short:ratio=nan", "ratio must be a number"),
        ("lead_silence:seconds=-1", "seconds must be >= 0, got -1"),
        ("lead_silence:seconds=inf", "seconds must be a number"),
        ("lead_silence:seconds", "expected name:key=value"),
        ("lead_silence:seconds=x", "seconds must be a number"),
        ("lead_silence:volume=3", "takes no parameter(s) volume; allowed: seconds"),
        ({"name": "lead_silence", "seconds": "3"}, "seconds must be a number, got '3'"),
        ({"name": "lead_silence", "seconds": True}, "seconds must be a number, got True"),
        ({"seconds": 3}, "needs a string 'name'"),
        (3, "an audio character is a name"),
        (None, "an audio character is a name"),
    ],
)
def test_bad_characters_are_rejected(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        AudioCharacter.parse(value)


def test_a_parameter_given_twice_is_rejected() -> None:
    with pytest.raises(ValueError, match="given twice: ratio"):
        AudioCharacter.parse("short:ratio=0.2", ratio=0.3)


def test_config_validates_and_reports_the_spec() -> None:
    config = Config()
    assert config.to_dict()["audio_character"] == "default"
    config.update({"audio_character": {"name": "lead_silence", "seconds": 2}})
    assert config.audio_character == AudioCharacter("lead_silence", seconds=2)
    assert config.to_dict()["audio_character"] == "lead_silence:seconds=2"
    with pytest.raises(ValueError, match="audio_character: unknown audio character 'nope'"):
        config.update({"audio_character": "nope", "generation_seconds": 9})
    assert config.generation_seconds != 9  # a bad key changes nothing
    assert config.audio_character.name == "lead_silence"
    with pytest.raises(ValueError, match="audio_character: audio character 'short': ratio must be"):
        Config(audio_character="short:ratio=2")  # type: ignore[arg-type]
    assert Config(audio_character="quiet").audio_character == AudioCharacter("quiet")  # type: ignore[arg-type]


def test_the_character_rule() -> None:
    assert ACTIONS["post"]["character"] == frozenset({"character", "seconds", "ratio"})
    rule = FaultRule.from_dict({"target": "post", "action": "character", "character": "short", "ratio": 0.3})
    assert rule.character == AudioCharacter("short", ratio=0.3)
    assert rule.to_dict() == {
        "target": "post",
        "action": "character",
        "times": 1,
        "character": "short",
        "ratio": 0.3,
    }
    as_object = {"name": "lead_silence", "seconds": 1}
    rule = FaultRule.from_dict({"target": "post", "action": "character", "character": as_object, "times": -1})
    assert rule.character == AudioCharacter("lead_silence", seconds=1)
    assert FaultRule.from_dict({"target": "post", "action": "status"}).character is None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"target": "post", "action": "character"}, "the rule needs a 'character'"),
        ({"target": "post", "action": "character", "character": "shout"}, "unknown audio character 'shout'"),
        (
            {"target": "post", "action": "character", "character": "lead_silence", "ratio": 0.5},
            "'lead_silence' takes no parameter 'ratio'",
        ),
        (
            {"target": "post", "action": "character", "character": "short:ratio=0.5", "ratio": 0.5},
            "given twice",
        ),
        ({"target": "post", "action": "character", "character": "quiet", "code": 500}, "unknown parameter"),
        ({"target": "get", "action": "character", "character": "quiet"}, "unknown action 'character'"),
        ({"target": "audio", "action": "character", "character": "quiet"}, "unknown action 'character'"),
        ({"target": "post", "action": "character", "character": "quiet", "times": 0}, "times must be"),
    ],
)
def test_bad_character_rules_are_rejected(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FaultRule.from_dict(rule)
