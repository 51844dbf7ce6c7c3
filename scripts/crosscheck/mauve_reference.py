#!/usr/bin/env python3
"""Reference values for embdiag's MAUVE (`embdiag shift`, metric `mauve`), written to
Tests/Fixtures/crosscheck/mauve_reference.json.

Runs in its own venv (.venv/mauve: mauve-text 0.4.0, faiss-cpu, scikit-learn, numpy), created if missing:
    python3 scripts/crosscheck/mauve_reference.py

Data: the bundled MiniLM sentence embeddings (data/sentences/by-section, 384-d). Cases (p = REF, q = OTHER, as
`embdiag shift REF OTHER` passes them: compute_mauve(p_features=REF, q_features=OTHER), package defaults):
  shift        REF = games rows 0..199, OTHER = fonts rows 0..149 (a real shift)
  within_games REF = games rows 0..199, OTHER = games rows 200..349 (one section)
  science_sound REF = the first 300 "science" rows of debian-minilm-l6.npy, OTHER = its first 300 "sound" rows

Recorded per case:
  - the package's MAUVE, MAUVE*, frontier integrals, histograms p_hist / q_hist and num_buckets at its default
    seed 25, and its MAUVE at seeds 25..34 (the spread that k-means randomness alone causes);
  - the package's quantisation itself: `cluster_feats` re-run with the package's own arguments (same seed), giving
    the PCA dimension kept and the cluster label of every row ([q; p] order) — the histograms from these labels
    equal the package's p_hist / q_hist (asserted here), so embdiag can be checked on the identical assignment.
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("mauve", ["mauve-text==0.4.0", "faiss-cpu", "scikit-learn", "numpy"])

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402
import mauve  # noqa: E402
from mauve.compute_mauve import compute_mauve  # noqa: E402

root = Path(__file__).resolve().parents[2]
sec = root / "data/sentences/by-section"
load = lambda name: np.load(sec / f"{name}.npy")  # noqa: E731
games, fonts = load("games"), load("fonts")
all_rows = np.load(root / "data/sentences/debian-minilm-l6.npy")
sections = np.array((root / "data/sentences/debian-sections.txt").read_text().splitlines()[: len(all_rows)])
science, sound = all_rows[sections == "science"], all_rows[sections == "sound"]
cases = {
    "shift": (games[:200], fonts[:150], "games.npy rows 0..199", "fonts.npy rows 0..149"),
    "within_games": (games[:200], games[200:350], "games.npy rows 0..199", "games.npy rows 200..349"),
    "science_sound": (science[:300], sound[:300], "debian-minilm-l6.npy science rows 0..299", "debian-minilm-l6.npy sound rows 0..299"),
}


def package_quantisation(p, q, k, seed=25):
    """mauve.compute_mauve.cluster_feats's steps with the arguments compute_mauve passes (norm='l2', whiten=False,
    pca_max_data=-1, explained_variance=0.9, num_redo=5, max_iter=500, seed=25), returning the PCA dimension and labels."""
    data = normalize(np.vstack([q, p]), norm="l2", axis=1)
    pca = PCA(n_components=None, whiten=False, random_state=seed + 1).fit(data)
    idx = int(np.argmax(np.cumsum(pca.explained_variance_ratio_) >= 0.9))
    reduced = pca.transform(data)[:, : idx + 1].astype(np.float32)
    km = faiss.Kmeans(reduced.shape[1], k, niter=500, verbose=False, nredo=5, update_index=True, seed=seed + 2)
    km.train(reduced)
    dist, labels = km.index.search(reduced, 1)
    return idx + 1, labels.reshape(-1), float(dist.sum())


out = {"mauve-text": version("mauve-text"), "faiss-cpu": version("faiss-cpu"), "scikit-learn": sklearn.__version__,
       "numpy": np.__version__, "python": sys.version.split()[0], "cases": {}}
for name, (p, q, p_desc, q_desc) in cases.items():
    r = compute_mauve(p_features=p, q_features=q, seed=25)
    k = int(r.num_buckets)
    components, labels, objective = package_quantisation(p, q, k)
    q_counts = np.bincount(labels[: len(q)], minlength=k)
    p_counts = np.bincount(labels[len(q):], minlength=k)
    assert np.allclose(p_counts / p_counts.sum(), r.p_hist) and np.allclose(q_counts / q_counts.sum(), r.q_hist), name
    seeds = {s: float(compute_mauve(p_features=p, q_features=q, seed=s).mauve) for s in range(25, 35)}
    out["cases"][name] = {
        "reference": p_desc, "other": q_desc, "m": len(p), "n": len(q),
        "mauve": float(r.mauve), "mauve_star": float(r.mauve_star),
        "frontier_integral": float(r.frontier_integral), "frontier_integral_star": float(r.frontier_integral_star),
        "num_buckets": k, "p_hist": r.p_hist.tolist(), "q_hist": r.q_hist.tolist(),
        "divergence_curve": r.divergence_curve.tolist(),
        "pca_components": components, "labels_q_then_p": labels.tolist(), "kmeans_objective": objective,
        "mauve_by_seed": seeds,
    }
    print(name, "mauve", r.mauve, "star", r.mauve_star, "k", k, "pca", components,
          "seed range", min(seeds.values()), max(seeds.values()), file=sys.stderr)

path = root / "Tests/Fixtures/crosscheck/mauve_reference.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path, file=sys.stderr)
