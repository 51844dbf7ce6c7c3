#!/usr/bin/env python3
"""A peer doing what `embdiag shift --reference STATE WINDOWS/` does in bench_shift_windows_speed.py,
timed: Evidently's embedding drift (legacy EmbeddingsDriftMetric, its default "model" method, a domain
classifier) or NannyML's DomainClassifierCalculator (LightGBM, cross-validated AUROC per chunk), each
given the same reference sample embdiag keeps in its saved state (`--sample` rows drawn with
seed 0 from the reference; neither peer keeps a saved reference, so the sample is read from the
reference file on every run, as a monitoring job would) and the first `--windows` window files.
Runs in the peer's own venv; prints one JSON line (seconds for the windows, seconds to read and
fit the reference, versions).

Usage: peer_windows_speed.py evidently|nannyml REFERENCE.npy WINDOW_DIR [--sample 20000] [--windows 5]
"""
import argparse
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("peer", choices=["evidently", "nannyml"])
ap.add_argument("reference")
ap.add_argument("window_dir")
ap.add_argument("--sample", type=int, default=20_000)
ap.add_argument("--windows", type=int, default=5)
args = ap.parse_args()

if args.peer == "evidently":
    reexec_in_venv("regions-evidently", ["evidently==0.7.23", "pandas==2.3.3"], imports=["evidently"])
else:
    # nannyml imports statsmodels (its plots) without declaring it.
    reexec_in_venv("regions-nannyml", ["nannyml==0.13.1", "pandas==2.3.3", "statsmodels==0.14.6"], imports=["nannyml"])

import os  # noqa: E402

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # NannyML sends usage statistics unless told not to.

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

started = time.perf_counter()
ref_all = np.load(args.reference, mmap_mode="r")
rows = np.sort(np.random.default_rng(0).choice(len(ref_all), size=min(args.sample, len(ref_all)), replace=False))
ref = np.asarray(ref_all[rows], dtype=np.float32)
cols = [f"e{i}" for i in range(ref.shape[1])]
reference = pd.DataFrame(ref, columns=cols)
windows = sorted(Path(args.window_dir).glob("*.npy"))[: args.windows]
flagged = []
if args.peer == "evidently":
    from evidently.legacy.metrics import EmbeddingsDriftMetric
    from evidently.legacy.pipeline.column_mapping import ColumnMapping
    from evidently.legacy.report import Report

    mapping = ColumnMapping(embeddings={"emb": cols})
    setup = time.perf_counter() - started
    t0 = time.perf_counter()
    for w in windows:
        report = Report(metrics=[EmbeddingsDriftMetric("emb")])
        report.run(reference_data=reference, current_data=pd.DataFrame(np.load(w), columns=cols), column_mapping=mapping)
        flagged.append(bool(report.as_dict()["metrics"][0]["result"]["drift_detected"]))
    seconds = time.perf_counter() - t0
    packages = ["evidently", "scikit-learn", "numpy", "pandas"]
    method = "EmbeddingsDriftMetric default (model)"
else:
    import nannyml as nml

    size = len(np.load(windows[0], mmap_mode="r"))
    calc = nml.DomainClassifierCalculator(feature_column_names=cols, chunk_size=size)
    calc.fit(reference)
    setup = time.perf_counter() - started
    t0 = time.perf_counter()
    analysis = pd.DataFrame(np.concatenate([np.load(w) for w in windows]), columns=cols)
    result = calc.calculate(analysis).filter(period="analysis").to_df()
    flagged = [bool(a) for a in result[("domain_classifier_auroc", "alert")].tolist()]
    seconds = time.perf_counter() - t0
    packages = ["nannyml", "lightgbm", "scikit-learn", "numpy", "pandas"]
    method = f"DomainClassifierCalculator(chunk_size={size})"
print(json.dumps({"peer": args.peer, "method": method, "versions": {p: version(p) for p in packages},
                  "reference_sample": len(ref), "windows": len(windows), "setup_seconds": round(setup, 2),
                  "window_seconds": round(seconds, 2), "seconds_per_window": round(seconds / max(1, len(windows)), 2),
                  "flagged": flagged}))
