"""
The provider in a real Airflow deployment: separate ``api-server``, ``scheduler`` (LocalExecutor),
``dag-processor`` and ``triggerer`` processes on a fresh SQLite metadata database, plus the emulator.

``airflow dags test`` runs triggers inline; production runs them in a triggerer process that can die
at any time, and runs tasks in worker processes that can die too. These tests kill both, with
SIGKILL, while a generation is pending or a large track is being written, and check that nothing is
paid twice, nothing is stored twice and nothing half-written is left behind.

All three scenarios share one deployment (starting it costs about half a minute on two cores). The
emulator holds every generation until the test releases it: nothing here depends on how fast the
machine is, only on what has happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from deployment._deployment import Deployment, alive, descendants, pids_connected_to, wait_for

pytestmark = pytest.mark.deployment

DAILY = "example_music_daily"  # the example DAG itself, from example_dags/
ONE_TASK = "deployment_music_one_task_large"  # tests/deployment/dags/: GenerateMusicOperator, 300 s track
CATCHUP = "deployment_music_catchup"  # tests/deployment/dags/: the daily DAG with catchup over 3 dates

SENSOR_TIMEOUT_S = 1800  # MusicGenerationSensor's default timeout, as used by the daily example
SETTLED = ("deferred", "success", "failed", "up_for_retry", "upstream_failed", "skipped")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    dep = Deployment(tmp_path_factory.mktemp("deployment"))
    try:
        try:
            dep.start_all()
            dep.wait_for_dags(DAILY, ONE_TASK, CATCHUP)
        except BaseException:
            print(dep.diagnostics())
            raise
        yield dep
    finally:
        dep.close()  # every process group this deployment started, by pid, pass or fail
        shutil.rmtree(dep.storage, ignore_errors=True)  # ~100 MB of audio; the logs stay for debugging


@pytest.fixture
def d(deployment: Deployment, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """The shared deployment; the process and task logs are printed when the test fails."""
    failed_before = request.session.testsfailed
    yield deployment
    if request.session.testsfailed > failed_before:
        print(deployment.diagnostics())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _utc_iso(db_value: str) -> str:
    """A naive UTC timestamp from the SQLite metadata database as ISO 8601 with an offset."""
    return datetime.fromisoformat(db_value).replace(tzinfo=timezone.utc).isoformat()


def _settled_ti(d: Deployment, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
    ti = d.task_instance(dag_id, run_id, task_id)
    return ti if ti is not None and ti["state"] in SETTLED else None


def _triggerer_of(d: Deployment, trigger_id: int) -> int | None:
    rows = d.query("SELECT triggerer_id FROM trigger WHERE id = ?", trigger_id)
    return rows[0]["triggerer_id"] if rows else None


def _trigger_log(d: Deployment, dag_id: str, run_id: str, task_id: str, job_id: int) -> str:
    """What the triggerer job ``job_id`` logged while running this task's trigger."""
    folder = d.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    logs = folder.glob(f"attempt=*.log.trigger.{job_id}.log")
    return "\n".join(p.read_text(errors="replace") for p in logs)


def test_triggerer_killed_mid_poll_the_run_still_succeeds_once(d: Deployment) -> None:
    """The daily example: the sensor defers, its triggerer is SIGKILLed mid-poll, a new one finishes."""
    posts_before = d.emulator_stats()["posts"]
    # The logical date the scheduler would create on unpause: triggering exactly that one first
    # leaves one run (the scheduler skips a logical date that already has a run).
    next_run = wait_for(
        lambda: d.query("SELECT next_dagrun FROM dag WHERE dag_id = ?", DAILY)[0]["next_dagrun"],
        60,
        "the daily DAG's next logical date",
    )
    logical_date = _utc_iso(next_run)
    ds = logical_date[:10]
    run_id = "deployment_daily"
    d.trigger(DAILY, run_id, logical_date)
    d.unpause(DAILY)

    # The sensor defers: its task process exits and no worker slot is held while waiting.
    sensor = wait_for(lambda: _settled_ti(d, DAILY, run_id, "wait_and_store"), 150, "the sensor to defer")
    assert sensor["state"] == "deferred", (
        f"the sensor ended {sensor['state']!r} without ever deferring: it waited on a worker, holding a slot"
    )
    wait_for(lambda: not alive(sensor["pid"]), 30, "the deferred task's process to exit")
    trigger_id = sensor["trigger_id"]
    first_job = wait_for(lambda: _triggerer_of(d, trigger_id), 60, "a triggerer to pick up the trigger")
    job = d.query("SELECT job_type, state FROM job WHERE id = ?", first_job)[0]
    assert job == {"job_type": "TriggererJob", "state": "running"}

    # The trigger runs in the triggerer process tree: the connection polling the API is held there.
    api_port = urlsplit(d.emulator_api).port
    assert api_port is not None
    triggerer = d.processes["triggerer-1"]
    pollers = wait_for(lambda: pids_connected_to(api_port), 30, "the trigger's connection to the API")
    assert pollers <= descendants(triggerer.pid), (pollers, triggerer.pid)

    kwargs = d.trigger_kwargs(trigger_id)
    generation_id = kwargs["generation_id"]
    assert kwargs["deadline"] == pytest.approx(kwargs["started_at"] + SENSOR_TIMEOUT_S)
    trigger_timeout = sensor["trigger_timeout"]
    generation = d.emulator_stats()["generations"][generation_id]
    assert (generation["status"], generation["held"]) == ("queued", True)  # pending until we release it
    wait_for(
        lambda: d.emulator_stats()["generations"][generation_id]["gets"] > generation["gets"],
        60,
        "the trigger to poll the generation",
    )

    killed_at = time.time()
    d.kill("triggerer-1", signal.SIGKILL)  # the whole group: the triggerer and its trigger runner
    wait_for(lambda: not any(alive(pid) for pid in pollers | {triggerer.pid}), 30, "the triggerer to die")
    assert d.existing_task_instance(DAILY, run_id, "wait_and_store")["state"] == "deferred"

    d.start_triggerer("triggerer-2")
    second_job = wait_for(
        lambda: (job_id := _triggerer_of(d, trigger_id)) not in (None, first_job) and job_id,
        120,
        "the new triggerer to adopt the orphaned trigger",
    )
    # Same trigger row, same serialized arguments: the absolute deadline was not reset.
    assert d.trigger_kwargs(trigger_id) == kwargs
    assert kwargs["started_at"] < killed_at
    assert d.existing_task_instance(DAILY, run_id, "wait_and_store")["trigger_timeout"] == trigger_timeout

    # The new triggerer reports the generation's progress: a status change, then the completion.
    polled = d.emulator_stats()["generations"][generation_id]["gets"]
    wait_for(
        lambda: d.emulator_stats()["generations"][generation_id]["gets"] > polled,
        60,
        "the new triggerer to poll the generation",
    )
    wait_for(
        lambda: d.scheduler_processed_deferral(DAILY, run_id, "wait_and_store", 1),
        60,
        "the scheduler to process the exit of the deferring sensor",
    )
    d.release(generation_id, "generating")
    polled = d.emulator_stats()["generations"][generation_id]["gets"]
    wait_for(
        lambda: d.emulator_stats()["generations"][generation_id]["gets"] > polled,
        60,
        "the new triggerer to see the generation generating",
    )
    d.release(generation_id)
    assert d.wait_for_run(DAILY, run_id, 180) == "success"
    sensor = d.existing_task_instance(DAILY, run_id, "wait_and_store")
    assert (sensor["state"], sensor["try_number"]) == ("success", 1)  # resumed, not retried

    first_log = _trigger_log(d, DAILY, run_id, "wait_and_store", first_job)
    second_log = _trigger_log(d, DAILY, run_id, "wait_and_store", second_job)
    assert "starting" in first_log, first_log
    assert "Trigger fired event" not in first_log, first_log
    assert "Trigger fired event" in second_log, second_log
    assert "'status': 'success'" in second_log, second_log
    assert "queued -> generating" in second_log, second_log
    # [aimlapi] triggerer_gc_freeze (opted in by this deployment): the new triggerer froze its heap.
    assert "Froze the heap for the garbage collector" in second_log, second_log

    stats = d.emulator_stats()
    generation = stats["generations"][generation_id]
    assert stats["posts"] - posts_before == 1  # exactly one generation paid for
    assert (generation["downloads"], generation["downloads_completed"]) == (1, 1)  # stored once
    folder = d.storage / "daily"
    # the track, its manifest, its waveform (picture and peaks), and the master task's folder
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{ds}.json", f"{ds}.peaks.json", f"{ds}.png", f"{ds}.wav", "mastered",
    ]  # fmt: skip
    assert sorted(p.name for p in (folder / "mastered").iterdir()) == [f"{ds}.json", f"{ds}.mp3"]
    audio = folder / f"{ds}.wav"
    assert audio.stat().st_size == generation["size_bytes"]
    assert _sha256(audio) == generation["sha256"]
    manifest = json.loads((folder / f"{ds}.json").read_text())
    assert manifest["generation_id"] == generation_id
    assert manifest["sha256"] == generation["sha256"]
    assert (manifest["dag_id"], manifest["run_id"], manifest["uri"]) == (DAILY, run_id, f"file://{audio}")


def test_worker_killed_during_delivery_the_retry_completes_it(d: Deployment) -> None:
    """GenerateMusicOperator: SIGKILL the task's process mid-download of a 53 MB track; the retry delivers."""
    marker = "Cinematic orchestral score"  # in the DAG's prompt: the fault only stalls this download
    # The first download sends 16 MiB (several of the delivery's storage blocks, so they reach the
    # partial object), then stalls for an hour, within the connection's read timeout (an hour here),
    # until the worker is killed; the retry's download is whole.
    d.add_faults({"target": "audio", "action": "stall", "bytes": 16 << 20, "seconds": 3600, "match": marker})
    posts_before = d.emulator_stats()["posts"]
    run_id, ds = "deployment_one_task", "2026-02-01"
    folder = d.storage / "one_task_large"
    d.unpause(ONE_TASK)
    d.trigger(ONE_TASK, run_id, f"{ds}T00:00:00+00:00")
    (generation_id,) = wait_for(lambda: d.generation_ids(marker), 150, "the generation to be submitted")
    d.release_once_deferred(ONE_TASK, run_id, "generate", generation_id)

    def partial_written() -> list[Path]:
        return [p for p in folder.glob(".partial-*") if p.stat().st_size > 0] if folder.is_dir() else []

    partial = wait_for(partial_written, 150, "the download to start writing", interval=0.2)
    ti = d.task_instance(ONE_TASK, run_id, "generate")
    assert ti is not None
    assert (ti["state"], ti["try_number"]) == ("running", 1), ti
    # The process running the task: forked by a LocalExecutor worker of the scheduler.
    assert ti["pid"] in descendants(d.processes["scheduler"].pid)
    size_at_kill = partial[0].stat().st_size
    os.kill(ti["pid"], signal.SIGKILL)

    assert d.wait_for_run(ONE_TASK, run_id, 180) == "success"
    ti = d.existing_task_instance(ONE_TASK, run_id, "generate")
    assert (ti["state"], ti["try_number"]) == ("success", 2)

    stats = d.emulator_stats()
    generations = [g for g in stats["generations"].values() if marker in g["prompt"]]
    assert len(generations) == 1
    assert stats["posts"] - posts_before == 1
    generation = generations[0]
    # The first download was cut off by the kill, the retry's download completed.
    assert (generation["downloads"], generation["downloads_completed"]) == (2, 1)
    assert 0 < size_at_kill < generation["size_bytes"]
    audio = folder / f"{ds}.wav"
    assert audio.stat().st_size == generation["size_bytes"] > 50_000_000
    assert _sha256(audio) == generation["sha256"]
    manifest = json.loads((folder / f"{ds}.json").read_text())
    assert (manifest["sha256"], manifest["size_bytes"]) == (generation["sha256"], generation["size_bytes"])
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith(".partial-"))
    assert leftovers == [], f"the killed try's partial object was left behind: {leftovers}"
    assert sorted(p.name for p in folder.iterdir()) == [f"{ds}.json", f"{ds}.wav"]


def test_catchup_over_three_logical_dates(d: Deployment) -> None:
    """The daily DAG with catchup: three scheduled runs, three tracks named by date, three manifests."""
    posts_before = d.emulator_stats()["posts"]
    dates = ["2026-01-01", "2026-01-02", "2026-01-03"]
    days = {ds: datetime.strptime(ds, "%Y-%m-%d").strftime("%A %d %B %Y") for ds in dates}
    released: set[str] = set()
    d.unpause(CATCHUP)

    def all_finished() -> list[dict[str, Any]] | None:
        rows = d.query("SELECT run_id, run_type, state, logical_date FROM dag_run WHERE dag_id = ?", CATCHUP)
        # Release each run's generation once its sensor has deferred and the scheduler saw the exit.
        for row in rows:
            ti = d.task_instance(CATCHUP, row["run_id"], "wait_and_store")
            if row["run_id"] in released or ti is None or ti["state"] != "deferred":
                continue
            if d.scheduler_processed_deferral(CATCHUP, row["run_id"], "wait_and_store", ti["try_number"]):
                (generation_id,) = d.generation_ids(days[row["logical_date"][:10]])
                d.release(generation_id)
                released.add(row["run_id"])
        return rows if len(rows) >= 3 and all(r["state"] in ("success", "failed") for r in rows) else None

    runs = wait_for(all_finished, 300, "the three catch-up runs to finish", interval=1)
    assert sorted(r["logical_date"][:10] for r in runs) == dates
    assert {(r["run_type"], r["state"]) for r in runs} == {("scheduled", "success")}

    stats = d.emulator_stats()
    assert stats["posts"] - posts_before == 3
    folder = d.storage / "catchup"
    expected = sorted(f"{ds}.{ext}" for ds in dates for ext in ("json", "wav"))
    assert sorted(p.name for p in folder.iterdir()) == expected
    seen = set()
    for ds in dates:
        audio = folder / f"{ds}.wav"
        manifest = json.loads((folder / f"{ds}.json").read_text())
        generation = stats["generations"][manifest["generation_id"]]
        assert manifest["uri"] == f"file://{audio}"
        assert manifest["sha256"] == generation["sha256"] == _sha256(audio)
        assert days[ds] in manifest["prompt"]
        assert days[ds] in generation["prompt"]
        assert manifest["run_id"] == f"scheduled__{ds}T00:00:00+00:00"
        seen.add(manifest["generation_id"])
    assert len(seen) == 3
