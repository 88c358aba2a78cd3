"""
The provider scaled out the way a data-platform team runs Airflow: ``CeleryExecutor`` with two
workers and two triggerers, PostgreSQL, Redis, and shared S3 (Ceph RGW), all separate processes
(see ``_scale_out.py``). One run of 40 mapped generations (``GenerateMusicOperator`` and Submit +
Sensor) completing one after another over more than a minute; one triggerer SIGKILLed while it
holds deferred triggers, one worker SIGKILLed while it uploads a track. Checked: every generation
paid once and stored once, byte for byte, with its sidecar; nothing half-written (no ``.partial-``
object, no unfinished multipart upload); the surviving triggerer took over the orphaned triggers
with their original deadlines; both workers did work; the killed try was retried on the other
worker and the run succeeded. Printed: the run's wall time and the CPU each process (tree) spent on
it, the figures docs/running-at-scale.md reports.

Nothing waits for a time: the emulator holds every generation until the test releases it, and each
step waits for what it needs to observe, with generous deadlines for a busy 2-core machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from deployment._scale_out import ScaleOut, wait_for
from deployment._services import HOW_TO_ENABLE, ServiceUnavailableError

pytestmark = pytest.mark.deployment

DAG_ID = "deployment_music_scale_out"  # tests/deployment/dags/deployment_music_scale_out.py
RUN_ID = "scale_out"
BUCKET = "music-scale-out"
TRACKS_PER_FORM = 20
TRACKS = 2 * TRACKS_PER_FORM
FORMS = ("one-task", "two-task")
LONG_TAKE = "[scale-out one-task 00]"  # 120 s of WAV (21 MB): the upload its worker dies in
LONG_KEY = f"{RUN_ID}/one-task/take-00.wav"
WAIT_TIMEOUT_S = 1800.0  # the default timeout of both waiting forms
RELEASE_SPREAD_S = 60.0  # the generations complete one after another over this long
PART = 5 * 1024 * 1024  # the upload's part size (S3's minimum)
# Take 00's first download: the header, then 6 MiB every 15 s. The first 5 MiB part goes up after
# about 15 s and the last bytes come 45 s later: the worker is killed in between, as soon as a part
# is seen. The retry's download is whole at once (the fault applies once).
SLOW_DOWNLOAD = {
    "target": "audio",
    "action": "slow",
    "seconds": 15,
    "chunk_size": 6 << 20,
    "match": LONG_TAKE,
}


def _marker(form: str, index: int) -> str:
    return f"[scale-out {form} {index:02d}]"


def _skip_or_fail(problem: Exception) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() in ("true", "1"):
        pytest.fail(f"{problem}\nCI=true, so this fails instead of skipping; {HOW_TO_ENABLE}", pytrace=False)
    pytest.skip(f"{problem}\nTo enable: {HOW_TO_ENABLE}")


@pytest.fixture
def scale_out(s3_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleOut]:
    s3_server.make_bucket(BUCKET)
    try:
        deployment = ScaleOut(tmp_path_factory.mktemp("scale-out"), s3_server)
    except ServiceUnavailableError as exc:
        _skip_or_fail(exc)
    try:
        try:
            deployment.start()
        except ServiceUnavailableError as exc:
            _skip_or_fail(exc)
        except BaseException:
            print(deployment.diagnostics())
            raise
        yield deployment
    finally:
        deployment.close()  # every process it started, by pid, pass or fail (a no-op if the test did)
        _delete_run_objects(s3_server.client())  # the S3 server's memory is shared by the whole session


def _delete_run_objects(s3: Any) -> None:
    for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{RUN_ID}/"):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})


# --------------------------------------------------------------------------------------- helpers


class Timeline:
    """Seconds since the run was triggered, at each step: printed with the figures."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.steps: list[tuple[float, str]] = []

    def __call__(self, what: str) -> None:
        self.steps.append((self.elapsed(), what))
        print(f"[{self.elapsed():6.1f} s] {what}", flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def _tis(so: ScaleOut) -> dict[tuple[str, int], dict[str, Any]]:
    rows = so.query(
        "SELECT task_id, map_index, state, try_number, hostname, pid, trigger_id, trigger_timeout"
        " FROM task_instance WHERE dag_id = %s AND run_id = %s",
        DAG_ID,
        RUN_ID,
    )
    return {(r["task_id"], r["map_index"]): r for r in rows}


def _waiting_tasks() -> list[tuple[str, int]]:
    """The task instances that defer: the one-task operator and the sensor."""
    return [(t, i) for t in ("generate", "wait_and_store") for i in range(TRACKS_PER_FORM)]


def _generations_by_marker(stats: dict[str, Any]) -> dict[str, str]:
    """``[scale-out one-task 07]`` -> the id of the generation that prompt created."""
    return {g["prompt"][: g["prompt"].index("]") + 1]: gid for gid, g in stats["generations"].items()}


def _triggers(so: ScaleOut) -> dict[int, dict[str, Any]]:
    rows = so.query("SELECT id, triggerer_id, kwargs FROM trigger")
    return {r["id"]: {"triggerer_id": r["triggerer_id"], "kwargs": so.decrypt(r["kwargs"])} for r in rows}


def _triggerer_jobs(so: ScaleOut) -> dict[int, str]:
    rows = so.query("SELECT id, hostname FROM job WHERE job_type = 'TriggererJob'")
    return {r["id"]: r["hostname"] for r in rows}


def _gets(so: ScaleOut, generation_ids: set[str]) -> dict[str, int]:
    generations = so.emulator_stats()["generations"]
    return {gid: generations[gid]["gets"] for gid in generation_ids}


def _run_state(so: ScaleOut) -> str:
    rows = so.query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", DAG_ID, RUN_ID)
    return str(rows[0]["state"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _report(so: ScaleOut, wall: float, cpu: dict[str, float], rss: dict[str, float], notes: list[str]) -> str:
    cores = os.cpu_count() or 1
    airflow = [n for n in cpu if n in so.components and n != "emulator"]
    servers = ["postgres", "redis"]
    rest = [n for n in cpu if n not in airflow and n not in servers]
    lines = [
        "",
        f"scale-out run: {TRACKS} generations; {len(so.worker_names)} Celery workers x {so.concurrency} "
        f"slots, {len(so.triggerer_names)} triggerers; {cores} CPU cores",
        "  startup: " + ", ".join(f"{k} {v:.1f} s" for k, v in so.timings.items()),
        f"  run wall time (triggered -> run finished): {wall:.1f} s",
        f"  {'CPU during the run, by process tree':36} {'CPU s':>7} {'of run':>7} {'RSS MiB at end':>15}",
    ]
    for group in (airflow, servers, rest):
        for name in sorted(group, key=lambda n: -cpu[n]):
            component = so.components.get(name)
            killed = " SIGKILLed: CPU until the kill" if component is not None and component.killed_at else ""
            rss_text = f"{rss[name]:15.0f}" if name in rss else f"{'-':>15}"
            lines.append(f"  {name:36} {cpu[name]:7.1f} {100 * cpu[name] / wall:6.0f}% {rss_text}{killed}")
    orchestration = sum(cpu[n] for n in airflow + servers)
    total = sum(cpu.values())
    lines.append(
        f"  {'Airflow + PostgreSQL + Redis':36} {orchestration:7.1f} {100 * orchestration / wall:6.0f}%"
        f"   = {100 * orchestration / (wall * cores):.0f}% of {cores} cores"
    )
    lines.append(f"  {'everything (with emulator, S3, test)':36} {total:7.1f} {100 * total / wall:6.0f}%")
    lines.extend(f"  {note}" for note in notes)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ the test


def test_scale_out_celery_two_workers_two_triggerers_shared_s3(scale_out: ScaleOut) -> None:
    so = scale_out
    failed = True
    try:
        _run(so)
        failed = False
    finally:
        if failed:
            print(so.diagnostics())
    # Everything stopped by pid: nothing this deployment started may still run, and nothing had to be
    # found any other way (by the marker in its environment) to be stopped.
    so.close()
    assert so.escaped == [], f"processes that escaped the stop by process group and tree: {so.escaped}"
    assert so.leftovers() == [], f"processes left running: {so.leftovers()}"
    assert all(c.proc is not None and c.proc.poll() is not None for c in so.components.values())


def _run(so: ScaleOut) -> None:
    s3 = so.s3.client()
    wait_for(
        lambda: so.query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", DAG_ID),
        180,
        "the dag-processor to parse the scale-out DAG",
    )
    # The bundle holds the other deployment tests' DAGs too; they stay paused (the default at creation).
    assert so.rest("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})["is_paused"] is False
    so.emulator_post("faults", {"faults": [SLOW_DOWNLOAD]})
    cpu_before = so.cpu()
    load_before = os.getloadavg()[0]
    step = Timeline()
    so.rest(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {"dag_run_id": RUN_ID, "logical_date": "2026-03-01T00:00:00Z"},
    )
    step("run triggered")
    generation_of = _all_submitted_and_deferred(so, step)
    _triggerer_killed_and_replaced(so, step)
    worker_victim, survivor_worker = _worker_killed_mid_upload(so, s3, step, generation_of)
    state = _release_the_others(so, generation_of)
    wall = step.elapsed()
    step(f"run {state} (the 39 others released over {RELEASE_SPREAD_S:.0f} s)")
    cpu_after = so.cpu()
    rss = so.rss_mib()
    load_after = os.getloadavg()[0]

    tis, retried = _check_only_the_killed_try_retried(so, state, worker_victim, survivor_worker)
    stats = _check_paid_once(so, generation_of)
    _check_stored_once(s3, stats["generations"], generation_of)

    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    by_host = {h: sum(1 for ti in tis.values() if ti["hostname"] == h) for h in so.worker_names}
    print(
        _report(
            so,
            wall,
            cpu,
            rss,
            [
                *(f"[{t:6.1f} s] {what}" for t, what in step.steps),
                f"retried (try 2 on {survivor_worker}): {retried}",
                f"load average (1 min) when triggered / finished: {load_before:.1f} / {load_after:.1f}",
                f"last tries by worker: {by_host}; {stats['posts']} POSTs, {stats['gets']} polls, "
                f"{stats['downloads']} downloads ({stats['downloads_completed']} completed)",
            ],
        )
    )


def _all_submitted_and_deferred(so: ScaleOut, step: Timeline) -> dict[str, str]:
    """1. Every generation submitted (held by the emulator), every wait deferred: generation id by marker."""

    def all_deferred() -> bool:
        so.note_trees()
        so.check_running()
        tis = _tis(so)
        return all(tis.get(key, {}).get("state") == "deferred" for key in _waiting_tasks())

    wait_for(all_deferred, 600, "all 40 waits to defer", interval=1)
    # ... and the scheduler has taken in the exit of each deferring process (see scheduler_consumed_exits).
    exits = {(task, index, 1) for task, index in _waiting_tasks()}
    wait_for(
        lambda: exits <= so.scheduler_consumed_exits(DAG_ID, RUN_ID), 120, "the deferral exits", interval=1
    )
    stats = so.emulator_stats()
    assert stats["posts"] == TRACKS, stats["posts"]
    generation_of = _generations_by_marker(stats)
    assert set(generation_of) == {_marker(f, i) for f in FORMS for i in range(TRACKS_PER_FORM)}
    tis = _tis(so)
    early_hosts = {tis[key]["hostname"] for key in [*_waiting_tasks(), *(("submit", i) for i in range(20))]}
    assert early_hosts == set(so.worker_names), f"the first tries ran on {early_hosts}, not on both workers"
    step(f"{TRACKS} generations submitted, 40 waits deferred; tries so far ran on {sorted(early_hosts)}")
    return generation_of


def _triggerer_killed_and_replaced(so: ScaleOut, step: Timeline) -> None:
    """2. SIGKILL the triggerer holding more triggers, once it is polling them; the other takes over."""
    wait_for(
        lambda: len(t := _triggers(so)) == TRACKS and all(x["triggerer_id"] for x in t.values()),
        120,
        "every trigger to be assigned to a triggerer",
    )
    triggers = _triggers(so)
    jobs = _triggerer_jobs(so)
    held: dict[str, list[int]] = {name: [] for name in so.triggerer_names}
    for trigger_id, trigger in triggers.items():
        held[jobs[trigger["triggerer_id"]]].append(trigger_id)
    victim = max(held, key=lambda name: len(held[name]))
    survivor = next(name for name in so.triggerer_names if name != victim)
    orphans = held[victim]
    orphaned = {triggers[t]["kwargs"]["generation_id"] for t in orphans}
    wait_for(lambda: min(_gets(so, orphaned).values()) >= 1, 120, f"{victim} to poll its generations")
    timeouts = {key: ti["trigger_timeout"] for key, ti in _tis(so).items() if key in set(_waiting_tasks())}
    so.kill_host(victim)
    killed_at = so.components[victim].killed_at
    assert killed_at is not None
    polled = _gets(so, orphaned)
    step(f"SIGKILLed {victim} holding {len(orphans)} triggers ({survivor}: {len(held[survivor])})")
    survivor_job = next(job for job, host in _triggerer_jobs(so).items() if host == survivor)
    wait_for(
        lambda: all(_triggers(so)[t]["triggerer_id"] == survivor_job for t in orphans),
        180,
        f"{survivor} to take over the triggers of {victim}",
        interval=1,
    )
    after = _triggers(so)
    for trigger_id in orphans:
        kwargs = after[trigger_id]["kwargs"]
        # The same trigger row, the same serialized arguments: the absolute deadline was kept.
        assert kwargs == triggers[trigger_id]["kwargs"], (trigger_id, kwargs, triggers[trigger_id]["kwargs"])
        assert kwargs["started_at"] < killed_at
        assert kwargs["deadline"] == pytest.approx(kwargs["started_at"] + WAIT_TIMEOUT_S)
    assert {k: ti["trigger_timeout"] for k, ti in _tis(so).items() if k in timeouts} == timeouts
    # ... and runs them: every orphaned generation is polled again after the kill.
    wait_for(
        lambda: all(n > polled[gid] for gid, n in _gets(so, orphaned).items()),
        120,
        f"{survivor} to poll the orphaned generations",
    )
    step(f"{survivor} took over the {len(orphans)} triggers with their deadlines and polls them")


def _worker_killed_mid_upload(
    so: ScaleOut, s3: Any, step: Timeline, generation_of: dict[str, str]
) -> tuple[str, str]:
    """3. The worker uploading take 00 is SIGKILLed: returns it and the surviving worker."""
    # Take 00 completes first; its worker is SIGKILLed in the middle of the upload. Only then do
    # the 39 others complete, one after another over a minute. (Nothing else runs at the kill: a task a
    # worker has taken from the broker but not yet started when it dies stays "queued" until the
    # scheduler's [scheduler] task_queued_timeout, minutes; that is Celery's and Airflow's behaviour,
    # not the provider's, and would only make this test slow.)
    so.release(generation_of[LONG_TAKE])
    step("take 00 released")

    def uploading_long_take() -> tuple[str, int] | None:
        """The worker running take 00's first delivery, once a part of its upload is in S3."""
        ti = _tis(so)[("generate", 0)]
        if (ti["state"], ti["try_number"]) != ("running", 1) or ti["hostname"] not in so.worker_names:
            assert ti["try_number"] == 1, "take 00's first delivery ended before its upload was seen"
            return None
        for upload in s3.list_multipart_uploads(Bucket=BUCKET, Prefix=LONG_KEY).get("Uploads", []):
            parts = s3.list_parts(Bucket=BUCKET, Key=LONG_KEY, UploadId=upload["UploadId"]).get("Parts", [])
            if parts:
                assert ti["pid"] in so.components[ti["hostname"]].tree(), "the try runs elsewhere"
                return ti["hostname"], len(parts)
        return None

    worker_victim, parts_at_kill = wait_for(uploading_long_take, 300, "take 00's upload to be in progress")
    at_kill = {k: ti for k, ti in _tis(so).items() if ti["state"] not in ("deferred", "success")}
    so.kill_host(worker_victim)
    step(f"SIGKILLed {worker_victim} uploading take 00 ({parts_at_kill} part(s) of 5 MiB in S3)")
    assert set(at_kill) == {("generate", 0)}, at_kill
    # The killed try left its multipart upload unfinished (invisible, but its parts are stored and
    # billed by S3); the retry must clear it. No retry can have started yet: the scheduler only
    # notices the dead try after [scheduler] task_instance_heartbeat_timeout (40 s here).
    orphan_uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=LONG_KEY).get("Uploads", [])
    assert len(orphan_uploads) == 1, orphan_uploads
    assert _tis(so)[("generate", 0)]["try_number"] == 1
    survivor_worker = next(name for name in so.worker_names if name != worker_victim)
    return worker_victim, survivor_worker


def _release_the_others(so: ScaleOut, generation_of: dict[str, str]) -> str:
    """The 39 others complete one after another over a minute; returns the run's final state."""
    others = [gid for marker, gid in sorted(generation_of.items()) if marker != LONG_TAKE]
    first = time.monotonic()
    due = {gid: first + n * RELEASE_SPREAD_S / (len(others) - 1) for n, gid in enumerate(others)}
    released: set[str] = set()
    deadline = first + 600
    state = "running"
    while True:
        now = time.monotonic()
        for gid in others:
            if gid not in released and due[gid] <= now:
                so.release(gid)
                released.add(gid)
        if len(released) == len(others):
            if (state := _run_state(so)) in ("success", "failed"):
                break
            so.note_trees()
        so.check_running()
        assert now < deadline, f"the run did not finish within 600 s of the releases (state {state!r})"
        time.sleep(0.5 if len(released) == len(others) else 0.2)
    return state


def _check_only_the_killed_try_retried(
    so: ScaleOut, state: str, worker_victim: str, survivor_worker: str
) -> tuple[dict[tuple[str, int], dict[str, Any]], list[tuple[str, int]]]:
    """4. The run succeeded; the killed try, and only it, was retried on the other worker."""
    assert state == "success", f"the run ended {state!r}"
    tis = _tis(so)
    assert len(tis) == 3 * TRACKS_PER_FORM
    assert {ti["state"] for ti in tis.values()} == {"success"}, {k: ti["state"] for k, ti in tis.items()}
    retried = sorted(key for key, ti in tis.items() if ti["try_number"] > 1)
    assert retried == [("generate", 0)], retried
    assert (tis[("generate", 0)]["try_number"], tis[("generate", 0)]["hostname"]) == (2, survivor_worker)
    history = so.query(
        "SELECT try_number, state, hostname FROM task_instance_history"
        " WHERE dag_id = %s AND run_id = %s AND task_id = 'generate' AND map_index = 0",
        DAG_ID,
        RUN_ID,
    )
    assert [(h["try_number"], h["hostname"]) for h in history] == [(1, worker_victim)], history
    assert history[0]["state"] in ("failed", "up_for_retry"), history
    return tis, retried


def _check_paid_once(so: ScaleOut, generation_of: dict[str, str]) -> dict[str, Any]:
    """5. Paid once: exactly 40 POSTs. Take 00's first download was cut off, its retry's completed."""
    stats = so.emulator_stats()
    assert (stats["posts"], stats["posts_created"], len(stats["generations"])) == (TRACKS, TRACKS, TRACKS)
    generations = stats["generations"]
    long_generation = generations[generation_of[LONG_TAKE]]
    assert (long_generation["downloads"], long_generation["downloads_completed"]) == (2, 1), long_generation
    for gid, generation in generations.items():
        assert generation["status"] == "completed", gid
        assert generation["downloads_completed"] >= 1, gid
    return stats


def _check_stored_once(s3: Any, generations: dict[str, Any], generation_of: dict[str, str]) -> None:
    """6. Stored once, byte for byte, with its sidecar; nothing half-written left behind."""
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{RUN_ID}/"):
        objects += page.get("Contents", [])
    keys = sorted(o["Key"] for o in objects)
    assert [k for k in keys if ".partial-" in k] == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    audio = [k for k in keys if k.endswith(".wav")]
    assert len(audio) == TRACKS, keys
    assert len(keys) == 2 * TRACKS, keys
    assert sorted(k for k in audio if "/one-task/" in k) == [
        f"{RUN_ID}/one-task/take-{i:02d}.wav" for i in range(TRACKS_PER_FORM)
    ]
    stored: dict[str, str] = {}
    for key in audio:
        sidecar = key.removesuffix(".wav") + ".json"
        assert sidecar in keys, f"{key} has no sidecar"
        manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=sidecar)["Body"].read())
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        generation = generations[manifest["generation_id"]]
        assert len(body) == generation["size_bytes"] == manifest["size_bytes"], key
        assert _sha256(body) == generation["sha256"] == manifest["sha256"], key
        assert (manifest["uri"], manifest["sidecar_uri"]) == (
            f"s3://{BUCKET}/{key}",
            f"s3://{BUCKET}/{sidecar}",
        )
        assert manifest["generation_id"] not in stored, f"{manifest['generation_id']} stored twice"
        stored[manifest["generation_id"]] = key
    assert set(stored) == set(generations)
    assert generations[generation_of[LONG_TAKE]]["size_bytes"] > 4 * PART
