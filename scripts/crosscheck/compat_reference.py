#!/usr/bin/env python3
"""Reference values for embdiag's backward-compatibility analyzer (issue #7), computed independently
with numpy / scipy / scikit-learn (and aecp 0.2.1 where its definitions are comparable).

Writes Tests/Fixtures/crosscheck/compat_reference.json, which CompatibilityTests reads.
Creates its own venv under /work/venvs/compat (numpy, scipy, scikit-learn, aecp==0.2.1) when run with
the system python: python3 scripts/crosscheck/compat_reference.py

Data: the bundled sentence embeddings — OLD = all-MiniLM-L6-v2 layer 3, NEW = its final layer
(data/sentences/debian-minilm-l6{-layer3,}.npy, the same 1,800 Debian package descriptions), relevance
classes = Debian sections (data/sentences/debian-sections.txt).

Definitions (Guides/Compatibility.md): cosine scores; ranking by score descending, ties to the smaller
gallery index; with labels, relevant = same section and the query's own row is excluded from its
ranking in every direction; without labels, query i's only relevant item is gallery row i (no
exclusion). recall@k = share of queries whose first relevant item is within the top k (CMC / metric-
learning recall), MRR = mean 1/rank of the first relevant item, mAP = sklearn average_precision_score
per query (full ranking), averaged. Mapping checks use train = even rows, held-out = odd rows.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

VENV = Path("/work/venvs/compat")
if Path(sys.prefix).resolve() != VENV.resolve():
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "scipy", "scikit-learn", "aecp==0.2.1"], check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])

from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402

root = Path(__file__).resolve().parents[2]
S = root / "data/sentences"
old = np.load(S / "debian-minilm-l6-layer3.npy").astype(np.float64)
new = np.load(S / "debian-minilm-l6.npy").astype(np.float64)
sections = (S / "debian-sections.txt").read_text().splitlines()
n = old.shape[0]
assert new.shape[0] == n and len(sections) == n
_, cls = np.unique(np.array(sections), return_inverse=True)
KS = [1, 10, 100]


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def retrieval(q, g, classes=None, exclude_self=False, ks=KS):
    """Exact metrics over the full ranking. classes: (query classes, gallery classes) or None (identity)."""
    s = unit(q) @ unit(g).T
    first, aps = [], []
    idx = np.arange(g.shape[0])
    for i in range(q.shape[0]):
        keep = idx != i if exclude_self else np.ones(g.shape[0], bool)
        sc, ix = s[i][keep], idx[keep]
        order = np.lexsort((ix, -sc))             # score descending, index ascending
        rel = (classes[1][ix] == classes[0][i]) if classes is not None else (ix == i)
        if not rel.any():
            continue
        ranked = rel[order]
        first.append(int(np.argmax(ranked)) + 1)
        # sklearn AP needs distinct scores to follow our tie rule; break ties by rank position.
        aps.append(average_precision_score(ranked.astype(int), -np.arange(len(ranked), dtype=float)))
    first = np.array(first)
    out = {f"recall_at_{k}": float(np.mean(first <= k)) for k in ks}
    out["mrr"] = float(np.mean(1.0 / first))
    out["map"] = float(np.mean(aps))
    out["first_ranks"] = first
    return out


def knn_sets(u, k=10):
    s = u @ u.T
    sets = []
    for i in range(u.shape[0]):
        sc = s[i].copy()
        ix = np.arange(len(sc))
        order = np.lexsort((ix, -sc))
        order = order[order != i][:k]
        sets.append(set(order.tolist()))
    return sets


out = {"packages": {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__}}
lab = (cls, cls)

# 1. Retrieval with labels (self excluded), fit none.
r_old = retrieval(old, old, lab, True)
r_new = retrieval(new, new, lab, True)
r_cross = retrieval(new, old, lab, True)
labels_metrics = {}
for name, r in [("old", r_old), ("new", r_new), ("cross", r_cross)]:
    for key in [f"recall_at_{k}" for k in KS] + ["mrr", "map"]:
        labels_metrics[f"{key}_{name}"] = r[key]
fo, fc, fn = r_old["first_ranks"], r_cross["first_ranks"], r_new["first_ranks"]
flips = np.sum((fo == 1) & (fc != 1))
labels_metrics["negative_flip_rate"] = float(flips / n)
labels_metrics["negative_flip_index"] = float(flips / max(1, np.sum(fc != 1)))
labels_metrics["negative_flip_rate_new"] = float(np.sum((fo == 1) & (fn != 1)) / n)
labels_metrics["compatibility_margin"] = r_cross["recall_at_1"] - r_old["recall_at_1"]

# Neighbourhood stability and similarity Spearman.
uo, un = unit(old), unit(new)
ko, kn = knn_sets(uo), knn_sets(un)
labels_metrics["knn_overlap_at_10"] = float(np.mean([len(a & b) / len(a | b) for a, b in zip(ko, kn)]))
iu = np.triu_indices(n, 1)
so, sn = (uo @ uo.T), (un @ un.T)
labels_metrics["similarity_spearman"] = float(stats.spearmanr(so[iu], sn[iu]).statistic)

# Biondi et al. constraints on ordered pairs i != j: same class → d(new_i, old_j) <= d(old_i, old_j);
# different class → d(new_i, old_j) >= d(old_i, old_j) (cosine distances).
sc = un @ uo.T
offdiag = ~np.eye(n, dtype=bool)
same = (cls[:, None] == cls[None, :]) & offdiag
diff = (cls[:, None] != cls[None, :])
labels_metrics["constraint_positive_fraction"] = float(np.mean((sc >= so)[same]))
labels_metrics["constraint_negative_fraction"] = float(np.mean((sc <= so)[diff]))
labels_metrics["constraint_positive_pairs"] = int(same.sum())
labels_metrics["constraint_negative_pairs"] = int(diff.sum())
out["labels"] = labels_metrics

# 2. Identity relevance (no labels): the paired item is relevant; no exclusion.
ident = {}
for name, (q, g) in {"old": (old, old), "cross": (new, old)}.items():
    r = retrieval(q, g, None, False)
    for key in [f"recall_at_{k}" for k in KS] + ["mrr", "map"]:
        ident[f"{key}_{name}"] = r[key]
out["identity"] = ident

# aecp 0.2.1's topk_retention is identity-relevance recall@k of queries against a corpus.
try:
    from aecp.quality import metrics as aecp_metrics
    out["aecp"] = {
        "version": version("aecp"),
        "topk_retention_new_vs_old_k1": float(aecp_metrics.topk_retention(new, old, 1)),
        "topk_retention_new_vs_old_k10": float(aecp_metrics.topk_retention(new, old, 10)),
    }
except Exception as e:  # noqa: BLE001
    out["aecp"] = {"error": repr(e)}

# 3. Mappings NEW -> OLD, train = even rows, held-out = odd rows.
train, held = np.arange(0, n, 2), np.arange(1, n, 2)
X, Y = new[train], old[train]
mx, my = X.mean(0), Y.mean(0)
Xc, Yc = X - mx, Y - my
U, sv, Vt = np.linalg.svd(Xc.T @ Yc)
R = U @ Vt
scale = sv.sum() / np.sum(Xc ** 2)
maps = {"procrustes": (scale * R, my - mx @ (scale * R))}
lr = LinearRegression().fit(X, Y)
maps["linear"] = (lr.coef_.T, lr.intercept_)
rg = Ridge(alpha=1.0).fit(X, Y)
maps["ridge:1"] = (rg.coef_.T, rg.intercept_)
rg01 = Ridge(alpha=0.1).fit(X, Y)
maps["ridge:0.1"] = (rg01.coef_.T, rg01.intercept_)
held_cls = cls[held]
mapping = {"train": "even rows", "heldout": "odd rows"}
for name, (W, b) in maps.items():
    mapped = new[held] @ W + b
    ri = retrieval(mapped, old[held], None, False)
    rl = retrieval(mapped, old[held], (held_cls, held_cls), True)
    mapping[name] = {
        "weights_00": float(W[0, 0]), "weights_frobenius": float(np.linalg.norm(W)), "bias_0": float(b[0]),
        "bias_norm": float(np.linalg.norm(b)), "weights_first_row": W[0].tolist(), "bias": b.tolist(),
        "recall_at_1_identity": ri["recall_at_1"], "mrr_identity": ri["mrr"],
        "recall_at_1_labels": rl["recall_at_1"], "map_labels": rl["map"],
        "mapped_cosine_mean": float(np.mean(np.sum(unit(mapped) * unit(old[held]), axis=1))),
    }
ro = retrieval(old[held], old[held], (held_cls, held_cls), True)
mapping["old_heldout_labels"] = {"recall_at_1": ro["recall_at_1"], "map": ro["map"]}
# Uncentred Procrustes (embdiag --fit rotation): R = UV^T from X^T Y, no scale, no bias.
Ur, _, Vtr = np.linalg.svd(X.T @ Y)
Rr = Ur @ Vtr
mapped = new[held] @ Rr
ri = retrieval(mapped, old[held], None, False)
rl = retrieval(mapped, old[held], (held_cls, held_cls), True)
mapping["rotation"] = {"weights_00": float(Rr[0, 0]), "weights_frobenius": float(np.linalg.norm(Rr)), "bias_0": 0.0, "bias_norm": 0.0,
                       "weights_first_row": Rr[0].tolist(), "bias": [0.0] * Rr.shape[1],
                       "recall_at_1_identity": ri["recall_at_1"], "mrr_identity": ri["mrr"],
                       "recall_at_1_labels": rl["recall_at_1"], "map_labels": rl["map"]}
# aecp's own Procrustes (no centring, no scale) on the same split, for the guide's comparison.
try:
    from aecp.mapping.linear import OrthogonalProcrustesMapping
    m = OrthogonalProcrustesMapping()
    fitted = m.fit(X, Y) if hasattr(m, "fit") else None
    pred = (fitted or m).transform(new[held]) if hasattr(fitted or m, "transform") else None
    if pred is not None:
        ri = retrieval(np.asarray(pred), old[held], None, False)
        mapping["aecp_procrustes"] = {"recall_at_1_identity": ri["recall_at_1"], "mrr_identity": ri["mrr"]}
except Exception as e:  # noqa: BLE001
    mapping["aecp_procrustes"] = {"error": repr(e)}
out["mapping"] = mapping

# 4. Compression of OLD as NEW: new -> new retrieval with labels.
lo, hi = old.astype(np.float32).min(0), old.astype(np.float32).max(0)
steps = (hi.astype(np.float64) - lo) / 255
int8 = np.trunc((old.astype(np.float32).astype(np.float64) - lo) / steps - 128)  # sentence-transformers' int8 calibration
compressed = {"int8": int8, "binary": np.where(old > 0, 1.0, -1.0), "truncate:128": old[:, :128]}
comp = {}
for name, c in compressed.items():
    r = retrieval(c, c, lab, True)
    comp[name] = {"recall_at_1_new": r["recall_at_1"], "recall_at_10_new": r["recall_at_10"], "map_new": r["map"]}
    if c.shape[1] == old.shape[1]:
        rc = retrieval(c, old, lab, True)
        comp[name]["recall_at_1_cross"] = rc["recall_at_1"]
out["compression"] = comp

path = root / "Tests/Fixtures/crosscheck/compat_reference.json"
path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
print(json.dumps({k: v for k, v in out.items() if k != "mapping"}, indent=1), file=sys.stderr)
print(f"wrote {path}", file=sys.stderr)
