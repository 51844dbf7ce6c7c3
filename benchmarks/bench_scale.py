#!/usr/bin/env python3
"""Scale without surprises: a 2,000,000 × 768 float32 .npy (about 6 GB) through `info`,
`anisotropy` and `depth --reference-sample 20000`, with peak resident memory (GNU time's maximum
RSS, which counts the mapped file's pages too) against the budget "mapped file + 1 GB".
Usage: python3 benchmarks/bench_scale.py [--quick]   (--quick: 200,000 rows)
"""
import sys

import numpy as np
from common import DATA, ensure_dirs, record, run_embdiag

quick = "--quick" in sys.argv
ensure_dirs()
n, d = (200_000, 768) if quick else (2_000_000, 768)
path = DATA / f"scale_{n}x{d}.npy"
if not path.exists():
    rng = np.random.default_rng(0)
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for s in range(0, n, 100_000):
        x[s:s + 100_000] = rng.standard_normal((min(100_000, n - s), d), dtype=np.float32) + 0.1
    x.flush()
    del x
file_mib = path.stat().st_size / 2**20
budget = file_mib + 1024
for name, args in [("info", ["info", str(path)]),
                   ("anisotropy", ["anisotropy", str(path), "--no-checksum"]),
                   ("depth --reference-sample 20000", ["depth", str(path), "--reference-sample", "20000", "--no-checksum", "--json-tables", "none"])]:
    t, peak, _ = run_embdiag(args + ["--quiet"], repeat=1)
    verdict = "within" if peak <= budget else "OVER"
    record(f"scale: {name}", f"{n}x{d} f32 ({file_mib:.0f} MiB)", t, "(no peer)", 0, peak,
           note=f"peak RSS {peak:.0f} MiB, {verdict} mapped file + 1 GiB")
