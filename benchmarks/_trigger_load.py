"""Child process of bench_triggerer: N triggers on one asyncio loop, plus Airflow's block watchdog.

Protocol (the original stdout is kept for it; fd 1, where Airflow's structlog prints, goes to stderr):
  child:  READY <json>         imports done, one trigger run to completion (warm-up), gc'd
  parent: GO <pairs.json|->    start the load (the parent takes its baseline readings before this)
  child:  STARTED <t>          every trigger task is created (their starts spread over --stagger s)
  child:  RESULT <json>        after --duration s: watchdog lateness, GC pauses, events seen

The triggers' own code runs unmodified. A trigger run is what Airflow's TriggerRunner does with it:
iterate ``run()`` to the first event, then close the generator. The heap is frozen for the garbage
collector either by the provider itself (only when the parent sets the opt-in ``[aimlapi]
triggerer_gc_freeze = True`` in this process's environment: the first ``MusicGenerationTrigger.run()``,
here the warm-up, does it) or, for the peer, by ``--gc-freeze`` (``gc.freeze()`` here after the
warm-up); READY reports which objects ended up frozen.

Every watchdog interval records how late it woke and how much of that time the cyclic garbage
collector ran (``gc.callbacks``): the longest stall is reported with the collector's part of it, and
the stalls over 50 ms with the share of their time that was the collector's.

Lateness is wall-clock: on a shared machine it also counts the time this process was not scheduled at
all. So every iteration of the event loop is also timed in the loop thread's own CPU time
(``time.thread_time`` around ``BaseEventLoop._run_once``, minus the collector's time inside it): the
longest stretch of work the loop did without yielding, which is what a trigger's code can be blamed
for, whatever else runs on the machine. An iteration that follows a descheduled stretch also runs
the catch-up of everything that fell due meanwhile, so the longest single callback (``Handle._run``,
one step of one task: a trigger's own code between two awaits) is reported too, and each long
iteration is told apart by what preceded it: right after an iteration in which the collector ran
20 ms or more, it is mostly the catch-up of the timers and answers that fell due during that pause.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import random
import resource
import sys
import time
from typing import Any

_PROTO: Any = None
# Objects frozen before anything of ours ran (CPython 3.12 starts with a few hundred): not a frozen heap.
_FROZEN_AT_START = gc.get_freeze_count()


def _say(text: str) -> None:
    _PROTO.write(text + "\n")
    _PROTO.flush()


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=("music", "http"), required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--duration", type=float, default=65.0)
    p.add_argument("--poll-interval", type=float, default=5.0)
    p.add_argument("--stagger", type=float, default=5.0, help="spread trigger starts over this many seconds")
    p.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() here after the warm-up (the peer's treatment)"
    )
    p.add_argument("--warm-id", required=True, help="a completed generation, for the warm-up run")
    return p.parse_args()


async def _first_event(trigger: Any) -> Any:
    agen = trigger.run()
    try:
        return await agen.__anext__()
    finally:
        await agen.aclose()


def _music_trigger(gid: str, poll: float) -> Any:
    from airflow_provider_music.triggers.music import MusicGenerationTrigger

    return MusicGenerationTrigger(gid, deadline=time.time() + 3600, poll_interval=poll)


def _http_trigger(gid: str, poll: float) -> Any:
    from airflow.providers.http.triggers.http import HttpSensorTrigger

    # The same endpoint and the same authenticated read as ours; it fires on the first non-404.
    return HttpSensorTrigger(
        endpoint="v2/generate/audio",
        http_conn_id="http_bench",
        method="GET",
        data={"generation_id": gid},
        poke_interval=poll,
    )


class _GcClock:
    """Time spent in the cyclic garbage collector, by generation (stalls are often just this)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.pauses: list[tuple[int, float]] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            spent = time.perf_counter() - self._start
            self.total += spent
            self.pauses.append((info["generation"], spent))


class _Watchdog:
    """TriggerRunner.block_watchdog: sleep 0.1 s, see how late it wakes (and how much was the collector's)."""

    def __init__(self, clock: _GcClock) -> None:
        self.clock = clock
        self.lateness: list[float] = []
        self.lateness_net: list[float] = []  # minus the GC time inside the same interval
        self.in_gc_of: list[float] = []  # the GC time inside each interval (same index as lateness)
        self.worst: list[tuple[float, float, float]] = []
        self.stop = asyncio.Event()
        self.t0 = time.monotonic()

    async def run(self) -> None:
        while not self.stop.is_set():
            last, gc_before = time.monotonic(), self.clock.total
            await asyncio.sleep(0.1)
            late = time.monotonic() - last - 0.1
            in_gc = self.clock.total - gc_before
            self.lateness.append(late)
            self.lateness_net.append(max(0.0, late - in_gc))
            self.in_gc_of.append(in_gc)
            if late > 0.02:
                self.worst.append(
                    (round(time.monotonic() - self.t0, 2), round(late * 1000, 1), round(in_gc * 1000, 1))
                )


class _LoopMeter:
    """Each event-loop iteration's CPU time in the loop thread, and the collector's time inside it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: _GcClock) -> None:
        self.clock = clock
        self.iterations = 0
        self.busy_max = 0.0  # the longest iteration, collector included (CPU seconds)
        self.busy_excl_gc_max = 0.0  # the longest iteration without the collector's time in it
        self.over_50ms = 0
        self.over_50ms_excl_gc = 0
        self.busy_total = 0.0
        self._loop: Any = loop
        self._orig = loop._run_once  # type: ignore[attr-defined]  # asyncio's private step
        loop._run_once = self._run_once  # type: ignore[attr-defined]
        self.callback_max = 0.0  # the longest single callback, collector excluded (CPU seconds)
        self.callback_over_50ms = 0
        self.handles = 0  # callbacks run in the current iteration
        self.prev_gc = 0.0  # the collector's time in the previous iteration
        self.after_gc_over_50ms = 0  # long iterations right after a collector pause (catch-up)
        self.not_after_gc_max = 0.0  # the longest iteration without the collector, not after one
        self.worst: list[tuple[float, int, float]] = []  # (ms without GC, callbacks, GC ms before)
        self._orig_handle_run = asyncio.events.Handle._run
        meter = self

        def timed_run(handle: asyncio.Handle) -> None:
            gc_before, t = clock.total, time.thread_time()
            meter._orig_handle_run(handle)
            meter.handles += 1
            net = time.thread_time() - t - (clock.total - gc_before)
            if net > meter.callback_max:
                meter.callback_max = net
            meter.callback_over_50ms += net > 0.05

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]

    def _run_once(self) -> None:
        gc_before, t = self.clock.total, time.thread_time()
        self.handles = 0
        self._orig()
        busy = time.thread_time() - t
        in_gc = self.clock.total - gc_before
        net = max(0.0, busy - in_gc)
        in_gc_prev = self.prev_gc
        after_gc = in_gc_prev >= 0.02
        self.prev_gc = in_gc
        if net > 0.05:
            self.after_gc_over_50ms += after_gc
            self.worst.append((round(net * 1000, 1), self.handles, round(in_gc_prev * 1000, 1)))
        if not after_gc and net > self.not_after_gc_max:
            self.not_after_gc_max = net
        self.iterations += 1
        self.busy_total += busy
        if busy > self.busy_max:
            self.busy_max = busy
        if net > self.busy_excl_gc_max:
            self.busy_excl_gc_max = net
        self.over_50ms += busy > 0.05
        self.over_50ms_excl_gc += net > 0.05

    def stop(self) -> dict[str, Any]:
        self._loop._run_once = self._orig
        asyncio.events.Handle._run = self._orig_handle_run  # type: ignore[method-assign]
        return {
            "callback_excl_gc_max_ms": round(self.callback_max * 1000, 2),
            "callback_excl_gc_over_50ms": self.callback_over_50ms,
            "loop_iterations": self.iterations,
            "loop_busy_max_ms": round(self.busy_max * 1000, 2),
            "loop_busy_excl_gc_max_ms": round(self.busy_excl_gc_max * 1000, 2),
            "loop_busy_over_50ms": self.over_50ms,
            "loop_busy_excl_gc_over_50ms": self.over_50ms_excl_gc,
            "loop_cpu_s": round(self.busy_total, 3),
            "loop_busy_excl_gc_over_50ms_after_gc_pause": self.after_gc_over_50ms,
            "loop_busy_excl_gc_not_after_gc_max_ms": round(self.not_after_gc_max * 1000, 2),
            "loop_busy_worst_ms_callbacks": sorted(self.worst, reverse=True)[:8],
        }


def _ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000, 2)


def _gc_part(late: float, in_gc: float) -> float:
    # The collector may run longer than the lateness it causes (part of it falls inside the
    # 0.1 s the watchdog meant to sleep anyway): its part of a stall is at most the stall.
    return min(late, in_gc)


def _stall_figures(dog: _Watchdog) -> dict[str, Any]:
    lateness, lateness_net, in_gc_of = dog.lateness, dog.lateness_net, dog.in_gc_of
    worst_i = max(range(len(lateness)), key=lateness.__getitem__) if lateness else None
    over = [i for i, late in enumerate(lateness) if late > 0.05]
    over_total = sum(lateness[i] for i in over)
    over_gc = sum(_gc_part(lateness[i], in_gc_of[i]) for i in over)
    return {
        "watchdog_samples": len(lateness),
        "max_stall_ms": _ms(lateness, 1.0),
        "p99_stall_ms": _ms(lateness, 0.99),
        "median_stall_ms": _ms(lateness, 0.5),
        "stalls_over_50ms": sum(x > 0.05 for x in lateness),
        "max_stall_excl_gc_ms": _ms(lateness_net, 1.0),
        # The longest stall and the collector's part of it; the stalls over 50 ms, summed, and
        # the collector's part of that time.
        "max_stall_gc_ms": (
            round(_gc_part(lateness[worst_i], in_gc_of[worst_i]) * 1000, 2) if worst_i is not None else None
        ),
        "stalls_over_50ms_total_ms": round(over_total * 1000, 1),
        "stalls_over_50ms_gc_ms": round(over_gc * 1000, 1),
        "stalls_over_50ms_gc_share": round(over_gc / over_total, 3) if over_total else None,
        "stalls_excl_gc_over_50ms": sum(x > 0.05 for x in lateness_net),
    }


def _gc_figures(clock: _GcClock) -> dict[str, Any]:
    return {
        "gc_collections": [sum(1 for g, _ in clock.pauses if g == k) for k in range(3)],
        "gc_max_pause_ms": [
            round(max([d for g, d in clock.pauses if g == k], default=0.0) * 1000, 2) for k in range(3)
        ],
        "gc_total_s": round(clock.total, 3),
    }


def _pairs(go: str, n: int) -> list[list[str]]:
    """The generation ids each trigger slot polls, one after the other (from the parent's GO line)."""
    source = go.split(None, 1)[1].strip() if " " in go.strip() else "-"
    if source != "-":
        with open(source, encoding="utf-8") as fh:
            pairs: list[list[str]] = json.load(fh)
        return pairs
    # the peer polls ids that do not exist: a 404 each time, so it keeps polling
    return [[f"peer-{i}"] for i in range(n)]


async def _slot(
    make: Any, gids: list[str], poll: float, delay: float, events: dict[str, int], errors: list[str]
) -> None:
    """One trigger slot: after ``delay``, run a trigger per id to its first event, one after the other."""
    await asyncio.sleep(delay)
    for gid in gids:
        try:
            event = await _first_event(make(gid, poll))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        payload = event.payload
        key = payload.get("status", "?") if isinstance(payload, dict) else str(payload)
        events[key] = events.get(key, 0) + 1


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    make = _music_trigger if args.kind == "music" else _http_trigger
    # Warm-up: imports, the connection lookup path, the shared SSL context; not counted. With
    # [aimlapi] triggerer_gc_freeze in the environment, ours freezes the heap in this first run().
    warm = await asyncio.wait_for(_first_event(make(args.warm_id, 0.01)), 60)
    gc.collect()
    if args.gc_freeze:
        gc.freeze()
    objects_ready = len(gc.get_objects())  # what the collector still walks (frozen objects are not)
    frozen = gc.get_freeze_count() - _FROZEN_AT_START
    ready = {"event": str(warm.payload)[:80], "gc_objects": objects_ready, "gc_frozen": frozen}
    _say("READY " + json.dumps(ready))
    go = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    pairs = _pairs(go, args.n)

    clock = _GcClock()
    gc.callbacks.append(clock)
    events: dict[str, int] = {}
    errors: list[str] = []
    dog = _Watchdog(clock)
    meter = _LoopMeter(asyncio.get_running_loop(), clock)

    rng = random.Random(42)
    dog_task = asyncio.create_task(dog.run())
    tasks = [
        asyncio.create_task(
            _slot(make, pairs[i], args.poll_interval, rng.uniform(0, args.stagger), events, errors)
        )
        for i in range(args.n)
    ]
    _say(f"STARTED {time.time():.3f}")
    # BENCH_TRIGGER_PROFILE=FILE: a cProfile of the measured run (slows it: not for the figures).
    profile = os.environ.get("BENCH_TRIGGER_PROFILE")
    profiler = cProfile.Profile()
    if profile:
        profiler.enable()
    await asyncio.sleep(args.duration)
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    alive = sum(not t.done() for t in tasks)
    dog.stop.set()
    await dog_task
    loop_figures = meter.stop()
    gc.callbacks.remove(clock)
    objects_end = len(gc.get_objects())
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    return {
        "kind": args.kind,
        "gc_freeze_in_child": args.gc_freeze,
        "gc_frozen_objects": frozen,
        "aiohttp": getattr(sys.modules.get("aiohttp"), "__version__", None),
        "n": args.n,
        "alive_at_end": alive,
        "events": events,
        "errors": len(errors),
        "error_samples": errors[:5],
        **_stall_figures(dog),
        **loop_figures,
        **_gc_figures(clock),
        "gc_objects_ready": objects_ready,
        "gc_objects_per_trigger": round((objects_end - objects_ready) / args.n, 1),
        "worst_stalls_t_ms_gcms": sorted(dog.worst, key=lambda x: -x[1])[:5],
    }


def _protocol_stream() -> Any:
    """Keep the original stdout for the protocol; send fd 1 (where Airflow's structlog prints) to stderr."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    return proto


def main() -> None:
    global _PROTO
    _PROTO = _protocol_stream()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = asyncio.run(_main(_parse()))
    _say("RESULT " + json.dumps(result))
    sys.stderr.flush()
    os._exit(0)  # do not wait for library thread pools (asgiref, aiohttp resolvers) to wind down


if __name__ == "__main__":
    main()
