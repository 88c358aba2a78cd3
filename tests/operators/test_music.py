"""The operators: submit, reattach instead of paying twice, one-task generate in both modes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from airflow.sdk import DAG
from conftest import FakeTaskStateStore, TaskDeferred, make_context

from airflow_provider_music.defaults import STATE_KEY_GENERATION_ID
from airflow_provider_music.emulator import Emulator, expected_audio
from airflow_provider_music.exceptions import MusicInputError
from airflow_provider_music.hooks.music import MusicGenerationHook
from airflow_provider_music.operators.music import GenerateMusicOperator, SubmitMusicGenerationOperator
from airflow_provider_music.triggers.music import MusicGenerationTrigger

pytestmark = pytest.mark.integration


def test_submit_returns_and_pushes_the_id(emulator: Emulator) -> None:
    store = FakeTaskStateStore()
    context = make_context(store)
    gen_id = SubmitMusicGenerationOperator(task_id="s", prompt="p", music_length_ms="20000").execute(context)
    assert context["ti"].pushed == {"generation_id": gen_id}
    assert STATE_KEY_GENERATION_ID not in store.data
    assert emulator.stats()["generations"][gen_id]["music_length_ms"] == 20000


def test_submit_retry_reattaches_instead_of_posting_again(emulator: Emulator) -> None:
    store = FakeTaskStateStore()
    crashed = make_context(store)

    def worker_dies(key: str, value: object) -> None:
        raise SystemExit("worker killed between the POST and the task's success")

    crashed["ti"].xcom_push = worker_dies
    with pytest.raises(SystemExit):
        SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(crashed)
    first = store.data[STATE_KEY_GENERATION_ID]
    second = SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(make_context(store))
    assert first == second and emulator.stats()["posts"] == 1
    # a successful try clears the record: a deliberate rerun (task cleared) makes new music
    third = SubmitMusicGenerationOperator(task_id="s", prompt="p").execute(make_context(store))
    assert third != second and emulator.stats()["posts"] == 2


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
    with pytest.raises(MusicInputError, match="allowed fields"):
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
    gen_id = store.data[STATE_KEY_GENERATION_ID]
    assert trigger.generation_id == gen_id
    emulator.configure(generation_seconds=0)
    emulator.update_generation(gen_id, generation_seconds=0)
    manifest = op.execute_complete(make_context(store), {"status": "success", "generation_id": gen_id})
    assert manifest["uri"] == f"file://{tmp_path}/t.wav" and manifest["prompt"] == "p"
    assert STATE_KEY_GENERATION_ID not in store.data
    assert emulator.stats()["posts"] == 1


def test_generate_retry_after_completion_only_delivers(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p", music_length_ms=10_000)
    store = FakeTaskStateStore()
    store.set(STATE_KEY_GENERATION_ID, gen_id)
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=f"{tmp_path}/x.wav")
    manifest = op.execute(make_context(store))  # no TaskDeferred: the recorded one is done
    assert manifest["generation_id"] == gen_id
    assert manifest["sha256"] == expected_audio("wav", 10_000)[1]
    assert emulator.stats()["posts"] == 1


def test_generate_after_an_errored_generation_posts_anew(emulator: Emulator, tmp_path: Path) -> None:
    old = MusicGenerationHook().submit_generation("p")
    emulator.add_faults([{"target": "get", "action": "generation_error", "match": old, "times": -1}])
    store = FakeTaskStateStore()
    store.set(STATE_KEY_GENERATION_ID, old)
    emulator.configure(generation_seconds=0.2)
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", deferrable=False, poll_interval=0.1
    )
    manifest = op.execute(make_context(store))
    assert manifest["generation_id"] != old and emulator.stats()["posts"] == 2


def test_generate_skip_with_existing_object_generates_nothing(emulator: Emulator, tmp_path: Path) -> None:
    target = tmp_path / "kept.wav"
    target.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=str(target), if_exists="skip")
    manifest = op.execute(make_context())
    assert manifest["skipped"] is True and manifest["uri"] == f"file://{target}"
    assert emulator.stats()["posts"] == 0


_BLOCKER = """
import sys, importlib.abc
import airflow.sdk
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator  # what every DAG file pays anyway
heavy = ("httpx", "requests", "aiohttp", "s3fs", "boto3", "botocore", "fsspec", "upath", "mutagen",
         "openlineage", "airflow.providers.openlineage",
         "airflow_provider_music.hooks", "airflow_provider_music.triggers",
         "airflow_provider_music._audio", "airflow_provider_music.emulator")
for name in list(sys.modules):
    if name.startswith(heavy):
        del sys.modules[name]
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith(heavy):
            raise ImportError("imported at DAG-parse time: " + name)
sys.meta_path.insert(0, Block())
import airflow_provider_music.operators.music, airflow_provider_music.sensors.music
print("clean")
"""


def test_operator_modules_import_nothing_heavy() -> None:
    """DAG files import operator modules: no HTTP clients, storage SDKs or audio code at parse time."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _BLOCKER], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "clean"


def test_generate_fail_with_existing_object_generates_nothing(emulator: Emulator, tmp_path: Path) -> None:
    from airflow_provider_music.exceptions import MusicDestinationExistsError

    target = tmp_path / "kept.wav"
    target.write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    op = GenerateMusicOperator(task_id="g", prompt="p", destination=str(target), if_exists="fail")
    with pytest.raises(MusicDestinationExistsError, match="nothing was generated"):
        op.execute(make_context())
    assert emulator.stats()["posts"] == 0 and target.read_bytes() == b"RIFF\x00\x00\x00\x00WAVE"


def test_fail_on_an_existing_folder_object_discards_the_download(emulator: Emulator, tmp_path: Path) -> None:
    """Folder destination whose name is only known after the download: the temporary object goes too."""
    from airflow_provider_music.exceptions import MusicDestinationExistsError

    emulator.configure(generation_seconds=0)
    gen_id = MusicGenerationHook().submit_generation("p")
    (tmp_path / "t.wav").write_bytes(b"RIFF-old")
    store = FakeTaskStateStore()
    store.set(STATE_KEY_GENERATION_ID, gen_id)
    op = GenerateMusicOperator(
        task_id="g", prompt="p", destination=f"{tmp_path}/", object_name="t", if_exists="fail"
    )
    with pytest.raises(MusicDestinationExistsError):
        op.execute(make_context(store))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.wav"]
