"""Benchmark 4: API economy of 100 generations of known durations waited for through the trigger.

Counted at the emulator (another process): POSTs per generation (duplicates = POSTs received minus
generations created) and status GETs per generation, against the bound ceil(duration / poll interval)
+ 1. Counted in the child: TCP connects made by each trigger run's HTTP client (the event loop's
create_connection, wrapped); cross-checked from outside by sampling the child's sockets to the API
port with psutil.

    python -m benchmarks.bench_api_economy [--quick] [--n 100] [--poll-interval 2]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import time
from collections import Counter
from typing import Any

import psutil

from benchmarks._common import (
    PYTHON,
    REPO,
    EmulatorProcess,
    aimlapi_conn,
    airflow_home,
    header,
    line,
    save_results,
    verdict,
)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="20 generations of 0.25-5 s, poll every 1 s")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--poll-interval", type=float, default=None)
    args = p.parse_args(argv)
    n = args.n or (20 if args.quick else 100)
    poll = args.poll_interval or (1.0 if args.quick else 2.0)
    step = 0.25
    header(f"4. API economy: {n} generations of {step:g}..{n * step:g} s, trigger polling every {poll:g} s")
    with airflow_home() as env, EmulatorProcess(env, generation_seconds=3600) as emu:
        env = dict(env)
        env["AIRFLOW_CONN_AIMLAPI_DEFAULT"] = aimlapi_conn(emu.base_url)
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
        child = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "benchmarks._economy_child",
                "--base-url",
                emu.base_url,
                "--n",
                str(n),
                "--poll-interval",
                str(poll),
                "--step",
                str(step),
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # From outside (approximate): the local ports of the child's sockets to the API port, sampled
        # every 0.1 s. A trigger's connection lives as long as its run; the submit and admin calls
        # close theirs within milliseconds, so they are rarely caught.
        proc = psutil.Process(child.pid)
        seen: Counter[int] = Counter()
        max_open = 0
        while child.poll() is None:
            try:
                ports = {
                    c.laddr.port
                    for c in proc.net_connections("tcp")
                    if c.raddr and c.raddr.port == emu.port and c.status == "ESTABLISHED"
                }
            except (psutil.Error, OSError):
                break
            max_open = max(max_open, len(ports))
            seen.update(ports)
            time.sleep(0.1)
        out, err = child.communicate(timeout=600)
        if child.returncode != 0 or not out.strip():
            raise RuntimeError(f"economy child failed: {err[-3000:]}")
        data = json.loads(out.strip().splitlines()[-1])

    rows = data["rows"]
    stats = data["stats"]
    per_gen = data["per_generation"]
    over = []
    for r in rows:
        r["bound"] = math.ceil(r["duration_s"] / poll) + 1
        r["server_gets"] = per_gen[r["generation_id"]]["gets"]
        if r["server_gets"] > r["bound"]:
            over.append(r)
    polls = [r["server_gets"] for r in rows]
    summary = {
        "n": n,
        "poll_interval_s": poll,
        "events": dict(Counter(r["status"] for r in rows)),
        "posts_received": stats["posts"],
        "generations_created": stats["posts_created"],
        "duplicate_posts": stats["posts"] - stats["posts_created"],
        "gets_total": stats["gets"],
        "polls_per_generation_mean": round(sum(polls) / len(polls), 2),
        "polls_over_bound": len(over),
        "over_bound_rows": over[:5],
        "slack_vs_bound": dict(sorted(Counter(r["bound"] - r["server_gets"] for r in rows).items())),
        "trigger_vs_server_poll_mismatch": sum(r["trigger_polls"] != r["server_gets"] for r in rows),
        "connects_per_run": dict(sorted(Counter(r["connects"] for r in rows).items())),
        "tcp_connections_seen_from_outside": len(seen),
        "tcp_max_open_at_once": max_open,
    }
    summary["pass_polls"] = not over
    summary["pass_posts"] = summary["duplicate_posts"] == 0 and stats["posts"] == n
    # Trigger runs of one triggerer share a pool: a run reuses a kept-alive connection or opens one.
    summary["pass_connections"] = set(summary["connects_per_run"]) <= {0, 1}
    line(f"  events: {summary['events']}")
    line(
        f"  polls per generation: mean {summary['polls_per_generation_mean']}, over ceil(d/p)+1: "
        f"{summary['polls_over_bound']} of {n} (bound minus polls -> count: {summary['slack_vs_bound']}); "
        f"trigger's own count differs from the server's for {summary['trigger_vs_server_poll_mismatch']}  "
        f"{verdict(summary['pass_polls'])}"
    )
    line(
        f"  POSTs: {summary['posts_received']} received, {summary['generations_created']} generations, "
        f"{summary['duplicate_posts']} duplicates  {verdict(summary['pass_posts'])}"
    )
    line(
        f"  TCP connects per trigger run -> runs: {summary['connects_per_run']} (outside view: "
        f"{summary['tcp_connections_seen_from_outside']} distinct connections to the API port for {n} runs, "
        f"at most {summary['tcp_max_open_at_once']} open at once)  target: one, reused  "
        f"{verdict(summary['pass_connections'])}"
    )
    save_results("api_economy" + ("_quick" if args.quick else ""), {"summary": summary, "rows": rows})
    return summary


if __name__ == "__main__":
    main()
