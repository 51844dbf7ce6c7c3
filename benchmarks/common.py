"""Shared helpers for embdiag's benchmarks: run embdiag and a Python peer in one run, time both,
record peak memory, and append one result row to benchmarks/out/results.jsonl.

Every benchmark script (benchmarks/bench_<area>.py) calls `record(...)` once per task; `benchmarks/run`
prints the table of all rows.
"""
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
DATA = ROOT / "benchmarks" / "data"
EMBDIAG = os.environ.get("EMBDIAG", str(ROOT / ".build" / "release" / "embdiag"))


def ensure_dirs():
    OUT.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)


def run_embdiag(args, repeat=1):
    """Runs embdiag `repeat` times; returns (best seconds, peak RSS MiB of the last run, stdout)."""
    best = float("inf")
    peak = 0.0
    out = ""
    for _ in range(repeat):
        cmd = ["/usr/bin/time", "-f", "%M", EMBDIAG, *args]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            sys.stderr.write(p.stderr)
            raise SystemExit(f"embdiag failed: {' '.join(args)}")
        lines = p.stderr.strip().splitlines()
        peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
        best = min(best, dt)
        out = p.stdout
    return best, peak, out


def time_python(fn, repeat=1):
    """Best wall time of fn() over `repeat` runs, and its last return value."""
    best = float("inf")
    value = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def python_peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(task, size, embdiag_s, peer_name, peer_s, embdiag_peak_mib=None, peer_peak_mib=None, note=""):
    """Appends one row; ratio = peer time / embdiag time (> 1 means embdiag is faster)."""
    ensure_dirs()
    row = {
        "task": task, "size": size, "embdiag_s": round(embdiag_s, 4), "peer": peer_name,
        "peer_s": round(peer_s, 4), "ratio": round(peer_s / embdiag_s, 3) if embdiag_s > 0 and peer_s > 0 else None,
        "embdiag_peak_mib": None if embdiag_peak_mib is None else round(embdiag_peak_mib, 1),
        "peer_peak_mib": None if peer_peak_mib is None else round(peer_peak_mib, 1), "note": note,
    }
    with open(OUT / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    print(f"{task:40s} {size:28s} embdiag {embdiag_s:8.3f}s  {peer_name} {peer_s:8.3f}s  ratio {row['ratio']}  {note}")
    return row
