#!/usr/bin/env python3
"""Cross-check of embdiag relrep (Tests/EmbeddingDiagnosticsTests/RelativeRepresentationsTests.swift).

Independent reference values, computed the slow/direct way:
  * linear CKA with the n × n centred Gram matrices, HSIC = Σ (HKH)∘(HLH)  (latentis 0.0.8
    `latentis/measure/functional/cka.py::linear_hsic`, ported to numpy — torch is not installed here);
  * debiased CKA from the unbiased HSIC of Song et al. (2012) written with explicit n × n K̃, L̃;
  * relative projection = latentis 0.0.8 `RelativeProjection(cosine_proj, abs_transform=Centering())`
    ported line by line to numpy (F.normalize(p=2, eps=1e-12); Centering shift = anchor mean);
  * scipy.spatial.procrustes disparity;
  * k-NN Jaccard / mutual k-NN by brute force with ties counted by the same rule: a row scoring
    above the k-th score is in the k-NN set, each of the t rows tied at the k-th score with
    probability (places left)/t; E|A & B| = sum_j P(j in A) P(j in B) (tie orders independent),
    Jaccard = E / (|A| + |B| - E), mutual k-NN = E / k;
  * cross-space top-1 and MRR by brute force; retrieval metrics by the
    project's one tie rule (Guides/Architecture.md, "Ranking and ties"): with b rows scoring above
    the partner and a block of m rows tied with it (the partner included), P(rank <= k) =
    clip((k - b)/m, 0, 1) and E[1/rank] = mean over t = 1..m of 1/(b + t) -- the expected value
    over the orderings of the tied block.

Usage:
  relrep_crosscheck.py formula              # the deterministic formula matrices used in the tests
  relrep_crosscheck.py real X.npy Y.npy N   # first N rows of two real embedding files
  relrep_crosscheck.py fixture              # writes Tests/Fixtures/crosscheck/relrep_reference.json

Protocol of the fixture: retrieval and relative k-NN use only the non-anchor rows, as queries
and as the gallery; absolute k-NN: non-anchor queries among all rows; several k in one run; CKA
without anchors; `--center auto` = centre when either space's mean pairwise cosine exceeds 0.3.
Versions used for the recorded values: numpy 2.4, scipy 1.17, latentis 0.0.8 (source read from the
wheel: pip download latentis==0.0.8 --no-deps).
"""
import math
import sys

import numpy as np
from scipy.spatial import procrustes


def formula_matrices():
    """The same float32 matrices the Swift tests build (sin/cos of the index)."""
    n, dx, dy = 60, 8, 5
    x = np.array([[math.sin((i * dx + j) * 0.731) + 0.3 * math.cos(i * 0.1 * (j + 1)) for j in range(dx)] for i in range(n)], dtype=np.float32)
    y = np.array([[math.cos((i * dy + k) * 0.517) + 0.5 * math.sin(i * 0.05 * (k + 2)) + 0.8 * float(x[i, k]) for k in range(dy)] for i in range(n)], dtype=np.float32)
    y2 = np.array([[1.5 * float(x[i, (j + 1) % dx]) + 0.2 * math.sin(i * j * 0.3) for j in range(dx)] for i in range(n)], dtype=np.float32)
    return x, y, y2


# --- latentis 0.0.8, ported -------------------------------------------------------------------
def l2_normalize(v, eps=1e-12):  # torch.nn.functional.normalize(p=2, dim=-1)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def latentis_relative(x, anchor_rows, centering):
    """RelativeProjection(projection_fn=cosine_proj, abs_transform=Centering() or Identity()).
    fit(anchors): shift = anchors.mean(0) (Centering), stored anchors = anchors − shift;
    transform(x): cosine_proj(x − shift, anchors=stored)."""
    x = x.astype(np.float64)
    anchors = x[anchor_rows]
    shift = anchors.mean(axis=0) if centering else np.zeros(x.shape[1])
    a = anchors - shift
    return l2_normalize(x - shift) @ l2_normalize(a).T


def center_kernel(k):  # latentis center_kernel_matrix: H K H, H = I − 11ᵀ/n
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return h @ k @ h


def latentis_linear_cka(x, y):
    x = x.astype(np.float64); y = y.astype(np.float64)
    hsic = lambda a, b: np.sum(center_kernel(a @ a.T) * center_kernel(b @ b.T))
    return hsic(x, y) / math.sqrt(hsic(x, x) * hsic(y, y))


# --- Song et al. (2012) unbiased HSIC, direct n × n --------------------------------------------
def unbiased_hsic(k, l):
    n = k.shape[0]
    kt = k.copy(); np.fill_diagonal(kt, 0)
    lt = l.copy(); np.fill_diagonal(lt, 0)
    one = np.ones(n)
    return (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ kt @ lt @ one)) / (n * (n - 3))


def debiased_cka(x, y):
    x = x.astype(np.float64); y = y.astype(np.float64)
    k, l = x @ x.T, y @ y.T  # uncentred on purpose: the estimator is shift-invariant
    return unbiased_hsic(k, l) / math.sqrt(unbiased_hsic(k, k) * unbiased_hsic(l, l))


# --- neighbour metrics -------------------------------------------------------------------------
def knn_memberships(u, rows, k):
    """Per query row: {gallery row: probability of being in its k-NN set} over the orders of the
    rows tied at the k-th score (the query row itself excluded)."""
    s = u[rows] @ u.T
    s[np.arange(len(rows)), rows] = -np.inf
    out = []
    for row in s:
        kk = min(k, len(row) - 1)
        kth = np.sort(row)[::-1][kk - 1]
        above = np.nonzero(row > kth)[0]
        tied = np.nonzero(row == kth)[0]
        p = {int(j): 1.0 for j in above}
        for j in tied:
            p[int(j)] = (kk - len(above)) / len(tied)
        out.append(p)
    return out


def expected_overlaps(a, b, k):
    """Mean Jaccard E / (|A| + |B| - E) and mean mutual k-NN E / k of two lists of memberships."""
    jac, mut = [], []
    for pa, pb in zip(a, b):
        e = sum(p * pb[j] for j, p in pa.items() if j in pb)
        size_a, size_b = sum(pa.values()), sum(pb.values())
        union = size_a + size_b - e
        jac.append(e / union if union > 0 else 0.0)
        mut.append(e / k)
    return float(np.mean(jac)), float(np.mean(mut))


class TiedRanks:
    """Per query: b rows strictly above the partner, a tied block of m rows (partner included).
    Metrics are expected values over the block's orderings."""

    def __init__(self, before, block):
        self.before = np.asarray(before, dtype=np.int64)
        self.block = np.asarray(block, dtype=np.int64)

    def within(self, k):  # mean of P(rank <= k)
        return float(np.mean(np.clip((k - self.before) / self.block, 0.0, 1.0)))

    def reciprocal(self, k=None):  # per query E[1/rank] (only ranks <= k when k is given)
        out = []
        for b, m in zip(self.before, self.block):
            places = [b + t for t in range(1, m + 1) if k is None or b + t <= k]
            out.append(sum(1.0 / p for p in places) / m)
        return np.array(out)

    def mrr(self, k=None):
        return float(np.mean(self.reciprocal(k)))


def tied_ranks(s, positions):
    """Rows of s are queries; the partner of query i is column positions[i]."""
    before, block = [], []
    for p, row in zip(positions, s):
        t = row[p]
        before.append(int(np.sum(row > t)))
        block.append(int(np.sum(row == t)))  # the partner itself included
    return TiedRanks(before, block)


def ranks(qx, gy, rows):
    return tied_ranks(qx[rows] @ gy.T, rows)


def report(x, y, anchors, k, label):
    print(f"== {label}: X {x.shape}, Y {y.shape}, {len(anchors)} anchors, k = {k}")
    print(f"cka_linear   {latentis_linear_cka(x, y):.10f}")
    print(f"cka_debiased {debiased_cka(x, y):.10f}")
    if x.shape[1] == y.shape[1]:
        _, _, disparity = procrustes(x.astype(np.float64), y.astype(np.float64))
        print(f"procrustes_disparity {disparity:.10f}")
    for centering in (False, True):
        rx = latentis_relative(x, anchors, centering)
        ry = latentis_relative(y, anchors, centering)
        ux, uy = l2_normalize(rx), l2_normalize(ry)
        evaluation = np.array([i for i in range(len(x)) if i not in set(anchors)])
        cos = np.sum(ux * uy, axis=1)[evaluation]
        rk = ranks(ux, uy, evaluation)
        jr = expected_overlaps(knn_memberships(ux, evaluation, k), knn_memberships(uy, evaluation, k), k)[0]
        print(f"centering={centering}: relative[0,:4] {np.array2string(rx[0, :4], precision=8)}  relative[5,:4] {np.array2string(rx[5, :4], precision=8)}")
        print(f"  relative_cosine_mean {cos.mean():.8f} relative_top1 {rk.within(1):.8f} relative_mrr {rk.mrr():.8f} knn_jaccard_relative {jr:.8f}")
    evaluation = np.array([i for i in range(len(x)) if i not in set(anchors)])
    ax, ay = l2_normalize(x.astype(np.float64)), l2_normalize(y.astype(np.float64))
    jac, mut = expected_overlaps(knn_memberships(ax, evaluation, k), knn_memberships(ay, evaluation, k), k)
    print(f"knn_jaccard {jac:.8f} mutual_knn {mut:.8f}")


def ranks_in(qx, gy, positions):
    """Where each query's partner ranks among the gallery rows (same positions), as a tied block."""
    return tied_ranks(qx[positions] @ gy.T, positions)


def mean_pairwise_cosine(x):
    u = l2_normalize(x.astype(np.float64))
    s = u.sum(0)
    n = len(u)
    return float((s @ s - n) / (n * (n - 1)))


AUTO_LEVEL = 0.3


def fixture_case(x, y, anchors, ks, center):
    """center: 'none', 'anchors' or 'auto'."""
    n = len(x)
    mc = (mean_pairwise_cosine(x), mean_pairwise_cosine(y))
    centred = center == "anchors" or (center == "auto" and max(mc) > AUTO_LEVEL)
    evaluation = np.array([i for i in range(n) if i not in set(anchors)])
    out = {"mean_cosine_reference": mc[0], "mean_cosine_other": mc[1], "centered": bool(centred),
           "cka_linear": latentis_linear_cka(x, y), "cka_debiased": debiased_cka(x, y)}
    ax, ay = l2_normalize(x.astype(np.float64)), l2_normalize(y.astype(np.float64))
    positions = np.arange(len(evaluation))
    for k in ks:
        jac, mut = expected_overlaps(knn_memberships(ax, evaluation, k), knn_memberships(ay, evaluation, k), min(k, n - 1))
        out[f"knn_jaccard_at_{k}"] = jac
        out[f"mutual_knn_at_{k}"] = mut
    if x.shape[1] == y.shape[1]:
        rk = ranks_in(ax[evaluation], ay[evaluation], positions)
        out["absolute_top1"] = rk.within(1)
        out["absolute_mrr"] = rk.mrr()
    if len(anchors) == 0:
        return out
    rx = l2_normalize(latentis_relative(x, anchors, centred))
    ry = l2_normalize(latentis_relative(y, anchors, centred))
    gx, gy = rx[evaluation], ry[evaluation]
    rk = ranks_in(gx, gy, positions)
    out["relative_cosine_mean"] = float(np.mean(np.sum(gx * gy, axis=1)))
    out["relative_top1"] = rk.within(1)
    out["relative_mrr"] = rk.mrr()
    out["relative_mrr_at_k"] = rk.mrr(ks[0])
    out["relative_top1_stderr"] = float(np.sqrt(out["relative_top1"] * (1 - out["relative_top1"]) / len(positions)))
    out["relative_mrr_stderr"] = float(np.std(rk.reciprocal(), ddof=1) / np.sqrt(len(positions)))
    for k in ks:
        out[f"relative_top_at_{k}"] = rk.within(k)
        out[f"knn_jaccard_relative_at_{k}"] = expected_overlaps(knn_memberships(gx, positions, k), knn_memberships(gy, positions, k), k)[0]
    return out


TIE_PAIRS = [(1, 30), (4, 11), (9, 50), (15, 16), (22, 41), (33, 58)]


def tie_matrices():
    """The formula X and Y2 with Y2's row j set to its row i for every (i, j) in TIE_PAIRS (none
    of them an anchor: anchors are rows 0, 7, 14, ...)."""
    x, _, y2 = formula_matrices()
    y = y2.copy()
    for i, j in TIE_PAIRS:
        y[j] = y[i]
    return x, y


def constants(x, other, anchors, rows=(0, 5), columns=4):
    """CKA (biased, debiased), scipy Procrustes disparity (equal dimensions) and the first
    `columns` entries of relative rows `rows` with and without anchor centring."""
    out = {"cka_linear": latentis_linear_cka(x, other), "cka_debiased": debiased_cka(x, other)}
    if x.shape[1] == other.shape[1]:
        out["procrustes_disparity"] = float(procrustes(x.astype(np.float64), other.astype(np.float64))[2])
    for centering, name in [(False, "plain"), (True, "centred")]:
        rel = latentis_relative(x, anchors, centering)
        out[f"relative_{name}"] = {str(r): [float(v) for v in rel[r, :columns]] for r in rows}
    return out


def write_fixture():
    import json
    from importlib.metadata import version
    from pathlib import Path
    import scipy
    root = Path(__file__).resolve().parents[2]
    out = {"packages": {"numpy": np.__version__, "scipy": scipy.__version__},
           "latentis": "0.0.8 RelativeProjection(cosine_proj, Centering) and linear CKA, ported to numpy (source read from the wheel)",
           "auto_center_level": AUTO_LEVEL, "formula": {}, "real": {}}
    x, y, y2 = formula_matrices()
    anchors = list(range(0, 60, 7))
    for name, other in [("y", y), ("y2", y2)]:
        for center in ["none", "anchors", "auto"]:
            out["formula"][f"{name}_{center}"] = fixture_case(x, other, anchors, [3, 1, 5], center)
        out["formula"][f"{name}_no_anchors"] = fixture_case(x, other, [], [3, 1, 5], "auto")
        out["formula"][f"{name}_constants"] = constants(x, other, anchors)
    # Ties: rows of Y2 duplicated at other rows (X differs), so a query's partner ties with another
    # gallery row. "Smaller row first" and the expected value over tied orders differ here.
    tx, ty = tie_matrices()
    out["formula"]["ties"] = fixture_case(tx, ty, anchors, [3, 1, 5], "none")
    S = root / "data/sentences"
    n = 1000
    fx = np.load(S / "debian-minilm-l6.npy")[:n].astype(np.float32)
    fy = np.load(S / "debian-minilm-l6-layer3.npy")[:n].astype(np.float32)
    anchors = list(range(0, n, 10))
    for center in ["none", "anchors", "auto"]:
        out["real"][center] = fixture_case(fx, fy, anchors, [5, 1, 10], center)
    out["real"]["no_anchors"] = fixture_case(fx, fy, [], [5, 1, 10], "auto")
    out["real"]["constants"] = constants(fx, fy, anchors)
    path = root / "Tests/Fixtures/crosscheck/relrep_reference.json"
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}", file=sys.stderr)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "formula"
    if mode == "fixture":
        write_fixture()
        return
    if mode == "formula":
        x, y, y2 = formula_matrices()
        anchors = list(range(0, 60, 7))
        report(x, y, anchors, 3, "formula X vs Y (dims 8, 5)")
        report(x, y2, anchors, 3, "formula X vs Y2 (dims 8, 8)")
    else:
        n = int(sys.argv[4])
        x = np.load(sys.argv[2], mmap_mode="r")[:n].astype(np.float32)
        y = np.load(sys.argv[3], mmap_mode="r")[:n].astype(np.float32)
        anchors = list(range(0, n, 10))
        report(x, y, anchors, 5, f"real first {n} rows")


if __name__ == "__main__":
    main()
