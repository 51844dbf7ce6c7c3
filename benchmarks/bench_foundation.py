#!/usr/bin/env python3
"""Foundation benchmarks: embdiag next to numpy in one run.

1. Load a 1,000,000 × 384 float32 .npy and compute row norms:
   `embdiag info --no-checksum` (mmap + norms + NaN/Inf/zero scan) vs np.load + np.linalg.norm.
2. All-pairs cosine on 20,000 × 768 with top-10 selection:
   `embdiag neighbors --k 10` vs numpy (normalise, X·Xᵀ in row blocks, argpartition).
Usage: python3 benchmarks/bench_foundation.py [--quick]
"""
import sys
import numpy as np
from common import DATA, ensure_dirs, record, run_embdiag, time_python

quick = "--quick" in sys.argv
ensure_dirs()
rng = np.random.default_rng(0)

n_load, d_load = (100_000, 384) if quick else (1_000_000, 384)
load_path = DATA / f"gauss_{n_load}x{d_load}.npy"
if not load_path.exists():
    np.save(load_path, rng.standard_normal((n_load, d_load), dtype=np.float32))


def numpy_load_norms():
    x = np.load(load_path)
    return np.linalg.norm(x, axis=1)


run_embdiag(["info", str(load_path), "--no-checksum", "--quiet"])  # warm the page cache
t_e, peak_e, _ = run_embdiag(["info", str(load_path), "--no-checksum", "--quiet"], repeat=3)
t_p, _ = time_python(numpy_load_norms, repeat=3)
record("load .npy + row norms", f"{n_load}x{d_load} f32", t_e, "numpy", t_p, peak_e)

n_pw, d_pw = (5_000, 768) if quick else (20_000, 768)
pw_path = DATA / f"gauss_{n_pw}x{d_pw}.npy"
if not pw_path.exists():
    np.save(pw_path, rng.standard_normal((n_pw, d_pw), dtype=np.float32))


def numpy_pairwise_topk(k=10, block=2048):
    x = np.load(pw_path)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    out = np.empty((x.shape[0], k), dtype=np.int64)
    for s in range(0, x.shape[0], block):
        sims = x[s:s + block] @ x.T
        idx = np.arange(s, min(s + block, x.shape[0]))
        sims[idx - s, idx] = -np.inf  # self excluded
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[s:s + block] = np.take_along_axis(part, order, axis=1)
    return out


t_e, peak_e, _ = run_embdiag(["neighbors", str(pw_path), "--k", "10", "--no-checksum", "--quiet"], repeat=3)
t_p, _ = time_python(numpy_pairwise_topk, repeat=3)
flops = 2.0 * n_pw * n_pw * d_pw
record("all-pairs cosine + top-10", f"{n_pw}x{d_pw} f32", t_e, "numpy", t_p, peak_e,
       note=f"embdiag {flops / t_e / 1e9:.0f} GFLOP/s, numpy {flops / t_p / 1e9:.0f} GFLOP/s (GEMM part)")
