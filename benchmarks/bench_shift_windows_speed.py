#!/usr/bin/env python3
"""Speed of monitoring with a saved reference — not part of `make test`. A synthetic reference of
`--rows` rows × `--dim` (a seeded mixture of 50 Gaussian clusters; synthetic because only the
timing is measured) is saved once with a sample of `--sample` rows and the band of
`--window-rows`-row windows; then `--windows` windows of `--window-rows` rows (drawn from the same
mixture, every fifth one with a shifted cluster mix) are tested from the saved reference, in one
run over a directory of window files. Wall time and peak RSS (/usr/bin/time) of both steps. Then
Evidently's embedding drift and NannyML's domain classifier on the same reference sample and the
first `--peer-windows` windows (peer_windows_speed.py, in their own venvs), extrapolated to all.

Usage: python3 benchmarks/bench_shift_windows_speed.py [--rows 1000000] [--dim 384] [--sample 20000]
           [--windows 100] [--window-rows 10000] [--permutations 200] [--peer-windows 5] [--no-peers]
Writes benchmarks/out/shift_windows_speed.json and prints a markdown table.
"""
import argparse
import os
import json
import shutil
import time

import numpy as np
import subprocess
import sys
from pathlib import Path

from common import DATA, EMBDIAG, OUT, ensure_dirs

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--dim", type=int, default=384)
ap.add_argument("--sample", type=int, default=20_000)
ap.add_argument("--windows", type=int, default=100)
ap.add_argument("--window-rows", type=int, default=10_000)
ap.add_argument("--permutations", type=int, default=200)
ap.add_argument("--tests", default="mmd,energy,classifier,depth")
ap.add_argument("--generate-only", action="store_true", help="write the data files and stop")
ap.add_argument("--peer-windows", type=int, default=5, help="windows each peer is timed on (extrapolated to --windows)")
ap.add_argument("--no-peers", action="store_true")
args = ap.parse_args()
ensure_dirs()

rng = np.random.default_rng(7)
centres = rng.standard_normal((50, args.dim)).astype(np.float32)


def draw(n, weights, out):
    labels = rng.choice(50, size=n, p=weights)
    for start in range(0, n, 100_000):
        end = min(n, start + 100_000)
        out[start:end] = centres[labels[start:end]] + 0.8 * rng.standard_normal((end - start, args.dim)).astype(np.float32)


uniform = np.full(50, 1 / 50)
shifted = uniform.copy()
shifted[:5] *= 3
shifted /= shifted.sum()
ref_path = DATA / f"windows_ref_{args.rows}x{args.dim}.npy"
if not ref_path.exists():
    ref = np.lib.format.open_memmap(ref_path, mode="w+", dtype=np.float32, shape=(args.rows, args.dim))
    draw(args.rows, uniform, ref)
    ref.flush()
    del ref
wdir = DATA / f"windows_{args.windows}x{args.window_rows}x{args.dim}"
if wdir.exists():
    shutil.rmtree(wdir)
wdir.mkdir(parents=True)
for w in range(args.windows):
    block = np.empty((args.window_rows, args.dim), dtype=np.float32)
    draw(args.window_rows, shifted if w % 5 == 4 else uniform, block)
    np.save(wdir / f"w{w:04d}.npy", block)
state = DATA / "windows_ref.state"
if args.generate_only:
    raise SystemExit(0)

def timed(arguments):
    """Wall seconds, CPU seconds (user + system: what the run costs on a shared machine), peak RSS MiB, stdout."""
    p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", EMBDIAG, *arguments], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"embdiag failed: {p.stderr}")
    wall, user, system, rss = p.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(rss) / 1024, p.stdout


save_s, save_cpu, save_mib, _ = timed(["shift", str(ref_path), "--save-reference", str(state), "--max-rows", str(args.sample),
                                   "--chunk", str(args.window_rows), "--quiet", "--no-checksum"])
test_s, test_cpu, test_mib, out = timed(["shift", "--reference", str(state), str(wdir), "--permutations", str(args.permutations),
                                     "--tests", args.tests, "--json", "-", "--quiet", "--no-checksum"])
metrics = json.loads(out)["metrics"]
result = {
    "reference_rows": args.rows, "dim": args.dim, "sample": args.sample, "windows": args.windows, "window_rows": args.window_rows,
    "permutations": args.permutations, "tests": args.tests,
    "save_seconds": round(save_s, 1), "save_cpu_seconds": round(save_cpu, 1), "save_peak_mib": round(save_mib),
    "test_seconds": round(test_s, 1), "test_cpu_seconds": round(test_cpu, 1), "test_peak_mib": round(test_mib),
    "load_average": os.getloadavg()[0],
    "seconds_per_window": round(test_s / args.windows, 2), "windows_shifted": metrics["windows_shifted"],
    "windows_beyond_band": metrics["windows_beyond_band"], "state_bytes": state.stat().st_size,
}
# The peers on the same reference sample and the first windows (they keep no saved reference, so
# they read the reference file each run); their time for all windows is extrapolated linearly.
peers = {}
for peer in [] if args.no_peers else ["evidently", "nannyml"]:
    script = Path(__file__).resolve().parent / "peer_windows_speed.py"
    p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", sys.executable, str(script), peer, str(ref_path), str(wdir),
                        "--sample", str(args.sample), "--windows", str(args.peer_windows)], capture_output=True, text=True)
    if p.returncode != 0:
        peers[peer] = {"error": p.stderr.strip().splitlines()[-2:]}
        continue
    wall, user, system, rss = p.stderr.strip().splitlines()[-1].split()
    peers[peer] = json.loads(p.stdout.strip().splitlines()[-1])
    peers[peer].update({"wall_seconds": float(wall), "cpu_seconds": round(float(user) + float(system), 1), "peak_mib": round(int(rss) / 1024),
                        "extrapolated_seconds": round(peers[peer]["setup_seconds"] + peers[peer]["seconds_per_window"] * args.windows, 1)})
result["peers"] = peers
(OUT / "shift_windows_speed.json").write_text(json.dumps(result, indent=1) + "\n")
print("| step | wall time | CPU time | peak RSS |")
print("|---|---|---|---|")
print(f"| save: {args.rows:,} × {args.dim} reference → sample of {args.sample:,}, σ, band of {args.window_rows:,}-row windows | {save_s:.1f} s | {save_cpu:.1f} s | {save_mib:.0f} MiB |")
print(f"| test {args.windows} windows × {args.window_rows:,} rows from the saved reference (B = {args.permutations}) | {test_s:.1f} s ({test_s / args.windows:.2f} s per window) | {test_cpu:.1f} s | {test_mib:.0f} MiB |")
for peer, v in peers.items():
    if "error" in v:
        print(f"| {peer}: failed | {v['error']} | | |")
        continue
    print(f"| {peer} ({v['method']}), reference sample of {v['reference_sample']:,}, timed on {v['windows']} windows, "
          f"extrapolated to {args.windows} | {v['extrapolated_seconds']:.1f} s ({v['seconds_per_window']:.2f} s per window; "
          f"{v['setup_seconds']:.1f} s to read the reference) | {v['cpu_seconds']:.1f} s for the {v['windows']} windows | {v['peak_mib']} MiB |")
print(json.dumps(result))
