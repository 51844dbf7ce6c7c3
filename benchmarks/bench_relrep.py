#!/usr/bin/env python3
"""Relative-representation benchmark: embdiag relrep next to numpy in one run.

Full comparison of a 100,000 × 768 space with a 100,000 × 384 space (rows paired; Y = X·W + noise so
the numbers are not trivially 0 or 1) with 1,000 random anchors:
relative projection of both spaces, per-row relative cosine, cross-space top-1/MRR (1,000 query
rows × all rows), k-NN Jaccard in the absolute and relative spaces and mutual k-NN (k = 5, same
queries), linear and debiased CKA, and the anchor sweep 10/50/100/300/1000.
The numpy side does the same work the same way (feature-space CKA in float64, blocked GEMMs); it is
what a careful user would write — latentis' CKA builds n × n matrices and cannot run at n = 100,000.
Usage: python3 benchmarks/bench_relrep.py [--quick]
Timings on the shared 2-core machine are noisy (±10 %).
"""
import sys
import time

import numpy as np
from common import DATA, ensure_dirs, python_peak_mib, record, run_embdiag, time_python

quick = "--quick" in sys.argv
ensure_dirs()
n = 20_000 if quick else 100_000
dx, dy, n_anchors, k, n_queries = 768, 384, 1000, 5, 1000
sweep = [10, 50, 100, 300, 1000]
x_path, y_path = DATA / f"relrep_x_{n}x{dx}.npy", DATA / f"relrep_y_{n}x{dy}.npy"
if not x_path.exists() or not y_path.exists():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dx), dtype=np.float32) @ (rng.standard_normal((dx, dx), dtype=np.float32) / np.sqrt(dx))
    w = rng.standard_normal((dx, dy), dtype=np.float32) / np.sqrt(dx)
    y = x @ w + 2.0 * rng.standard_normal((n, dy), dtype=np.float32)
    np.save(x_path, x.astype(np.float32))
    np.save(y_path, y.astype(np.float32))
    del x, y


def unit(a):
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def ranks(q, g, rows, block=256):
    out = np.empty(len(rows), dtype=np.int64)
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        sims = q[r] @ g.T
        t = sims[np.arange(len(r)), r][:, None]
        idx = np.arange(g.shape[0])[None, :]
        out[s:s + block] = 1 + np.sum((sims > t) | ((sims == t) & (idx < r[:, None])), axis=1)
    return out


def knn(u, rows, k, block=1024):
    out = []
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        sims = u[r] @ u.T
        sims[np.arange(len(r)), r] = -np.inf
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        out.extend(set(p) for p in part)
    return out


def cka_both(x, y, block=8192):
    x64m, y64m = x.mean(0, dtype=np.float64), y.mean(0, dtype=np.float64)
    xx = np.zeros((x.shape[1],) * 2); yy = np.zeros((y.shape[1],) * 2); xy = np.zeros((x.shape[1], y.shape[1]))
    a = []; b = []
    for s in range(0, x.shape[0], block):
        xb = x[s:s + block].astype(np.float64) - x64m
        yb = y[s:s + block].astype(np.float64) - y64m
        xx += xb.T @ xb; yy += yb.T @ yb; xy += xb.T @ yb
        a.append(np.einsum("ij,ij->i", xb, xb)); b.append(np.einsum("ij,ij->i", yb, yb))
    a = np.concatenate(a); b = np.concatenate(b)
    m = x.shape[0]
    fxy, fxx, fyy = np.sum(xy ** 2), np.sum(xx ** 2), np.sum(yy ** 2)

    def hsic(f, sa, sb, sab):
        return (f - sab + sa * sb / ((m - 1) * (m - 2)) - 2 / (m - 2) * sab) / (m * (m - 3))
    biased = fxy / np.sqrt(fxx * fyy)
    debiased = hsic(fxy, a.sum(), b.sum(), np.sum(a * b)) / np.sqrt(hsic(fxx, a.sum(), a.sum(), np.sum(a * a)) * hsic(fyy, b.sum(), b.sum(), np.sum(b * b)))
    return biased, debiased


def relative(x, anchors):
    return unit(unit(x) @ unit(x[anchors]).T)


def numpy_full():
    x = np.load(x_path); y = np.load(y_path)
    rng = np.random.default_rng(42)
    anchors = np.sort(rng.choice(n, n_anchors, replace=False))
    evaluation = np.setdiff1d(np.arange(n), anchors)
    queries = np.sort(rng.choice(evaluation, n_queries, replace=False))
    rx, ry = relative(x, anchors), relative(y, anchors)
    cos = np.einsum("ij,ij->i", rx, ry)[evaluation].mean()
    rk = ranks(rx, ry, queries)
    jr = np.mean([len(p & q) / len(p | q) for p, q in zip(knn(rx, queries, k), knn(ry, queries, k))])
    del rx, ry
    ux, uy = unit(x), unit(y)
    kx, ky = knn(ux, queries, k), knn(uy, queries, k)
    ja = np.mean([len(p & q) / len(p | q) for p, q in zip(kx, ky)])
    mk = np.mean([len(p & q) / k for p, q in zip(kx, ky)])
    del ux, uy
    biased, debiased = cka_both(x, y)
    points = []
    for c in sweep:
        a = np.sort(rng.choice(n, c, replace=False))
        sx, sy = relative(x, a), relative(y, a)
        q = np.setdiff1d(queries, a)
        r = ranks(sx, sy, q)
        points.append((c, np.einsum("ij,ij->i", sx, sy).mean(), np.mean(r == 1), np.mean(1 / r)))
    return dict(relative_cosine_mean=cos, relative_top1=np.mean(rk == 1), relative_mrr=np.mean(1 / rk),
                knn_jaccard_relative=jr, knn_jaccard=ja, mutual_knn=mk, cka_linear=biased, cka_debiased=debiased, sweep=points)


args = ["relrep", str(x_path), "--compare", str(y_path), "--anchors", str(n_anchors), "--k", str(k),
        "--queries", str(n_queries), "--no-checksum", "--quiet", "--json", str(DATA / "relrep_report.json")]
run_embdiag(["info", str(x_path), "--no-checksum", "--quiet"])  # warm the page cache
t_e, peak_e, _ = run_embdiag(args, repeat=1 if not quick else 2)
t_p, values = time_python(numpy_full, repeat=1)
import json
metrics = json.load(open(DATA / "relrep_report.json"))["metrics"]
for key in ["relative_cosine_mean", "relative_top1", "relative_mrr", "knn_jaccard", "knn_jaccard_relative", "mutual_knn", "cka_linear", "cka_debiased"]:
    print(f"  {key:22s} embdiag {metrics[key]:.6f}   numpy {values[key]:.6f}")
record("relrep full comparison (1000 anchors)", f"{n}x{dx} vs {n}x{dy} f32", t_e, "numpy", t_p, peak_e, python_peak_mib(),
       note="anchors/queries sampled differently (seeded in each); CKA identical definition")
