"""Benchmark 1: 5,000 concurrent triggers in one process, ours vs apache-airflow-providers-http's peer.

Each phase is a fresh child interpreter (benchmarks/_trigger_load.py) running N triggers on one asyncio
loop with Airflow's block watchdog; the emulator runs in its own process. This (parent) process reads
the child's CPU time and RSS with psutil and the emulator's request counters, so nothing measuring
runs inside the measured loop except the watchdog itself. Each rep runs three phases back to back:
ours as shipped (default config: the garbage collector left alone), the peer, and ours with the
opt-in ``[aimlapi] triggerer_gc_freeze = True`` (the provider calls ``gc.freeze()`` once, in the first
trigger run); so the CPU ratio is taken side by side under the same machine noise, and the stall
with and without the freeze too. Every stall figure comes with the garbage collector's part of it
(``gc.callbacks`` timing in the child), and with the longest stretch the loop thread spent working
without yielding, in its own CPU time (not inflated when a shared machine deschedules the process).

Targets (issue 17): the longest stall not caused by the collector < 50 ms; the longest stall
including the collector no worse than the peer's under the same load, with the opt-in freeze off
(the default) and on; CPU per poll <= 0.5 of the peer's; RSS per trigger <= 32 KB.

    python -m benchmarks.bench_triggerer [--quick] [--n 5000] [--duration 65] [--reps 2] [--poll-interval 10]
    python -m benchmarks.bench_triggerer --gc-freeze   # ours with the freeze vs the peer after gc.freeze()
    python -m benchmarks.bench_triggerer --burst-only [--freeze-on]  # ours, all triggers started at once
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import random
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import psutil

from benchmarks._common import (
    EMULATOR_KEY,
    PYTHON,
    REPO,
    EmulatorProcess,
    aimlapi_conn,
    airflow_home,
    header,
    line,
    median,
    ratio,
    save_results,
    verdict,
)

TARGET_STALL_MS = 50.0
# A bare asyncio loop with only the watchdog, run beside each phase: the machine's own scheduling
# noise (a shared 2-core VM), so a stall can be told apart from a descheduled process.
PROBE = """
import asyncio, json, sys, time
async def main(duration):
    late, end = [], time.monotonic() + duration
    while time.monotonic() < end:
        t = time.monotonic(); await asyncio.sleep(0.1); late.append(time.monotonic() - t - 0.1)
    print(json.dumps({"probe_max_stall_ms": round(max(late) * 1000, 2),
                      "probe_stalls_over_50ms": sum(x > 0.05 for x in late)}))
asyncio.run(main(float(sys.argv[1])))
"""
TARGET_CPU_RATIO = 0.5
TARGET_RSS_KB = 32.0
# The provider's switch (airflow_provider_music.defaults: CONFIG_SECTION, CONFIG_TRIGGERER_GC_FREEZE,
# opt-in, default False), as Airflow reads it from the environment. Not imported: this process never
# imports the provider.
GC_FREEZE_ENV = "AIRFLOW__AIMLAPI__TRIGGERER_GC_FREEZE"
# Phase configurations: (kind, config) -> who freezes the heap (None: nobody).
GC_FREEZE_BY: dict[tuple[str, str], str | None] = {
    ("music", "default"): None,  # as shipped: the option unset (False), the collector left alone
    ("music", "freeze-on"): "provider, opt-in: [aimlapi] triggerer_gc_freeze = True, first run",
    ("http", "default"): None,
    ("http", "gc-freeze"): "benchmark: gc.freeze() in the child after its warm-up",
}


class _Api:
    """A keep-alive client to the emulator for setting up generations (parent side, not measured)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {EMULATOR_KEY}", "Content-Type": "application/json"}

    def post(self, path: str, body: Any) -> Any:
        self.conn.request("POST", path, json.dumps(body), self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{path}: HTTP {resp.status} {data[:200]!r}")
        return json.loads(data)

    def create(self, length_ms: int = 10_000) -> str:
        body = {"model": "elevenlabs/eleven_music", "prompt": "bench", "music_length_ms": length_ms}
        return str(self.post("/v2/generate/audio", body)["id"])

    def config(self, **changes: Any) -> Any:
        return self.post("/_emulator/config", changes)

    def close(self) -> None:
        self.conn.close()


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def _tcp_established(proc: psutil.Process, port: int) -> int:
    try:
        return sum(
            1
            for c in proc.net_connections("tcp")
            if c.raddr and c.raddr.port == port and c.status == "ESTABLISHED"
        )
    except (psutil.Error, OSError):
        return -1


def run_phase(
    emu: EmulatorProcess,
    env: dict[str, str],
    kind: str,
    n: int,
    duration: float,
    poll: float,
    stagger: float,
    config: str = "default",
) -> dict[str, Any]:
    """One phase in a fresh child. ``config`` (see GC_FREEZE_BY): ours ``default`` (the option unset:
    nobody freezes) or ``freeze-on`` (the option True: the provider freezes in its first run); the
    peer ``default`` or ``gc-freeze`` (``gc.freeze()`` in the child after its warm-up)."""
    freeze_by = GC_FREEZE_BY[(kind, config)]
    api = _Api(emu.base_url)
    emu.reset()
    api.config(generation_seconds=0.0, queued_seconds=0.0)
    warm_id = api.create()
    child_env = dict(env)
    child_env.pop(GC_FREEZE_ENV, None)  # ours as shipped: the option unset
    if config == "freeze-on":
        child_env[GC_FREEZE_ENV] = "True"
    workdir = Path(tempfile.mkdtemp(prefix="music-bench-trig-"))
    errlog = (workdir / "child.err").open("wb")
    child = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "benchmarks._trigger_load",
            "--kind",
            kind,
            "--n",
            str(n),
            "--duration",
            str(duration),
            "--poll-interval",
            str(poll),
            "--stagger",
            str(stagger),
            "--warm-id",
            warm_id,
            *(["--gc-freeze"] if config == "gc-freeze" else []),
        ],
        env=child_env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errlog,
        text=True,
    )
    try:
        frozen = freeze_by is not None
        result = _drive(emu, api, child, kind, n, duration, poll, workdir, expect_frozen=frozen)
    finally:
        api.close()
        if child.poll() is None:
            child.kill()
            child.wait(10)
        errlog.close()
    result["config"] = config
    result["gc_freeze_by"] = freeze_by
    result["stagger_s"] = stagger
    return result


def _await_ready(stdout: IO[str], workdir: Path, expect_frozen: bool) -> None:
    """The child's READY line, with its heap frozen after the warm-up exactly when expected."""
    ready = stdout.readline()
    if not ready.startswith("READY"):
        raise RuntimeError(f"child failed: {ready!r} {(workdir / 'child.err').read_text()[-3000:]}")
    if (json.loads(ready.split(None, 1)[1])["gc_frozen"] > 0) != expect_frozen:
        raise RuntimeError(
            f"the heap is {'not ' if expect_frozen else ''}frozen after the warm-up: {ready!r}"
        )


def _music_pairs(api: _Api, n: int, duration: float, poll: float, workdir: Path) -> str:
    """
    Slot i waits for a first generation that completes during the run (10%..85% of it), then for a
    second one that does not: N triggers stay alive throughout, N complete mid-run. Returns the file.
    """
    rng = random.Random(7)
    lo, hi = 0.1 * duration + poll, 0.85 * duration
    buckets = 10
    firsts: list[str] = []
    for b in range(buckets):
        api.config(generation_seconds=round(lo + (hi - lo) * b / (buckets - 1), 2), queued_seconds=1.0)
        firsts += [api.create() for _ in range(n // buckets + (1 if b < n % buckets else 0))]
    api.config(generation_seconds=3600.0, queued_seconds=1.0)
    seconds = [api.create() for _ in range(n)]
    rng.shuffle(firsts)
    pairs = [[a, b] for a, b in zip(firsts, seconds, strict=True)]
    source = str(workdir / "pairs.json")
    Path(source).write_text(json.dumps(pairs))
    return source


def _cpu_per_poll_windows(samples: list[dict[str, float]], poll: float) -> list[float]:
    """CPU microseconds per poll in each sampling window."""
    windows = []
    for prev, cur in itertools.pairwise(samples):
        dp = cur["gets"] - prev["gets"]
        if dp > 0 and prev["t"] >= poll:  # skip the first interval (start-up: connection lookups, clients)
            windows.append((cur["cpu"] - prev["cpu"]) / dp * 1e6)
    return windows


def _drive(
    emu: EmulatorProcess,
    api: _Api,
    child: subprocess.Popen[str],
    kind: str,
    n: int,
    duration: float,
    poll: float,
    workdir: Path,
    expect_frozen: bool,
) -> dict[str, Any]:
    assert child.stdout is not None
    assert child.stdin is not None
    _await_ready(child.stdout, workdir, expect_frozen)
    proc = psutil.Process(child.pid)
    rss_ready = proc.memory_info().rss

    source = _music_pairs(api, n, duration, poll, workdir) if kind == "music" else "-"

    gets_before = emu.stats()["gets"]
    emu_cpu0 = emu.cpu_seconds()
    cpu0 = _cpu(proc)
    child.stdin.write(f"GO {source}\n")
    child.stdin.flush()
    started = child.stdout.readline()
    if not started.startswith("STARTED"):
        raise RuntimeError(f"child failed: {started!r} {(workdir / 'child.err').read_text()[-3000:]}")
    t0 = time.monotonic()
    probe = subprocess.Popen(
        [PYTHON, "-c", PROBE, str(duration - 1.0)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    samples: list[dict[str, float]] = []
    rss_peak = rss_ready
    conns_mid = None
    next_stats = t0
    end = t0 + duration - 0.5
    while True:
        now = time.monotonic()
        if now >= end:
            break
        rss_peak = max(rss_peak, proc.memory_info().rss)
        if now >= next_stats:
            samples.append({"t": now - t0, "cpu": _cpu(proc), "gets": emu.stats()["gets"]})
            next_stats += poll
        if conns_mid is None and now - t0 > duration / 2:
            conns_mid = _tcp_established(proc, emu.port)
        time.sleep(min(0.5, max(0.01, end - time.monotonic())))
    rss_end = proc.memory_info().rss
    rss_peak = max(rss_peak, rss_end)
    cpu_end = _cpu(proc)
    gets_end = emu.stats()["gets"]
    emu_cpu = emu.cpu_seconds() - emu_cpu0
    wall = time.monotonic() - t0
    samples.append({"t": wall, "cpu": cpu_end, "gets": gets_end})
    out = child.stdout.readline()
    child.wait(60)
    if not out.startswith("RESULT"):
        raise RuntimeError(f"child failed: {out!r} {(workdir / 'child.err').read_text()[-3000:]}")
    result: dict[str, Any] = json.loads(out.split(None, 1)[1])
    try:
        result.update(json.loads(probe.communicate(timeout=30)[0]))
    except (subprocess.TimeoutExpired, ValueError):
        probe.kill()
        result["probe_max_stall_ms"] = result["probe_stalls_over_50ms"] = None

    polls = gets_end - gets_before
    windows = _cpu_per_poll_windows(samples, poll)
    result.update(
        {
            "polls": polls,
            "polls_per_s": round(polls / wall, 1),
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu_end - cpu0, 3),
            "cpu_util": round((cpu_end - cpu0) / wall, 3),
            "cpu_per_poll_us": round((cpu_end - cpu0) / polls * 1e6, 1) if polls else float("nan"),
            "cpu_per_poll_us_window_median": round(median(windows), 1) if windows else float("nan"),
            "rss_ready_mb": round(rss_ready / 2**20, 1),
            "rss_per_trigger_kb": round((rss_end - rss_ready) / n / 1024, 1),
            "rss_peak_per_trigger_kb": round((rss_peak - rss_ready) / n / 1024, 1),
            "tcp_established_mid_run": conns_mid,
            "emulator_cpu_util": round(emu_cpu / wall, 3),
            "emulator_cpu_per_request_us": round(emu_cpu / polls * 1e6, 1) if polls else None,
        }
    )
    return result


LABELS = {
    ("music", "default"): "ours (as shipped)",
    ("music", "freeze-on"): "ours, triggerer_gc_freeze=True",
    ("http", "default"): "peer (HttpSensorTrigger)",
    ("http", "gc-freeze"): "peer, gc.freeze() in child",
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="500 triggers, 25 s, one phase of each kind")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--duration", type=float, default=None)
    p.add_argument("--reps", type=int, default=None)
    p.add_argument("--poll-interval", type=float, default=10.0)
    p.add_argument("--stagger", type=float, default=None, help="spread starts over s (default: one interval)")
    p.add_argument("--burst", action="store_true", help="also run ours with all triggers started at once")
    p.add_argument(
        "--burst-only",
        action="store_true",
        help="only ours, all triggers started at the same instant (a triggerer restart)",
    )
    p.add_argument(
        "--gc-freeze",
        action="store_true",
        help="ours with [aimlapi] triggerer_gc_freeze = True (the provider freezes the heap) against the "
        "peer given the same treatment: gc.freeze() in its child after the warm-up",
    )
    p.add_argument(
        "--freeze-on",
        action="store_true",
        help="with --burst-only: ours with [aimlapi] triggerer_gc_freeze = True",
    )
    args = p.parse_args(argv)
    n = args.n or (500 if args.quick else 5000)
    duration = args.duration or (25.0 if args.quick else 65.0)
    reps = args.reps or (1 if args.quick else 2)
    poll = args.poll_interval
    stagger = poll if args.stagger is None else args.stagger
    suffix = ("_gc_freeze" if args.gc_freeze else "") + ("_quick" if args.quick else "")

    if args.gc_freeze:
        kinds = [("music", "freeze-on"), ("http", "gc-freeze")]
        shape = "ours with triggerer_gc_freeze=True vs the peer after gc.freeze()"
    else:
        kinds = [("music", "default"), ("http", "default"), ("music", "freeze-on")]
        shape = "ours as shipped, the peer, ours with triggerer_gc_freeze=True"
    header(
        f"1. Triggerer scale: {n} triggers in one asyncio loop, poll every {poll:g} s, "
        + (
            f"all started at once, {min(duration, 35.0):g} s per phase, {reps} rep(s)"
            if args.burst_only
            else f"{duration:g} s per phase, {reps} rep(s) of: {shape}"
        )
    )
    phases: list[dict[str, Any]] = []
    burst = None
    with airflow_home() as env, EmulatorProcess(env) as emu:
        env = dict(env)
        # No per-poll logging in either child: HttpSensorTrigger's hook logs a warning on every 404
        # poll, which would make the peer look slower than its HTTP work; ours logs pending polls at
        # debug. Errors still show (in the child's stderr file).
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
        env["AIRFLOW_CONN_AIMLAPI_DEFAULT"] = aimlapi_conn(emu.base_url)
        env["AIRFLOW_CONN_HTTP_BENCH"] = json.dumps(
            {"conn_type": "http", "host": emu.base_url, "extra": {"Authorization": f"Bearer {EMULATOR_KEY}"}}
        )
        if args.burst_only:
            config = "freeze-on" if args.freeze_on else "default"
            return _burst_only(emu, env, n, min(duration, 35.0), poll, reps, config, suffix)
        for _ in range(reps):
            for kind, config in kinds:
                r = run_phase(emu, env, kind, n, duration, poll, stagger, config)
                phases.append(r)
                _print_phase(r)
        if args.burst:
            burst = run_phase(emu, env, "music", n, min(duration, 35.0), poll, 0.0)
            _print_phase(burst, label="ours, all started at once")

    summary = summarize(phases, n=n, duration=duration, poll=poll, reps=reps, gc_freeze=args.gc_freeze)
    summary["burst"] = burst
    report(summary)
    data = {"summary": summary, "phases": phases}
    save_results("triggerer" + suffix, data)
    return data


def _of(phases: list[dict[str, Any]], kind: str, config: str | None = None) -> list[dict[str, Any]]:
    return [r for r in phases if r["kind"] == kind and (config is None or r["config"] == config)]


def _group(prefix: str, rs: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one kind of phase, under ``prefix_``; nothing if it was not run."""
    if not rs:
        return {}
    worst = max(rs, key=lambda r: r["max_stall_ms"])
    over_total = sum(r.get("stalls_over_50ms_total_ms") or 0.0 for r in rs)
    over_gc = sum(r.get("stalls_over_50ms_gc_ms") or 0.0 for r in rs)
    figures = {
        "phases": len(rs),
        "gc_freeze_by": rs[0]["gc_freeze_by"],
        "max_stall_ms_worst": worst["max_stall_ms"],
        # The collector's part of that worst stall (GC time inside the same watchdog interval).
        "max_stall_ms_worst_gc_ms": worst.get("max_stall_gc_ms"),
        "max_stall_ms": median([r["max_stall_ms"] for r in rs]),
        "max_stall_gc_ms": [r.get("max_stall_gc_ms") for r in rs],
        "max_stall_excl_gc_ms_worst": max(r["max_stall_excl_gc_ms"] for r in rs),
        "max_stall_excl_gc_ms": median([r["max_stall_excl_gc_ms"] for r in rs]),
        "p99_stall_ms": median([r["p99_stall_ms"] for r in rs]),
        "stalls_over_50ms": [r["stalls_over_50ms"] for r in rs],
        "stalls_excl_gc_over_50ms": [r["stalls_excl_gc_over_50ms"] for r in rs],
        # Of all the time lost in stalls over 50 ms (all phases of this kind), the collector's share.
        "stalls_over_50ms_gc_share": round(over_gc / over_total, 3) if over_total else None,
        "gc_collections": [r["gc_collections"] for r in rs],
        "gc_max_pause_ms": [r["gc_max_pause_ms"] for r in rs],
        "gc_gen2_max_pause_ms": median([r["gc_max_pause_ms"][2] for r in rs]),
        "gc_total_s": [r["gc_total_s"] for r in rs],
        "gc_objects_ready": median([r["gc_objects_ready"] for r in rs]),
        "gc_frozen_objects": median([r["gc_frozen_objects"] for r in rs]),
        "gc_objects_per_trigger": median([r["gc_objects_per_trigger"] for r in rs]),
        # the longest stretch of loop work without yielding (loop thread CPU time), per phase
        "loop_busy_max_ms": [r.get("loop_busy_max_ms") for r in rs],
        "loop_busy_excl_gc_max_ms": [r.get("loop_busy_excl_gc_max_ms") for r in rs],
        "callback_excl_gc_max_ms": [r.get("callback_excl_gc_max_ms") for r in rs],
        "loop_busy_excl_gc_max_ms_worst": max(
            (r["loop_busy_excl_gc_max_ms"] for r in rs if r.get("loop_busy_excl_gc_max_ms") is not None),
            default=None,
        ),
        "probe_max_stall_ms": [r["probe_max_stall_ms"] for r in rs],
        "probe_stalls_over_50ms": [r["probe_stalls_over_50ms"] for r in rs],
        "cpu_per_poll_us": median([r["cpu_per_poll_us"] for r in rs]),
        "cpu_per_poll_us_per_phase": [r["cpu_per_poll_us"] for r in rs],
        "polls_per_s": median([r["polls_per_s"] for r in rs]),
        "rss_per_trigger_kb": round(median([r["rss_per_trigger_kb"] for r in rs]), 1),
        "rss_peak_per_trigger_kb": round(median([r["rss_peak_per_trigger_kb"] for r in rs]), 1),
        "tcp_established_mid_run": [r["tcp_established_mid_run"] for r in rs],
        "emulator_cpu_util": [r["emulator_cpu_util"] for r in rs],
        "events": [r["events"] for r in rs],
        "errors": sum(r["errors"] for r in rs),
    }
    return {f"{prefix}_{k}": v for k, v in figures.items()}


def summarize(
    phases: list[dict[str, Any]], *, n: int, duration: float, poll: float, reps: int, gc_freeze: bool
) -> dict[str, Any]:
    """Medians per kind of phase and the verdicts. ``ours_*``: as shipped (default config: the
    collector left alone); ``ours_freeze_on_*``: with the opt-in ``[aimlapi] triggerer_gc_freeze =
    True``; ``peer_*``: the peer (after ``gc.freeze()`` in its child when ``gc_freeze``). The CPU ratio
    pairs ours (as shipped; with ``gc_freeze``, ours with the freeze) with the peer phase of the same
    rep. The targets are judged on ours as shipped; the stall also without the collector's time
    (what the provider's own code holds the loop for) and with the freeze on."""
    ours, ours_on, peer = (
        _of(phases, "music", "default"),
        _of(phases, "music", "freeze-on"),
        _of(phases, "http"),
    )

    def pairs_of(rs: list[dict[str, Any]]) -> list[float]:
        return [
            round(ratio(x["cpu_per_poll_us"], y["cpu_per_poll_us"]), 3)
            for x, y in zip(rs, peer, strict=False)
        ]

    pairs = pairs_of(ours if ours else ours_on)
    s: dict[str, Any] = {
        "n": n,
        "duration_s": duration,
        "poll_interval_s": poll,
        "reps": reps,
        "gc_freeze": gc_freeze,
        "gc_freeze_ours_by": GC_FREEZE_BY[("music", "default")],
        "gc_freeze_ours_freeze_on_by": GC_FREEZE_BY[("music", "freeze-on")],
        "gc_freeze_peer_by": GC_FREEZE_BY[("http", "gc-freeze")] if gc_freeze else None,
        "cpu_ratio_of": ("ours as shipped" if ours else "ours with the freeze")
        + " / peer"
        + (" after gc.freeze()" if gc_freeze else ""),
        **_group("ours", ours),
        **_group("ours_freeze_on", ours_on),
        **_group("peer", peer),
        "probe_max_stall_ms": [r["probe_max_stall_ms"] for r in phases],
        "probe_stalls_over_50ms": [r["probe_stalls_over_50ms"] for r in phases],
        "cpu_ratio_per_pair": pairs,
        "cpu_ratio": round(median(pairs), 3) if pairs else None,
        "ours_freeze_on_cpu_ratio_per_pair": pairs_of(ours_on) if ours else [],
        "emulator_cpu_util_max": max((r["emulator_cpu_util"] for r in phases), default=None),
    }
    rss = s.get("ours_rss_peak_per_trigger_kb", s.get("ours_freeze_on_rss_peak_per_trigger_kb"))
    s["pass_stall"] = s["ours_max_stall_ms_worst"] < TARGET_STALL_MS if ours else None
    s["pass_stall_excl_gc"] = s["ours_max_stall_excl_gc_ms_worst"] < TARGET_STALL_MS if ours else None
    s["pass_stall_freeze_on"] = s["ours_freeze_on_max_stall_ms_worst"] < TARGET_STALL_MS if ours_on else None
    # issue 17: the stall including the collector no worse than the peer's (freeze off and on)
    peer_worst = s.get("peer_max_stall_ms_worst")
    s["pass_stall_vs_peer"] = s["ours_max_stall_ms_worst"] <= peer_worst if ours and peer else None
    s["pass_stall_freeze_on_vs_peer"] = (
        s["ours_freeze_on_max_stall_ms_worst"] <= peer_worst if ours_on and peer else None
    )
    busy = s.get("ours_loop_busy_excl_gc_max_ms_worst")
    s["pass_loop_busy_excl_gc"] = busy < TARGET_STALL_MS if busy is not None else None
    s["pass_cpu"] = s["cpu_ratio"] <= TARGET_CPU_RATIO if pairs else None
    s["pass_rss"] = rss <= TARGET_RSS_KB if rss is not None else None
    return s


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _stall_text(s: dict[str, Any], p: str) -> str:
    def g(key: str) -> Any:
        return s[f"{p}_{key}"]

    gc_ms = g("max_stall_ms_worst_gc_ms")
    return (
        f"{g('max_stall_ms_worst'):.1f} ms worst of {g('phases')} phases (median {g('max_stall_ms'):.1f}), "
        f"of which the garbage collector's {'n/a' if gc_ms is None else f'{gc_ms:.1f}'} ms; "
        f"without the GC time {g('max_stall_excl_gc_ms_worst'):.1f} worst (median "
        f"{g('max_stall_excl_gc_ms'):.1f}); > 50 ms per phase {g('stalls_over_50ms')} (without GC "
        f"{g('stalls_excl_gc_over_50ms')}), the collector's share of their time "
        f"{_share(g('stalls_over_50ms_gc_share'))}; longest full GC {g('gc_gen2_max_pause_ms'):.0f} ms"
    )


def _report_loop(s: dict[str, Any]) -> None:
    """The loop thread's own work (CPU time), and the stall including the collector against the peer's."""
    for p, name in (("ours", "ours as shipped"), ("ours_freeze_on", "ours, freeze on"), ("peer", "peer")):
        if f"{p}_phases" in s and s.get(f"{p}_loop_busy_excl_gc_max_ms_worst") is not None:
            line(
                f"  longest loop iteration in the loop thread's CPU time (not inflated by descheduling), "
                f"{name}: {s[f'{p}_loop_busy_max_ms']} ms per phase, without the collector "
                f"{s[f'{p}_loop_busy_excl_gc_max_ms']} ms; longest single callback without the collector "
                f"{s[f'{p}_callback_excl_gc_max_ms']} ms"
                + (
                    f"  target < {TARGET_STALL_MS:g} ms  {verdict(s['pass_loop_busy_excl_gc'])}"
                    if p == "ours"
                    else ""
                )
            )
    if s.get("pass_stall_vs_peer") is not None or s.get("pass_stall_freeze_on_vs_peer") is not None:
        line(
            f"  longest stall including the collector vs the peer's "
            f"{s['peer_max_stall_ms_worst']:.1f} ms: as shipped "
            f"{s.get('ours_max_stall_ms_worst', float('nan')):.1f} ms {verdict(s['pass_stall_vs_peer'])}; "
            f"freeze on {s.get('ours_freeze_on_max_stall_ms_worst', float('nan')):.1f} ms "
            f"{verdict(s['pass_stall_freeze_on_vs_peer'])}  (target: no worse than the peer's)"
        )


def report(s: dict[str, Any]) -> None:
    """The verdict lines (ours as shipped; with the opt-in freeze, labelled apart)."""
    line("")
    if "ours_phases" in s:
        line(
            f"  longest stall, ours as shipped (default config, collector left alone): "
            f"{_stall_text(s, 'ours')}  target < {TARGET_STALL_MS:g} ms  {verdict(s['pass_stall'])}"
        )
        line(
            f"  longest stall, ours as shipped, without the collector's time (the provider's own "
            f"code): {s['ours_max_stall_excl_gc_ms_worst']:.1f} ms  target < {TARGET_STALL_MS:g} ms  "
            f"{verdict(s['pass_stall_excl_gc'])}"
        )
    if "ours_freeze_on_phases" in s:
        line(
            f"  longest stall, ours with [aimlapi] triggerer_gc_freeze = True: "
            f"{_stall_text(s, 'ours_freeze_on')}  (< {TARGET_STALL_MS:g} ms: "
            f"{verdict(s['pass_stall_freeze_on'])})"
        )
    if "peer_phases" in s:
        line(
            f"  longest stall, peer{' after gc.freeze()' if s['gc_freeze'] else ''}: {_stall_text(s, 'peer')}"
        )
    _report_loop(s)
    line(
        f"  the bare-loop probe beside each phase: max {s['probe_max_stall_ms']} ms, "
        f"> 50 ms x{s['probe_stalls_over_50ms']} (machine noise)"
    )
    if s["cpu_ratio"] is not None:
        peer_name = "the peer after gc.freeze()" if s["gc_freeze"] else "HttpSensorTrigger"
        p = "ours" if "ours_phases" in s else "ours_freeze_on"
        line(
            f"  CPU per poll: {s['cpu_ratio_of'].split(' / ')[0]} {s[f'{p}_cpu_per_poll_us']:.0f} us, "
            f"{peer_name} {s['peer_cpu_per_poll_us']:.0f} us; ratio (median of side-by-side pairs "
            f"{s['cpu_ratio_per_pair']}) {s['cpu_ratio']:.2f}  target <= {TARGET_CPU_RATIO}  "
            f"{verdict(s['pass_cpu'])}"
        )
    if "ours_phases" in s and "ours_freeze_on_phases" in s:
        line(
            f"  (with the freeze on: CPU per poll {s['ours_freeze_on_cpu_per_poll_us']:.0f} us, "
            f"{s['ours_freeze_on_cpu_ratio_per_pair']} of the same rep's peer)"
        )
    if s["pass_rss"] is not None:
        p = "ours" if "ours_phases" in s else "ours_freeze_on"
        line(
            f"  RSS per trigger, {'ours as shipped' if p == 'ours' else 'ours with the freeze'}: "
            f"{s[f'{p}_rss_per_trigger_kb']:.1f} KB at the end, "
            f"{s[f'{p}_rss_peak_per_trigger_kb']:.1f} KB at peak"
            + (
                f" (with the freeze on {s['ours_freeze_on_rss_peak_per_trigger_kb']:.1f} KB at peak)"
                if p == "ours" and "ours_freeze_on_phases" in s
                else ""
            )
            + (f"; peer {s['peer_rss_per_trigger_kb']:.1f} KB" if "peer_phases" in s else "")
            + f"  target <= {TARGET_RSS_KB:g} KB  {verdict(s['pass_rss'])}"
        )
    for p, name in (("ours", "ours"), ("ours_freeze_on", "ours, freeze on"), ("peer", "peer")):
        if f"{p}_phases" in s:
            line(
                f"  {name}: GC collections gen0/1/2 per phase {s[f'{p}_gc_collections']}, max pauses "
                f"{s[f'{p}_gc_max_pause_ms']} ms; objects the collector walks after warm-up "
                f"{s[f'{p}_gc_objects_ready']:.0f} (frozen {s[f'{p}_gc_frozen_objects']:.0f}); "
                f"TCP conns open mid-run {s[f'{p}_tcp_established_mid_run']}; emulator CPU "
                f"{s[f'{p}_emulator_cpu_util']}"
            )
    if s["emulator_cpu_util_max"] is not None:
        line(
            f"  emulator, busiest phase: {s['emulator_cpu_util_max'] * 100:.0f}% of one core (not the "
            f"bottleneck below ~70%)"
        )


def _burst_only(
    emu: EmulatorProcess,
    env: dict[str, str],
    n: int,
    duration: float,
    poll: float,
    reps: int,
    config: str,
    suffix: str,
) -> dict[str, Any]:
    """All N triggers started at the same instant (a triggerer restart): ours, as shipped or freeze on."""
    phases = []
    for _ in range(reps):
        r = run_phase(emu, env, "music", n, duration, poll, 0.0, config)
        phases.append(r)
        _print_phase(r, label=f"{LABELS[('music', config)]}, burst")
    p = "ours" if config == "default" else "ours_freeze_on"
    summary = {"n": n, "duration_s": duration, "poll_interval_s": poll, "reps": reps, **_group(p, phases)}
    summary["pass_stall"] = summary[f"{p}_max_stall_ms_worst"] < TARGET_STALL_MS
    line("")
    line(
        f"  burst, {LABELS[('music', config)]}: longest stall {_stall_text(summary, p)}; "
        f"the bare-loop probe {summary[f'{p}_probe_max_stall_ms']} ms; peak RSS per trigger "
        f"{summary[f'{p}_rss_peak_per_trigger_kb']} KB; CPU per poll {summary[f'{p}_cpu_per_poll_us']:.0f} us"
        f"  target < {TARGET_STALL_MS:g} ms  {verdict(summary['pass_stall'])}"
    )
    data = {"summary": summary, "phases": phases}
    save_results("triggerer_burst" + ("_freeze_on" if config != "default" else "") + suffix, data)
    return data


def _print_phase(r: dict[str, Any], label: str | None = None) -> None:
    name = label or LABELS[(r["kind"], r["config"])]
    gc_ms = r.get("max_stall_gc_ms")
    line(
        f"  {name:31s} polls {r['polls']:6d} ({r['polls_per_s']:.0f}/s)  "
        f"CPU/poll {r['cpu_per_poll_us']:.0f} us "
        f"(5-s windows median {r['cpu_per_poll_us_window_median']:.0f})  "
        f"loop busy max {r.get('loop_busy_max_ms')} ms (without GC {r.get('loop_busy_excl_gc_max_ms')}; "
        f"longest callback {r.get('callback_excl_gc_max_ms')}) "
        f"stall max {r['max_stall_ms']:.1f} ms (GC {'n/a' if gc_ms is None else f'{gc_ms:.1f}'} ms of it) "
        f"(p99 {r['p99_stall_ms']:.1f}, >50 ms x{r['stalls_over_50ms']}, GC share of their time "
        f"{_share(r.get('stalls_over_50ms_gc_share'))}; without GC max "
        f"{r['max_stall_excl_gc_ms']:.1f} x{r['stalls_excl_gc_over_50ms']}; bare-loop probe beside it "
        f"{r['probe_max_stall_ms']} x{r.get('probe_stalls_over_50ms')})  "
        f"GC max pause gen0/1/2 {r['gc_max_pause_ms']} ms "
        f"x{r['gc_collections']} (walks {r['gc_objects_ready']} objects, {r['gc_frozen_objects']} frozen)  "
        f"RSS/trigger {r['rss_per_trigger_kb']:.1f} KB (peak "
        f"{r['rss_peak_per_trigger_kb']:.1f}), GC objects/trigger {r['gc_objects_per_trigger']:.0f}  "
        f"events {r['events']} errors {r['errors']}  TCP conns open mid-run {r['tcp_established_mid_run']}  "
        f"emulator CPU {r['emulator_cpu_util'] * 100:.0f}%"
    )


if __name__ == "__main__":
    main()
