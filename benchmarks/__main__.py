"""Run every benchmark and print a summary: ``python -m benchmarks [--quick] [--only NAME ...]``.

Full run: about 20 minutes on 2 cores (the triggerer's 65-s phases with 5,000 triggers take 10-11).
``--quick`` is a smoke run (about 90 s) whose figures are not meant to be compared with the targets.
Raw figures land in ``benchmarks/results/*.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmarks import (
    bench_analysis,
    bench_api_economy,
    bench_dag_parse,
    bench_delivery,
    bench_poll_cost,
    bench_triggerer,
)
from benchmarks._common import header, line, machine_info, save_results, verdict

BENCHES = {
    "dag_parse": bench_dag_parse,
    "api_economy": bench_api_economy,
    "delivery": bench_delivery,
    "triggerer": bench_triggerer,
    "poll_cost": bench_poll_cost,
    "analysis": bench_analysis,
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: small sizes, one repetition")
    p.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run only these")
    args = p.parse_args()
    started = time.monotonic()
    info = machine_info()
    header("machine")
    line(
        f"  nproc {info.get('nproc')}; CPU {info.get('cpu_model')}; Python {info.get('python')}; "
        f"Airflow {info.get('airflow')}; aiohttp {info.get('aiohttp')}; kernel {info.get('kernel')}; "
        f"provider at commit {info.get('commit')}; "
        f"load average at start {info.get('loadavg')}"
    )
    line("  " + str(info.get("free_h", "")).replace("\n", "\n  "))
    quick = ["--quick"] if args.quick else []
    results: dict[str, Any] = {"machine": info, "quick": args.quick}
    for name, module in BENCHES.items():
        if args.only and name not in args.only:
            continue
        t = time.monotonic()
        try:
            results[name] = module.main(quick)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            line(f"  !! {name} failed: {results[name]['error']}")
        line(f"  ({name}: {time.monotonic() - t:.0f} s)")

    header("summary (targets from issues 6 and 17)")
    rows = []
    if "dag_parse" in results and "error" not in results["dag_parse"]:
        d = results["dag_parse"]
        rows.append(("DAG parse: added import time <= 10 ms (median)", f"{d['ours_ms']} ms", d["pass_time"]))
        rows.append(
            (
                "DAG parse: < 0.1 of HttpOperator's module",
                f"{d.get('ratio_http', 'not measured')} (S3 ops: {d.get('ratio_s3', 'n/a')})",
                d.get("pass_ratio"),
            )
        )
        rows.append(
            (
                "DAG parse: no HTTP/S3/boto/audio imports",
                str(d["forbidden_imported"] or "none"),
                d["pass_imports"],
            )
        )
    if "analysis" in results and "error" not in results["analysis"]:
        a = results["analysis"]
        rows.append(("Analysis: 300-s track < 3 s", f"{a['ours_seconds_300s_max']} s", a["pass_time"]))
        rows.append(("Analysis: peak growth < 64 MiB", f"{a['ours_growth_mib_max']} MiB", a["pass_memory"]))
    if "api_economy" in results and "error" not in results["api_economy"]:
        e = results["api_economy"]
        rows.append(("API: polls <= ceil(d/p)+1", f"{e['polls_over_bound']} over", e["pass_polls"]))
        rows.append(("API: zero duplicate POSTs", str(e["duplicate_posts"]), e["pass_posts"]))
        rows.append(
            (
                "API: at most one connection per trigger run (shared pool)",
                str(e["connects_per_run"]),
                e["pass_connections"],
            )
        )
    if "delivery" in results and "error" not in results["delivery"]:
        s = results["delivery"]["summary"]
        judged = s.get("local_speed_judged", True)
        shown = f"{s['local_speed_ratio']}" + ("" if judged else " (not judged: < 4 cores)")
        rows.append(("Delivery local: >= 0.8 of curl", shown, s["pass_local_speed"] if judged else None))
        if "local_cpu_ratio" in s:
            rows.append(
                ("Delivery local: CPU/MB <= 1.5 x curl", f"{s['local_cpu_ratio']} x", s["pass_local_cpu"])
            )
        rows.append(
            (
                "Delivery local: peak growth <= 16 MiB",
                f"{s['ours_peak_growth_mib_max']} MiB",
                s["pass_local_memory"],
            )
        )
        rows.append(
            (
                "Delivery S3: >= 0.8 of s3fs put_file",
                f"{s.get('s3_speed_ratio', 'not measured')}",
                s["pass_s3_speed"],
            )
        )
        rows.append(
            (
                "Delivery S3: peak growth <= 16 MiB",
                f"{s.get('ours-s3_peak_growth_mib_max', 'n/a')} MiB",
                s["pass_s3_memory"],
            )
        )
    if "triggerer" in results and "error" not in results["triggerer"]:
        rows += triggerer_rows(results["triggerer"]["summary"])
    if "poll_cost" in results and "error" not in results["poll_cost"]:
        c = results["poll_cost"]
        shown = f"{c['ours_us']} vs {c['bare_us']} us ({c['ratio']} x)"
        rows.append(("Poll CPU: ours vs a bare aiohttp GET (information)", shown, None))
    for name, value, ok in rows:
        line(f"  {name:52s} {value:38s} {verdict(ok)}")
    line(
        f"\n  total {time.monotonic() - started:.0f} s"
        + ("  (quick mode: figures not comparable)" if args.quick else "")
    )
    save_results("summary" + ("_quick" if args.quick else ""), {"rows": rows, **results})
    print(
        json.dumps({"passed": sum(1 for r in rows if r[2]), "failed": sum(1 for r in rows if r[2] is False)})
    )


def _stall(t: dict[str, Any], prefix: str) -> str:
    if f"{prefix}_max_stall_ms_worst" not in t:
        return "not measured"
    gc_ms = t.get(f"{prefix}_max_stall_ms_worst_gc_ms")
    return f"{t[f'{prefix}_max_stall_ms_worst']} ms ({'?' if gc_ms is None else gc_ms} ms of it GC)"


def triggerer_rows(t: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The triggerer's summary rows: the targets on ours as shipped (the collector left alone); the
    provider's own share of the stall (minus the collector's time), and the opt-in freeze, apart."""
    excl = t.get("ours_max_stall_excl_gc_ms_worst")
    return [
        ("Triggerer: longest stall < 50 ms (as shipped)", _stall(t, "ours"), t.get("pass_stall")),
        (
            "  (same, minus the garbage collector's time)",
            "not measured" if excl is None else f"{excl} ms",
            t.get("pass_stall_excl_gc"),
        ),
        # Informational: a deployment that opts in to the freeze (no verdict counted).
        ("  (same, triggerer_gc_freeze = True)", _stall(t, "ours_freeze_on"), None),
        ("Triggerer: CPU/poll <= 0.5 x HttpSensorTrigger", f"{t['cpu_ratio']}", t["pass_cpu"]),
        ("Triggerer: RSS per trigger <= 32 KB", f"{t.get('ours_rss_peak_per_trigger_kb')} KB", t["pass_rss"]),
        (
            "Triggerer: stall incl. GC <= peer's (as shipped)",
            f"{t.get('ours_max_stall_ms_worst')} vs {t.get('peer_max_stall_ms_worst')} ms",
            t.get("pass_stall_vs_peer"),
        ),
        (
            "Triggerer: stall incl. GC <= peer's (freeze on)",
            f"{t.get('ours_freeze_on_max_stall_ms_worst')} vs {t.get('peer_max_stall_ms_worst')} ms",
            t.get("pass_stall_freeze_on_vs_peer"),
        ),
        (
            "Triggerer: loop work w/o GC < 50 ms (CPU time)",
            f"{t.get('ours_loop_busy_excl_gc_max_ms_worst')} ms",
            t.get("pass_loop_busy_excl_gc"),
        ),
    ]


if __name__ == "__main__":
    main()
