#!/usr/bin/env python3
"""Anisotropy benchmark: the full report on 1,000,000 × 768 float32 (.npy, mapped),
next to (a) one covariance GEMM XᵀX over the same data (numpy, float32) and (b) numpy computing the
same metrics (exact mean cosine, covariance + eigendecomposition, IsoScore, effective rank,
participation ratio, partition function on a 100,000-row sample, rogue dimensions).
Usage: python3 benchmarks/bench_anisotropy.py [--quick]
"""
import sys
import time

import numpy as np
from common import DATA, ensure_dirs, record, run_embdiag, time_python

quick = "--quick" in sys.argv
ensure_dirs()
n, d = (100_000, 768) if quick else (1_000_000, 768)
path = DATA / f"aniso_{n}x{d}.npy"
if not path.exists():
    rng = np.random.default_rng(0)
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    mix = rng.standard_normal((d, d), dtype=np.float32) / np.sqrt(d)
    for s in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - s), d), dtype=np.float32)
        x[s:s + len(block)] = block @ mix + 0.3  # correlated, with a mean: a cone
    x.flush()
    del x


def covariance_gemm():
    x = np.load(path, mmap_mode="r")
    return x.T @ x


def numpy_metrics():
    x = np.load(path, mmap_mode="r")
    norms = np.linalg.norm(x, axis=1)
    u_sum = np.zeros(d)
    u_sq = np.zeros(d)
    for s in range(0, n, 100_000):
        u = x[s:s + 100_000] / norms[s:s + 100_000, None]
        u_sum += u.sum(0)
        u_sq += (u.astype(np.float64) ** 2).sum(0)
    mean_cos = (u_sum @ u_sum - n) / (n * (n - 1))
    mu = x.mean(0, dtype=np.float64)
    c = (x.T @ x).astype(np.float64) / n - np.outer(mu, mu)
    lam = np.sort(np.abs(np.linalg.eigvalsh(c)))[::-1]
    p = lam / lam.sum()
    pr = lam.sum() ** 2 / (lam ** 2).sum()
    iso = (pr - 1) / (d - 1)
    erank = np.exp(-(p * np.log(p)).sum())
    _, vecs = np.linalg.eigh(c + np.outer(mu, mu))
    sample = x[np.sort(np.random.default_rng(1).choice(n, 100_000, replace=False))]
    proj = sample @ vecs.astype(np.float32)
    proj = np.concatenate([proj, -proj], 1).astype(np.float64)
    m = proj.max(0)
    logz = m + np.log(np.exp(proj - m).sum(0))
    contrib = (u_sum ** 2 - u_sq) / (n * (n - 1))
    return mean_cos, iso, erank, np.exp(logz.min() - logz.max()), contrib.argmax()


run_embdiag(["info", str(path), "--no-checksum", "--quiet"])  # page cache
t_e, peak_e, _ = run_embdiag(["anisotropy", str(path), "--pairs", "0", "--no-checksum", "--quiet"], repeat=2)
t_g, _ = time_python(covariance_gemm, repeat=2)
t_p, _ = time_python(numpy_metrics, repeat=1)
record("anisotropy full report", f"{n}x{d} f32", t_e, "numpy XᵀX GEMM", t_g, peak_e,
       note=f"embdiag / one covariance GEMM = {t_e / t_g:.2f} (target ≤ 1.5)")
record("anisotropy full report", f"{n}x{d} f32", t_e, "numpy same metrics", t_p, peak_e,
       note=f"file {path.stat().st_size / 2**20:.0f} MiB mapped")
