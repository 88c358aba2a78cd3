"""Benchmark 2: deliver a 300-second stereo WAV (~53 MB) from the emulator's audio URL.

Four transfers per round, interleaved, several rounds, all in one run:
  curl      ``curl -o`` of a freshly signed audio URL to a local file (curl's own time_total)
  ours      ``_delivery.deliver_generation`` (fresh GET of the status, the body read into reused
            buffers, sha256 inline, or in a thread of its own with 3 or more CPUs, temp object,
            rename, sidecar) into a local folder, in a fresh interpreter
  put       s3fs ``put_file`` of curl's file from disk to the real S3 server (Ceph RGW), through the
            same s3fs filesystem Airflow builds from the ``aws`` connection
  ours-s3   ``deliver_generation`` into ``s3://`` on the same server: a multipart upload straight to
            the final key (two parts in flight), the sidecar one PUT
Peak memory growth of each measured transfer: VmHWM after it minus VmRSS before it, with the
kernel's peak mark reset just before (``/proc/self/clear_refs``), after a small warm-up transfer.
CPU time (user + system) beside the wall time: curl's whole process (``getrusage`` of the child, what
``time curl ...`` shows; its start-up alone, a 404 fetched the same way, is measured every round too),
ours over the call (``getrusage`` inside the child, every thread). Per MB, and ours against curl's,
per round (medians). The CPU target holds on any machine; the speed target needs a free core for each
of the server, our reader and our hash thread (4 or more cores): on fewer it is printed for
information.

    python -m benchmarks.bench_delivery [--quick] [--rounds 5] [--no-s3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks._common import (
    PYTHON,
    REPO,
    EmulatorProcess,
    aimlapi_conn,
    airflow_home,
    header,
    http_json,
    line,
    median,
    ratio,
    save_results,
    verdict,
)

MIB = 2**20
CHUNK = 8 * MIB  # defaults.DEFAULT_CHUNK_SIZE (not imported: this process stays Airflow-free)
S3_BLOCK = max(CHUNK, 5 * MIB)
TARGET_SPEED = 0.8
TARGET_CPU_RATIO = 1.5  # ours' CPU time per MB at most this many times curl's
SPEED_TARGET_CORES = 4
BUCKET = "music-bench"


class S3ServerProcess:
    """``python tests/helpers/s3_server.py --bucket ...``: the connection JSON on stdout."""

    def __init__(self, env: dict[str, str], timeout: float = 180.0) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="music-bench-s3-"))
        self.err = (self.dir / "s3_server.err").open("wb")
        self.proc = subprocess.Popen(
            [PYTHON, str(REPO / "tests" / "helpers" / "s3_server.py"), "--bucket", BUCKET],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self.err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        first = ""
        if sel.select(timeout):
            first = self.proc.stdout.readline()
        sel.close()
        if not first.strip().startswith("{"):
            self.stop()
            tail = (
                (self.dir / "s3_server.err").read_text(errors="replace")[-1500:] if self.dir.exists() else ""
            )
            raise RuntimeError(f"the S3 server gave no connection (exit {self.proc.returncode}): {tail}")
        self.conn = json.loads(first)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        extra = self.conn["extra"]
        return boto3.client(
            "s3",
            endpoint_url=extra["endpoint_url"],
            aws_access_key_id=self.conn["login"],
            aws_secret_access_key=self.conn["password"],
            region_name=extra["region_name"],
            config=Config(s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the script stops its Ceph daemons on SIGTERM
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _child(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "benchmarks._delivery_child", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    rows = [r for r in done.stdout.splitlines() if r.startswith("{")]
    if done.returncode != 0 or not rows:
        raise RuntimeError(f"delivery child failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(rows[-1])
    return result


def _fresh_url(emu: EmulatorProcess, gid: str) -> str:
    body = http_json(
        "GET", f"{emu.base_url}/v2/generate/audio?generation_id={quote(gid, safe='')}", headers=emu.auth
    )
    return str(body["audio_file"]["url"])


def _children_cpu() -> float:
    """User + system CPU seconds of the children waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _curl_run(args: list[str]) -> tuple[str, float]:
    """curl's output and its CPU time (the only child reaped meanwhile: the others run on)."""
    before = _children_cpu()
    done = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=600, check=True)
    return done.stdout, _children_cpu() - before


def _curl(emu: EmulatorProcess, gid: str, out: Path) -> dict[str, Any]:
    url = _fresh_url(emu, gid)
    stdout, cpu_s = _curl_run(["--fail", "-o", str(out), "-w", "%{time_total} %{size_download}", url])
    seconds, size = stdout.split()
    # curl's start-up and a request with no body, the same way: how much of cpu_s is not per byte.
    _, startup_cpu_s = _curl_run(["-o", "/dev/null", f"{emu.base_url}/_bench_nothing_here"])
    return {
        "method": "curl",
        "seconds": float(seconds),
        "bytes": int(float(size)),
        "cpu_s": cpu_s,
        "startup_cpu_s": startup_cpu_s,
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one round, a 60-second track")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--seconds", type=int, default=None, help="track length (default 300)")
    p.add_argument("--no-s3", action="store_true", help="skip the S3 transfers")
    p.add_argument(
        "--local-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the local transfers write (default: /dev/shm, so disk write-back throttling on a "
        "shared VM does not decide the figures; both curl and ours write there)",
    )
    return p.parse_args(argv)


def _start_s3(args: argparse.Namespace, env: dict[str, str]) -> tuple[S3ServerProcess | None, str | None]:
    """The S3 server for the S3 transfers, or None and why not."""
    if args.no_s3:
        return None, "--no-s3"
    try:
        s3 = S3ServerProcess(env)
    except Exception as exc:
        reason = str(exc)[:500]
        line(f"  S3 server unavailable, S3 figures not measured: {reason}")
        return None, reason
    env["AIRFLOW_CONN_S3_BENCH"] = json.dumps(s3.conn)
    return s3, None


def _transfer(
    step: str, env: dict[str, str], emu: EmulatorProcess, local: Path, big: str, warm: str, warm_file: Path
) -> dict[str, Any]:
    """One measured transfer of the big track: curl, ours to local, s3fs put_file, or ours to S3."""
    curl_file = local / "curl.wav"
    if step == "curl":
        return _curl(emu, big, curl_file)
    if step == "ours":
        return _child(
            env, "--method", "ours", "--dest", f"file://{local}/{step}/", "--gen-id", big, "--warm-id", warm
        )
    if step == "put":
        return _child(
            env,
            "--method",
            "put",
            "--dest",
            f"s3://{BUCKET}/put/",
            "--storage-conn-id",
            "s3_bench",
            "--src",
            str(curl_file),
            "--warm-src",
            str(warm_file),
        )
    return _child(
        env,
        "--method",
        "ours",
        "--dest",
        f"s3://{BUCKET}/{step}/",
        "--storage-conn-id",
        "s3_bench",
        "--gen-id",
        big,
        "--warm-id",
        warm,
    )


def _show(r: int, step: str, res: dict[str, Any]) -> None:
    growth = res.get("peak_growth_mib")
    cpu = res.get("cpu_s")
    line(
        f"  round {r} {step:8s} {res['bytes'] / 1e6:6.1f} MB in {res['seconds']:.3f} s "
        f"= {res['mb_per_s']:6.1f} MB/s"
        + (f"  CPU {cpu * 1e3:5.1f} ms = {res['cpu_ms_per_mb']:.2f} ms/MB" if cpu is not None else "")
        + (f" (start-up {res['startup_cpu_s'] * 1e3:.1f} ms)" if "startup_cpu_s" in res else "")
        + (f"  peak RSS growth {growth:.1f} MiB" if growth is not None else "")
        + (f"  steps {res['phases_s']}" if res.get("phases_s") else "")
    )


def _measure(
    args: argparse.Namespace, rounds: int, length_ms: int
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Every round's transfers, interleaved (the order alternates between rounds)."""
    results: dict[str, list[dict[str, Any]]] = {"curl": [], "ours": [], "put": [], "ours-s3": []}
    work = Path(tempfile.mkdtemp(prefix="music-bench-delivery-", dir=args.local_dir))
    line(f"  local folder: {work} ({'tmpfs' if str(work).startswith('/dev/shm') else 'disk'})")
    with airflow_home() as env, EmulatorProcess(env, generation_seconds=0.0) as emu:
        env = dict(env)
        env["AIRFLOW_CONN_AIMLAPI_DEFAULT"] = aimlapi_conn(emu.base_url)
        env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"

        def create(ms: int) -> str:
            body = {"model": "elevenlabs/eleven_music", "prompt": "bench", "music_length_ms": ms}
            return str(http_json("POST", f"{emu.base_url}/v2/generate/audio", body, emu.auth)["id"])

        big, warm = create(length_ms), create(10_000)
        time.sleep(0.2)
        warm_file = work / "warm.wav"
        _curl(emu, warm, warm_file)

        s3, s3_reason = _start_s3(args, env)
        try:
            for r in range(rounds):
                local = work / f"round{r}"
                local.mkdir()
                steps = (
                    ["curl", "ours", "put", "ours-s3"] if r % 2 == 0 else ["ours", "curl", "ours-s3", "put"]
                )
                for step in steps:
                    if step.startswith(("put", "ours-s3")) and s3 is None:
                        continue
                    res = _transfer(step, env, emu, local, big, warm, warm_file)
                    res["round"] = r
                    res["mb_per_s"] = res["bytes"] / res["seconds"] / 1e6
                    if "cpu_s" in res:
                        res["cpu_ms_per_mb"] = res["cpu_s"] * 1e3 / (res["bytes"] / 1e6)
                    results[step].append(res)
                    _show(r, step, res)
                shutil.rmtree(local, ignore_errors=True)
                if s3 is not None:
                    client = s3.client()
                    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
                        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
        finally:
            if s3 is not None:
                s3.stop()
            shutil.rmtree(work, ignore_errors=True)
    return results, s3_reason


def _medians(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per transfer kind: median time, speed, step times and peak memory growth (and its max)."""
    summary: dict[str, Any] = {}
    for k, rows in results.items():
        if rows:
            summary[f"{k}_seconds"] = round(median([x["seconds"] for x in rows]), 3)
            summary[f"{k}_mb_per_s"] = round(median([x["mb_per_s"] for x in rows]), 1)
            if "cpu_s" in rows[0]:
                summary[f"{k}_cpu_s"] = round(median([x["cpu_s"] for x in rows]), 4)
                summary[f"{k}_cpu_ms_per_mb"] = round(median([x["cpu_ms_per_mb"] for x in rows]), 3)
            if "startup_cpu_s" in rows[0]:
                summary[f"{k}_startup_cpu_s"] = round(median([x["startup_cpu_s"] for x in rows]), 4)
            if rows[0].get("phases_cpu_s"):
                summary[f"{k}_phases_cpu_s"] = {
                    ph: round(median([x["phases_cpu_s"].get(ph, 0.0) for x in rows]), 4)
                    for ph in rows[0]["phases_cpu_s"]
                }
            if rows[0].get("phases_s"):
                summary[f"{k}_phases_s"] = {
                    ph: round(median([x["phases_s"].get(ph, 0.0) for x in rows]), 4)
                    for ph in rows[0]["phases_s"]
                }
            if "peak_growth_mib" in rows[0]:
                summary[f"{k}_peak_growth_mib_max"] = round(max(x["peak_growth_mib"] for x in rows), 1)
                summary[f"{k}_peak_growth_mib"] = round(median([x["peak_growth_mib"] for x in rows]), 1)
    return summary


def _per_round(results: dict[str, list[dict[str, Any]]], a: str, b: str) -> list[float]:
    """Ours' speed relative to the baseline, per round: baseline time / our time."""
    by_round = {x["round"]: x for x in results[b]}
    return [
        round(ratio(by_round[x["round"]]["seconds"], x["seconds"]), 3)
        for x in results[a]
        if x["round"] in by_round
    ]


def _cpu_per_round(results: dict[str, list[dict[str, Any]]], less_startup: bool) -> list[float]:
    """Ours' CPU time over curl's, per round (``less_startup``: curl's start-up taken off first)."""
    by_round = {x["round"]: x for x in results["curl"]}
    ratios = []
    for x in results["ours"]:
        curl = by_round.get(x["round"])
        if curl is not None:
            base = curl["cpu_s"] - (curl["startup_cpu_s"] if less_startup else 0.0)
            ratios.append(round(ratio(x["cpu_s"], base), 3))
    return ratios


def _judge_local(summary: dict[str, Any], results: dict[str, list[dict[str, Any]]]) -> None:
    sm = summary
    sm["local_speed_ratio_per_round"] = _per_round(results, "ours", "curl")
    sm["local_speed_ratio"] = round(median(sm["local_speed_ratio_per_round"]), 3)
    sm["pass_local_speed"] = sm["local_speed_ratio"] >= TARGET_SPEED
    sm["local_speed_judged"] = (os.cpu_count() or 1) >= SPEED_TARGET_CORES
    sm["local_cpu_ratio_per_round"] = _cpu_per_round(results, less_startup=False)
    sm["local_cpu_ratio"] = round(median(sm["local_cpu_ratio_per_round"]), 3)
    sm["local_cpu_ratio_less_curl_startup_per_round"] = _cpu_per_round(results, less_startup=True)
    sm["local_cpu_ratio_less_curl_startup"] = round(
        median(sm["local_cpu_ratio_less_curl_startup_per_round"]), 3
    )
    sm["pass_local_cpu"] = sm["local_cpu_ratio"] <= TARGET_CPU_RATIO
    sm["pass_local_memory"] = sm["ours_peak_growth_mib_max"] <= 2 * CHUNK / MIB
    line("")
    line(
        f"  local: wall  ours {sm['ours_seconds']:.3f} s ({sm['ours_mb_per_s']} MB/s) vs curl -o "
        f"{sm['curl_seconds']:.3f} s ({sm['curl_mb_per_s']} MB/s); speed ratio (median of rounds "
        f"{sm['local_speed_ratio_per_round']}) {sm['local_speed_ratio']:.2f}  target >= {TARGET_SPEED}  "
        + (
            verdict(sm["pass_local_speed"])
            if sm["local_speed_judged"]
            else f"not judged: needs >= {SPEED_TARGET_CORES} cores, this machine has {os.cpu_count()} "
            f"(result {verdict(sm['pass_local_speed'])}, for information)"
        )
    )
    line(
        f"  local: CPU   ours {sm['ours_cpu_s'] * 1e3:.1f} ms ({sm['ours_cpu_ms_per_mb']:.2f} ms/MB) "
        f"vs curl -o {sm['curl_cpu_s'] * 1e3:.1f} ms ({sm['curl_cpu_ms_per_mb']:.2f} ms/MB, of which "
        f"start-up {sm['curl_startup_cpu_s'] * 1e3:.1f} ms); ratio (median of rounds "
        f"{sm['local_cpu_ratio_per_round']}) {sm['local_cpu_ratio']:.2f}  target <= {TARGET_CPU_RATIO}  "
        f"{verdict(sm['pass_local_cpu'])}"
    )
    line(
        f"  local: CPU   ratio with curl's start-up taken off (median of rounds "
        f"{sm['local_cpu_ratio_less_curl_startup_per_round']}) "
        f"{sm['local_cpu_ratio_less_curl_startup']:.2f}; "
        f"ours' steps, CPU s: {sm.get('ours_phases_cpu_s')}"
    )
    line(
        f"  local: peak RSS growth {summary['ours_peak_growth_mib']} MiB median, "
        f"{summary['ours_peak_growth_mib_max']} max  target <= {2 * CHUNK // MIB} MiB (2 x 8 MiB chunk)  "
        f"{verdict(summary['pass_local_memory'])}"
    )


def _judge_s3(
    summary: dict[str, Any], results: dict[str, list[dict[str, Any]]], s3_reason: str | None
) -> None:
    sm = summary
    if not results["ours-s3"]:
        summary["pass_s3_speed"] = summary["pass_s3_memory"] = None
        line(f"  S3: not measured ({s3_reason})")
        return
    summary["s3_speed_ratio_per_round"] = _per_round(results, "ours-s3", "put")
    summary["s3_speed_ratio"] = round(median(summary["s3_speed_ratio_per_round"]), 3)
    summary["pass_s3_speed"] = summary["s3_speed_ratio"] >= TARGET_SPEED
    summary["pass_s3_memory"] = summary["ours-s3_peak_growth_mib_max"] <= 2 * S3_BLOCK / MIB
    line(
        f"  S3:    ours {sm['ours-s3_mb_per_s']} MB/s vs s3fs put_file {sm['put_mb_per_s']} MB/s; "
        f"ratio (median of rounds {sm['s3_speed_ratio_per_round']}) {sm['s3_speed_ratio']:.2f}  "
        f"target >= {TARGET_SPEED}  {verdict(sm['pass_s3_speed'])}"
    )
    line(
        f"  S3:    peak RSS growth {sm['ours-s3_peak_growth_mib']} MiB median, "
        f"{sm['ours-s3_peak_growth_mib_max']} max (s3fs put_file: {sm['put_peak_growth_mib']})  "
        f"target <= {2 * S3_BLOCK // MIB} MiB (2 x max(chunk, 5 MiB))  {verdict(sm['pass_s3_memory'])}"
    )
    line(f"  S3:    ours' steps (medians, s): {sm['ours-s3_phases_s']}")
    line(f"  S3:    ours' CPU {sm['ours-s3_cpu_s'] * 1e3:.1f} ms ({sm['ours-s3_cpu_ms_per_mb']:.2f} ms/MB)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    length_ms = (args.seconds or (60 if args.quick else 300)) * 1000

    header(f"2. Delivery: a {length_ms // 1000}-second stereo WAV, {rounds} round(s), transfers interleaved")
    load_before = os.getloadavg()
    line(f"  {os.cpu_count()} cores; load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    results, s3_reason = _measure(args, rounds, length_ms)
    load_after = os.getloadavg()
    line(f"  load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    summary: dict[str, Any] = {
        "rounds": rounds,
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "bytes": results["curl"][0]["bytes"],
        "s3_not_measured": s3_reason,
        **_medians(results),
    }
    _judge_local(summary, results)
    _judge_s3(summary, results, s3_reason)
    data = {"summary": summary, "runs": results}
    save_results("delivery" + ("_quick" if args.quick else ""), data)
    return data


if __name__ == "__main__":
    main()
