#!/usr/bin/env python3
"""Evidently's embedding drift on each window of a manifest written by bench_drift_peers.py: the legacy
EmbeddingsDriftMetric with its default method (a domain classifier; with a reference under 1,000 rows its
threshold is the 95th percentile of random-label ROC AUCs, else ROC AUC > 0.55). Runs in its own venv.

Usage: peer_evidently_windows.py MANIFEST.json OUT.json
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("regions-evidently", ["evidently==0.7.23", "pandas==2.3.3"], imports=["evidently"])

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from evidently.legacy.metrics import EmbeddingsDriftMetric  # noqa: E402
from evidently.legacy.pipeline.column_mapping import ColumnMapping  # noqa: E402
from evidently.legacy.report import Report  # noqa: E402

manifest = json.loads(Path(sys.argv[1]).read_text())
emb = np.load(manifest["embeddings"])
cols = [f"e{i}" for i in range(emb.shape[1])]
reference = pd.DataFrame(emb[manifest["reference"]], columns=cols)
mapping = ColumnMapping(embeddings={"emb": cols})
flagged, scores = [], []
for rows in manifest["windows"]:
    report = Report(metrics=[EmbeddingsDriftMetric("emb")])
    report.run(reference_data=reference, current_data=pd.DataFrame(emb[rows], columns=cols), column_mapping=mapping)
    result = report.as_dict()["metrics"][0]["result"]
    flagged.append(bool(result["drift_detected"]))
    scores.append(float(result["drift_score"]))
Path(sys.argv[2]).write_text(json.dumps({"versions": {p: version(p) for p in ["evidently", "scikit-learn", "numpy", "pandas"]},
                                         "method": "EmbeddingsDriftMetric default (model)", "flagged": flagged, "scores": scores}))
