"""Benchmark 3: what importing the operator and sensor modules adds to DAG parsing (after airflow.sdk).

Each run is a fresh interpreter: ``import airflow.sdk``, then the provider's operator and sensor
modules. Two measures, medians of several runs: ``python -X importtime`` (the cumulative time of the
top-level imports after the mark) and a plain ``perf_counter`` around the same imports (no importtime
overhead). The modules that appear only after the mark are listed and checked against the ones that
must not load at DAG-parse time (async HTTP clients, s3fs/fsspec back ends, boto, audio code).

    python -m benchmarks.bench_dag_parse [--quick] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from typing import Any

from benchmarks._common import PYTHON, REPO, airflow_home, header, line, median, save_results, verdict

TARGET_MS = 30.0
MARK = "@@benchmark-mark@@"
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
    "wave",
    "audioop",
    "mutagen",
    "soundfile",
    "pydub",  # audio
    "airflow_provider_music.hooks",
    "airflow_provider_music.clients",
    "airflow_provider_music.storage",
    "airflow_provider_music.triggers",  # built lazily, on a worker
)
# Reported, not judged: heavier libraries worth knowing about.
WATCH = ("requests", "urllib3", "fsspec", "airflow.providers.amazon", "airflow.providers.http")

CODE = f"""
import json, sys, time
import airflow.sdk
sys.stderr.write({MARK!r} + "\\n"); sys.stderr.flush()
before = set(sys.modules)
t = time.perf_counter()
import airflow_provider_music.operators.music
import airflow_provider_music.sensors.music
wall = time.perf_counter() - t
print(json.dumps({{"wall_ms": wall * 1000, "new": sorted(set(sys.modules) - before),
                   "loaded_before": sorted(before)}}))
"""

_ROW = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _one(env: dict[str, str], importtime: bool) -> dict[str, Any]:
    cmd = [PYTHON, *(["-X", "importtime"] if importtime else []), "-c", CODE]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if importtime:
        before, _, after = done.stderr.partition(MARK)

        def top_level_ms(text: str) -> float:
            total = 0
            for m in _ROW.finditer(text):
                if len(m.group(3)) <= 1:  # no nesting: an import made by the code itself
                    total += int(m.group(2))
            return total / 1000

        out["importtime_ms"] = top_level_ms(after)
        out["sdk_importtime_ms"] = top_level_ms(before)
        out["self_us_by_module"] = sorted(
            ((m.group(4), int(m.group(1))) for m in _ROW.finditer(after)), key=lambda x: -x[1]
        )[:8]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 runs of each kind")
    p.add_argument("--runs", type=int, default=None)
    args = p.parse_args(argv)
    runs = args.runs or (2 if args.quick else 7)
    header(
        f"3. DAG-parse cost: operator + sensor modules after `import airflow.sdk`, {runs} runs of each kind"
    )
    with airflow_home() as env:
        _one(env, False)  # warm-up: byte-code caches, page cache
        timed, plain = [], []
        for _ in range(runs):  # alternate, so both kinds see the same machine noise
            timed.append(_one(env, True))
            plain.append(_one(env, False))
    new = timed[0]["new"]
    loaded_before = set(timed[0]["loaded_before"])

    def hits(names: list[str] | set[str], prefixes: tuple[str, ...]) -> list[str]:
        """The matching prefixes (packages), not every submodule."""
        return sorted({x for n in names for x in prefixes if n == x or n.startswith(x + ".")})

    summary = {
        "runs": runs,
        "importtime_ms": round(median([r["importtime_ms"] for r in timed]), 2),
        "importtime_ms_runs": [round(r["importtime_ms"], 2) for r in timed],
        "wall_ms": round(median([r["wall_ms"] for r in plain]), 2),
        "wall_ms_runs": [round(r["wall_ms"], 2) for r in plain],
        "sdk_importtime_ms": round(median([r["sdk_importtime_ms"] for r in timed]), 1),
        "new_modules": new,
        "new_module_count": len(new),
        "forbidden_imported": hits(new, FORBIDDEN),
        "forbidden_already_loaded_by_airflow_sdk": hits(loaded_before, FORBIDDEN),
        "watched_imported": hits(new, WATCH),
        "slowest_self_us": timed[0]["self_us_by_module"],
    }
    summary["share_of_sdk_import"] = round(summary["importtime_ms"] / summary["sdk_importtime_ms"], 3)
    summary["pass_time"] = summary["importtime_ms"] <= TARGET_MS and summary["wall_ms"] <= TARGET_MS
    summary["pass_imports"] = not summary["forbidden_imported"]
    s = summary
    line(
        f"  added import time: {s['importtime_ms']:.1f} ms by -X importtime "
        f"(runs {s['importtime_ms_runs']}), "
        f"{s['wall_ms']:.1f} ms by perf_counter (runs {s['wall_ms_runs']})  target <= {TARGET_MS:g} ms  "
        f"{verdict(s['pass_time'])}"
    )
    line(
        f"  for scale: `import airflow.sdk` itself {summary['sdk_importtime_ms']:.0f} ms; ours adds "
        f"{summary['share_of_sdk_import'] * 100:.1f}% of that"
    )
    line(f"  {len(new)} modules added: {', '.join(new)}")
    line(
        f"  forbidden modules imported: {s['forbidden_imported'] or 'none'}  {verdict(s['pass_imports'])}"
        f" (already loaded by airflow.sdk itself: {s['forbidden_already_loaded_by_airflow_sdk'] or 'none'}; "
        f"watched: {s['watched_imported'] or 'none'})"
    )
    line(f"  largest self times (us): {summary['slowest_self_us']}")
    save_results("dag_parse" + ("_quick" if args.quick else ""), summary)
    return summary


if __name__ == "__main__":
    main()
