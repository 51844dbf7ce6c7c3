#!/usr/bin/env python3
"""NannyML's domain classifier on the windows of a manifest written by bench_drift_peers.py: a
DomainClassifierCalculator (LightGBM, cross-validated AUROC per chunk) fitted on the reference with chunks
of the window size, the windows concatenated in order so that each window is one chunk; a window is
flagged when NannyML raises its alert (thresholds from the reference chunks). Runs in its own venv.

Usage: peer_nannyml_windows.py MANIFEST.json OUT.json
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

# nannyml imports statsmodels (its plots) without declaring it.
reexec_in_venv("regions-nannyml", ["nannyml==0.13.1", "pandas==2.3.3", "statsmodels==0.14.6"], imports=["nannyml"])

import os  # noqa: E402

# NannyML sends usage statistics unless told not to; this benchmark makes no network calls.
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import nannyml as nml  # noqa: E402

manifest = json.loads(Path(sys.argv[1]).read_text())
emb = np.load(manifest["embeddings"])
size = manifest["size"]
cols = [f"e{i}" for i in range(emb.shape[1])]
reference = pd.DataFrame(emb[manifest["reference"]], columns=cols)
analysis = pd.DataFrame(np.concatenate([emb[w] for w in manifest["windows"]]), columns=cols)
calc = nml.DomainClassifierCalculator(feature_column_names=cols, chunk_size=size)
calc.fit(reference)
result = calc.calculate(analysis).filter(period="analysis").to_df()
alert = result[("domain_classifier_auroc", "alert")].tolist()
auroc = result[("domain_classifier_auroc", "value")].tolist()
assert len(alert) == len(manifest["windows"]), (len(alert), len(manifest["windows"]))
Path(sys.argv[2]).write_text(json.dumps({"versions": {p: version(p) for p in ["nannyml", "lightgbm", "scikit-learn", "numpy", "pandas"]},
                                         "method": f"DomainClassifierCalculator(chunk_size={size})", "flagged": [bool(a) for a in alert],
                                         "scores": auroc}))
