"""Benchmark 3: what importing the operator and sensor modules adds to parsing a DAG file, beside peers.

Measured the way a DAG file pays it: each run is a fresh interpreter that first does
``from airflow.sdk import DAG, BaseOperator, BaseSensorOperator`` (what any DAG file pays anyway),
then imports one kind of module set, with the bytecode already cached (a warm-up run of every kind
writes it, as an installed package has it):

- **ours**: ``airflow_provider_music.operators.music``, ``operators.mastering`` and ``sensors.music``;
- **http**: apache-airflow-providers-http's ``airflow.providers.http.operators.http`` (``HttpOperator``);
- **s3**: apache-airflow-providers-amazon's ``airflow.providers.amazon.aws.operators.s3``.

Every round runs the three kinds back to back (in a rotating order, so each sees the same machine
noise), timed by ``perf_counter`` around the imports; the ratio ours/http is taken per round and its
median reported. One more run of ours per round under ``python -X importtime`` lists our modules' self
times (that run is not the timed figure: importtime's own overhead inflates it). The modules that
appear only after the mark are listed and checked against the ones that must not load at DAG-parse
time (async HTTP clients, s3fs/fsspec back ends, boto, audio code, the provider's hooks, clients,
storage, triggers).

    python -m benchmarks.bench_dag_parse [--quick] [--runs 7] [--no-peers]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from typing import Any

from benchmarks._common import PYTHON, REPO, airflow_home, header, line, median, save_results, verdict

TARGET_MS = 10.0
TARGET_RATIO_HTTP = 0.1
MARK = "@@benchmark-mark@@"
KINDS: dict[str, tuple[str, ...]] = {
    "ours": (
        "airflow_provider_music.operators.music",
        "airflow_provider_music.operators.mastering",
        "airflow_provider_music.sensors.music",
    ),
    "http": ("airflow.providers.http.operators.http",),
    "s3": ("airflow.providers.amazon.aws.operators.s3",),
}
# Must not be imported by the operator/sensor modules (prefix match on the module name).
FORBIDDEN = (
    "httpx",
    "httpcore",
    "h11",
    "h2",
    "anyio",
    "aiohttp",  # async HTTP clients
    "s3fs",
    "aiobotocore",
    "boto3",
    "botocore",  # S3 / boto
    "airflow_provider_music._audio",
    "airflow_provider_music.audio",
    "airflow_provider_music.analysis",
    "wave",
    "audioop",
    "mutagen",
    "soundfile",
    "pydub",
    "numpy",
    "scipy",  # audio
    "airflow_provider_music.hooks",
    "airflow_provider_music.clients",
    "airflow_provider_music.storage",
    "airflow_provider_music.triggers",  # built lazily, on a worker
)
# Reported, not judged: heavier libraries worth knowing about.
WATCH = ("requests", "urllib3", "fsspec", "airflow.providers.amazon", "airflow.providers.http")

CODE = """
import json, sys, time
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator
sys.stderr.write({mark!r} + "\\n"); sys.stderr.flush()
before = set(sys.modules)
t = time.perf_counter()
{imports}
wall = time.perf_counter() - t
print(json.dumps({{"wall_ms": wall * 1000, "new": sorted(set(sys.modules) - before),
                   "loaded_before": sorted(before)}}))
"""

_ROW = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def code_for(kind: str) -> str:
    return CODE.format(mark=MARK, imports="\n".join(f"import {m}" for m in KINDS[kind]))


def _one(env: dict[str, str], kind: str, importtime: bool = False) -> dict[str, Any]:
    cmd = [PYTHON, *(["-X", "importtime"] if importtime else []), "-c", code_for(kind)]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if importtime:
        before, _, after = done.stderr.partition(MARK)
        rows = list(_ROW.finditer(after))
        # top level (no nesting): the imports the code itself made; their cumulative times add up
        out["importtime_ms"] = sum(int(m.group(2)) for m in rows if len(m.group(3)) <= 1) / 1000
        out["sdk_importtime_ms"] = (
            sum(int(m.group(2)) for m in _ROW.finditer(before) if len(m.group(3)) <= 1) / 1000
        )
        out["self_us"] = {m.group(4): int(m.group(1)) for m in rows}
    return out


def _hits(names: list[str] | set[str], prefixes: tuple[str, ...]) -> list[str]:
    """The matching prefixes (packages), not every submodule."""
    return sorted({x for n in names for x in prefixes if n == x or n.startswith(x + ".")})


def _peers_available(env: dict[str, str]) -> list[str]:
    code = (
        "import importlib.util as u, json; print(json.dumps([k for k, m in "
        + repr({k: v[0].rsplit(".", 1)[0] for k, v in KINDS.items() if k != "ours"})
        + ".items() if u.find_spec(m) is not None]))"
    )
    done = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    try:
        found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return []
    return found


def summarize(rounds: list[dict[str, dict[str, Any]]], timed: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per kind, the per-round ratios, our modules' self times (medians), the verdicts."""
    kinds = [k for k in KINDS if all(k in r for r in rounds)]
    s: dict[str, Any] = {"runs": len(rounds), "kinds": kinds, "modules": {k: list(KINDS[k]) for k in kinds}}
    for k in kinds:
        walls = [r[k]["wall_ms"] for r in rounds]
        s[f"{k}_ms"] = round(median(walls), 2)
        s[f"{k}_ms_runs"] = [round(w, 2) for w in walls]
        s[f"{k}_new_module_count"] = len(rounds[0][k]["new"])
    for peer in ("http", "s3"):
        if peer in kinds:
            per = [r["ours"]["wall_ms"] / r[peer]["wall_ms"] for r in rounds if r[peer]["wall_ms"] > 0]
            s[f"ratio_{peer}_runs"] = [round(x, 4) for x in per]
            s[f"ratio_{peer}"] = round(median(per), 4)
    # the -X importtime runs of ours: the total and every module's self time (median over runs)
    s["importtime_ms"] = round(median([t["importtime_ms"] for t in timed]), 2)
    s["importtime_ms_runs"] = [round(t["importtime_ms"], 2) for t in timed]
    s["sdk_importtime_ms"] = round(median([t["sdk_importtime_ms"] for t in timed]), 1)
    names = set().union(*(t["self_us"] for t in timed))
    self_ms = {n: round(median([t["self_us"].get(n, 0) for t in timed]) / 1000, 2) for n in names}
    s["self_ms_by_module"] = dict(sorted(self_ms.items(), key=lambda kv: -kv[1]))
    ours_new = rounds[0]["ours"]["new"]
    loaded_before = set(rounds[0]["ours"]["loaded_before"])
    s["new_modules"] = ours_new
    s["new_module_count"] = len(ours_new)
    s["new_provider_modules"] = [m for m in ours_new if m.startswith("airflow_provider_music")]
    s["new_other_modules"] = [m for m in ours_new if not m.startswith("airflow_provider_music")]
    s["forbidden_imported"] = _hits(ours_new, FORBIDDEN)
    s["forbidden_already_loaded_by_airflow_sdk"] = _hits(loaded_before, FORBIDDEN)
    s["watched_imported"] = _hits(ours_new, WATCH)
    # for continuity with earlier rounds: the share of `import airflow.sdk` itself
    s["share_of_sdk_import"] = (
        round(s["ours_ms"] / s["sdk_importtime_ms"], 4) if s["sdk_importtime_ms"] else None
    )
    s["wall_ms"] = s["ours_ms"]
    s["pass_time"] = s["ours_ms"] <= TARGET_MS
    s["pass_ratio"] = s["ratio_http"] < TARGET_RATIO_HTTP if "ratio_http" in s else None
    s["pass_imports"] = not s["forbidden_imported"]
    return s


def report(s: dict[str, Any]) -> None:
    line(
        f"  added import time: ours {s['ours_ms']:.1f} ms median by perf_counter (runs {s['ours_ms_runs']}); "
        f"{s['importtime_ms']:.1f} ms by -X importtime (runs {s['importtime_ms_runs']})  "
        f"target <= {TARGET_MS:g} ms  {verdict(s['pass_time'])}"
    )
    for peer, name in (("http", "HttpOperator module"), ("s3", "amazon S3 operators")):
        if f"{peer}_ms" in s:
            line(
                f"  peer {name} ({', '.join(s['modules'][peer])}): {s[f'{peer}_ms']:.1f} ms median "
                f"(runs {s[f'{peer}_ms_runs']}), {s[f'{peer}_new_module_count']} modules; ours / it "
                f"{s[f'ratio_{peer}']:.3f} (median of per-round ratios {s[f'ratio_{peer}_runs']})"
                + (f"  target < {TARGET_RATIO_HTTP:g}  {verdict(s['pass_ratio'])}" if peer == "http" else "")
            )
    line(
        f"  for scale: `from airflow.sdk import DAG, BaseOperator, BaseSensorOperator` itself "
        f"{s['sdk_importtime_ms']:.0f} ms by -X importtime"
    )
    line(
        f"  {s['new_module_count']} modules added: {', '.join(s['new_modules'])} "
        f"({len(s['new_provider_modules'])} of them the provider's)"
    )
    line(
        f"  forbidden modules imported: {s['forbidden_imported'] or 'none'}  {verdict(s['pass_imports'])}"
        f" (already loaded by airflow.sdk itself: {s['forbidden_already_loaded_by_airflow_sdk'] or 'none'}; "
        f"watched: {s['watched_imported'] or 'none'})"
    )
    top = list(s["self_ms_by_module"].items())[:12]
    line(
        "  largest self times (ms, median of the -X importtime runs): "
        + ", ".join(f"{m} {v}" for m, v in top)
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 rounds")
    p.add_argument("--runs", type=int, default=None, help="rounds (default 7)")
    p.add_argument("--no-peers", action="store_true", help="ours only (no http/amazon comparison)")
    args = p.parse_args(argv)
    runs = args.runs or (2 if args.quick else 7)
    header(
        f"3. DAG-parse cost: operator + sensor modules after `from airflow.sdk import DAG, BaseOperator, "
        f"BaseSensorOperator`, fresh interpreter, bytecode cached, {runs} rounds"
    )
    with airflow_home() as env:
        env = dict(env)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up writes the bytecode, as an install has it
        kinds = ["ours"] + ([] if args.no_peers else _peers_available(env))
        missing = sorted(set(KINDS) - set(kinds) - ({"http", "s3"} if args.no_peers else set()))
        if missing:
            line(f"  peers not installed, not measured: {missing} (benchmarks/run_all.sh installs them)")
        for k in kinds:  # warm-up: bytecode caches, page cache
            _one(env, k)
        _one(env, "ours", importtime=True)
        rounds: list[dict[str, dict[str, Any]]] = []
        timed: list[dict[str, Any]] = []
        for i in range(runs):
            order = kinds[i % len(kinds) :] + kinds[: i % len(kinds)]
            rounds.append({k: _one(env, k) for k in order})
            timed.append(_one(env, "ours", importtime=True))
        load = os.getloadavg()
    summary = summarize(rounds, timed)
    summary["loadavg_end"] = [round(x, 2) for x in load]
    report(summary)
    line(f"  load average at the end: {summary['loadavg_end']}")
    save_results("dag_parse" + ("_quick" if args.quick else ""), summary)
    return summary


if __name__ == "__main__":
    main()
