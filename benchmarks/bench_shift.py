#!/usr/bin/env python3
"""Speed of `embdiag shift --tests mmd,energy`: REF and OTHER of N rows × d each, B
permutations of MMD²_u (Gaussian, median heuristic) and energy distance in one run, against a
vectorised numpy implementation of the same statistics with the same B (pooled kernel in row blocks,
all B permuted statistics as one GEMM of the kernel block with an N × (B + 1) matrix of ±1/n weights,
float32 like embdiag), and — with --alibi — alibi-detect 0.13's MMDDrift (MMD only). alibi-detect
materialises the full pooled N × N kernel and gathers a permuted copy of it per permutation (O(B·N²)
memory traffic, 6.4 GB per copy at 2 × 20,000 rows), so it is timed at --alibi-n rows per sample with
--alibi-permutations and extrapolated to the run's size as t · (N/n)² · (B/b), next to embdiag timed
on the same small size (ratio measured there, and the extrapolation printed).

embdiag's run also computes the witness and the k-NN quality numbers (precision, recall, density,
coverage), which the numpy reference does not: the ratio is conservative for embdiag.

Memory: embdiag's kernel pass holds one row block of the N-wide kernel (≈16 MB per kernel) plus the N × (B + 1)
weights, not N²; the peak RSS is recorded.

Usage: python3 benchmarks/bench_shift.py [--quick] [--n 20000] [--d 768] [--permutations 1000] [--alibi]
       [--alibi-n 2000] [--alibi-permutations 100] [--skip-numpy]
"""
import argparse
import time

import numpy as np
from common import DATA, ensure_dirs, record, run_embdiag, time_python

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=20_000)
ap.add_argument("--d", type=int, default=768)
ap.add_argument("--permutations", type=int, default=1000)
ap.add_argument("--alibi", action="store_true", help="also time alibi-detect's MMDDrift (needs its tensorflow backend)")
ap.add_argument("--quick", action="store_true", help="2,000 rows, B = 200 (benchmarks/run --quick)")
ap.add_argument("--alibi-n", type=int, default=2000)
ap.add_argument("--alibi-permutations", type=int, default=100)
ap.add_argument("--skip-numpy", action="store_true")
args = ap.parse_args()
n, d, B = (2_000, args.d, 200) if args.quick else (args.n, args.d, args.permutations)
ensure_dirs()
rng = np.random.default_rng(0)
paths = []
for name, shift in [("ref", 0.0), ("other", 0.03)]:
    p = DATA / f"shift_{name}_{n}x{d}.npy"
    if not p.exists():
        x = rng.standard_normal((n, d), dtype=np.float32) + shift
        np.save(p, x / np.linalg.norm(x, axis=1, keepdims=True))
    paths.append(p)


def numpy_mmd_energy():
    x, y = np.load(paths[0]).astype(np.float32), np.load(paths[1]).astype(np.float32)
    z = np.vstack([x, y])
    m, nn = len(x), len(y)
    N = m + nn
    g = np.random.default_rng(1)
    s = z[g.choice(N, size=min(N, 2000), replace=False)]
    dd = np.sqrt(np.maximum(0, 2 - 2 * (s @ s.T)))
    sigma = np.median(dd[np.triu_indices(len(s), 1)])
    member = np.zeros((N, B + 1), dtype=bool)
    member[:m, 0] = True
    for b in range(1, B + 1):
        member[g.permutation(N)[:m], b] = True
    w = np.where(member, np.float32(1 / m), np.float32(-1 / nn)).astype(np.float32)
    quad = np.zeros((2, B + 1))
    block = max(16, (16 << 20) // (4 * N))
    for a in range(0, N, block):
        gram = z[a:a + block] @ z.T
        kg = np.exp((np.minimum(gram, 1) - 1) / np.float32(sigma * sigma))
        kd = np.sqrt(np.maximum(0, 2 - 2 * gram))
        for k, kern in enumerate((kg, kd)):
            quad[k] += (w[a:a + block] * (kern @ w)).sum(0, dtype=np.float64)
    return quad  # V-statistics; the unbiased MMD needs O(N·B) more, negligible


import os  # noqa: E402
print(f"load average before: {os.getloadavg()}")
# CPU seconds (user + system) next to the wall time: on a shared, loaded machine the wall time
# measures the load as much as the program; the CPU time much less so.
before = os.times()
t_e, peak, _ = run_embdiag(["shift", str(paths[0]), str(paths[1]), "--tests", "mmd,energy", "--permutations", str(B),
                            "--no-checksum", "--quiet"], repeat=1)
after = os.times()
cpu_e = (after.children_user - before.children_user) + (after.children_system - before.children_system)
print(f"embdiag {t_e:.1f} s ({cpu_e:.1f} CPU-s), peak RSS {peak:.0f} MiB (N² float32 would be {(2 * n) ** 2 * 4 / 2**20:.0f} MiB); "
      f"load {os.getloadavg()}", flush=True)
if not args.skip_numpy:
    before = os.times()
    t_n, _ = time_python(numpy_mmd_energy, repeat=1)
    after = os.times()
    cpu_n = (after.user - before.user) + (after.system - before.system)
    print(f"numpy {t_n:.1f} s ({cpu_n:.1f} CPU-s); CPU-time ratio {cpu_n / cpu_e:.2f}", flush=True)
    record("shift: MMD + energy permutations", f"2 × {n}x{d}, B={B}", t_e, "numpy vectorised (same B)", t_n, peak,
           note=f"embdiag also computes witness + k-NN quality; CPU-s {cpu_e:.0f} vs {cpu_n:.0f}; load {os.getloadavg()[0]:.1f}")

if args.alibi:
    try:
        from alibi_detect.cd import MMDDrift
        na, ba = min(n, args.alibi_n), args.alibi_permutations
        x, y = np.load(paths[0])[:na], np.load(paths[1])[:na]
        small = [DATA / f"shift_alibi_{name}_{na}x{d}.npy" for name in ("ref", "other")]
        np.save(small[0], x)
        np.save(small[1], y)

        def alibi():
            cd = MMDDrift(x, backend="tensorflow", p_val=0.05, n_permutations=ba)
            return cd.predict(y)["data"]["distance"]
        t_a, _ = time_python(alibi, repeat=1)
        t_m, _, _ = run_embdiag(["shift", str(small[0]), str(small[1]), "--tests", "mmd", "--permutations", str(ba),
                                 "--no-checksum", "--quiet"], repeat=1)
        record("shift: MMD permutations", f"2 × {na}x{d}, B={ba}", t_m, "alibi-detect 0.13 MMDDrift (tensorflow)", t_a,
               note=f"load {os.getloadavg()[0]:.1f}")
        scale = (n / na) ** 2 * (B / ba)
        print(f"alibi-detect extrapolated to 2 × {n}x{d}, B={B}: {t_a * scale:.0f} s (× {scale:.0f}), "
              f"vs embdiag MMD + energy measured {t_e:.1f} s: ratio ≈ {t_a * scale / t_e:.0f}")
    except ImportError as e:
        print("alibi-detect not available:", e)
