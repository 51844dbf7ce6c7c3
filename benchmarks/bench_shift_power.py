#!/usr/bin/env python3
"""Power study of `embdiag shift` on the bundled MiniLM sentence embeddings — not part of
`make test`. For each condition, `--draws` seeded draws of a reference and an other corpus of
`--size` rows each; the rejection rate at alpha = 0.05 of every embdiag test, of the combined
verdict, of `embdiag depth` (its default one-sided test) and — when alibi-detect 0.13 imports — of
its MMDDrift (default settings: bandwidth from the reference, 100 permutations) in the same script.

The corpus is the "games", "science" and "sound" sections (1,450 rows); the "other topic" is the
"fonts" section (350 rows):
  same                the other corpus drawn from the same corpus (false-positive rate)
  contaminated-10/20/40  10/20/40 % of the other corpus replaced by fonts rows
  too-typical         the other corpus drawn from the 40 % most central rows (TTE depth in the corpus)
  narrow-topic        the other corpus drawn from one section only ("science")

Usage: python3 benchmarks/bench_shift_power.py [--draws 100] [--size 150] [--permutations 1000] [--no-alibi]
Writes benchmarks/out/shift_power.json and prints a markdown table.
"""
import argparse
import json
import os
import subprocess
import time
import tempfile
from pathlib import Path

import numpy as np
from common import EMBDIAG, OUT, ROOT, ensure_dirs

ap = argparse.ArgumentParser()
ap.add_argument("--draws", type=int, default=100)
ap.add_argument("--size", type=int, default=150)
ap.add_argument("--permutations", type=int, default=1000)
ap.add_argument("--no-alibi", action="store_true")
ap.add_argument("--conditions", default="", help="comma-separated subset of the conditions (default: all)")
ap.add_argument("--extra", default="", help="extra arguments for embdiag shift, e.g. '--bandwidth-scales 0.5,1,2'")
args = ap.parse_args()
ensure_dirs()

emb = np.load(ROOT / "data/sentences/debian-minilm-l6.npy").astype(np.float32)
sections = np.array((ROOT / "data/sentences/debian-sections.txt").read_text().splitlines()[: len(emb)])
corpus = np.where(sections != "fonts")[0]
topic = np.where(sections == "fonts")[0]
unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
s = unit[corpus].sum(0)
depth = 1 + (unit[corpus] @ s - 1) / (len(corpus) - 1)     # leave-one-out TTE cosine depth in the corpus
central = corpus[np.argsort(-depth, kind="stable")[: int(0.4 * len(corpus))]]
narrow = np.where(sections == "science")[0]

alibi = None
if not args.no_alibi:
    try:
        from alibi_detect.cd import MMDDrift
        alibi = MMDDrift
    except Exception as e:  # not installed or no backend
        print("alibi-detect unavailable:", type(e).__name__, e)


def draw(condition, rng):
    ref = rng.choice(corpus, size=args.size, replace=False)
    pool = np.setdiff1d(corpus, ref)
    if condition == "same":
        other = rng.choice(pool, size=args.size, replace=False)
    elif condition.startswith("contaminated"):
        k = int(round(args.size * int(condition.split("-")[1]) / 100))
        other = np.r_[rng.choice(pool, size=args.size - k, replace=False), rng.choice(topic, size=k, replace=False)]
    elif condition == "too-typical":
        other = rng.choice(np.setdiff1d(central, ref), size=args.size, replace=False)
    else:
        other = rng.choice(np.setdiff1d(narrow, ref), size=args.size, replace=False)
    return ref, other


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(p.stderr)


conditions = ["same", "contaminated-10", "contaminated-20", "contaminated-40", "too-typical", "narrow-topic"]
if args.conditions:
    conditions = [c for c in conditions if c in args.conditions.split(",")]
load_before = os.getloadavg()
started = time.time()
keys = ["p_value", "p_value_mmd", "p_value_energy", "p_value_classifier", "p_value_depth"]
results = {}
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for condition in conditions:
        rng = np.random.default_rng(["same", "contaminated-10", "contaminated-20", "contaminated-40", "too-typical", "narrow-topic"].index(condition) + 1)
        hits = {k: 0 for k in keys + ["depth_default", "alibi_mmd_drift"]}
        for i in range(args.draws):
            ref, other = draw(condition, rng)
            np.save(tmp / "ref.npy", emb[ref])
            np.save(tmp / "other.npy", emb[other])
            run([EMBDIAG, "shift", str(tmp / "ref.npy"), str(tmp / "other.npy"), "--permutations", str(args.permutations),
                 "--seed", str(i), "--json", str(tmp / "s.json"), "--quiet", "--no-checksum", *args.extra.split()])
            m = json.loads((tmp / "s.json").read_text())["metrics"]
            for k in keys:
                hits[k] += m[k] < 0.05
            run([EMBDIAG, "depth", str(tmp / "ref.npy"), str(tmp / "other.npy"), "--json", str(tmp / "d.json"), "--quiet", "--no-checksum"])
            hits["depth_default"] += json.loads((tmp / "d.json").read_text())["metrics"]["p_value"] < 0.05
            if alibi is not None:
                np.random.seed(i)  # alibi-detect draws its permutations with np.random.permutation
                cd = alibi(emb[ref], backend="tensorflow", p_val=0.05)
                hits["alibi_mmd_drift"] += cd.predict(emb[other])["data"]["p_val"] < 0.05
        results[condition] = {k: v / args.draws for k, v in hits.items() if k != "alibi_mmd_drift" or alibi is not None}
        print(condition, results[condition], flush=True)

out = {"draws": args.draws, "size": args.size, "permutations": args.permutations, "alpha": 0.05, "extra": args.extra,
       "load_average_before": load_before, "load_average_after": os.getloadavg(), "seconds": time.time() - started, "results": results}
(OUT / "shift_power.json").write_text(json.dumps(out, indent=1) + "\n")
cols = list(next(iter(results.values())).keys())
print(f"\n{args.draws} draws, {args.size} vs {args.size} rows, B = {args.permutations}, alpha = 0.05, {out['seconds']:.0f} s, "
      f"load {load_before[0]:.1f} -> {out['load_average_after'][0]:.1f}\n")
print("| condition | " + " | ".join(cols) + " |")
print("|---|" + "---|" * len(cols))
for c, r in results.items():
    print(f"| {c} | " + " | ".join(f"{r[k]:.2f}" for k in cols) + " |")
