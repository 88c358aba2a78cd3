"""Benchmark: a trigger poll's client-side CPU, ours against a bare aiohttp GET of the same status.

Where a poll's CPU goes decides how long the event loop runs when many polls fall due together
(BENCHMARKS.md, triggerer at 5,000). One process, one loop, the emulator in its own process; each
round times ``--polls`` sequential status reads by process CPU time, alternating:

- **ours**: ``MusicGenerationHook.aget_generation`` (what ``MusicGenerationTrigger`` calls each poll:
  build the request, send it through the shared session, bound the body, parse the status, usage);
- **bare**: ``aiohttp.ClientSession.get`` of the same URL with the same key, then ``json.loads``.

The ratio is the median of the per-round ratios; the difference is the provider's own share of a poll.

    python -m benchmarks.bench_poll_cost [--quick] [--rounds 5] [--polls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
from typing import Any

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
    save_results,
)


async def _ours(gid: str, polls: int) -> float:
    from airflow_provider_music.hooks.music import MusicGenerationHook

    hook = MusicGenerationHook("aimlapi_default", max_attempts=1)
    try:
        await hook.aget_generation(gid)  # warm: connection lookup, session, first connect
        cpu = time.process_time()
        for _ in range(polls):
            await hook.aget_generation(gid)
        return (time.process_time() - cpu) / polls
    finally:
        await hook.aclose()


async def _bare(base_url: str, gid: str, polls: int) -> float:
    import aiohttp

    url = f"{base_url}/v2/generate/audio"
    params = {"generation_id": gid}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {EMULATOR_KEY}"}) as session:
        async with session.get(url, params=params) as response:
            await response.read()
        cpu = time.process_time()
        for _ in range(polls):
            async with session.get(url, params=params) as response:
                json.loads(await response.read())
        return (time.process_time() - cpu) / polls


async def _rounds(base_url: str, gid: str, rounds: int, polls: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"ours": [], "bare": []}
    for i in range(rounds):
        for kind in ("ours", "bare") if i % 2 == 0 else ("bare", "ours"):
            seconds = await (_ours(gid, polls) if kind == "ours" else _bare(base_url, gid, polls))
            out[kind].append(seconds * 1e6)
    return out


def _completed_generation(emu: EmulatorProcess) -> str:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(emu.base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    body = {"model": "elevenlabs/eleven_music", "prompt": "bench", "music_length_ms": 10_000}
    headers = {"Authorization": f"Bearer {EMULATOR_KEY}", "Content-Type": "application/json"}
    conn.request("POST", "/v2/generate/audio", json.dumps(body), headers)
    gid = str(json.loads(conn.getresponse().read())["id"])
    conn.close()
    return gid


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round of 200 polls")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--polls", type=int, default=2000)
    p.add_argument("--child", nargs=4, metavar=("BASE_URL", "GID", "ROUNDS", "POLLS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        base_url, gid, n_rounds, n_polls = args.child
        print(json.dumps(asyncio.run(_rounds(base_url, gid, int(n_rounds), int(n_polls)))))
        return {}
    rounds, polls = (1, 200) if args.quick else (args.rounds, args.polls)
    header(f"Poll cost: client CPU per status read, ours vs a bare aiohttp GET, {rounds} x {polls} polls")
    with airflow_home() as env, EmulatorProcess(env, generation_seconds=0.0) as emu:
        # In a fresh interpreter with its own Airflow home and connection, as a triggerer has them.
        child_env = {**env, "AIRFLOW_CONN_AIMLAPI_DEFAULT": aimlapi_conn(emu.base_url)}
        gid = _completed_generation(emu)
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "benchmarks.bench_poll_cost",
                "--child",
                emu.base_url,
                gid,
                str(rounds),
                str(polls),
            ],
            env=child_env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"poll-cost child failed: {done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    ratios = [o / b for o, b in zip(figures["ours"], figures["bare"], strict=True)]
    s: dict[str, Any] = {
        "rounds": rounds,
        "polls": polls,
        "ours_us": round(median(figures["ours"]), 1),
        "bare_us": round(median(figures["bare"]), 1),
        "ratio": round(median(ratios), 3),
        "ours_us_per_round": [round(v, 1) for v in figures["ours"]],
        "bare_us_per_round": [round(v, 1) for v in figures["bare"]],
    }
    line(
        f"  CPU per poll: ours {s['ours_us']} us (rounds {s['ours_us_per_round']}), bare aiohttp GET + json "
        f"{s['bare_us']} us (rounds {s['bare_us_per_round']}); ours / bare {s['ratio']} (median of rounds); "
        f"the provider's own share of a poll about {max(0.0, 1 - 1 / s['ratio']) * 100:.0f}%"
    )
    save_results("poll_cost" + ("_quick" if args.quick else ""), s)
    return s


if __name__ == "__main__":
    main()
