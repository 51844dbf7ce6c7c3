#!/usr/bin/env python3
"""Level and power of `embdiag shift --tests mmd --mmd block` (the block MMD test for large corpora)
against the exact permutation test (`--mmd exact`) on the sizes where both run, and the block test's
time and peak memory on large corpora — not part of `make test` (its fast level check is
BlockMMDTests.levelUnderTheNull).

Data: a seeded mixture of 20 clusters on the unit sphere in --d dimensions (cluster centres random
unit vectors, rows centre + N(0, 0.35²) noise), mixture weights 1/20 each. Conditions for OTHER:
  same       drawn from the same mixture (H₀: the rejection rate is the level)
  grown      one cluster's weight tripled (a topic that grows)
  new-5      5 % of the rows from a 21st cluster (a new topic)
Each draw writes REF and OTHER (n rows each) as .npy and runs both tests with seed = draw.

Usage: python3 benchmarks/bench_shift_block.py [--sizes 1000,4000] [--level-draws 200] [--power-draws 50]
       [--permutations 200] [--d 64] [--large 100000,1000000]
Writes benchmarks/out/shift_block.json and prints markdown tables.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
from common import EMBDIAG, OUT, ensure_dirs

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="1000,4000")
ap.add_argument("--level-draws", type=int, default=200)
ap.add_argument("--power-draws", type=int, default=50)
ap.add_argument("--permutations", type=int, default=200)
ap.add_argument("--d", type=int, default=64)
ap.add_argument("--large", default="100000,1000000", help="sizes per corpus timed with the block test alone ('' to skip)")
args = ap.parse_args()
ensure_dirs()

CLUSTERS = 20
base = np.random.default_rng(2026)
centres = base.standard_normal((CLUSTERS + 1, args.d))
centres /= np.linalg.norm(centres, axis=1, keepdims=True)


def sample(rng, n, condition):
    weights = np.full(CLUSTERS + 1, 1.0)
    weights[CLUSTERS] = 0
    if condition == "grown":
        weights[0] = 3
    weights /= weights.sum()
    if condition == "new-5":
        weights *= 0.95
        weights[CLUSTERS] = 0.05
    labels = rng.choice(CLUSTERS + 1, size=n, p=weights)
    x = centres[labels] + 0.35 * rng.standard_normal((n, args.d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def run(ref, other, mode, seed, extra=()):
    cmd = [EMBDIAG, "shift", ref, other, "--tests", "mmd", "--mmd", mode, "--seed", str(seed), "--no-checksum",
           "--json", "/dev/stdout", "--quiet", *extra]
    if mode == "exact":
        cmd += ["--permutations", str(args.permutations)]
    p = subprocess.run(["/usr/bin/time", "-f", "%M %e", *cmd], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"embdiag failed ({p.returncode}): {p.stderr}")
    peak_kib, seconds = p.stderr.strip().splitlines()[-1].split()
    metrics = json.loads(p.stdout)["metrics"]
    return metrics["p_value_mmd"], float(seconds), int(peak_kib) / 1024


results = {"d": args.d, "permutations": args.permutations, "rates": [], "large": [], "load": os.getloadavg()}
with tempfile.TemporaryDirectory() as tmp:
    ref_path, other_path = os.path.join(tmp, "ref.npy"), os.path.join(tmp, "other.npy")
    for n in [int(s) for s in args.sizes.split(",") if s]:
        for condition in ["same", "grown", "new-5"]:
            draws = args.level_draws if condition == "same" else args.power_draws
            p = {"exact": [], "block": []}
            seconds = {"exact": 0.0, "block": 0.0}
            for draw in range(draws):
                rng = np.random.default_rng([n, ["same", "grown", "new-5"].index(condition), draw])
                np.save(ref_path, sample(rng, n, "same"))
                np.save(other_path, sample(rng, n, condition))
                for mode in p:
                    value, t, _ = run(ref_path, other_path, mode, draw)
                    p[mode].append(value)
                    seconds[mode] += t
            row = {"n": n, "condition": condition, "draws": draws}
            for mode in p:
                row[f"{mode}_rejection"] = float(np.mean(np.array(p[mode]) < 0.05))
                row[f"{mode}_mean_seconds"] = seconds[mode] / draws
            results["rates"].append(row)
            print(row, flush=True)
    for n in [int(s) for s in args.large.split(",") if s]:
        rng = np.random.default_rng([n, 99])
        # Written in chunks so the script itself never holds more than one corpus.
        for path, condition in [(ref_path, "same"), (other_path, "new-5")]:
            out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, args.d))
            for start in range(0, n, 100_000):
                out[start:start + 100_000] = sample(rng, min(100_000, n - start), condition)
            out.flush()
            del out
        value, t, peak = run(ref_path, other_path, "block", 1)
        row = {"n": n, "p_value": value, "seconds": t, "peak_mib": peak,
               "input_mib": 2 * n * args.d * 4 / 2**20, "load": os.getloadavg()[0]}
        results["large"].append(row)
        print(row, flush=True)

(OUT / "shift_block.json").write_text(json.dumps(results, indent=1))
print(f"\nd = {args.d}, B = {args.permutations} (exact); load average {results['load']}\n")
print("| rows per corpus | condition | draws | exact: rejection at 0.05 | block: rejection at 0.05 | exact s/run | block s/run |")
print("|---|---|---|---|---|---|---|")
for r in results["rates"]:
    print(f"| {r['n']:,} | {r['condition']} | {r['draws']} | {r['exact_rejection']:.3f} | {r['block_rejection']:.3f} | "
          f"{r['exact_mean_seconds']:.2f} | {r['block_mean_seconds']:.2f} |")
if results["large"]:
    print("\n| rows per corpus | block test s | peak RSS MiB | input MiB (both corpora) | p-value (new-5) |")
    print("|---|---|---|---|---|")
    for r in results["large"]:
        print(f"| {r['n']:,} | {r['seconds']:.1f} | {r['peak_mib']:.0f} | {r['input_mib']:.0f} | {r['p_value']:.3g} |")
