#!/usr/bin/env python3
"""Reference values for shift's regions (clusters of the reference and their share tests), written to
Tests/Fixtures/crosscheck/regions_reference.json.

Venv:  created on first run (venv "regions-crosscheck" under .venv/ or $EMBDIAG_VENVS) with numpy and scipy pinned.
Run:   python3 scripts/crosscheck/regions_reference.py

What is computed (independent of embdiag's algebra, float64 numpy / scipy):
  - share tests on fixed 2 x 2 tables [[a, m - a], [b, n - b]]: scipy.stats.chi2_contingency(correction=False)
    (its p-value, and z = sign(b/n - a/m) sqrt(chi2)) when every expected count is >= 5, else
    scipy.stats.fisher_exact (two-sided); both p-values are recorded for every table;
  - scipy.stats.false_discovery_control(p, method="bh") on the chi2 p-values of the tables;
  - k-means on real sentence embeddings: REF = the first 60 rows of each of the sections games, science and
    sound of data/sentences/debian-minilm-l6.npy (sections in debian-sections.txt), unit-normalised;
    Lloyd's algorithm in float64 (assign to the nearest centroid by squared Euclidean distance, ties to the
    lower index; centroid = mean of its rows) from 50 seeded initialisations (k distinct rows), the lowest
    objective kept; its labels, objective and centroids are recorded, and the nearest-centroid assignment
    (numpy argmin) of 40 other rows of each section, and of fonts rows, to those centroids.
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("regions-crosscheck", ["numpy==1.26.4", "scipy==1.17.1"], imports=["numpy", "scipy"])

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

root = Path(__file__).resolve().parents[2]
out = root / "Tests/Fixtures/crosscheck/regions_reference.json"

# Share tests: small, medium, large and lopsided tables, and some that need Fisher's test.
tables = [(30, 200, 45, 150), (100, 1000, 100, 1000), (120, 1000, 80, 400), (3, 200, 9, 150), (0, 300, 7, 100),
          (50, 450, 0, 150), (2, 40, 1, 10), (149, 450, 100, 150), (5000, 100000, 140, 2000), (1, 1000000, 4, 10000),
          (10, 60, 10, 60), (449, 450, 150, 150)]
share_tests = []
for a, m, b, n in tables:
    t = np.array([[a, m - a], [b, n - b]])
    expected = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
    fisher = stats.fisher_exact(t).pvalue
    if (t.sum(axis=0) == 0).any():
        chi_p, z = 1.0, 0.0
    else:
        chi2, chi_p, _, _ = stats.chi2_contingency(t, correction=False)
        z = float(np.sign(b / n - a / m) * np.sqrt(chi2))
    share_tests.append({"a": a, "m": m, "b": b, "n": n, "expected_min": float(expected.min()),
                        "chi2_p": float(chi_p), "z": z, "fisher_p": float(fisher),
                        "method": "chi2" if expected.min() >= 5 else "fisher"})
chi_ps = [s["chi2_p"] for s in share_tests]
bh = stats.false_discovery_control(chi_ps, method="bh").tolist()

# k-means on real rows.
x = np.load(root / "data/sentences/debian-minilm-l6.npy").astype(np.float32)
sections = (root / "data/sentences/debian-sections.txt").read_text().splitlines()
idx = {s: [i for i, v in enumerate(sections) if v == s] for s in ["games", "science", "sound", "fonts"]}
ref_rows = idx["games"][:60] + idx["science"][:60] + idx["sound"][:60]
query_rows = idx["games"][60:100] + idx["science"][60:100] + idx["sound"][60:100] + idx["fonts"][:40]
unit = x.astype(np.float64)
unit /= np.linalg.norm(unit, axis=1, keepdims=True)
ref = unit[ref_rows]
queries = unit[query_rows]


def lloyd(data, init, iterations=300):
    c = data[init].copy()
    labels = None
    for _ in range(iterations):
        d2 = ((data[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = d2.argmin(axis=1)
        if labels is not None and (new == labels).all():
            break
        labels = new
        for j in range(len(c)):
            if (labels == j).any():
                c[j] = data[labels == j].mean(axis=0)
    d2 = ((data[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    labels = d2.argmin(axis=1)
    return labels, float(d2.min(axis=1).sum()), c


k = 3
rng = np.random.default_rng(7)
best = None
for _ in range(50):
    labels, objective, centroids = lloyd(ref, rng.choice(len(ref), k, replace=False))
    if best is None or objective < best[1] - 1e-12:
        best = (labels, objective, centroids)
labels, objective, centroids = best
qd2 = ((queries[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)

json.dump({
    "versions": {"numpy": version("numpy"), "scipy": version("scipy"), "python": sys.version.split()[0]},
    "share_tests": share_tests,
    "bh_of_chi2": bh,
    "kmeans": {
        "k": k, "reference_rows": ref_rows, "query_rows": query_rows, "labels": labels.tolist(), "objective": objective,
        "centroids": centroids.tolist(), "query_nearest": qd2.argmin(axis=1).tolist(),
        "note": "rows of data/sentences/debian-minilm-l6.npy, unit-normalised in float64; best of 50 seeded Lloyd runs",
    },
}, open(out, "w"), indent=1)
print("wrote", out)
