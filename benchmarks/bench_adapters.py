#!/usr/bin/env python3
"""Adapter benchmark: training time and per-query apply time of `compat --fit low-rank / mlp`
next to PyTorch training the same architectures the same way (scripts/crosscheck/adapters_pytorch.py:
float64, full-batch Adam, the same start, rows and early stopping).

Pair: OLD = paraphrase-MiniLM-L3-v2, NEW = all-MiniLM-L6-v2, both 384-d, the 1,800 bundled Debian
texts; 70 % training rows (seed 42). Training time: embdiag's `--fit auto` table (`fit_seconds`, the
fit plus its validation ranking) vs the script's `train_seconds` (one thread each side unless
OPENBLAS_NUM_THREADS / torch threads say otherwise). Apply: `embdiag map` on 100,000 NEW rows
(wall time of the process, reading and writing the .npy included, divided by the rows) vs a torch
float32 forward pass of the same rows (in memory). Prints the ratios. Usage:
python3 benchmarks/bench_adapters.py
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
FITS = ["low-rank:64", "mlp:256"]


def main():
    tmp = Path(tempfile.mkdtemp(prefix="bench-adapters-"))
    # embdiag: every family on the same rows; the split's training rows go to PyTorch.
    start = time.perf_counter()
    subprocess.run([BIN, "compat", "--old", str(OLD), "--new", str(NEW), "--fit", "auto", "--train-fraction", "0.7",
                    "--retrieval-only", "--quiet", "--output", str(tmp / "auto")], check=True)
    auto_wall = time.perf_counter() - start
    report = json.loads((tmp / "auto/report.json").read_text())
    table = report["tables"]["mapping_families"]
    cols = table["columns"]
    ours = {r[cols.index("fit")]: r for r in table["rows"]}
    # The training rows of the same split: every row not held out (rows saved by --save-mapping's metadata
    # are counts only, so recompute the split through --train-rows-free means: run each fit with --save-mapping).
    results = []
    x = np.load(NEW)
    big = np.tile(x, (56, 1))[:100_000].astype(np.float32)
    np.save(tmp / "queries.npy", big)
    for fit in FITS:
        subprocess.run([BIN, "compat", "--old", str(OLD), "--new", str(NEW), "--fit", fit, "--train-fraction", "0.7",
                        "--retrieval-only", "--quiet", "--save-mapping", str(tmp / f"{fit.replace(':', '-')}.npy")], check=True)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([BIN, "map", "--quiet", "--mapping", str(tmp / f"{fit.replace(':', '-')}.npy"), str(tmp / "queries.npy"),
                            str(tmp / "mapped.npy")], check=True)
            best = min(best, time.perf_counter() - t0)
        results.append({"fit": fit, "embdiag_fit_seconds": ours[fit][cols.index("fit_seconds")],
                        "embdiag_recall_at_10": ours[fit][cols.index("recall_at_10_heldout")],
                        "embdiag_apply_us_per_query": best / len(big) * 1e6})
    # PyTorch: same fits, same start, on rows chosen the same way (embdiag's seeded split is not
    # reproduced here; the timing does not depend on which rows).
    import importlib.util
    spec = importlib.util.spec_from_file_location("xc", ROOT / "scripts/crosscheck/adapters_pytorch.py")
    xc = importlib.util.module_from_spec(spec)
    sys.argv = [sys.argv[0]]
    spec.loader.exec_module(xc)
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "1")))
    old, new = np.load(OLD).astype(np.float64), np.load(NEW).astype(np.float64)
    rng = np.random.default_rng(42)
    train = np.sort(rng.permutation(len(old))[:1260])
    for r in results:
        kind, width = r["fit"].split(":")
        t0 = time.perf_counter()
        params, best_step, steps, names = xc.train(kind, int(width), new[train], old[train], seed=42)
        r["pytorch_fit_seconds"] = time.perf_counter() - t0
        r["pytorch_steps"] = steps
        p32 = {k: v.float() for k, v in params.items()}
        q = torch.tensor(big)
        best = float("inf")
        with torch.no_grad():
            for _ in range(3):
                t0 = time.perf_counter()
                xc.forward(kind, p32, q)
                best = min(best, time.perf_counter() - t0)
        r["pytorch_apply_us_per_query"] = best / len(big) * 1e6
        r["fit_ratio_embdiag_over_pytorch"] = r["embdiag_fit_seconds"] / r["pytorch_fit_seconds"]
        r["apply_ratio_embdiag_over_pytorch"] = r["embdiag_apply_us_per_query"] / r["pytorch_apply_us_per_query"]
        print(json.dumps(r))
    print(json.dumps({"auto_wall_seconds": auto_wall, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
