#!/usr/bin/env python3
"""Depth benchmark: two corpora of 20,000 × 768, full depth + rank-sum test, next to
(a) the underlying GEMM (numpy F·Gᵀ and F·Fᵀ), (b) tte-depth 1.0.0 on 1,000 rows each (its O(n²)
Python loop), (c) a vectorised numpy/scipy implementation at full size. Cosine TTE depth needs no
pairwise pass in embdiag (O(nd)); chord depth is the GEMM-bound variant and is timed too.
Usage: python3 benchmarks/bench_depth.py [--quick]
"""
import sys

import numpy as np
from common import DATA, ensure_dirs, record, run_embdiag, time_python
from scipy import stats

quick = "--quick" in sys.argv
ensure_dirs()
n, d = (5_000, 768) if quick else (20_000, 768)
rng = np.random.default_rng(0)
paths = []
for name, shift in [("f", 0.0), ("g", 0.05)]:
    p = DATA / f"depth_{name}_{n}x{d}.npy"
    if not p.exists():
        x = rng.standard_normal((n, d), dtype=np.float32) + shift
        np.save(p, x / np.linalg.norm(x, axis=1, keepdims=True))
    paths.append(p)


def gemm():
    f, g = np.load(paths[0]), np.load(paths[1])
    return (f @ f.T).sum() + (f @ g.T).sum()


def numpy_depth(chord=False):
    f, g = np.load(paths[0]).astype(np.float32), np.load(paths[1]).astype(np.float32)
    m = len(f)
    if not chord:
        s = f.sum(0, dtype=np.float64)
        df = 1 + (f @ s - 1) / (m - 1)
        dg = 1 + (g @ s) / m
    else:
        df = np.empty(m)
        dg = np.empty(len(g))
        for a in range(0, m, 2048):
            c = f[a:a + 2048] @ f.T
            dist = np.sqrt(np.maximum(0, 2 - 2 * c))
            idx = np.arange(a, min(a + 2048, m))
            dist[idx - a, idx] = 0
            df[a:a + 2048] = 2 - dist.sum(1) / (m - 1)
            dg[a:a + 2048] = 2 - np.sqrt(np.maximum(0, 2 - 2 * (g[a:a + 2048] @ f.T))).sum(1) / m
    return stats.ranksums(df, dg, alternative="greater")


for distance in ["cosine", "chord"]:
    t_e, peak, _ = run_embdiag(["depth", str(paths[0]), str(paths[1]), "--distance", distance, "--no-checksum", "--quiet"], repeat=2)
    t_n, _ = time_python(lambda: numpy_depth(distance == "chord"), repeat=1)
    record(f"depth ({distance}) + rank-sum test", f"2 × {n}x{d}", t_e, "numpy/scipy vectorised", t_n, peak)
t_g, _ = time_python(gemm, repeat=1)
t_e, _, _ = run_embdiag(["depth", str(paths[0]), str(paths[1]), "--distance", "chord", "--no-checksum", "--quiet"], repeat=1)
record("depth (chord) vs its GEMMs", f"2 × {n}x{d}", t_e, "numpy F·Fᵀ + F·Gᵀ", t_g, note=f"embdiag / GEMM = {t_e / t_g:.2f} (target ≤ 1.5)")

try:
    from tte_depth import StatDepth
    small = DATA / "depth_small.npy"
    f, g = np.load(paths[0])[:1000], np.load(paths[1])[:1000]
    np.save(DATA / "depth_f1000.npy", f)
    np.save(DATA / "depth_g1001.npy", np.load(paths[1])[:1001])  # unequal sizes: avoid the package's equal-size bug
    t_p, _ = time_python(lambda: StatDepth("cosine").depth_rank_test(f.astype(np.float64), np.load(DATA / "depth_g1001.npy").astype(np.float64)))
    t_e, _, _ = run_embdiag(["depth", str(DATA / "depth_f1000.npy"), str(DATA / "depth_g1001.npy"), "--no-checksum", "--quiet"], repeat=3)
    record("depth (cosine) + test", "1000 vs 1001 x768", t_e, "tte-depth 1.0.0", t_p)
except ImportError:
    print("tte-depth not installed: pip install tte-depth==1.0.0 (benchmarks/requirements.txt)")
