#!/usr/bin/env python3
"""Cross-check of embdiag relrep (Tests/EmbeddingDiagnosticsTests/RelativeRepresentationsTests.swift).

Independent reference values, computed the slow/direct way:
  * linear CKA with the n × n centred Gram matrices, HSIC = Σ (HKH)∘(HLH)  (latentis 0.0.8
    `latentis/measure/functional/cka.py::linear_hsic`, ported to numpy — torch is not installed here);
  * debiased CKA from the unbiased HSIC of Song et al. (2012) written with explicit n × n K̃, L̃;
  * relative projection = latentis 0.0.8 `RelativeProjection(cosine_proj, abs_transform=Centering())`
    ported line by line to numpy (F.normalize(p=2, eps=1e-12); Centering shift = anchor mean);
  * scipy.spatial.procrustes disparity;
  * k-NN Jaccard / mutual k-NN / cross-space top-1 and MRR by brute force.

Usage:
  relrep_crosscheck.py formula              # the deterministic formula matrices used in the tests
  relrep_crosscheck.py real X.npy Y.npy N   # first N rows of two real embedding files
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
def knn_sets(u, rows, k):
    s = u[rows] @ u.T
    s[np.arange(len(rows)), rows] = -np.inf
    # stable sort: ties → smaller index, as embdiag
    return [set(np.argsort(-row, kind="stable")[:k]) for row in s]


def ranks(qx, gy, rows):
    s = qx[rows] @ gy.T
    out = []
    for r, row in zip(rows, s):
        t = row[r]
        out.append(1 + int(np.sum(row > t)) + int(np.sum(row[:r] == t)))
    return np.array(out)


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
        jr = np.mean([len(a & b) / len(a | b) for a, b in zip(knn_sets(ux, evaluation, k), knn_sets(uy, evaluation, k))])
        print(f"centering={centering}: relative[0,:4] {np.array2string(rx[0, :4], precision=8)}  relative[5,:4] {np.array2string(rx[5, :4], precision=8)}")
        print(f"  relative_cosine_mean {cos.mean():.8f} relative_top1 {np.mean(rk == 1):.8f} relative_mrr {np.mean(1 / rk):.8f} knn_jaccard_relative {jr:.8f}")
    evaluation = np.array([i for i in range(len(x)) if i not in set(anchors)])
    ax, ay = l2_normalize(x.astype(np.float64)), l2_normalize(y.astype(np.float64))
    sx, sy = knn_sets(ax, evaluation, k), knn_sets(ay, evaluation, k)
    print(f"knn_jaccard {np.mean([len(a & b) / len(a | b) for a, b in zip(sx, sy)]):.8f} mutual_knn {np.mean([len(a & b) / k for a, b in zip(sx, sy)]):.8f}")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "formula"
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
