#!/usr/bin/env python3
"""NumPy reference for the orientation part of `embdiag fingerprint --check` (Guides/Fingerprint.md,
"Orientation"), computed by the definitions, independently of embdiag's formulas:

- the unbiased off-diagonal strength S_off of a sample, as the mean over ordered pairs of distinct
  rows i != i' of sum_{j != l} x_ij x_il x_i'j x_i'l = (x_i . x_i')^2 - sum_j x_ij^2 x_i'j^2, from the
  n x n Gram matrices of the rows and of their squares (embdiag uses the d x d form);
- the second moment M_F rebuilt from the fingerprint (mean, spectrum, k = 32 directions) and its
  off-diagonal entries A; the orientation score sum_{j != l} A_jl M_N,jl / sqrt(S_off,F * S_off,N);
  the diagonal score (the diagonal of T(M_F) against that of T(M_N), over sqrt(S_F * S_N));
- the spread of a half-sign-flipped copy's orientation score, sqrt(2 sum A_jl^4) / S_off,F, and the
  threshold max(0.10, 4 spread);
- checks of data/sentences/debian-minilm-l6.npy's fingerprint against the held-out MiniLM rows, the
  same rows with a seeded random half of the coordinates sign-flipped, with the coordinate of the
  largest |mean| flipped, and the held-out e5 rows (the sign vectors are written to the fixture).

Writes Tests/Fixtures/crosscheck/fingerprint-orientation.json (package versions included).

    python3 scripts/crosscheck/fingerprint_orientation_reference.py
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("crosscheck-fingerprint", ["numpy==2.4.6"], imports=["numpy"])

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "Tests/Fixtures/fingerprint"
K = 32
THRESHOLD = 0.10
SPREADS = 4.0


def load(path):
    return np.load(path).astype(np.float64)


def off_strength(x):
    """Mean over ordered distinct row pairs of sum_{j != l} x_ij x_il x_i'j x_i'l."""
    n = len(x)
    k = x @ x.T                       # x_i . x_i'
    k2 = (x * x) @ (x * x).T          # sum_j x_ij^2 x_i'j^2
    pair = k * k - k2
    np.fill_diagonal(pair, 0.0)
    return pair.sum() / (n * (n - 1))


def traceless_strength(x):
    """Mean over ordered distinct row pairs of <T(x_i x_i^T), T(x_i' x_i'^T)> = (x_i . x_i')^2 - s_i s_i' / d."""
    n, d = x.shape
    k = x @ x.T
    s = np.diag(k).copy()
    pair = k * k - np.outer(s, s) / d
    np.fill_diagonal(pair, 0.0)
    return pair.sum() / (n * (n - 1))


def fingerprint(x):
    n, d = x.shape
    mean = x.mean(0)
    w, v = np.linalg.eigh(np.cov(x.T))
    w, v = w[::-1], v[:, ::-1].T[:K]
    a = (n - 1) / n
    rest = (w.sum() - w[:K].sum()) / (d - K)
    m = a * ((v.T * w[:K]) @ v + rest * (np.eye(d) - v.T @ v)) + np.outer(mean, mean)
    off = m - np.diag(np.diag(m))
    s_off = off_strength(x)
    spread = np.sqrt(2 * np.sum(off ** 4)) / s_off
    return {"m": m, "trace": (x * x).sum() / n, "strength": traceless_strength(x), "off_strength": s_off,
            "rebuilt_off": float(np.sum(off ** 2)), "flip_spread": float(spread),
            "orientation_threshold": float(max(THRESHOLD, SPREADS * spread))}


def check(fp, y):
    m = len(y)
    d = y.shape[1]
    mn = y.T @ y / m
    mask = ~np.eye(d, dtype=bool)
    orientation = np.sum(fp["m"][mask] * mn[mask]) / np.sqrt(fp["off_strength"] * off_strength(y))
    tf = np.diag(fp["m"]) - fp["trace"] / d
    tn = np.diag(mn) - np.trace(mn) / d
    diagonal = np.sum(tf * tn) / np.sqrt(fp["strength"] * traceless_strength(y))
    return {"orientation_score": float(orientation), "diagonal_score": float(diagonal),
            "sample_off_diagonal_strength": float(off_strength(y))}


def main():
    x = load(ROOT / "data/sentences/debian-minilm-l6.npy")
    fp = fingerprint(x)
    held = load(FIX / "minilm-heldout.npy")
    d = x.shape[1]
    rng = np.random.default_rng(11)
    half = np.ones(d)
    half[rng.choice(d, d // 2, replace=False)] = -1
    one = np.ones(d)
    one[int(np.argmax(np.abs(x.mean(0))))] = -1
    checks = {
        "minilm-heldout": check(fp, held),
        "minilm-heldout-half-flipped": check(fp, held * half),
        "minilm-heldout-one-flipped": check(fp, held * one),
        "e5-heldout": check(fp, load(FIX / "e5-heldout.npy")),
    }
    out = {
        "fingerprint_of": "data/sentences/debian-minilm-l6.npy", "directions": K,
        "off_diagonal_strength": float(fp["off_strength"]), "traceless_strength": float(fp["strength"]),
        "rebuilt_off_diagonal": fp["rebuilt_off"], "flip_spread": fp["flip_spread"],
        "orientation_threshold": fp["orientation_threshold"],
        "half_flip_signs": half.astype(int).tolist(), "one_flip_signs": one.astype(int).tolist(),
        "checks": checks,
        "versions": {"numpy": np.__version__, "python": sys.version.split()[0]},
    }
    (ROOT / "Tests/Fixtures/crosscheck/fingerprint-orientation.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if "signs" not in k}, indent=1))


if __name__ == "__main__":
    main()
