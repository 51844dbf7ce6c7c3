#!/usr/bin/env python3
"""Reference values for embdiag's shift analyzer, written to Tests/Fixtures/crosscheck/shift_reference.json.

Venv:  created on first run (venv "shift" under .venv/ or $EMBDIAG_VENVS) with numpy, scipy, scikit-learn and
       prdc 0.2 pinned; optional, for alibi-detect's MMDDrift statistic, install into it: alibi-detect==0.13.0
       'tensorflow-cpu<2.19' 'tensorflow-probability<0.26' 'tf-keras<2.19' 'ml-dtypes<0.5' (numba 0.59 needs numpy 1.26)
Run:   python3 scripts/crosscheck/shift_reference.py              (every case; rewrites the whole fixture)
       python3 scripts/crosscheck/shift_reference.py --only ties  (only the "ties" section, the rest kept as it is)
       python3 scripts/crosscheck/shift_reference.py --only classifier  (only the classifier entries)

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

Ties ("ties" section): prdc 0.2's precision/recall/density/coverage on tie-heavy inputs, where its strict
"<" against the k-NN radius decides the result: one row repeated 50 times against itself, a set with every
row twice against copies and new rows, the same 200 games rows on both sides, and integer-grid data
(rows of {-1, +1}^16, and of {-1, 0, +1}^16 with four non-zero entries) whose unit rows are exact in
binary (entries +-1/4 and +-1/2), so every distance prdc computes in float64 is exact and equal distances
really are equal. The grid rows are stored in the fixture, one string of "+", "-", "0" per row. For the grid cases the same four numbers are
also computed by the definition in integer arithmetic (squared distances of the integer rows), and the
script stops if prdc disagrees with them.
"""
import argparse
import json
import sys
from importlib.metadata import version, PackageNotFoundError
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("shift", ["numpy==1.26.4", "scipy==1.17.1", "scikit-learn==1.9.1", "prdc==0.2"],
               imports=["numpy", "scipy", "sklearn", "prdc"])

import numpy as np  # noqa: E402
import scipy
from scipy import stats
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from prdc import compute_prdc

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--only", choices=["ties", "classifier"], help="recompute only this section of the existing fixture")
args = parser.parse_args()

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


def prdc_by_definition(x_int, y_int, k):
    """precision/recall/density/coverage by prdc's definition in integer arithmetic: rows of equal
    squared norm q, so unit distance^2 = 2 - 2 x.y / q and comparisons of distances are comparisons of
    integer dot products (larger dot = closer). Strict "<" against the distance to the k-th nearest
    other row of the same sample (the (k+1)-th smallest including the row itself, as prdc takes it)."""
    def kth_radius_dot(a):
        g = a @ a.T
        np.fill_diagonal(g, np.iinfo(np.int64).max)  # the row itself: distance 0, always among the k + 1
        return -np.sort(-g, axis=1)[:, k]  # k-th largest dot among the other rows
    rx, ry = kth_radius_dot(x_int), kth_radius_dot(y_int)
    g = x_int @ y_int.T  # real x fake (a row against itself: its own squared norm, distance 0)
    inside = g > rx[:, None]
    return {"precision": float(inside.any(axis=0).mean()),
            "recall": float((g > ry[None, :]).any(axis=1).mean()),
            "density": float((1.0 / float(k)) * inside.sum(axis=0).mean()),  # prdc's order of operations
            "coverage": float((g.max(axis=1) > rx).mean())}


def encode(rows):
    """Integer rows of -1/0/+1 as one string each ("+-0+…"): compact in the fixture."""
    return ["".join("+" if v > 0 else "-" if v < 0 else "0" for v in r) for r in rows]


def tie_cases():
    rng = np.random.default_rng(2026)

    def signs(n, p=0.5, d=16):
        return np.where(rng.random((n, d)) < p, 1, -1).astype(np.int64)

    def ternary(n, d=16, nonzero=4):
        rows = np.zeros((n, d), np.int64)
        for r in rows:
            r[rng.choice(d, nonzero, replace=False)] = rng.choice([-1, 1], nonzero)
        return rows

    one = signs(1)
    base = signs(30)
    grid = signs(200)
    cases = {
        "identical_rows": (np.repeat(one, 50, axis=0), None),
        "duplicated_rows": (np.repeat(base, 2, axis=0), np.vstack([base[:20], signs(20)])),
        "integer_grid": (signs(150), signs(120, p=0.6)),
        "ternary_grid": (ternary(150), ternary(120)),
        "identical_grid_set": (grid, None),
    }
    result = {}
    for name, (x_int, y_int) in cases.items():
        same = y_int is None
        norm = np.sqrt((x_int[0] ** 2).sum())
        x = x_int / norm
        y = x if same else y_int / norm  # the same object, as a caller passes one set twice
        case = {"reference_rows": encode(x_int), "other_rows": None if same else encode(y_int), "other_is_reference": same}
        for k in (3, 5):
            r = {key: float(v) for key, v in compute_prdc(real_features=x, fake_features=y, nearest_k=k).items()}
            exact = prdc_by_definition(x_int, x_int if same else y_int, k)
            if r != exact:
                sys.exit(f"prdc differs from its definition in integer arithmetic on {name}, k={k}: {r} vs {exact}")
            case[f"prdc_k{k}"] = r
        result[name] = case
        print(name, {k: v for k, v in case.items() if k.startswith("prdc")}, file=sys.stderr)
    # The same 200 real sentence rows on both sides (not exact in binary: prdc's float64 distances).
    x = unit(games[:200])
    result["identical_games_set"] = {"data": "games.npy rows 0..199 on both sides",
                                     **{f"prdc_k{k}": {key: float(v) for key, v in compute_prdc(real_features=x, fake_features=x, nearest_k=k).items()} for k in (3, 5)}}
    print("identical_games_set", result["identical_games_set"], file=sys.stderr)
    return result


def classifier_case(x, y):
    """Classifier two-sample test with the fixed fold rule on pooled-standardised unit rows. A
    column whose population SD is at most 2^-24 (the float32 resolution of a unit row's
    coordinate; MiniLM has two dimensions of residues near 1e-33) is constant, as in embdiag."""
    z = np.vstack([x, y])
    m, n = len(x), len(y)
    sd = z.std(0)
    constant = sd <= 2.0 ** -24
    feats = np.where(constant, 0.0, (z - z.mean(0)) / np.where(constant, 1, sd))
    labels = np.r_[np.zeros(m), np.ones(n)]
    folds = folds_rule(m, n, K)
    decision = np.zeros(len(z))
    for f in range(K):
        tr, te = folds != f, folds == f
        clf = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(feats[tr], labels[tr])
        decision[te] = clf.decision_function(feats[te])
    mw = stats.mannwhitneyu(decision[m:], decision[:m], alternative="greater", method="asymptotic", use_continuity=True)
    return {"folds": K, "fold_rule": "(p + [second] * m) % 5", "C": 1.0, "constant_columns": int(constant.sum()),
            "auc": float(roc_auc_score(labels, decision)), "p_value_asymptotic": float(mw.pvalue),
            "decision": decision.tolist()}


K = 5
path = root / "Tests/Fixtures/crosscheck/shift_reference.json"
versions = {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "prdc": version("prdc"), "python": sys.version.split()[0]}
if args.only == "ties":
    out = json.loads(path.read_text())
    out["ties"] = {"versions": versions, "cases": tie_cases()}
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote the ties section of", path, file=sys.stderr)
    sys.exit(0)
if args.only == "classifier":
    out = json.loads(path.read_text())
    for name, (x, y) in {"shift": (games[:200], fonts[:150]), "within_games": (games[:200], games[200:350])}.items():
        out["cases"][name]["classifier"] = classifier_case(unit(x), unit(y))
        print(name, "auc", out["cases"][name]["classifier"]["auc"], file=sys.stderr)
    out["classifier_versions"] = versions
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote the classifier entries of", path, file=sys.stderr)
    sys.exit(0)

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
    case["classifier"] = classifier_case(x, y)
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

out["ties"] = {"versions": versions, "cases": tie_cases()}
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path, file=sys.stderr)
