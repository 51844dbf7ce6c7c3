#!/usr/bin/env python3
"""Adapter benchmark: training time and per-query apply time of `compat --fit low-rank / mlp`
next to PyTorch training the same architectures the same way (scripts/crosscheck/adapters_pytorch.py:
float64, full-batch Adam, the same start, rows and early stopping).

Pair: OLD = paraphrase-MiniLM-L3-v2, NEW = all-MiniLM-L6-v2, both 384-d, the 1,800 bundled Debian
texts; 70 % training rows (seed 42). Training time: a `compat --retrieval-only --fit FIT` run minus
the same run with `--fit procrustes` vs the script's `train()` (torch threads = OPENBLAS_NUM_THREADS,
default 1); per step as well, since the two may stop early after different numbers of steps. Apply: `embdiag map` on 100,000 NEW rows
(wall time of the process, reading and writing the .npy included, divided by the rows) vs a torch
float32 forward pass of the same rows (in memory). Prints the ratios. Usage:
python3 benchmarks/bench_adapters.py [FIT ...]   (default mlp:256 low-rank:64)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts/crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("adapters", ["torch==2.15.0", "numpy"], imports=["torch", "numpy"])

import numpy as np  # noqa: E402
import torch  # noqa: E402

BIN = os.environ.get("EMBDIAG", str(ROOT / ".build/release/embdiag"))
OLD = ROOT / "data/sentences/debian-paraphrase-minilm-l3.npy"
NEW = ROOT / "data/sentences/debian-minilm-l6.npy"
FITS = sys.argv[1:] or ["mlp:256", "low-rank:64"]
REPEAT = 1


def compat_wall(fit, out, tmp):
    """Wall time of one `compat --retrieval-only` run (best of `REPEAT`) and its metrics."""
    best, metrics = float("inf"), None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        subprocess.run([BIN, "compat", "--old", str(OLD), "--new", str(NEW), "--fit", fit, "--train-fraction", "0.7",
                        "--retrieval-only", "--quiet", "--json", str(tmp / "r.json")] + (["--save-mapping", str(out)] if out else []),
                       check=True)
        best = min(best, time.perf_counter() - t0)
        metrics = json.loads((tmp / "r.json").read_text())["metrics"]
    return best, metrics


def main():
    tmp = Path(tempfile.mkdtemp(prefix="bench-adapters-"))
    # embdiag's training time = a compat run with the adapter minus the same run with procrustes
    # (same reading, split and held-out evaluation; procrustes itself costs one 384 x 384 SVD).
    base, _ = compat_wall("procrustes", None, tmp)
    x = np.load(NEW)
    big = np.tile(x, (56, 1))[:100_000].astype(np.float32)
    np.save(tmp / "queries.npy", big)
    results = []
    for fit in FITS:
        mapping = tmp / f"{fit.replace(':', '-')}.npy"
        wall, metrics = compat_wall(fit, mapping, tmp)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([BIN, "map", "--quiet", "--mapping", str(mapping), str(tmp / "queries.npy"), str(tmp / "mapped.npy")], check=True)
            best = min(best, time.perf_counter() - t0)
        results.append({"fit": fit, "embdiag_fit_seconds": wall - base, "embdiag_steps": metrics.get("adapter_steps"),
                        "embdiag_recall_at_10": metrics.get("recall_at_10_mapped"),
                        "embdiag_apply_us_per_query": best / len(big) * 1e6})
    import importlib.util
    spec = importlib.util.spec_from_file_location("xc", ROOT / "scripts/crosscheck/adapters_pytorch.py")
    xc = importlib.util.module_from_spec(spec)
    saved, sys.argv = sys.argv, [sys.argv[0]]
    spec.loader.exec_module(xc)
    sys.argv = saved
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "1")))
    old, new = np.load(OLD).astype(np.float64), np.load(NEW).astype(np.float64)
    # PyTorch trains on 1,260 rows too (which rows does not change the cost per step).
    train = np.sort(np.random.default_rng(42).permutation(len(old))[:1260])
    for r in results:
        kind, width = r["fit"].split(":")
        t0 = time.perf_counter()
        params, best_step, steps, names = xc.train(kind, int(width), new[train], old[train], seed=42)
        r["pytorch_fit_seconds"] = time.perf_counter() - t0
        r["pytorch_steps"] = steps
        p32 = {k: v.detach().float() for k, v in params.items()}
        q = torch.tensor(big)
        best = float("inf")
        with torch.no_grad():
            for _ in range(3):
                t0 = time.perf_counter()
                xc.forward(kind, p32, q)
                best = min(best, time.perf_counter() - t0)
        r["pytorch_apply_us_per_query"] = best / len(big) * 1e6
        # Per step: the two sides may stop after different numbers of steps.
        r["fit_per_step_ratio_embdiag_over_pytorch"] = (r["embdiag_fit_seconds"] / max(1, r["embdiag_steps"] or 1)) / (r["pytorch_fit_seconds"] / steps)
        r["apply_ratio_embdiag_over_pytorch"] = r["embdiag_apply_us_per_query"] / r["pytorch_apply_us_per_query"]
        print(json.dumps(r))
    print(json.dumps({"procrustes_compat_seconds": base, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
