#!/usr/bin/env python3
"""Reference values for embdiag's shift analyzer, written to Tests/Fixtures/crosscheck/shift_reference.json.

Venv (once):  python3 -m venv .venv/shift && .venv/shift/bin/pip install numpy scipy scikit-learn prdc==0.2
              (optional, for alibi-detect's MMDDrift statistic: pip install alibi-detect==0.13.0 'tensorflow-cpu<2.19'
              'tensorflow-probability<0.26' 'tf-keras<2.19' 'numpy==1.26.4' 'ml-dtypes<0.5' — numba 0.59 needs numpy 1.26)
Run:          .venv/shift/bin/python scripts/crosscheck/shift_reference.py

Data: the bundled real sentence embeddings (MiniLM, 384-d). Two cases, both on unit-normalised rows:
  shift: REF = data/sentences/by-section/games.npy rows 0..199, OTHER = fonts.npy rows 0..149 (a real shift)
  within_games: REF = games rows 0..199, OTHER = games rows 200..349 (one section; the rows are ordered, so a small shift)

What is computed, each by the papers' definitions in float64 numpy (independent of embdiag's algebra):
  - the median heuristic sigma = median of ||z_i - z_j|| over pooled pairs i < j (numpy median);
  - MMD^2_u (Gretton et al. 2012, eq. 3) with k = exp(-||x-y||^2 / (2 sigma^2)) and with k = x.y;
  - energy distance E = 2 mean||x-y|| - mean||x-x'|| - mean||y-y'|| (V-statistics, Szekely & Rizzo 2013);
  - precision, recall, density, coverage from the reference package prdc 0.2 (Naeem et al. 2020);
  - the classifier two-sample test: scikit-learn LogisticRegression(C=1) on pooled-standardised rows,
    folds given by a fixed rule (row position within its sample, the second sample continuing: fold =
    (p + [second] * m) % 5), out-of-fold decision values, roc_auc_score and scipy's mannwhitneyu;
  - when alibi-detect imports: MMDDrift(..., sigma=<the same sigma>) distance (its MMD^2_u).
"""
import json
import sys
from importlib.metadata import version, PackageNotFoundError
from pathlib import Path

import numpy as np
import scipy
from scipy import stats
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from prdc import compute_prdc

root = Path(__file__).resolve().parents[2]
games = np.load(root / "data/sentences/by-section/games.npy").astype(np.float64)
fonts = np.load(root / "data/sentences/by-section/fonts.npy").astype(np.float64)


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def pairwise_distance(a, b):
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2, 0))


def mmd2_unbiased(kxx, kyy, kxy):
    m, n = kxx.shape[0], kyy.shape[0]
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return sxx + syy - 2 * kxy.mean()


def folds_rule(m, n, k=5):
    return np.array([p % k for p in range(m)] + [(p + m) % k for p in range(n)])


out = {
    "numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
    "prdc": version("prdc"), "python": sys.version.split()[0],
    "data": {"reference": "games.npy rows 0..199", "shift_other": "fonts.npy rows 0..149", "within_games_other": "games.npy rows 200..349"},
    "cases": {},
}
try:
    from alibi_detect.cd import MMDDrift
    out["alibi-detect"] = version("alibi-detect")
    for backend_package in ("tensorflow", "torch"):
        try:
            out[backend_package] = version(backend_package)
        except PackageNotFoundError:
            pass
    have_alibi = True
except Exception as e:  # not installed, or no backend
    out["alibi-detect"] = f"unavailable: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
    have_alibi = False

K = 5
for name, (x, y) in {"shift": (games[:200], fonts[:150]), "within_games": (games[:200], games[200:350])}.items():
    x, y = unit(x), unit(y)
    z = np.vstack([x, y])
    m, n = len(x), len(y)
    d = pairwise_distance(z, z)
    np.fill_diagonal(d, 0)
    iu = np.triu_indices(len(z), 1)
    sigma = float(np.median(d[iu]))
    kg = np.exp(-d ** 2 / (2 * sigma ** 2))
    kl = z @ z.T
    case = {
        "m": m, "n": n, "bandwidth": sigma,
        "mmd_gaussian": float(mmd2_unbiased(kg[:m, :m], kg[m:, m:], kg[:m, m:])),
        "mmd_cosine": float(mmd2_unbiased(kl[:m, :m], kl[m:, m:], kl[:m, m:])),
        "energy": float(2 * d[:m, m:].mean() - d[:m, :m].mean() - d[m:, m:].mean()),
        "energy_mean_cross_distance": float(d[:m, m:].mean()),
    }
    for k in (3, 5):
        r = compute_prdc(real_features=x, fake_features=y, nearest_k=k)
        case[f"prdc_k{k}"] = {key: float(v) for key, v in r.items()}
    # Classifier two-sample test with the fixed fold rule.
    feats = (z - z.mean(0)) / np.where(z.std(0) > 0, z.std(0), 1)
    labels = np.r_[np.zeros(m), np.ones(n)]
    folds = folds_rule(m, n, K)
    decision = np.zeros(len(z))
    for f in range(K):
        tr, te = folds != f, folds == f
        clf = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(feats[tr], labels[tr])
        decision[te] = clf.decision_function(feats[te])
    mw = stats.mannwhitneyu(decision[m:], decision[:m], alternative="greater", method="asymptotic", use_continuity=True)
    case["classifier"] = {"folds": K, "fold_rule": "(p + [second] * m) % 5", "C": 1.0,
                          "auc": float(roc_auc_score(labels, decision)), "p_value_asymptotic": float(mw.pvalue),
                          "decision": decision.tolist()}
    if have_alibi:
        try:
            for backend in ("tensorflow", "pytorch"):
                try:
                    cd = MMDDrift(x.astype(np.float32), backend=backend, p_val=0.05, sigma=np.array([sigma], dtype=np.float32),
                                  configure_kernel_from_x_ref=False, n_permutations=100)
                    pred = cd.predict(y.astype(np.float32))
                    case["alibi_mmd_drift"] = {"backend": backend, "distance": float(pred["data"]["distance"]), "p_val": float(pred["data"]["p_val"])}
                    break
                except (ImportError, NotImplementedError) as e:
                    case["alibi_mmd_drift"] = {"error": f"{backend}: {e}"[:300]}
        except Exception as e:
            case["alibi_mmd_drift"] = {"error": str(e)[:300]}
    out["cases"][name] = case
    print(name, {k: v for k, v in case.items() if k not in ("classifier",)}, "auc", case["classifier"]["auc"], file=sys.stderr)

path = root / "Tests/Fixtures/crosscheck/shift_reference.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path, file=sys.stderr)
