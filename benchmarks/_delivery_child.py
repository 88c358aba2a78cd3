"""Child process of bench_delivery: one measured transfer in a fresh interpreter (like a task's process).

    python -m benchmarks._delivery_child --method ours|put --dest URI [--gen-id ID --warm-id ID] [--src FILE]

Warm-up first (imports, the storage client, one small transfer to the same kind of destination), then
the kernel's peak-RSS mark is reset (/proc/self/clear_refs = 5) so VmHWM afterwards is the peak of the
measured transfer alone. Prints one JSON line: seconds, CPU seconds (user + system of the whole process, all
its threads, over the call: ``getrusage``), bytes, RSS before, peak RSS, growth; and per step its time and
CPU time.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any


def _status_kb(field: str) -> int:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# The steps of deliver_generation, timed by wrapping the names it looks up as module globals: delivery
# calls some storage functions itself and storage.store_stream calls the others, so each name is wrapped
# in both modules (a call goes through one of them, so it is counted once). The hook's status GET too.
_TIMED_STEPS = {
    "download_hash_write": "write_stream",
    "rename_into_place": "finalize",
    "leftover_check": "remove_leftovers",
    "sidecar": "write_json_atomically",
}
_TIMED_MODULES = ("airflow_provider_music.delivery._deliver", "airflow_provider_music.storage._writer")


def _cpu() -> float:
    """User + system CPU seconds of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _instrument() -> dict[str, float]:
    """Time the steps of deliver_generation (wrappers around the module attributes it looks up)."""
    from airflow_provider_music.hooks.music import MusicGenerationHook

    spent: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t, c = time.perf_counter(), _cpu()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
                spent[name + "_cpu"] = spent.get(name + "_cpu", 0.0) + _cpu() - c

        return wrapper

    for module in map(importlib.import_module, _TIMED_MODULES):
        for step, attr in _TIMED_STEPS.items():
            if hasattr(module, attr):
                setattr(module, attr, timed(step, getattr(module, attr)))
    MusicGenerationHook.get_generation = timed("status_get", MusicGenerationHook.get_generation)  # type: ignore[method-assign]
    return spent


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--method", choices=("ours", "put"), required=True)
    p.add_argument("--dest", required=True, help="folder URI ending in / (file:///... or s3://bucket/...)")
    p.add_argument("--storage-conn-id", default=None)
    p.add_argument("--gen-id")
    p.add_argument("--warm-id")
    p.add_argument("--src", help="local file to upload (method put)")
    p.add_argument("--warm-src", help="small local file to upload first (method put)")
    p.add_argument("--chunk-size", type=int, default=None)
    args = p.parse_args()

    from airflow.sdk import ObjectStoragePath

    from airflow_provider_music.defaults import DEFAULT_CHUNK_SIZE
    from airflow_provider_music.delivery import DeliveryOptions, deliver_generation
    from airflow_provider_music.hooks.music import MusicGenerationHook

    chunk = args.chunk_size or DEFAULT_CHUNK_SIZE
    base = ObjectStoragePath(args.dest, conn_id=args.storage_conn_id)
    name = f"bench-{uuid.uuid4().hex[:8]}"

    phases = _instrument()
    if args.method == "ours":
        hook = MusicGenerationHook()

        def run(gid: str, obj: str) -> tuple[int, str]:
            opts = DeliveryOptions(
                destination=args.dest, storage_conn_id=args.storage_conn_id, object_name=obj, chunk_size=chunk
            )
            manifest = deliver_generation(hook, gid, opts)
            return int(manifest["size_bytes"]), str(manifest["uri"])

        run(args.warm_id, name + "-warm")
        measure = lambda: run(args.gen_id, name)  # noqa: E731
    else:
        fs = base.fs
        root = str(base.path).rstrip("/")

        def put(src: str, obj: str) -> tuple[int, str]:
            fs.put_file(src, f"{root}/{obj}.wav")
            return os.path.getsize(src), f"{root}/{obj}.wav"

        put(args.warm_src, name + "-warm")
        measure = lambda: put(args.src, name)  # noqa: E731

    gc.collect()
    phases.clear()
    peak_reset = _reset_peak()
    rss_before = _status_kb("VmRSS")
    started, cpu_started = time.perf_counter(), _cpu()
    size, where = measure()
    seconds, cpu_s = time.perf_counter() - started, _cpu() - cpu_started
    hwm = _status_kb("VmHWM")
    print(
        json.dumps(
            {
                "method": args.method,
                "seconds": seconds,
                "cpu_s": cpu_s,
                "bytes": size,
                "where": where,
                "rss_before_mb": rss_before / 1024,
                "peak_rss_mb": hwm / 1024,
                "peak_growth_mib": (hwm - rss_before) / 1024,
                "peak_reset": peak_reset,
                "chunk_size": chunk,
                "phases_s": {k: round(v, 4) for k, v in phases.items() if not k.endswith("_cpu")},
                "phases_cpu_s": {k[:-4]: round(v, 4) for k, v in phases.items() if k.endswith("_cpu")},
            }
        ),
        flush=True,
    )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
