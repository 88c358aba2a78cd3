"""Child process of bench_api_economy: submit generations of known durations and wait for each in a trigger.

Per slot (its own asyncio task): submit through the sync hook (the operator's code path) in a thread,
give the new generation its duration through the emulator's admin API, then run one
``MusicGenerationTrigger`` to its event. TCP connects made by the trigger's HTTP client are counted
per task by wrapping the event loop's ``create_connection`` (the shipped code itself is not changed).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote


def _admin(base: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method="POST" if body else "GET",
    )
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--poll-interval", type=float, default=2.0)
    p.add_argument("--step", type=float, default=0.25, help="generation i takes (i + 1) * step seconds")
    args = p.parse_args()

    from airflow_provider_music.hooks.music import MusicGenerationHook
    from airflow_provider_music.triggers.music import MusicGenerationTrigger

    connects: Counter[str] = Counter()
    original = asyncio.BaseEventLoop.create_connection

    async def counting_create_connection(self: Any, *a: Any, **k: Any) -> Any:
        # Every TCP connection of an asyncio client (aiohttp included) is made here, in the task
        # that needs it: counting by task name gives the connects of each trigger run.
        task = asyncio.current_task()
        connects[task.get_name() if task else "?"] += 1
        return await original(self, *a, **k)

    asyncio.BaseEventLoop.create_connection = counting_create_connection  # type: ignore[method-assign]

    def submit(duration: float) -> str:
        hook = MusicGenerationHook()
        try:
            gid = hook.submit_generation("benchmark: api economy", music_length_ms=10_000)
        finally:
            hook.session.close()
        _admin(
            args.base_url,
            f"/_emulator/generations/{quote(gid, safe='')}",
            {"generation_seconds": duration, "queued_seconds": min(duration, 1.0) / 2},
        )
        return gid

    rows: list[dict[str, Any]] = []

    async def slot(i: int, delay: float) -> None:
        await asyncio.sleep(delay)
        duration = round((i + 1) * args.step, 3)
        gid = await asyncio.to_thread(submit, duration)
        trigger = MusicGenerationTrigger(gid, deadline=time.time() + 600, poll_interval=args.poll_interval)
        started = time.monotonic()
        agen = trigger.run()
        try:
            event = await agen.__anext__()
        finally:
            if isinstance(agen, AsyncGenerator):  # run() is one; its declared type is an AsyncIterator
                await agen.aclose()
        rows.append(
            {
                "slot": i,
                "generation_id": gid,
                "duration_s": duration,
                "status": event.payload.get("status"),
                "trigger_polls": event.payload.get("polls"),
                "waited_s": round(time.monotonic() - started, 2),
                "connects": connects.get(f"slot-{i}", 0),
            }
        )

    async def run() -> None:
        rng = random.Random(3)
        tasks = [asyncio.create_task(slot(i, rng.uniform(0, 2.0)), name=f"slot-{i}") for i in range(args.n)]
        await asyncio.gather(*tasks)

    asyncio.run(run())
    stats = _admin(args.base_url, "/_emulator/stats")
    print(
        json.dumps(
            {
                "rows": rows,
                "stats": {k: v for k, v in stats.items() if k != "generations"},
                "per_generation": {g: {"gets": v["gets"]} for g, v in stats["generations"].items()},
            }
        ),
        flush=True,
    )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
