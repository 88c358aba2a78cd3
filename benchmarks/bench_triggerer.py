"""Benchmark 1: 1,000 concurrent triggers in one process, ours vs apache-airflow-providers-http's peer.

Each phase is a fresh child interpreter (benchmarks/_trigger_load.py) running N triggers on one asyncio
loop with Airflow's block watchdog; the emulator runs in its own process. This (parent) process reads
the child's CPU time and RSS with psutil and the emulator's request counters, so nothing measuring
runs inside the measured loop except the watchdog itself. Phases alternate (ours, peer, ours, peer, ...)
so the ratio is taken side by side under the same machine noise.

    python -m benchmarks.bench_triggerer [--quick] [--n 1000] [--duration 65] [--reps 2]
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
from typing import Any
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
TARGET_RSS_KB = 64.0


class _Api:
    """A keep-alive client to the emulator for setting up generations (parent side, not measured)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
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
        return self.post("/v2/generate/audio", body)["id"]

    def config(self, **changes: Any) -> Any:
        return self.post("/_emulator/config", changes)

    def close(self) -> None:
        self.conn.close()


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


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
    variant: str = "as-is",
    gc_freeze: bool = False,
) -> dict[str, Any]:
    api = _Api(emu.base_url)
    emu.reset()
    api.config(generation_seconds=0.0, queued_seconds=0.0)
    warm_id = api.create()
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
            "--variant",
            variant,
            *(["--gc-freeze"] if gc_freeze else []),
        ],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errlog,
        text=True,
    )
    try:
        return _drive(emu, api, child, kind, n, duration, poll, workdir)
    finally:
        api.close()
        if child.poll() is None:
            child.kill()
            child.wait(10)
        errlog.close()


def _drive(
    emu: EmulatorProcess,
    api: _Api,
    child: subprocess.Popen[str],
    kind: str,
    n: int,
    duration: float,
    poll: float,
    workdir: Path,
) -> dict[str, Any]:
    assert child.stdout is not None and child.stdin is not None
    ready = child.stdout.readline()
    if not ready.startswith("READY"):
        raise RuntimeError(f"child failed: {ready!r} {(workdir / 'child.err').read_text()[-3000:]}")
    proc = psutil.Process(child.pid)
    rss_ready = proc.memory_info().rss

    source = "-"
    if kind == "music":
        # Slot i waits for a first generation that completes during the run (10%..85% of it), then
        # for a second one that does not: N triggers stay alive throughout, N complete mid-run.
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
    result = json.loads(out.split(None, 1)[1])
    try:
        result.update(json.loads(probe.communicate(timeout=30)[0]))
    except (subprocess.TimeoutExpired, ValueError):
        probe.kill()
        result["probe_max_stall_ms"] = result["probe_stalls_over_50ms"] = None

    polls = gets_end - gets_before
    windows = []
    for a, b in itertools.pairwise(samples):
        dp = b["gets"] - a["gets"]
        if dp > 0 and a["t"] >= poll:  # skip the first interval (start-up: connection lookups, clients)
            windows.append((b["cpu"] - a["cpu"]) / dp * 1e6)
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
    ("music", "as-is"): "ours (MusicGenerationTrigger)",
    ("music", "aiohttp"): "ours, aiohttp prototype",
    ("music", "aiohttp+cache"): "ours, aiohttp+settings cache",
    ("music", "first-poll-jitter"): "ours, first-poll jitter",
    ("http", "as-is"): "peer (HttpSensorTrigger)",
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="100 triggers, 20 s, one phase each")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--duration", type=float, default=None)
    p.add_argument("--reps", type=int, default=None)
    p.add_argument("--poll-interval", type=float, default=5.0)
    p.add_argument("--stagger", type=float, default=None, help="spread starts over s (default: one interval)")
    p.add_argument("--burst", action="store_true", help="also run ours with all triggers started at once")
    p.add_argument(
        "--burst-only",
        action="store_true",
        help="only the all-at-once start: ours as-is and with the first-poll-jitter prototype, alternating",
    )
    p.add_argument("--prototype", action="store_true", help="also run ours through the aiohttp prototype")
    p.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in every child after warm-up")
    args = p.parse_args(argv)
    n = args.n or (100 if args.quick else 1000)
    duration = args.duration or (20.0 if args.quick else 65.0)
    reps = args.reps or (1 if args.quick else 2)
    poll = args.poll_interval
    stagger = poll if args.stagger is None else args.stagger

    header(
        f"1. Triggerer scale: {n} triggers in one asyncio loop, poll every {poll:g} s, {duration:g} s per "
        f"phase, {reps} rep(s) alternating{', gc.freeze()' if args.gc_freeze else ''}"
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
            return _burst_only(emu, env, n, min(duration, 35.0), poll, reps, args.gc_freeze)
        protos = [("music", "aiohttp"), ("music", "aiohttp+cache")] if args.prototype else []
        kinds = [("music", "as-is"), *protos, ("http", "as-is")]
        for _ in range(reps):
            for kind, variant in kinds:
                r = run_phase(emu, env, kind, n, duration, poll, stagger, variant, args.gc_freeze)
                r["stagger_s"] = stagger
                phases.append(r)
                _print_phase(r)
        if args.burst:
            burst = run_phase(emu, env, "music", n, min(duration, 35.0), poll, 0.0, "as-is", args.gc_freeze)
            burst["stagger_s"] = 0.0
            _print_phase(burst, label="ours, all started at once")

    def of(kind: str, variant: str) -> list[dict[str, Any]]:
        return [r for r in phases if r["kind"] == kind and r["variant"] == variant]

    ours, peer = of("music", "as-is"), of("http", "as-is")
    proto, proto_cache = of("music", "aiohttp"), of("music", "aiohttp+cache")

    def ratios(a: list[dict[str, Any]]) -> list[float]:
        return [
            round(ratio(x["cpu_per_poll_us"], y["cpu_per_poll_us"]), 3) for x, y in zip(a, peer, strict=False)
        ]

    summary: dict[str, Any] = {
        "n": n,
        "duration_s": duration,
        "poll_interval_s": poll,
        "reps": reps,
        "gc_freeze": args.gc_freeze,
        "ours_max_stall_ms_worst": max(r["max_stall_ms"] for r in ours),
        "ours_max_stall_ms": median([r["max_stall_ms"] for r in ours]),
        "ours_max_stall_excl_gc_ms": median([r["max_stall_excl_gc_ms"] for r in ours]),
        "ours_gc_gen2_max_pause_ms": median([r["gc_max_pause_ms"][2] for r in ours]),
        "peer_max_stall_ms": median([r["max_stall_ms"] for r in peer]),
        "peer_max_stall_excl_gc_ms": median([r["max_stall_excl_gc_ms"] for r in peer]),
        "ours_stalls_over_50ms": [r["stalls_over_50ms"] for r in ours],
        "ours_stalls_excl_gc_over_50ms": [r["stalls_excl_gc_over_50ms"] for r in ours],
        "probe_max_stall_ms": [r["probe_max_stall_ms"] for r in phases],
        "probe_stalls_over_50ms": [r["probe_stalls_over_50ms"] for r in phases],
        "ours_cpu_per_poll_us": median([r["cpu_per_poll_us"] for r in ours]),
        "peer_cpu_per_poll_us": median([r["cpu_per_poll_us"] for r in peer]),
        "cpu_ratio_per_pair": ratios(ours),
        "cpu_ratio": round(median(ratios(ours)), 3),
        "ours_rss_per_trigger_kb": round(median([r["rss_per_trigger_kb"] for r in ours]), 1),
        "ours_rss_peak_per_trigger_kb": round(median([r["rss_peak_per_trigger_kb"] for r in ours]), 1),
        "peer_rss_per_trigger_kb": median([r["rss_per_trigger_kb"] for r in peer]),
        "ours_gc_objects_per_trigger": median([r["gc_objects_per_trigger"] for r in ours]),
        "emulator_cpu_util_max": max(r["emulator_cpu_util"] for r in phases),
        "burst": burst,
    }
    if proto:
        summary.update(
            {
                "proto_cpu_per_poll_us": median([r["cpu_per_poll_us"] for r in proto]),
                "proto_cpu_ratio_per_pair": ratios(proto),
                "proto_cpu_ratio": round(median(ratios(proto)), 3),
                "proto_max_stall_ms": median([r["max_stall_ms"] for r in proto]),
                "proto_max_stall_excl_gc_ms": median([r["max_stall_excl_gc_ms"] for r in proto]),
                "proto_rss_peak_per_trigger_kb": median([r["rss_peak_per_trigger_kb"] for r in proto]),
                "proto_cache_cpu_per_poll_us": median([r["cpu_per_poll_us"] for r in proto_cache]),
                "proto_cache_cpu_ratio_per_pair": ratios(proto_cache),
                "proto_cache_cpu_ratio": round(median(ratios(proto_cache)), 3),
                "proto_cache_max_stall_ms": median([r["max_stall_ms"] for r in proto_cache]),
                "proto_cache_max_stall_excl_gc_ms": median([r["max_stall_excl_gc_ms"] for r in proto_cache]),
                "proto_cache_rss_peak_per_trigger_kb": median(
                    [r["rss_peak_per_trigger_kb"] for r in proto_cache]
                ),
            }
        )
    summary["pass_stall"] = summary["ours_max_stall_ms_worst"] < TARGET_STALL_MS
    summary["pass_cpu"] = summary["cpu_ratio"] <= TARGET_CPU_RATIO
    summary["pass_rss"] = summary["ours_rss_peak_per_trigger_kb"] <= TARGET_RSS_KB
    s = summary
    line("")
    line(
        f"  longest stall, ours: {s['ours_max_stall_ms_worst']:.1f} ms worst of {len(ours)} phases "
        f"(median {s['ours_max_stall_ms']:.1f}; without the GC time in it "
        f"{s['ours_max_stall_excl_gc_ms']:.1f}; longest full GC {s['ours_gc_gen2_max_pause_ms']:.0f}); "
        f"peer {s['peer_max_stall_ms']:.1f} (without GC {s['peer_max_stall_excl_gc_ms']:.1f})"
        f"  target < {TARGET_STALL_MS:g} ms  {verdict(s['pass_stall'])}"
    )
    line(
        f"  stalls > 50 ms per ours phase: {s['ours_stalls_over_50ms']} (without GC: "
        f"{s['ours_stalls_excl_gc_over_50ms']}); the bare-loop probe beside each phase: max "
        f"{s['probe_max_stall_ms']} ms, > 50 ms x{s['probe_stalls_over_50ms']} (machine noise)"
    )
    line(
        f"  CPU per poll: ours {s['ours_cpu_per_poll_us']:.0f} us, HttpSensorTrigger "
        f"{s['peer_cpu_per_poll_us']:.0f} us; ratio (median of side-by-side pairs "
        f"{s['cpu_ratio_per_pair']}) {s['cpu_ratio']:.2f}  target <= {TARGET_CPU_RATIO}  "
        f"{verdict(s['pass_cpu'])}"
    )
    line(
        f"  RSS per trigger: ours {s['ours_rss_per_trigger_kb']:.1f} KB at the end, "
        f"{s['ours_rss_peak_per_trigger_kb']:.1f} KB at peak (peer {s['peer_rss_per_trigger_kb']:.1f} KB)"
        f"  target <= {TARGET_RSS_KB:g} KB  {verdict(s['pass_rss'])}"
    )
    if proto:
        line(
            f"  aiohttp prototype (not shipped): CPU per poll {s['proto_cpu_per_poll_us']:.0f} us, ratio "
            f"{s['proto_cpu_ratio']:.2f} {s['proto_cpu_ratio_per_pair']}; stall "
            f"{s['proto_max_stall_ms']:.1f} ms (without GC {s['proto_max_stall_excl_gc_ms']:.1f}); "
            f"RSS/trigger peak {s['proto_rss_peak_per_trigger_kb']:.1f} KB"
        )
        line(
            f"  aiohttp + settings cache prototype (not shipped): CPU per poll "
            f"{s['proto_cache_cpu_per_poll_us']:.0f} us, ratio {s['proto_cache_cpu_ratio']:.2f} "
            f"{s['proto_cache_cpu_ratio_per_pair']}; stall {s['proto_cache_max_stall_ms']:.1f} ms "
            f"(without GC {s['proto_cache_max_stall_excl_gc_ms']:.1f}); RSS/trigger peak "
            f"{s['proto_cache_rss_peak_per_trigger_kb']:.1f} KB"
        )
    line(
        f"  emulator, busiest phase: {s['emulator_cpu_util_max'] * 100:.0f}% of one core (not the bottleneck "
        f"below ~70%)"
    )
    data = {"summary": summary, "phases": phases}
    save_results(
        "triggerer"
        + ("_gc_freeze" if args.gc_freeze else "")
        + ("_prototype" if proto else "")
        + ("_quick" if args.quick else ""),
        data,
    )
    return data


def _burst_only(
    emu: EmulatorProcess, env: dict[str, str], n: int, duration: float, poll: float, reps: int, freeze: bool
) -> dict[str, Any]:
    """All N triggers started at the same instant (a triggerer restart): as-is vs first-poll jitter."""
    line(f"  all {n} triggers started at once, {duration:g} s per phase")
    phases = []
    for _ in range(reps):
        for variant in ("as-is", "first-poll-jitter"):
            r = run_phase(emu, env, "music", n, duration, poll, 0.0, variant, freeze)
            r["stagger_s"] = 0.0
            phases.append(r)
            _print_phase(r, label=f"{LABELS[('music', variant)]}, burst")
    summary = {
        variant: {
            "max_stall_ms": round(median([r["max_stall_ms"] for r in phases if r["variant"] == variant]), 1),
            "max_stall_excl_gc_ms": round(
                median([r["max_stall_excl_gc_ms"] for r in phases if r["variant"] == variant]), 1
            ),
            "stalls_excl_gc_over_50ms": [
                r["stalls_excl_gc_over_50ms"] for r in phases if r["variant"] == variant
            ],
            "rss_peak_per_trigger_kb": median(
                [r["rss_peak_per_trigger_kb"] for r in phases if r["variant"] == variant]
            ),
        }
        for variant in ("as-is", "first-poll-jitter")
    }
    for variant, fig in summary.items():
        line(
            f"  burst, {variant}: longest stall {fig['max_stall_ms']} ms, without GC "
            f"{fig['max_stall_excl_gc_ms']} ms (> 50 ms without GC per phase: "
            f"{fig['stalls_excl_gc_over_50ms']}), peak RSS per trigger {fig['rss_peak_per_trigger_kb']} KB"
        )
    data = {"summary": summary, "phases": phases}
    save_results("triggerer_burst", data)
    return data


def _print_phase(r: dict[str, Any], label: str | None = None) -> None:
    name = label or LABELS[(r["kind"], r["variant"])]
    line(
        f"  {name:31s} polls {r['polls']:6d} ({r['polls_per_s']:.0f}/s)  "
        f"CPU/poll {r['cpu_per_poll_us']:.0f} us "
        f"(5-s windows median {r['cpu_per_poll_us_window_median']:.0f})  "
        f"stall max {r['max_stall_ms']:.1f} ms "
        f"(p99 {r['p99_stall_ms']:.1f}, >50 ms x{r['stalls_over_50ms']}; without GC max "
        f"{r['max_stall_excl_gc_ms']:.1f} x{r['stalls_excl_gc_over_50ms']}; bare-loop probe beside it "
        f"{r['probe_max_stall_ms']} x{r.get('probe_stalls_over_50ms')})  "
        f"GC max pause gen0/1/2 {r['gc_max_pause_ms']} ms "
        f"x{r['gc_collections']}  RSS/trigger {r['rss_per_trigger_kb']:.1f} KB (peak "
        f"{r['rss_peak_per_trigger_kb']:.1f}), GC objects/trigger {r['gc_objects_per_trigger']:.0f}  "
        f"events {r['events']} errors {r['errors']}  TCP conns open mid-run {r['tcp_established_mid_run']}  "
        f"emulator CPU {r['emulator_cpu_util'] * 100:.0f}%"
    )


if __name__ == "__main__":
    main()
