"""
The operators on every model: the typed fields (templated, sent), the model's rules at parse time for
literal values and before the POST for rendered ones (a refusal costs no POST), both-ways refusal,
unknown models, and the request recorded in the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG
from helpers import EMULATOR_KEY, fake_ti, make_context

from airflow_provider_music.emulator import Emulator
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.hooks import music as hook_module
from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
from airflow_provider_music.wire import MUSIC_MODELS, ApiRequest

pytestmark = pytest.mark.integration

LYRICS = "[Verse]\nMorning light on the river\n[Chorus]\nWe sing along"
SONG_PROMPT = "Warm indie folk with acoustic guitar and soft harmonies"
OPERATORS = [SubmitMusicGenerationOperator, GenerateMusicOperator]


def _op(cls: type[Any], **kw: Any) -> Any:
    if cls is GenerateMusicOperator:
        kw.setdefault("destination", "file:///tmp/never-written/")
    return cls(task_id="t", **kw)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The bodies the hook put on the wire (each submit request it built)."""
    bodies: list[dict[str, Any]] = []
    real = hook_module.__dict__["build_submit_request"]

    def spy(*args: Any, **kwargs: Any) -> ApiRequest:
        request: ApiRequest = real(*args, **kwargs)
        bodies.append(dict(request.json_body or {}))
        return request

    monkeypatch.setattr(hook_module, "build_submit_request", spy)
    return bodies


# --- typed fields: templated, sent ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", OPERATORS)
def test_the_typed_fields_are_templated(cls: type[Any]) -> None:
    assert {"lyrics", "negative_prompt", "seed"} <= set(cls.template_fields)


def test_lyrics_render_and_are_sent_with_the_prompt(emulator: Emulator, sent: list[dict[str, Any]]) -> None:
    with DAG("d", schedule=None):
        op = SubmitMusicGenerationOperator(
            task_id="s", model="minimax/music-2.0", prompt="{{ params.p }}", lyrics="{{ params.l }}"
        )
    op.render_template_fields({"params": {"p": SONG_PROMPT, "l": LYRICS}})
    context = make_context()
    op.execute(context)
    expected = {"model": "minimax/music-2.0", "prompt": SONG_PROMPT, "lyrics": LYRICS}
    assert sent == [expected]
    assert fake_ti(context).pushed["request"] == expected
    assert emulator.stats()["posts_created"] == 1


def test_seed_renders_to_an_integer_and_negative_prompt_is_sent(
    emulator: Emulator, sent: list[dict[str, Any]]
) -> None:
    with DAG("d", schedule=None):
        op = SubmitMusicGenerationOperator(
            task_id="s",
            model="google/lyria2",
            prompt="Cinematic strings",
            negative_prompt="{{ params.n }}",
            seed="{{ params.seed }}",
        )
    op.render_template_fields({"params": {"n": "drums", "seed": 42}})
    op.execute(make_context())
    assert sent == [
        {"model": "google/lyria2", "prompt": "Cinematic strings", "negative_prompt": "drums", "seed": 42}
    ]


def test_music_length_ms_is_sent_as_the_models_own_length_field(
    emulator: Emulator, sent: list[dict[str, Any]]
) -> None:
    with DAG("d", schedule=None):
        op = SubmitMusicGenerationOperator(
            task_id="s", model="stable-audio", prompt="Lo-fi beat", music_length_ms="{{ params.ms }}"
        )
    op.render_template_fields({"params": {"ms": 20000}})
    gen_id = op.execute(make_context())
    assert sent == [{"model": "stable-audio", "prompt": "Lo-fi beat", "seconds_total": 20}]
    assert emulator.stats()["generations"][gen_id]["music_length_ms"] == 20000


def test_a_field_the_operators_do_not_type_goes_through_extra_body(
    emulator: Emulator, sent: list[dict[str, Any]]
) -> None:
    SubmitMusicGenerationOperator(
        task_id="s",
        model="minimax/music-2.0",
        prompt=SONG_PROMPT,
        lyrics=LYRICS,
        extra_body={"audio_setting": {"format": "wav"}},
    ).execute(make_context())
    assert sent[0]["audio_setting"] == {"format": "wav"}
    assert sent[0]["lyrics"] == LYRICS


# --- the model's rules: literal values at parse time ---------------------------------------------------

BAD_LITERALS: list[tuple[str, dict[str, Any], str]] = [
    ("minimax/music-2.0", {"prompt": SONG_PROMPT}, "minimax/music-2.0: lyrics is required"),
    ("minimax/music-2.0", {"prompt": SONG_PROMPT, "lyrics": "la la"}, "lyrics is 5 characters long"),
    ("minimax/music-2.0", {"prompt": "Folk", "lyrics": LYRICS}, "prompt is 4 characters long"),
    ("minimax/music-2.0", {"prompt": SONG_PROMPT, "lyrics": LYRICS, "music_length_ms": 30000}, "no length"),
    ("minimax/music-1.5", {"prompt": "x" * 301, "lyrics": LYRICS}, "from 10 to 300 characters"),
    ("google/lyria2", {"prompt": "Strings", "seed": -1}, "google/lyria2: seed is -1"),
    ("google/lyria2", {"prompt": "Strings", "seed": "many"}, "seed"),
    ("google/lyria2", {"prompt": "Strings", "lyrics": LYRICS}, "field 'lyrics' is not accepted"),
    ("stable-audio", {"prompt": "Beat", "music_length_ms": 60000}, "seconds_total is 60"),
    ("stable-audio", {"prompt": "Beat", "music_length_ms": 1500}, "seconds_total"),
    ("elevenlabs/eleven_music", {"prompt": "Beat", "seed": 3}, "field 'seed' is not accepted"),
    ("elevenlabs/eleven_music", {"prompt": "x" * 2001}, "2001"),
    (
        "minimax/music-2.0",
        {"prompt": SONG_PROMPT, "lyrics": LYRICS, "extra_body": {"audio_setting": {"format": "pcm"}}},
        "pcm",
    ),
]


@pytest.mark.parametrize("cls", OPERATORS)
@pytest.mark.parametrize(("model", "kw", "needle"), BAD_LITERALS)
def test_a_bad_literal_is_refused_at_parse_time(
    cls: type[Any], model: str, kw: dict[str, Any], needle: str
) -> None:
    with pytest.raises(MusicInputError, match=needle):
        _op(cls, model=model, **kw)


@pytest.mark.parametrize("cls", OPERATORS)
@pytest.mark.parametrize(
    ("model", "kw", "needle"),
    [b for b in BAD_LITERALS if "prompt is" not in b[2] and len(b[1]["prompt"]) <= 300],
)
def test_a_bad_literal_beside_a_templated_prompt_is_still_refused_at_parse_time(
    cls: type[Any], model: str, kw: dict[str, Any], needle: str
) -> None:
    """The daily DAG's case: the prompt is a template, the rest is literal and checked as it is."""
    with pytest.raises(MusicInputError, match=needle):
        _op(cls, model=model, **{**kw, "prompt": "{{ params.p }}"})


@pytest.mark.parametrize("model", sorted(MUSIC_MODELS))
def test_every_model_parses_with_templated_values(model: str) -> None:
    """Templates stand in as values the model accepts: nothing is refused before they render."""
    spec = MUSIC_MODELS[model]
    kw: dict[str, Any] = {"prompt": "{{ params.p }}"}
    if "lyrics" in spec.fields:
        kw["lyrics"] = "{{ params.l }}"
    if "seed" in spec.fields:
        kw["seed"] = "{{ params.s }}"
    if "negative_prompt" in spec.fields:
        kw["negative_prompt"] = "{{ params.n }}"
    if spec.length_field is not None:
        kw["music_length_ms"] = "{{ params.ms }}"
    if "reference_audio_url" in spec.fields:
        kw["extra_body"] = {"reference_audio_url": "https://example.com/reference.mp3"}
    for cls in OPERATORS:
        _op(cls, model=model, **kw)


# --- the model's rules: rendered values before the POST ------------------------------------------------

BAD_RENDERED: list[tuple[str, dict[str, Any], str, str]] = [
    ("minimax/music-2.0", {"lyrics": "{{ params.v }}"}, "la", "lyrics is 2 characters long"),
    ("minimax/music-2.0", {"lyrics": "{{ params.v }}"}, "", "lyrics"),
    ("google/lyria2", {"seed": "{{ params.v }}"}, "-3", "google/lyria2: seed is -3"),
    ("google/lyria2", {"seed": "{{ params.v }}"}, "soon", "seed"),
    ("stable-audio", {"music_length_ms": "{{ params.v }}"}, "90000", "seconds_total is 90"),
    ("elevenlabs/eleven_music", {"music_length_ms": "{{ params.v }}"}, "5", "music_length_ms"),
]


@pytest.mark.parametrize("cls", OPERATORS)
@pytest.mark.parametrize(("model", "kw", "value", "needle"), BAD_RENDERED)
def test_a_bad_rendered_value_is_refused_with_zero_posts(
    emulator: Emulator,
    tmp_path: Path,
    cls: type[Any],
    model: str,
    kw: dict[str, Any],
    value: str,
    needle: str,
) -> None:
    base = {"prompt": SONG_PROMPT, "lyrics": LYRICS} if model.startswith("minimax/") else {"prompt": "Beat"}
    with DAG("d", schedule=None):
        op = _op(cls, model=model, **{**base, **kw}, **_destination(cls, tmp_path))
    op.render_template_fields({"params": {"v": value}})
    with pytest.raises(MusicInputError, match=needle):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0
    assert list(tmp_path.iterdir()) == []


def _destination(cls: type[Any], tmp_path: Path) -> dict[str, Any]:
    return {"destination": f"{tmp_path}/"} if cls is GenerateMusicOperator else {}


# --- one field, two ways -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", OPERATORS)
@pytest.mark.parametrize("lyrics", [LYRICS, "{{ params.l }}"])
def test_one_field_given_both_ways_is_refused_at_parse_time(cls: type[Any], lyrics: str) -> None:
    both = r"lyrics is given both as a parameter \(lyrics=\) and in extra_body"
    with pytest.raises(MusicInputError, match=both):
        _op(cls, model="minimax/music-2.0", prompt=SONG_PROMPT, lyrics=lyrics, extra_body={"lyrics": LYRICS})


def test_one_field_given_both_ways_is_refused_when_mapped(emulator: Emulator) -> None:
    """Mapped arguments are known only when the task is unmapped at run time: refused then, no POST."""
    mapped: list[dict[str, Any]] = [{"prompt": "Strings", "seed": 1, "extra_body": {"seed": 2}}]
    with DAG("d", schedule=None):  # parses: the mapped values are not known yet
        SubmitMusicGenerationOperator.partial(task_id="s", model="google/lyria2").expand_kwargs(mapped)
    with pytest.raises(MusicInputError, match="seed is given both"):  # what unmapping does
        SubmitMusicGenerationOperator(task_id="s", model="google/lyria2", **mapped[0])
    assert emulator.stats()["posts"] == 0


def test_a_field_given_only_through_extra_body_still_works(
    emulator: Emulator, sent: list[dict[str, Any]]
) -> None:
    """A DAG written before the typed arguments keeps working."""
    SubmitMusicGenerationOperator(
        task_id="s", model="minimax/music-2.0", prompt=SONG_PROMPT, extra_body={"lyrics": LYRICS}
    ).execute(make_context())
    assert sent == [{"model": "minimax/music-2.0", "prompt": SONG_PROMPT, "lyrics": LYRICS}]


# --- a model the catalogue does not know ---------------------------------------------------------------


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, msg: str, *args: object) -> None:
        self.warnings.append(msg % args)

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


@pytest.mark.parametrize("cls", OPERATORS)
def test_an_unknown_model_is_accepted_with_a_warning_naming_the_known_ones(
    cls: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _Log()
    monkeypatch.setattr(cls, "log", log)
    op = _op(cls, model="vendor/tomorrow-1", prompt="Anything", extra_body={"mood": "calm"}, seed=7)
    assert op.model == "vendor/tomorrow-1"
    [warning] = log.warnings
    assert "vendor/tomorrow-1" in warning
    assert all(name in warning for name in MUSIC_MODELS)


@pytest.mark.parametrize("cls", OPERATORS)
def test_a_known_model_logs_no_warning(cls: type[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    log = _Log()
    monkeypatch.setattr(cls, "log", log)
    _op(cls, model="google/lyria2", prompt="Strings")
    assert log.warnings == []


def test_an_unknown_model_still_gets_the_generic_checks() -> None:
    with pytest.raises(MusicInputError, match="prompt"):
        SubmitMusicGenerationOperator(task_id="s", model="vendor/tomorrow-1", prompt="  ")
    with pytest.raises(MusicInputError, match="extra_body"):
        SubmitMusicGenerationOperator(task_id="s", model="vendor/tomorrow-1", prompt="p", extra_body=["x"])  # type: ignore[arg-type]


# --- the manifest records the request as sent ----------------------------------------------------------


def test_the_manifest_records_the_models_fields_as_sent(
    emulator: Emulator, tmp_path: Path, sent: list[dict[str, Any]]
) -> None:
    emulator.configure(generation_seconds=0)
    manifest = GenerateMusicOperator(
        task_id="g",
        model="minimax/music-2.0",
        prompt=SONG_PROMPT,
        lyrics=LYRICS,
        extra_body={"audio_setting": {"format": "mp3", "bitrate": 128000}},
        destination=f"{tmp_path}/",
        object_name="song",
        deferrable=False,
        poll_interval=0.05,
    ).execute(make_context())
    assert manifest["request"] == sent[0]
    assert manifest["request"]["lyrics"] == LYRICS  # as given
    assert manifest["request"]["audio_setting"] == {"format": "mp3", "bitrate": 128000}
    assert manifest["model"] == "minimax/music-2.0"
    assert manifest["format"] == "mp3"
    assert manifest["uri"] == f"file://{tmp_path}/song.mp3"
    sidecar = (tmp_path / "song.json").read_text()
    assert json.loads(sidecar)["request"] == sent[0]
    assert EMULATOR_KEY not in sidecar  # never the API key
    assert EMULATOR_KEY not in json.dumps(manifest)


def test_a_skipped_track_records_the_request_it_would_have_sent(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "t.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    manifest = GenerateMusicOperator(
        task_id="g",
        model="stable-audio",
        prompt="Beat",
        music_length_ms=10_000,
        destination=f"{tmp_path}/",
        object_name="t",
        if_exists="skip",
    ).execute(make_context())
    assert manifest["skipped"] is True
    assert manifest["request"] == {"model": "stable-audio", "prompt": "Beat", "seconds_total": 10}
    assert emulator.stats()["posts"] == 0


def test_a_cover_sends_its_reference_audio_but_records_no_signature(
    emulator: Emulator, sent: list[dict[str, Any]]
) -> None:
    signed = "https://bucket.example.com/reference.mp3?X-Amz-Signature=secret-signature"
    context = make_context()
    SubmitMusicGenerationOperator(
        task_id="s",
        model="minimax/music-cover",
        prompt="Oboe and clarinet, jazz",
        extra_body={"reference_audio_url": signed},
    ).execute(context)
    assert sent[0]["reference_audio_url"] == signed  # sent as given
    recorded = fake_ti(context).pushed["request"]
    assert recorded["reference_audio_url"] == "https://bucket.example.com/reference.mp3?..."
    assert "secret-signature" not in json.dumps(recorded)
