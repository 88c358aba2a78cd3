"""Benchmark 5: the audio analysis of a 300-second stereo track, side by side with ffmpeg's ``ebur128``.

Tracks (44.1 kHz stereo, written with soundfile, made once per run in a temporary folder):
  music-300s.wav / .mp3  a deterministic stand-in for music: decaying notes over a noise bed under a
                         slow level envelope (16-bit WAV; 128 kbit/s-class MP3 by libsndfile/LAME)
  dense-300s.wav         limited noise, every part of it near the peak: the worst case for the true
                         peak, whose quiet chunks are otherwise skipped
  music-1200s.wav        four times as long: memory must not grow with the length
Each round, on each file, alternately:
  ours    ``analysis.analyze(path, waveform_points=1800)`` (what delivery runs, picture included) in a
          fresh interpreter, after a warm-up on one second of the same format: the call's time, the
          whole process's time, and its peak memory growth (VmHWM after the call minus VmRSS before
          it, the kernel's peak mark reset just before with ``/proc/self/clear_refs``)
  ffmpeg  ``ffmpeg -nostdin -nostats -i FILE -filter_complex ebur128=peak=true -f null -``: wall time
          and the process's peak RSS (from ``wait4``)
Medians over the rounds, and the figures of both side by side (they must agree).

    python -m benchmarks.bench_analysis [--quick] [--rounds 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import PYTHON, REPO, header, line, median, ratio, save_results, verdict

TARGET_SECONDS = 3.0  # issue 15: a 300-second stereo track analysed in under 3 s on 2 cores
TARGET_GROWTH_MIB = 64.0  # ... with peak memory growth under 64 MiB whatever the length
RATE = 44_100
WAVEFORM_POINTS = 1800
KIB_PER_MIB = 1024
_SUMMARY = re.compile(
    r"I:\s+(?P<i>-?[\d.]+|-inf) LUFS.*?LRA:\s+(?P<lra>-?[\d.]+) LU.*?Peak:\s+(?P<tp>-?[\d.]+|-inf) dBFS",
    re.DOTALL,
)


# ------------------------------------------------------------------------------------------- tracks


def _write_track(path: Path, seconds: int, kind: str, fmt: str, subtype: str) -> None:
    """Write ``seconds`` of stereo audio in 10 s pieces (bounded memory), deterministic per kind."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(15)
    total = seconds * RATE
    # Notes: random lengths 0.1-0.6 s, pitch, level, decay and pan; looked up per sample by index.
    lengths = rng.integers(RATE // 10, 6 * RATE // 10, size=total // (RATE // 10) + 1)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    freq = rng.uniform(80.0, 4000.0, len(starts))
    level = 10.0 ** (rng.uniform(-30.0, -6.0, len(starts)) / 20.0)
    decay = rng.uniform(1.0, 8.0, len(starts))
    pan = rng.uniform(0.5, 1.0, len(starts))
    with soundfile.SoundFile(path, "w", samplerate=RATE, channels=2, format=fmt, subtype=subtype) as out:
        for first in range(0, total, 10 * RATE):
            n = np.arange(first, min(first + 10 * RATE, total))
            if kind == "dense":
                piece = np.clip(0.35 * rng.standard_normal((len(n), 2)), -0.89, 0.89)
            else:
                note = np.searchsorted(starts, n, side="right") - 1
                t = (n - starts[note]) / RATE
                wave = level[note] * np.sin(2.0 * np.pi * freq[note] * t) * np.exp(-t * decay[note])
                envelope = 0.65 + 0.35 * np.sin(2.0 * np.pi * n / (RATE * 70.0))
                piece = np.stack((wave, wave * pan[note]), axis=1) + 0.01 * rng.standard_normal((len(n), 2))
                piece = np.clip(1.5 * piece * envelope[:, None], -1.0, 1.0)
            out.write(piece)


def _tracks(folder: Path, quick: bool) -> dict[str, Path]:
    plan = [
        ("music-300s.wav", 300, "music", "WAV", "PCM_16"),
        ("music-300s.mp3", 300, "music", "MP3", "MPEG_LAYER_III"),
        ("dense-300s.wav", 300, "dense", "WAV", "PCM_16"),
    ]
    if not quick:
        plan.append(("music-1200s.wav", 1200, "music", "WAV", "PCM_16"))
    made = {}
    for name, seconds, kind, fmt, subtype in plan:
        path = folder / name
        if not path.exists():
            _write_track(path, seconds, kind, fmt, subtype)
        made[name] = path
    for suffix, fmt, subtype in ((".wav", "WAV", "PCM_16"), (".mp3", "MP3", "MPEG_LAYER_III")):
        warm = folder / f"warm-up{suffix}"
        if not warm.exists():
            _write_track(warm, 1, "music", fmt, subtype)
    return made


# ------------------------------------------------------------------------------------- measurements


def _status_kib(field: str) -> int:
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith(field + ":"):
            return int(row.split()[1])
    raise KeyError(field)


def child(path: str, warm_up: str) -> dict[str, Any]:
    """In a fresh interpreter: warm up, reset the peak mark, analyse ``path`` once."""
    import gc

    from airflow_provider_music.analysis import analyze

    analyze(warm_up, waveform_points=WAVEFORM_POINTS)
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    found = analyze(path, waveform_points=WAVEFORM_POINTS)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    return {
        "seconds": seconds,
        "rss_before_mib": before / KIB_PER_MIB,
        "growth_mib": (peak - before) / KIB_PER_MIB if reset else None,
        "integrated_lufs": found.integrated_loudness_lufs,
        "lra_lu": found.loudness_range_lu,
        "true_peak_dbtp": found.true_peak_dbtp,
        "waveform_points": None if found.waveform is None else found.waveform.length,
    }


def _ours(path: Path, warm_up: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-m", "benchmarks.bench_analysis", "--child", str(path), "--warm-up", str(warm_up)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    rows = [row for row in done.stdout.splitlines() if row.startswith("{")]
    if done.returncode or not rows:
        raise RuntimeError(f"the analysis child failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(rows[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def _ffmpeg(ffmpeg: str, path: Path) -> dict[str, Any]:
    command = [ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-i", str(path)]
    command += ["-filter_complex", "ebur128=peak=true", "-f", "null", "-"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode(errors="replace")
    if proc.returncode:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {text[-2000:]}")
    match = _SUMMARY.search(text[text.rfind("Summary:") :])
    if not match:
        raise RuntimeError(f"no ebur128 summary from ffmpeg: {text[-2000:]}")
    return {
        "seconds": seconds,
        "peak_rss_mib": usage.ru_maxrss / KIB_PER_MIB,
        "integrated_lufs": float(match["i"]),
        "lra_lu": float(match["lra"]),
        "true_peak_dbtp": float(match["tp"]),
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one round, no 1200-s track")
    p.add_argument("--rounds", type=int, default=None, help="rounds per file (default 5; quick 1)")
    p.add_argument("--keep", type=Path, default=None, help="make/keep the tracks in this folder")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--warm-up", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.warm_up)))
        return {}
    rounds = args.rounds or (1 if args.quick else 5)
    ffmpeg = shutil.which("ffmpeg")
    header(f"5. Audio analysis vs ffmpeg ebur128: 44.1 kHz stereo, median of {rounds} rounds")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="music-bench-analysis-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        made = time.perf_counter()
        tracks = _tracks(folder, args.quick)
        line(f"  tracks ready in {time.perf_counter() - made:.0f} s in {folder}")
        files: dict[str, Any] = {}
        for name, path in tracks.items():
            warm_up = folder / f"warm-up{path.suffix}"
            ours, theirs = [], []
            for _ in range(rounds):  # alternate, so both see the same machine noise
                ours.append(_ours(path, warm_up))
                if ffmpeg:
                    theirs.append(_ffmpeg(ffmpeg, path))
            files[name] = _summary(path, ours, theirs)
            _print(name, files[name])
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    timed = [f for name, f in files.items() if "-300s" in name]
    summary: dict[str, Any] = {
        "rounds": rounds,
        "files": files,
        "ours_seconds_300s_max": max(f["ours_seconds"] for f in timed),
        "ours_growth_mib_max": max((f["ours_growth_mib"] or 0.0) for f in files.values()),
    }
    summary["pass_time"] = summary["ours_seconds_300s_max"] < TARGET_SECONDS
    summary["pass_memory"] = summary["ours_growth_mib_max"] < TARGET_GROWTH_MIB
    line(
        f"  slowest 300-s analysis {summary['ours_seconds_300s_max']:.2f} s (target < {TARGET_SECONDS:g} s) "
        f"{verdict(summary['pass_time'])}; largest memory growth {summary['ours_growth_mib_max']:.1f} MiB "
        f"(target < {TARGET_GROWTH_MIB:g} MiB) {verdict(summary['pass_memory'])}"
    )
    save_results("analysis" + ("_quick" if args.quick else ""), summary)
    return summary


def _summary(path: Path, ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> dict[str, Any]:
    growth = [r["growth_mib"] for r in ours if r["growth_mib"] is not None]
    result: dict[str, Any] = {
        "megabytes": round(path.stat().st_size / 1e6, 1),
        "ours_seconds": _round(median([r["seconds"] for r in ours])),
        "ours_seconds_runs": [_round(r["seconds"]) for r in ours],
        "ours_process_seconds": _round(median([r["process_seconds"] for r in ours])),
        "ours_growth_mib": _round(max(growth), 1) if growth else None,
        "ours_figures": {k: _round(ours[0][k], 2) for k in ("integrated_lufs", "lra_lu", "true_peak_dbtp")},
        "waveform_points": ours[0]["waveform_points"],
    }
    if theirs:
        result["ffmpeg_seconds"] = _round(median([r["seconds"] for r in theirs]))
        result["ffmpeg_seconds_runs"] = [_round(r["seconds"]) for r in theirs]
        result["ffmpeg_peak_rss_mib"] = _round(max(r["peak_rss_mib"] for r in theirs), 1)
        result["ffmpeg_figures"] = {k: theirs[0][k] for k in ("integrated_lufs", "lra_lu", "true_peak_dbtp")}
        result["ours_over_ffmpeg"] = _round(ratio(result["ours_seconds"], result["ffmpeg_seconds"]), 2)
    return result


def _print(name: str, r: dict[str, Any]) -> None:
    line(
        f"  {name:16s} {r['megabytes']:6.1f} MB  ours {r['ours_seconds']:.2f} s "
        f"(whole process {r['ours_process_seconds']:.2f} s; runs {r['ours_seconds_runs']}), "
        f"growth {r['ours_growth_mib']} MiB"
    )
    if "ffmpeg_seconds" in r:
        line(
            f"  {'':16s} {'':9s}  ffmpeg {r['ffmpeg_seconds']:.2f} s (runs {r['ffmpeg_seconds_runs']}), "
            f"peak RSS {r['ffmpeg_peak_rss_mib']} MiB; ours/ffmpeg {r['ours_over_ffmpeg']}"
        )
        line(f"  {'':16s} {'':9s}  figures (I LUFS, LRA LU, TP dBTP): ours {r['ours_figures']}")
        line(f"  {'':16s} {'':9s}                                 ffmpeg {r['ffmpeg_figures']}")
    else:
        line("  (ffmpeg is not installed: no reference timing)")


if __name__ == "__main__":
    main(sys.argv[1:])
