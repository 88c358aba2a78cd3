"""The sensor: deferral, resumption with every event status, poke mode, templating."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from airflow.sdk import DAG, AssetAlias
from helpers import TaskDeferred, make_context

from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import (
    AirflowFailException,
    MusicDestinationExistsError,
    MusicGenerationFailed,
    MusicInputError,
    MusicProviderError,
    MusicRejectedError,
    MusicTimeoutError,
    MusicTransientError,
)
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.integration import LINEAGE_RUN_FACET
from airflow_provider_music.sensors.music import MusicGenerationSensor
from airflow_provider_music.triggers.music import MusicGenerationTrigger
from airflow_provider_music.version_compat import AIRFLOW_V_3_2_PLUS, conf

if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.exceptions import AirflowRescheduleException
else:  # Airflow 3.1
    from airflow.exceptions import AirflowRescheduleException  # type: ignore[attr-defined,no-redef]

pytestmark = pytest.mark.integration


def _sensor(gen_id: str, destination: str, **kw: object) -> MusicGenerationSensor:
    return MusicGenerationSensor(task_id="wait", generation_id=gen_id, destination=destination, **kw)  # type: ignore[arg-type]


def _completed(emulator: Emulator, length_ms: int = 10_000) -> str:
    emulator.configure(generation_seconds=0)
    return MusicGenerationHook().submit_generation("p", music_length_ms=length_ms)


def test_defers_to_the_trigger_with_an_absolute_deadline(tmp_path: Path) -> None:
    sensor = _sensor("u:elevenlabs/eleven_music", f"{tmp_path}/", poll_interval=7, timeout=600)
    assert sensor.deferrable is True
    before = time.time()
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    trigger = info.value.trigger
    assert isinstance(trigger, MusicGenerationTrigger)
    assert info.value.method_name == "execute_complete"
    assert trigger.generation_id == "u:elevenlabs/eleven_music"
    assert trigger.poll_interval == 7
    assert before + 600 <= trigger.deadline <= time.time() + 600
    assert info.value.timeout is not None
    assert info.value.timeout.total_seconds() > 600


def test_default_deferrable_follows_an_explicit_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "false")
    assert _sensor("x", f"{tmp_path}/").deferrable is False
    assert _sensor("x", f"{tmp_path}/", deferrable=True).deferrable is True


def test_a_generated_airflow_cfg_false_does_not_disable_deferral(tmp_path: Path) -> None:
    """`airflow db migrate` writes `default_deferrable = false` into every airflow.cfg."""
    conf.set("operators", "default_deferrable", "False")
    try:
        assert _sensor("x", f"{tmp_path}/").deferrable is True
    finally:
        conf.remove_option("operators", "default_deferrable")


def test_success_event_delivers_and_returns_the_manifest(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = _completed(emulator, 12_000)
    sensor = _sensor(gen_id, f"file://{tmp_path}/daily/", object_name="2026-01-01", prompt="p")
    manifest = sensor.execute_complete(
        make_context(task_id="wait"), {"status": "success", "generation_id": gen_id}
    )
    size, sha = expected_audio("wav", 12_000)
    assert manifest["uri"] == f"file://{tmp_path}/daily/2026-01-01.wav"
    assert (manifest["size_bytes"], manifest["sha256"], manifest["content_type"]) == (size, sha, "audio/wav")
    assert manifest["generation_id"] == gen_id
    assert manifest["duration_seconds"] == 12.0
    assert manifest["model"] == "elevenlabs/eleven_music"
    assert manifest["task_id"] == "wait"
    sidecar = json.loads((tmp_path / "daily" / "2026-01-01.json").read_text())
    assert sidecar["sha256"] == sha
    assert sidecar["uri"] == manifest["uri"]
    assert sorted(p.name for p in (tmp_path / "daily").iterdir()) == ["2026-01-01.json", "2026-01-01.wav"]
    lineage = sensor.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("file", f"{tmp_path}/daily/2026-01-01.wav")]


def test_asset_alias_is_declared_and_receives_the_event(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = _completed(emulator)
    sensor = _sensor(gen_id, f"{tmp_path}/", object_name="t", asset_alias="daily_tracks")
    assert AssetAlias("daily_tracks") in sensor.outlets

    added: list[tuple[object, dict[str, object]]] = []

    class Accessor:
        def add(self, asset: object, extra: dict[str, object]) -> None:
            added.append((asset, extra))

    class Accessors:  # Airflow's outlet_events: indexed by the alias (not hashable on Airflow 3.1)
        def __getitem__(self, key: object) -> Accessor:
            assert key == AssetAlias("daily_tracks")
            return Accessor()

    context = make_context()
    context["outlet_events"] = Accessors()  # type: ignore[typeddict-item]  # a stand-in for Airflow's
    manifest = sensor.execute_complete(context, {"status": "success", "generation_id": gen_id})
    [(asset, extra)] = added
    assert asset.uri == manifest["uri"] == f"file://{tmp_path}/t.wav"  # type: ignore[attr-defined]
    assert extra["sha256"] == manifest["sha256"]
    assert extra["generation_id"] == gen_id


def test_folder_destination_names_the_object_after_the_id(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = _completed(emulator)
    manifest = _sensor(gen_id, f"{tmp_path}/out/").execute_complete(
        make_context(), {"status": "success", "generation_id": gen_id}
    )
    stored = Path(manifest["uri"].removeprefix("file://"))
    assert stored.parent == tmp_path / "out"
    assert stored.suffix == ".wav"
    assert ":" not in stored.name
    assert stored.read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("event", "error", "fails_fast"),
    [
        ({"status": "failed", "message": "boom"}, MusicGenerationFailed, True),
        ({"status": "timeout", "message": "late"}, MusicTimeoutError, False),
        ({"status": "error", "message": "503s", "retryable": True}, MusicTransientError, False),
        ({"status": "error", "message": "401", "retryable": False}, MusicRejectedError, True),
        ({"status": "surprise"}, MusicProviderError, False),
        ({"status": "success", "generation_id": "someone-else"}, MusicProviderError, False),
        (None, MusicProviderError, False),
    ],
)
def test_execute_complete_refuses_what_is_not_success(
    tmp_path: Path, event: dict[str, object] | None, error: type, fails_fast: bool
) -> None:
    if event is not None:
        event.setdefault("generation_id", "g")
    with pytest.raises(error) as info:
        _sensor("g", f"{tmp_path}/").execute_complete(make_context(), event)
    assert isinstance(info.value, AirflowFailException) is fails_fast
    assert list(tmp_path.iterdir()) == []


def test_poke_mode_waits_then_delivers(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    emulator.configure(polls_to_complete=3)  # pending on the first two pokes, whatever the machine's speed
    gen_id = MusicGenerationHook().submit_generation("p")
    sensor = _sensor(gen_id, f"{tmp_path}/", deferrable=False, poll_interval=0.1, mode="poke")
    manifest = sensor.execute(make_context())
    assert manifest["generation_id"] == gen_id
    assert Path(manifest["uri"][7:]).exists()
    assert emulator.stats()["generations"][gen_id]["gets"] >= 3
    logged = capsys.readouterr().out + caplog.text
    assert f"Generation {gen_id}: queued after" in logged  # the same progress lines as the trigger's
    assert f"Generation {gen_id}: queued -> generating after" in logged
    assert f"Generation {gen_id}: generating -> completed after" in logged


def test_poke_raises_on_a_failed_generation(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "generation_error", "times": -1}])
    sensor = _sensor(gen_id, f"{tmp_path}/", deferrable=False, poll_interval=0.1)
    with pytest.raises(MusicGenerationFailed, match="failed on the service"):
        sensor.poke(make_context())


def test_if_exists_skip_and_fail(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = _completed(emulator)
    target = tmp_path / "t.wav"
    target.write_bytes(b"RIFF....WAVEold")
    event = {"status": "success", "generation_id": gen_id}
    kept = _sensor(gen_id, str(target), if_exists="skip").execute_complete(make_context(), event)
    assert kept["skipped"] is True
    assert target.read_bytes() == b"RIFF....WAVEold"
    with pytest.raises(MusicDestinationExistsError):
        _sensor(gen_id, str(target), if_exists="fail").execute_complete(make_context(), event)
    assert target.read_bytes() == b"RIFF....WAVEold"
    assert emulator.stats()["downloads"] == 0
    fresh = _sensor(gen_id, str(target)).execute_complete(make_context(), event)
    assert fresh["skipped"] is False
    assert target.read_bytes()[:4] == b"RIFF"
    assert target.stat().st_size > 100


def test_templated_fields_render(tmp_path: Path) -> None:
    with DAG("d", schedule=None):
        sensor = _sensor("{{ params.gid }}", f"{tmp_path}/{{{{ ds }}}}/", object_name="{{ ds }}-x")
    sensor.render_template_fields({"params": {"gid": "abc:m/n"}, "ds": "2026-02-03"})
    assert sensor.generation_id == "abc:m/n"
    assert sensor.destination == f"{tmp_path}/2026-02-03/"
    assert sensor.object_name == "2026-02-03-x"


def test_bad_settings_are_refused_at_parse_time(tmp_path: Path) -> None:
    with pytest.raises(MusicInputError, match="if_exists"):
        _sensor("g", f"{tmp_path}/", if_exists="sometimes")
    with pytest.raises(MusicInputError, match="poll_interval"):
        _sensor("g", f"{tmp_path}/", poll_interval=0)
    with pytest.raises(MusicInputError, match="object_name"):
        _sensor("g", f"{tmp_path}/", object_name="a/b").execute(make_context())


def test_reschedule_mode_frees_the_slot_between_pokes(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(hold=True)  # pending until released: no race with the machine's speed
    gen_id = MusicGenerationHook().submit_generation("p")
    sensor = _sensor(gen_id, f"{tmp_path}/", deferrable=False, mode="reschedule", poll_interval=0.2)
    context = make_context()
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(context)  # pending: the task gives its slot back until the next poke
    assert list(tmp_path.iterdir()) == []
    emulator.release(gen_id)
    manifest = sensor.execute(context)
    assert manifest["generation_id"] == gen_id
    assert Path(manifest["uri"][7:]).exists()


# --- Airflow's name for the poll interval ------------------------------------------------------------


@pytest.mark.parametrize("value", [5, 5.0, timedelta(seconds=5)])
def test_poke_interval_is_accepted_as_an_alias(tmp_path: Path, value: object) -> None:
    """Bug 7: `poke_interval=5` raised TypeError: got multiple values for keyword argument 'poke_interval'."""
    sensor = _sensor("g:m", f"{tmp_path}/", poke_interval=value)
    assert sensor.poll_interval == 5.0
    assert sensor.poke_interval == 5.0
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    assert info.value.trigger.poll_interval == 5.0
    assert _sensor("g:m", f"{tmp_path}/", poke_interval=5, poll_interval=5).poll_interval == 5.0


def test_poke_interval_and_poll_interval_that_disagree_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MusicInputError, match=r"poll_interval=7 and poke_interval=5 disagree") as info:
        _sensor("g:m", f"{tmp_path}/", poke_interval=5, poll_interval=7)
    assert "Airflow's name for poll_interval" in str(info.value)
    with pytest.raises(MusicInputError, match="poke_interval"):
        _sensor("g:m", f"{tmp_path}/", poke_interval=0)


def test_the_default_poll_interval_is_unchanged(tmp_path: Path) -> None:
    assert _sensor("g:m", f"{tmp_path}/").poll_interval == 10.0


# --- cost and traceability from the submit task --------------------------------------------------------


def test_usage_and_client_request_id_from_the_submit_task_reach_the_manifest(
    emulator: Emulator, tmp_path: Path
) -> None:
    gen_id = _completed(emulator)
    usage = {"credits_used": 21000, "usd_spent": "0.0105"}
    sensor = _sensor(gen_id, f"{tmp_path}/", object_name="t", usage=usage, client_request_id="d:r:submit")
    manifest = sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    assert manifest["usage"] == usage
    assert manifest["client_request_id"] == "d:r:submit"
    assert json.loads((tmp_path / "t.json").read_text())["usage"] == usage
    facet = sensor.get_openlineage_facets_on_complete(None).run_facets[LINEAGE_RUN_FACET]
    assert facet.usage == usage
    assert facet.clientRequestId == "d:r:submit"


def test_without_them_the_manifest_says_null(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = _completed(emulator)
    manifest = _sensor(gen_id, f"{tmp_path}/").execute_complete(
        make_context(), {"status": "success", "generation_id": gen_id}
    )
    assert manifest["usage"] is None
    assert manifest["client_request_id"] is None
    assert manifest["request"] is None


@pytest.mark.parametrize(
    "rendered",
    [
        "{'credits_used': 21000, 'usd_spent': '0.0105'}",  # a dict rendered by Jinja (Python repr)
        '{"credits_used": 21000, "usd_spent": "0.0105"}',  # JSON
    ],
)
def test_usage_rendered_as_text_is_read_back(emulator: Emulator, tmp_path: Path, rendered: str) -> None:
    gen_id = _completed(emulator)
    with DAG("d", schedule=None):
        sensor = _sensor(gen_id, f"{tmp_path}/", usage="{{ params.u }}", client_request_id="{{ params.c }}")
    sensor.render_template_fields({"params": {"u": rendered, "c": "d:r:s"}})
    info = sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    assert info["usage"] == {"credits_used": 21000, "usd_spent": "0.0105"}
    assert info["client_request_id"] == "d:r:s"


def test_a_usage_that_is_not_one_is_refused_before_waiting(emulator: Emulator, tmp_path: Path) -> None:
    sensor = _sensor("g:m", f"{tmp_path}/", usage="[1, 2]")
    with pytest.raises(MusicInputError, match="usage must be"):
        sensor.execute(make_context())


@pytest.mark.parametrize(
    "given",
    [
        {"model": "minimax/music-2.0", "prompt": "A folk song", "lyrics": "[Verse]\nLa la la la"},
        '{"model": "minimax/music-2.0", "prompt": "A folk song", "lyrics": "[Verse]\\nLa la la la"}',
        "{'model': 'minimax/music-2.0', 'prompt': 'A folk song', 'lyrics': '[Verse]\\nLa la la la'}",
    ],
)
def test_the_request_the_submit_task_sent_reaches_the_manifest(
    emulator: Emulator, tmp_path: Path, given: object
) -> None:
    """``XComArg(submit, key="request")``: as pushed (a mapping) or rendered as JSON / Python text."""
    gen_id = _completed(emulator)
    with DAG("d", schedule=None):
        sensor = _sensor(gen_id, f"{tmp_path}/", object_name="t", request=given)
    if isinstance(given, str):
        sensor.render_template_fields({})
    manifest = sensor.execute_complete(make_context(), {"status": "success", "generation_id": gen_id})
    expected = {"model": "minimax/music-2.0", "prompt": "A folk song", "lyrics": "[Verse]\nLa la la la"}
    assert manifest["request"] == expected
    assert json.loads((tmp_path / "t.json").read_text())["request"] == expected


def test_a_request_that_is_not_one_is_refused_before_waiting(emulator: Emulator, tmp_path: Path) -> None:
    sensor = _sensor("g:m", f"{tmp_path}/", request="[1, 2]")
    with pytest.raises(MusicInputError, match="request must be what the submit task pushed"):
        sensor.execute(make_context())
    assert emulator.stats()["gets"] == 0


# --- fail early: the destination is checked before deferring (and before the first poke) -------------


def test_a_bad_destination_fails_before_deferring(emulator: Emulator, tmp_path: Path) -> None:
    gen_id = MusicGenerationHook().submit_generation("p")
    (tmp_path / "blocked").write_bytes(b"a file where the folder should be")
    with pytest.raises(MusicInputError, match="is a file, not a folder"):
        _sensor(gen_id, f"{tmp_path}/blocked/daily/").execute(make_context())  # no TaskDeferred
    with pytest.raises(MusicInputError, match="relative path"):
        _sensor(gen_id, "music/relative/", deferrable=False, poll_interval=0.1).execute(make_context())
    assert emulator.stats()["generations"][gen_id]["gets"] == 0  # not even one poke


def test_resuming_logs_one_summary_line(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    gen_id = _completed(emulator)
    event = {"status": "success", "generation_id": gen_id, "polls": 3, "waited_seconds": 12.2}
    _sensor(gen_id, f"{tmp_path}/").execute_complete(make_context(), event)
    logged = capsys.readouterr().out + caplog.text
    assert f"Generation {gen_id}: completed after waiting 12 s, 3 polls" in logged
