#!/usr/bin/env python3
"""Reference values for embdiag's backward-compatibility analyzer, computed independently
with numpy / scipy / scikit-learn (and aecp 0.2.1 where its definitions are comparable).

Writes Tests/Fixtures/crosscheck/compat_reference.json, which CompatibilityTests reads.
Creates its own venv under .venv/compat (numpy, scipy, scikit-learn, aecp==0.2.1) when run with
the system python: python3 scripts/crosscheck/compat_reference.py

Data: the bundled sentence embeddings — OLD = all-MiniLM-L6-v2 layer 3, NEW = its final layer
(data/sentences/debian-minilm-l6{-layer3,}.npy, the same 1,800 Debian package descriptions), relevance
classes = Debian sections (data/sentences/debian-sections.txt).

Definitions (Guides/Compatibility.md): cosine scores (integer codes scored exactly); ranking by score
descending; exactly tied scores count as the expected value over all orderings of the tie (McSherry &
Najork, ECIR 2008) for recall@k, MRR, mAP and negative flips; k-NN sets break ties by the smaller index; with labels, relevant = same section and the query's own row is excluded from its
ranking in every direction; without labels, query i's only relevant item is gallery row i (no
exclusion). recall@k = share of queries whose first relevant item is within the top k (CMC / metric-
learning recall), MRR = mean 1/rank of the first relevant item, mAP = sklearn average_precision_score
per query (full ranking), averaged. Mapping checks use train = even rows, held-out = odd rows.
"""
import json
import math
import sys
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("compat", ["numpy", "scipy", "scikit-learn", "aecp==0.2.1"])

from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV  # noqa: E402
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


def code_scores(q, g):
    """Cosines of integer codes (int8, +-1): exact integer dot products (float64 holds them exactly)
    times 1/|q| and 1/|g|, in that order, as embdiag scores them; equal codes tie exactly."""
    iq = 1.0 / np.sqrt(np.sum(q * q, axis=1))
    ig = 1.0 / np.sqrt(np.sum(g * g, axis=1))
    return ((q @ g.T) * iq[:, None]) * ig[None, :]


def tie_aware(sc, rel, ks):
    """McSherry & Najork (ECIR 2008): expected recall@k, reciprocal rank and average precision over
    all orderings of exactly tied scores. Binomial coefficients with Python's exact integers."""
    neg, inv = np.unique(-sc, return_inverse=True)           # groups in descending score order
    m = np.bincount(inv)
    r = np.bincount(inv, weights=rel.astype(float)).astype(int)
    before = np.concatenate([[0], np.cumsum(m)[:-1]])
    rel_before = np.concatenate([[0], np.cumsum(r)[:-1]])
    R = int(r.sum())
    g = int(np.argmax(r > 0))
    b, mm, rr = int(before[g]), int(m[g]), int(r[g])
    total = math.comb(mm, rr)

    def within(k):
        j = k - b
        if j <= 0:
            return 0.0
        if j > mm - rr:
            return 1.0
        return 1.0 - math.comb(mm - j, rr) / total

    rr_exp = sum(math.comb(mm - i, rr - 1) / total / (b + i) for i in range(1, mm - rr + 2))
    ap = 0.0
    for grp in np.nonzero(r)[0]:
        mg, rg, n0, r0 = int(m[grp]), int(r[grp]), int(before[grp]), int(rel_before[grp])
        i = np.arange(1, mg + 1)
        slope = (rg - 1) / (mg - 1) if mg > 1 else 0.0
        ap += (rg / mg) * np.sum((r0 + 1 + (i - 1) * slope) / (n0 + i))
    return {k: within(k) for k in ks}, rr_exp, ap / R, within(1)


def retrieval(q, g, classes=None, exclude_self=False, ks=KS, codes=False):
    """Exact tie-aware metrics over the full ranking. classes: (query classes, gallery classes) or
    None (identity). codes: q and g are integer codes, scored exactly (code_scores)."""
    s = code_scores(q, g) if codes else unit(q) @ unit(g).T
    within, rrs, aps, top1 = [], [], [], []
    idx = np.arange(g.shape[0])
    for i in range(q.shape[0]):
        keep = idx != i if exclude_self else np.ones(g.shape[0], bool)
        sc, ix = s[i][keep], idx[keep]
        rel = (classes[1][ix] == classes[0][i]) if classes is not None else (ix == i)
        if not rel.any():
            top1.append(np.nan)
            continue
        w, rr, ap, p1 = tie_aware(sc, rel, ks)
        within.append(w); rrs.append(rr); aps.append(ap); top1.append(p1)
    out = {f"recall_at_{k}": float(np.mean([w[k] for w in within])) for k in ks}
    out["mrr"] = float(np.mean(rrs))
    out["map"] = float(np.mean(aps))
    out["top1_probability"] = np.array(top1)
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
# Negative flips, tie-aware: max(0, P_old(top-1) - P_other(top-1)), the smallest probability of
# "old right, other wrong" over every way of breaking the two rankings' ties (Frechet bound), so
# that a model compared with itself has no flips; without ties 1 or 0.
po, pc, pn = r_old["top1_probability"], r_cross["top1_probability"], r_new["top1_probability"]
flips = np.nansum(np.maximum(0, po - pc))
labels_metrics["negative_flip_rate"] = float(flips / n)
labels_metrics["negative_flip_index"] = float(flips / max(1e-300, np.nansum(1 - pc)))
labels_metrics["negative_flip_rate_new"] = float(np.nansum(np.maximum(0, po - pn)) / n)
labels_metrics["compatibility_margin"] = r_cross["recall_at_1"] - r_old["recall_at_1"]
# Shen et al.'s empirical compatibility criterion is strict (CVPR 2020): M(new, old) > M(old, old);
# no_worse is the non-strict version with tolerance 0 (recall values are ratios of counts).
labels_metrics["compatible"] = bool(r_cross["recall_at_1"] > r_old["recall_at_1"])
labels_metrics["no_worse"] = bool(r_cross["recall_at_1"] >= r_old["recall_at_1"])

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
# Control: NEW = OLD (a map that restores the old space exactly). Margin 0: not compatible by the
# strict criterion, but no worse.
r_ctrl = retrieval(old, old, lab, True)
out["control_old_old"] = {"compatibility_margin": r_ctrl["recall_at_1"] - r_old["recall_at_1"],
                          "compatible": bool(r_ctrl["recall_at_1"] > r_old["recall_at_1"]),
                          "no_worse": bool(r_ctrl["recall_at_1"] >= r_old["recall_at_1"])}

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

# 3. Mappings NEW -> OLD, train = even rows, held-out = odd rows (embdiag: --train-rows FILE with the
# even rows, or CompatibilityConfiguration.trainRows).
train, held = np.arange(0, n, 2), np.arange(1, n, 2)
held_cls = cls[held]
F32 = np.finfo(np.float32).eps
GRID = np.logspace(-3, 3, 25)


def procrustes(X, Y, centre, scaled, truncate=False):
    """Orthogonal Procrustes: R = U V^T over ALL singular pairs of the thin SVD of the (centred)
    cross-covariance M (scipy.linalg.orthogonal_procrustes for equal dimensions; semi-orthogonal if
    they differ). Singular pairs at the float32 rounding level (sigma <= eps32 * ||M||_F) are not
    determined by the data ("rank" counts the determined ones, "free" the others): R is not unique
    there, so with free > 0 only what every orthogonal solution shares is comparable (norms, scale,
    cosines, retrieval), not single weights. truncate=True leaves the free pairs out (a partial
    isometry, what embdiag did before; kept for comparison)."""
    mx, my = (X.mean(0), Y.mean(0)) if centre else (np.zeros(X.shape[1]), np.zeros(Y.shape[1]))
    Xc, Yc = X - mx, Y - my
    M = Xc.T @ Yc
    U, sv, Vt = np.linalg.svd(M, full_matrices=False)
    keep = sv > F32 * np.sqrt(np.sum(sv ** 2))
    R = U[:, keep] @ Vt[keep] if truncate else U @ Vt
    s = float(np.trace(R.T @ M) / np.sum((Xc @ R) ** 2)) if scaled else 1.0
    W = s * R
    return W, my - mx @ W, {"scale": float(s), "rank": int(keep.sum()), "free": int(min(R.shape) - keep.sum())}


def lstsq(X, Y, intercept, rcond=None):
    """Minimum-norm least squares, numpy lstsq on float64; default cut-off = the float32 rounding
    level of X (sigma <= eps_float32 * ||X||_F, expressed as numpy's rcond relative to sigma_max)."""
    mx, my = (X.mean(0), Y.mean(0)) if intercept else (np.zeros(X.shape[1]), np.zeros(Y.shape[1]))
    Xc, Yc = X - mx, Y - my
    sv = np.linalg.svd(Xc, compute_uv=False)
    if rcond is None:
        rcond = F32 * np.sqrt(np.sum(sv ** 2)) / sv[0]
    W, _, rank, _ = np.linalg.lstsq(Xc, Yc, rcond=rcond)
    return W, my - mx @ W, {"rank": int(rank)}


def ridge_loo(X, Y, alphas):
    """Exact leave-one-out MSE of ridge with an unpenalised intercept (hat-matrix formula)."""
    n = X.shape[0]
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    U, sv, _ = np.linalg.svd(Xc, full_matrices=False)
    UtY = U.T @ Yc
    errs = []
    for a in alphas:
        f = sv ** 2 / (sv ** 2 + a)
        fitted = U @ (f[:, None] * UtY)
        h = 1.0 / n + (U ** 2) @ f
        e = (Yc - fitted) / (1 - h)[:, None]
        errs.append(float(np.mean(e ** 2)))
    return errs


def fit_ridge(X, Y, alpha):
    rg = Ridge(alpha=alpha).fit(X, Y)
    return rg.coef_.T, rg.intercept_, {"lambda": float(alpha)}


def evaluate(name, src, dst, W, b, extra):
    mapped = src[held] @ W + b
    mapped_train = src[train] @ W + b
    ri = retrieval(mapped, dst[held], None, False)
    rl = retrieval(mapped, dst[held], (held_cls, held_cls), True)
    entry = {
        "weights_00": float(W[0, 0]), "weights_frobenius": float(np.linalg.norm(W)), "bias_0": float(b[0]),
        "bias_norm": float(np.linalg.norm(b)), "weights_first_row": W[0].tolist(), "bias": np.asarray(b).tolist(),
        "recall_at_1_identity": ri["recall_at_1"], "mrr_identity": ri["mrr"],
        "recall_at_1_labels": rl["recall_at_1"], "map_labels": rl["map"],
        "mapped_cosine_mean": float(np.mean(np.sum(unit(mapped) * unit(dst[held]), axis=1))),
        "mapped_cosine_mean_train": float(np.mean(np.sum(unit(mapped_train) * unit(dst[train]), axis=1))),
        "input_dim": int(W.shape[0]), "output_dim": int(W.shape[1]),
    }
    entry.update(extra)
    mapping[name] = entry


mapping = {"train": "even rows", "heldout": "odd rows",
           "spaces": {"new": "NEW (384) -> OLD (384)", "new300": "NEW[:, :300] -> OLD (384)", "old_to_new300": "OLD (384) -> NEW[:, :300]"}}
X, Y = new[train], old[train]
evaluate("procrustes", new, old, *procrustes(X, Y, True, False))
evaluate("procrustes-scaled", new, old, *procrustes(X, Y, True, True))
evaluate("rotation", new, old, *procrustes(X, Y, False, False))
W, b, e = lstsq(X, Y, True)
lr = LinearRegression().fit(X, Y)
e["sklearn_weights_frobenius"] = float(np.linalg.norm(lr.coef_))
evaluate("linear", new, old, W, b, e)
W, b, e = lstsq(X, Y, False)
lr0 = LinearRegression(fit_intercept=False).fit(X, Y)
e["sklearn_weights_frobenius"] = float(np.linalg.norm(lr0.coef_))
evaluate("linear-no-intercept", new, old, W, b, e)
evaluate("ridge:1", new, old, *fit_ridge(X, Y, 1.0))
evaluate("ridge:0.1", new, old, *fit_ridge(X, Y, 0.1))
loo = ridge_loo(X, Y, GRID)
cv = RidgeCV(alphas=GRID).fit(X, Y)
best = float(GRID[int(np.argmin(loo))])
W, b, e = fit_ridge(X, Y, best)
e.update({"grid": GRID.tolist(), "loo_mse": loo, "sklearn_ridgecv_alpha": float(cv.alpha_),
          "sklearn_ridgecv_best_score": float(cv.best_score_)})
evaluate("ridge:auto", new, old, W, b, e)
# Different dimensions: NEW truncated to 300 dims -> OLD (dx < dy), and OLD -> NEW[:, :300] (dx > dy).
new300 = np.ascontiguousarray(new[:, :300])
for fit, fn in [("procrustes", lambda a, c: procrustes(a, c, True, False)), ("procrustes-scaled", lambda a, c: procrustes(a, c, True, True)),
                ("rotation", lambda a, c: procrustes(a, c, False, False))]:
    evaluate(f"{fit}@new300", new300, old, *fn(new300[train], old[train]))
    evaluate(f"{fit}@old_to_new300", old, new300, *fn(old[train], new300[train]))
ro = retrieval(old[held], old[held], (held_cls, held_cls), True)
mapping["old_heldout_labels"] = {"recall_at_1": ro["recall_at_1"], "map": ro["map"]}
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

# 3b. Orthogonal maps on a rank-deficient space. OLD with columns 0..2 zeroed, then reflected by the
# Householder matrix H = I - 2 v v^T (v_i proportional to 1 + i mod 7), rounded to float32: numerical
# rank 381 of 384 and no null direction along an axis. The training cross-covariance then has 3
# (cross-dimension cases: 2) singular values at the rounding level. The orthogonal solutions come from
# scipy.linalg.orthogonal_procrustes (square) and numpy's U V^T over ALL singular pairs (different
# dimensions); their free directions are LAPACK's arbitrary choice, so only what every orthogonal
# solution shares is recorded: orthogonality, mapped cosines, held-out retrieval, the scale.
# "truncated_*" is the map without the free directions (a partial isometry that shrinks vectors).
from scipy.linalg import orthogonal_procrustes  # noqa: E402

hv = 1.0 + (np.arange(old.shape[1]) % 7)
hv /= np.linalg.norm(hv)
z = old.copy()
z[:, :3] = 0
old_def = (z - 2.0 * (z @ hv)[:, None] * hv[None, :]).astype(np.float32).astype(np.float64)
sv_old = np.linalg.svd(old_def, compute_uv=False)
new383 = np.ascontiguousarray(new[:, :383])


def orthogonal_fit(X, Y, centre, scaled):
    mx, my = (X.mean(0), Y.mean(0)) if centre else (np.zeros(X.shape[1]), np.zeros(Y.shape[1]))
    Xc, Yc = X - mx, Y - my
    M = Xc.T @ Yc
    sv = np.linalg.svd(M, compute_uv=False)
    rank = int(np.sum(sv > F32 * np.sqrt(np.sum(sv ** 2))))
    if X.shape[1] == Y.shape[1]:
        R, _ = orthogonal_procrustes(Xc, Yc)
    else:
        U, _, Vt = np.linalg.svd(M, full_matrices=False)
        R = U @ Vt
    s = float(np.trace(R.T @ M) / np.sum((Xc @ R) ** 2)) if scaled else 1.0
    return R, s * R, my - mx @ (s * R), rank


def evaluate_orthogonal(name, src, dst, centre, scaled):
    X, Y = src[train], dst[train]
    R, W, b, rank = orthogonal_fit(X, Y, centre, scaled)
    small = min(R.shape)
    gram = R.T @ R if R.shape[0] >= R.shape[1] else R @ R.T
    mapped = src[held] @ W + b
    mapped_train = src[train] @ W + b
    Wt, bt, _ = procrustes(X, Y, centre, scaled, truncate=True)  # the truncated map, for comparison
    ri = retrieval(mapped, dst[held], None, False)
    rl = retrieval(mapped, dst[held], (held_cls, held_cls), True)
    rank_deficient[name] = {
        "input_dim": int(W.shape[0]), "output_dim": int(W.shape[1]), "rank": rank, "free": small - rank,
        "orthogonality_error": float(np.max(np.abs(gram - np.eye(small)))), "scale": float(np.linalg.norm(W) / np.sqrt(small)),
        "mapped_cosine_mean": float(np.mean(np.sum(unit(mapped) * unit(dst[held]), axis=1))),
        "mapped_cosine_mean_train": float(np.mean(np.sum(unit(mapped_train) * unit(dst[train]), axis=1))),
        "truncated_mapped_cosine_mean": float(np.mean(np.sum(unit(src[held] @ Wt + bt) * unit(dst[held]), axis=1))),
        "truncated_weights_frobenius": float(np.linalg.norm(Wt)),
        "recall_at_1_identity": ri["recall_at_1"], "mrr_identity": ri["mrr"],
        "recall_at_1_labels": rl["recall_at_1"], "map_labels": rl["map"],
    }


rank_deficient = {
    "construction": "OLD[:, :3] = 0, then y = x - 2 (x.v) v with v_i = (1 + i mod 7)/|.|, float64, rounded to float32",
    "old_singular_values_smallest": sv_old[-4:].tolist(), "old_singular_value_largest": float(sv_old[0]),
    "train": "even rows", "heldout": "odd rows",
}
for fit, centre, scaled in [("rotation", False, False), ("procrustes", True, False), ("procrustes-scaled", True, True)]:
    evaluate_orthogonal(fit, new, old_def, centre, scaled)
    evaluate_orthogonal(f"{fit}@new383_to_olddef", new383, old_def, centre, scaled)
    evaluate_orthogonal(f"{fit}@olddef_to_new383", old_def, new383, centre, scaled)
out["rank_deficient"] = rank_deficient

# 4. Compression of OLD as NEW: new -> new retrieval with labels.
lo, hi = old.astype(np.float32).min(0), old.astype(np.float32).max(0)
steps = (hi.astype(np.float64) - lo) / 255
int8 = np.trunc((old.astype(np.float32).astype(np.float64) - lo) / steps - 128)  # sentence-transformers' int8 calibration
compressed = {"int8": int8, "binary": np.where(old > 0, 1.0, -1.0), "truncate:128": old[:, :128]}
comp = {}
for name, c in compressed.items():
    codes = name in ("int8", "binary")
    r = retrieval(c, c, lab, True, codes=codes)
    comp[name] = {"recall_at_1_new": r["recall_at_1"], "recall_at_10_new": r["recall_at_10"], "map_new": r["map"]}
    if c.shape[1] == old.shape[1]:
        # Codes as queries against the real-valued OLD gallery: scale 1/|code| per query.
        rc = retrieval(c, old, lab, True)
        comp[name]["recall_at_1_cross"] = rc["recall_at_1"]
out["compression"] = comp

path = root / "Tests/Fixtures/crosscheck/compat_reference.json"
path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
print(json.dumps({k: v for k, v in out.items() if k != "mapping"}, indent=1), file=sys.stderr)
print(f"wrote {path}", file=sys.stderr)
