#!/usr/bin/env python3
"""Level of `embdiag shift` over windows under H0 — not part of `make test` (the fast version is
ShiftWindowsTests.windowsHoldTheirLevelUnderTheNull). For each of `--runs` seeded runs: a reference
of `--reference` rows and `--windows` windows of `--size` rows, all disjoint random rows of the
1,800 bundled sentence embeddings (so every window is drawn like the reference), written as a
reference .npy and a directory of window files, then

    embdiag shift ref.npy windows/ --permutations B --seed RUN --json -

Reported: the per-window rejection rate of the raw overall p-value (should be <= alpha), the
family-wise rate of "some window shifted" with Holm (<= alpha) and with BH (FDR = FWER under the
global null, <= alpha), the band's false-alarm rate (windows with effect_excess > 0; nominal
(R + 1 - k)/(R + 1), 1 % for R = 99) and a chi-squared uniformity p of the window p-values.

Usage: python3 benchmarks/bench_shift_windows_level.py [--runs 200] [--windows 5] [--size 30]
           [--reference 150] [--permutations 199] [--alpha 0.05]
Writes benchmarks/out/shift_windows_level.json and prints a markdown table.
"""
import argparse
import json
import math
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from common import EMBDIAG, OUT, ROOT, ensure_dirs

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=200)
ap.add_argument("--windows", type=int, default=5)
ap.add_argument("--size", type=int, default=30)
ap.add_argument("--reference", type=int, default=150)
ap.add_argument("--permutations", type=int, default=199)
ap.add_argument("--band-chunks", type=int, default=99)
ap.add_argument("--alpha", type=float, default=0.05)
args = ap.parse_args()
ensure_dirs()

emb = np.load(ROOT / "data/sentences/debian-minilm-l6.npy").astype(np.float32)
need = args.reference + args.windows * args.size
assert need <= len(emb), f"{need} rows needed, {len(emb)} available"

p_raw, family_holm, family_bh, beyond, with_band, upper_ranks = [], 0, 0, 0, 0, set()
started = time.time()
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for run in range(args.runs):
        rng = np.random.default_rng(10_000 + run)
        rows = rng.permutation(len(emb))[:need]
        np.save(tmp / "ref.npy", emb[rows[: args.reference]])
        wdir = tmp / "windows"
        wdir.mkdir(exist_ok=True)
        for old in wdir.glob("*.npy"):
            old.unlink()
        for w in range(args.windows):
            start = args.reference + w * args.size
            np.save(wdir / f"w{w:03d}.npy", emb[rows[start: start + args.size]])
        p = subprocess.run([EMBDIAG, "shift", str(tmp / "ref.npy"), str(wdir), "--permutations", str(args.permutations),
                            "--seed", str(run), "--band-chunks", str(args.band_chunks), "--alpha", str(args.alpha),
                            "--json", "-", "--quiet"], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"run {run}: embdiag exited {p.returncode}: {p.stderr}")
        report = json.loads(p.stdout)
        table = report["tables"]["windows"]
        col = {c: i for i, c in enumerate(table["columns"])}
        ps = [r[col["p_value"]] for r in table["rows"]]
        holm = [r[col["p_holm"]] for r in table["rows"]]
        bh = [r[col["p_bh"]] for r in table["rows"]]
        excess = [r[col["effect_excess"]] for r in table["rows"]]
        p_raw += ps
        family_holm += any(h < args.alpha for h in holm)
        family_bh += any(b < args.alpha for b in bh)
        for e in excess:
            if e is not None:
                with_band += 1
                beyond += e > 0
        upper_ranks.add(report["metrics"].get("band_false_alarm"))

n = len(p_raw)
per_window = sum(q < args.alpha for q in p_raw) / n
counts = np.histogram(p_raw, bins=10, range=(0, 1))[0]
expected = n / 10
chi2 = float(((counts - expected) ** 2 / expected).sum())
try:
    from scipy.stats import chi2 as chi2_dist
    uniform_p = float(chi2_dist.sf(chi2, 9))
except ImportError:
    uniform_p = float("nan")


def se(rate, count):
    return math.sqrt(max(rate * (1 - rate), 1e-12) / count)


result = {
    "runs": args.runs, "windows_per_run": args.windows, "window_rows": args.size, "reference_rows": args.reference,
    "permutations": args.permutations, "band_chunks": args.band_chunks, "alpha": args.alpha,
    "window_p_values": n, "per_window_rejection": per_window,
    "family_wise_holm": family_holm / args.runs, "family_wise_bh": family_bh / args.runs,
    "band_false_alarm": beyond / max(1, with_band), "band_nominal_false_alarm": sorted(x for x in upper_ranks if x is not None),
    "uniformity_chi2": chi2, "uniformity_p": uniform_p, "p_histogram": counts.tolist(),
    "seconds": round(time.time() - started, 1), "embdiag": EMBDIAG,
}
(OUT / "shift_windows_level.json").write_text(json.dumps(result, indent=1) + "\n")
print(f"| quantity | rate | binomial s.e. | nominal |")
print(f"|---|---|---|---|")
print(f"| per-window rejection, raw p < {args.alpha} ({n} windows) | {per_window:.3f} | {se(per_window, n):.3f} | ≤ {args.alpha} |")
print(f"| family-wise, Holm ({args.runs} runs × {args.windows} windows) | {family_holm / args.runs:.3f} | {se(family_holm / args.runs, args.runs):.3f} | ≤ {args.alpha} |")
print(f"| family-wise, Benjamini–Hochberg | {family_bh / args.runs:.3f} | {se(family_bh / args.runs, args.runs):.3f} | ≤ {args.alpha} |")
print(f"| band false alarm (effect_excess > 0) | {beyond / max(1, with_band):.3f} | {se(beyond / max(1, with_band), max(1, with_band)):.3f} | {result['band_nominal_false_alarm']} |")
print(f"| p-value uniformity (χ², 10 bins) | p = {uniform_p:.3f} | | > 0.001 |")
print(f"({result['seconds']} s)")
