"""The operators: submit, reattach instead of paying twice, one-task generate in both modes."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from airflow.sdk import DAG, AssetAlias
from helpers import FakeTaskStateStore, TaskDeferred, fake_ti, make_context

from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import MusicDestinationExistsError, MusicInputError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.integration import LINEAGE_RUN_FACET, STATE_KEY_GENERATION_ID, RecordedGeneration
from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
from airflow_provider_music.triggers.music import MusicGenerationTrigger
from airflow_provider_music.wire import client_request_id

pytestmark = pytest.mark.integration


def same_usage(reported: object, served: dict[str, object]) -> bool:
    """The usage recorded equals what the emulator charged (the USD amount as a decimal string)."""
    assert isinstance(reported, dict), reported
    return reported["credits_used"] == served["credits_used"] and Decimal(
        str(reported["usd_spent"])
    ) == Decimal(str(served["usd_spent"]))


def _recorded(store: FakeTaskStateStore) -> RecordedGeneration:
    recorded = RecordedGeneration.parse(store.data[STATE_KEY_GENERATION_ID])
    assert recorded is not None
    return recorded


def test_submit_returns_and_pushes_the_id_usage_and_client_request_id(emulator: Emulator) -> None:
    store = FakeTaskStateStore()
    context = make_context(store)
    gen_id = SubmitMusicGenerationOperator(task_id="s", prompt="p", music_length_ms="20000").execute(context)
    served = emulator.stats()["generations"][gen_id]
    assert served["music_length_ms"] == 20000
    request_id = client_request_id("dag", "run1", "task", -1)
    assert served["client_request_id"] == request_id  # the header the service received
    pushed = fake_ti(context).pushed
    assert set(pushed) == {"generation_id", "usage", "client_request_id", "request"}
    assert pushed["request"] == {"model": "elevenlabs/eleven_music", "prompt": "p", "music_length_ms": 20000}
    assert pushed["generation_id"] == gen_id
    assert pushed["client_request_id"] == request_id
    assert same_usage(pushed["usage"], served["usage"])  # what the service reported
    assert isinstance(pushed["usage"]["usd_spent"], str)  # a decimal string, never a float
    assert STATE_KEY_GENERATION_ID not in store.data


def test_the_client_request_id_follows_the_task_instance_never_the_try(emulator: Emulator) -> None:
    """Every try of one task instance sends the same X-Client-Request-Id; other instances differ."""
    sent = []
    for map_index, try_number in ((-1, 1), (-1, 2), (3, 1)):
        context = make_context(
            dag_id="daily", run_id="manual__2026-01-01", task_id="submit", map_index=map_index
        )
        fake_ti(context).try_number = try_number
        gen_id = SubmitMusicGenerationOperator(task_id="submit", prompt="p").execute(context)
        sent.append(emulator.stats()["generations"][gen_id]["client_request_id"])
    assert sent[0] == sent[1] != sent[2]
    assert sent[0] == client_request_id("daily", "manual__2026-01-01", "submit", -1)


@pytest.mark.parametrize("reported", ["body", "headers", "none"])
def test_usage_is_what_the_service_reported_wherever_it_did(emulator: Emulator, reported: str) -> None:
    emulator.configure(usage=reported)
    context = make_context()
    gen_id = SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(context)
    pushed = fake_ti(context).pushed["usage"]
    if reported == "none":
        assert pushed is None  # never estimated
    else:
        assert same_usage(pushed, emulator.stats()["generations"][gen_id]["usage"])


def test_submit_retry_reattaches_instead_of_posting_again(emulator: Emulator) -> None:
    store = FakeTaskStateStore()
    crashed = make_context(store)

    def worker_dies(key: str, value: object) -> None:
        raise SystemExit("worker killed between the POST and the task's success")

    fake_ti(crashed).xcom_push = worker_dies  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(crashed)
    first = _recorded(store)
    retry = make_context(store)
    second = SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(retry)
    assert first.generation_id == second
    assert emulator.stats()["posts"] == 1
    # the retry hands on what the first try's POST reported: usage and client request id survive
    served = emulator.stats()["generations"][second]
    assert fake_ti(retry).pushed["usage"] == first.usage
    assert same_usage(first.usage, served["usage"])
    pushed = fake_ti(retry).pushed
    assert pushed["client_request_id"] == served["client_request_id"] == first.client_request_id
    # a successful try clears the record: a deliberate rerun (task cleared) makes new music
    third = SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(make_context(store))
    assert third != second
    assert emulator.stats()["posts"] == 2


def test_rendered_prompt_is_validated_before_any_request(emulator: Emulator) -> None:
    with DAG("d", schedule=None):
        op = SubmitMusicGenerationOperator(task_id="s", prompt="{{ params.p }}")
    op.render_template_fields({"params": {"p": "x" * 2001}})
    with pytest.raises(MusicInputError, match="2001 characters"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0


def test_literal_bad_input_fails_at_parse_time() -> None:
    with pytest.raises(MusicInputError, match="2001"):
        SubmitMusicGenerationOperator(task_id="s", prompt="x" * 2001)
    with pytest.raises(MusicInputError, match="music_length_ms"):
        SubmitMusicGenerationOperator(task_id="s", prompt="p", music_length_ms=5)
    with pytest.raises(MusicInputError, match="extra_body"):
        SubmitMusicGenerationOperator(task_id="s", prompt="p", extra_body={"seed": 1})
    with pytest.raises(MusicInputError, match="if_exists"):
        GenerateMusicOperator(task_id="g", prompt="p", destination="/tmp/x/", if_exists="maybe")


def test_generate_defers_then_delivers_and_forgets(emulator: Emulator, tmp_path: Path) -> None:
    store = FakeTaskStateStore()
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/", object_name="t")
    with pytest.raises(TaskDeferred) as info:
        op.execute(make_context(store))
    trigger = info.value.trigger
    assert isinstance(trigger, MusicGenerationTrigger)
    gen_id = _recorded(store).generation_id
    assert trigger.generation_id == gen_id
    emulator.release(gen_id)
    # Resumed in another process: a fresh operator object; only the durable record carries over.
    resumed = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/", object_name="t")
    manifest = resumed.execute_complete(make_context(store), {"status": "success", "generation_id": gen_id})
    assert manifest["uri"] == f"file://{tmp_path}/t.wav"
    assert manifest["prompt"] == "p"
    served = emulator.stats()["generations"][gen_id]
    assert same_usage(manifest["usage"], served["usage"])
    assert manifest["usage"]["credits_used"] > 0
    assert (
        manifest["client_request_id"]
        == served["client_request_id"]
        == client_request_id("dag", "run1", "task", -1)
    )
    assert STATE_KEY_GENERATION_ID not in store.data
    assert emulator.stats()["posts"] == 1


def test_generate_retry_after_completion_only_delivers(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p", music_length_ms=10_000)
    store = FakeTaskStateStore()
    store.set(STATE_KEY_GENERATION_ID, gen_id)  # a record written by an earlier version: the bare id
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/x.wav")
    manifest = op.execute(make_context(store))  # no TaskDeferred: the recorded one is done
    assert manifest["generation_id"] == gen_id
    assert manifest["sha256"] == expected_audio("wav", 10_000)[1]
    assert emulator.stats()["posts"] == 1
    # what the old record did not keep is unknown, not guessed
    assert manifest["usage"] is None
    assert manifest["client_request_id"] is None


def test_generate_after_an_errored_generation_posts_anew(emulator: Emulator, tmp_path: Path) -> None:
    old = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "generation_error", "match": old, "times": -1}])
    store = FakeTaskStateStore()
    store.set(STATE_KEY_GENERATION_ID, RecordedGeneration(old).to_json())
    emulator.configure(polls_to_complete=2)
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", deferrable=False, poll_interval=0.1
    )
    manifest = op.execute(make_context(store))
    assert manifest["generation_id"] != old
    assert emulator.stats()["posts"] == 2
    assert same_usage(manifest["usage"], emulator.stats()["generations"][manifest["generation_id"]]["usage"])


def test_generate_skip_with_existing_object_generates_nothing(emulator: Emulator, tmp_path: Path) -> None:
    target = tmp_path / "kept.wav"
    target.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=str(target), if_exists="skip")
    manifest = op.execute(make_context())
    assert manifest["skipped"] is True
    assert manifest["uri"] == f"file://{target}"
    assert emulator.stats()["posts"] == 0


_BLOCKER = """
import sys, importlib.abc
import airflow.sdk
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator  # what every DAG file pays anyway
heavy = ("httpx", "requests", "aiohttp", "s3fs", "boto3", "botocore", "fsspec", "upath", "mutagen",
         "openlineage", "airflow.providers.openlineage",
         "airflow_provider_music.hooks", "airflow_provider_music.triggers",
         "airflow_provider_music.audio", "airflow_provider_music.storage",
         "airflow_provider_music.clients", "airflow_provider_music.emulator",
         "airflow_provider_music.analysis", "numpy", "scipy", "soundfile")
for name in list(sys.modules):
    if name.startswith(heavy):
        del sys.modules[name]
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith(heavy):
            raise ImportError("imported at DAG-parse time: " + name)
sys.meta_path.insert(0, Block())
import airflow_provider_music.operators.music, airflow_provider_music.sensors.music
import airflow_provider_music.operators.mastering
print("clean")
"""


def test_operator_modules_import_nothing_heavy() -> None:
    """DAG files import operator modules: no HTTP clients, storage SDKs or audio code at parse time."""
    out = subprocess.run([sys.executable, "-c", _BLOCKER], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "clean"


_MUSIC_ONLY = """
import sys
from airflow.sdk import DAG
from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
from airflow_provider_music.sensors.music import MusicGenerationSensor
with DAG("music_only", schedule=None):
    submit = SubmitMusicGenerationOperator(task_id="submit", prompt="a daily jingle")
    MusicGenerationSensor(task_id="wait", generation_id=submit.output, destination="/tmp/music/")
    GenerateMusicOperator(task_id="one", prompt="a daily jingle", destination="/tmp/music/")
print(" ".join(sorted(m for m in sys.modules if m.startswith("airflow_provider_music.delivery."))))
"""


def test_a_dag_without_mastering_loads_no_mastering_code() -> None:
    """The delivery package exports lazily: the music tasks load their options, not the mastering ones."""
    out = subprocess.run([sys.executable, "-c", _MUSIC_ONLY], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = out.stdout.split()
    assert "airflow_provider_music.delivery._options" in loaded  # the check sees the package's modules
    assert "airflow_provider_music.delivery._master_options" not in loaded


def test_generate_fail_with_existing_object_generates_nothing(emulator: Emulator, tmp_path: Path) -> None:
    target = tmp_path / "kept.wav"
    target.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=str(target), if_exists="fail")
    with pytest.raises(MusicDestinationExistsError, match="nothing was generated"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0
    assert target.read_bytes() == b"RIFF\x00\x00\x00\x00WAVE"


def test_fail_on_an_existing_folder_object_discards_the_download(emulator: Emulator, tmp_path: Path) -> None:
    """Folder destination whose name is only known after the download: the temporary object goes too."""
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p")
    store = FakeTaskStateStore()
    store.set(STATE_KEY_GENERATION_ID, RecordedGeneration(gen_id).to_json())
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", object_name="t", if_exists="fail"
    )
    # The object appears while the generation runs (after the check made before paying).
    (tmp_path / "t.wav").write_bytes(b"RIFF-old")
    with pytest.raises(MusicDestinationExistsError):
        op.execute_complete(make_context(store), {"status": "success", "generation_id": gen_id})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.wav"]


# --- progress and traceability in the task log, the asset event and lineage ------------------------


def test_the_worker_side_wait_logs_status_changes_not_every_poll(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    emulator.configure(polls_to_complete=6)  # queued, then generating four times, then completed
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", deferrable=False, poll_interval=0.05
    )
    manifest = op.execute(make_context())
    gen_id = manifest["generation_id"]
    logged = capsys.readouterr().out + caplog.text
    assert f"Generation {gen_id}: queued after" in logged
    assert f"Generation {gen_id}: queued -> generating after" in logged
    assert f"Generation {gen_id}: generating -> completed after" in logged
    assert logged.count(f"Generation {gen_id}: ") == 3  # one line per change, none per poll
    assert "usage: 21000 credits" in logged  # the stored line says what it cost


def test_resuming_logs_the_outcome_time_waited_and_polls(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    store = FakeTaskStateStore()
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/")
    with pytest.raises(TaskDeferred):
        op.execute(make_context(store))
    gen_id = _recorded(store).generation_id
    emulator.release(gen_id)
    event = {"status": "success", "generation_id": gen_id, "polls": 7, "waited_seconds": 65.0}
    op.execute_complete(make_context(store), event)
    logged = capsys.readouterr().out + caplog.text
    assert f"Generation {gen_id}: completed after waiting 1 min 05 s, 7 polls" in logged


def test_the_asset_event_and_lineage_carry_usage_and_request_id(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(generation_seconds=0)
    added: list[tuple[object, dict[str, object]]] = []

    class Accessor:
        def add(self, asset: object, extra: dict[str, object]) -> None:
            added.append((asset, extra))

    class Accessors:
        def __getitem__(self, key: object) -> Accessor:
            assert key == AssetAlias("tracks")
            return Accessor()

    context = make_context()
    context["outlet_events"] = Accessors()  # type: ignore[typeddict-item]  # a stand-in for Airflow's
    op = GenerateMusicOperator(
        task_id="g",
        prompt="p",
        destination=f"{tmp_path}/",
        deferrable=False,
        poll_interval=0.05,
        asset_alias="tracks",
    )
    manifest = op.execute(context)
    [(_, extra)] = added
    assert extra["usage"] == manifest["usage"]
    assert manifest["usage"] is not None
    assert (
        extra["client_request_id"]
        == manifest["client_request_id"]
        == client_request_id("dag", "run1", "task", -1)
    )
    lineage = op.get_openlineage_facets_on_complete(None)
    facet = lineage.run_facets[LINEAGE_RUN_FACET]
    assert facet.generationId == manifest["generation_id"]
    assert facet.usage == manifest["usage"]
    assert facet.clientRequestId == manifest["client_request_id"]
    assert lineage.run_facets["externalQuery"].externalQueryId == manifest["generation_id"]
    [output] = lineage.outputs
    assert (output.namespace, output.name) == ("file", manifest["uri"].removeprefix("file://"))
    assert output.outputFacets["outputStatistics"].size == manifest["size_bytes"]


def test_mapped_operators_keep_airflows_partial_defaults() -> None:
    # Regression: an intermediate operator class without its own __init__ made partial() record
    # inlets=None / outlets=None, and every mapped try crashed in Airflow's task runner.
    from airflow.sdk import DAG

    from airflow_provider_music.sensors.music import MusicGenerationSensor

    with DAG("mapped_defaults", schedule=None):
        submit = SubmitMusicGenerationOperator.partial(task_id="submit").expand(prompt=["a", "b"])
        generate = GenerateMusicOperator.partial(task_id="gen", destination="file:///tmp/x/").expand_kwargs(
            [{"prompt": "p"}]
        )
        wait = MusicGenerationSensor.partial(task_id="wait", destination="file:///tmp/x/").expand(
            generation_id=["g1"]
        )
    for mapped in (submit, generate, wait):
        assert mapped.partial_kwargs["inlets"] == []
        assert mapped.partial_kwargs["outlets"] == []
