#!/usr/bin/env python3
"""Reference values for embdiag's depth analyzer, from the original authors' package and scipy.

Writes Tests/Fixtures/crosscheck/depth_reference.json. Requires: pip install tte-depth==1.0.0 scipy numpy
(run: python3 scripts/crosscheck/depth_reference.py). Data: the bundled real sentence embeddings
(data/sentences/by-section/games.npy = reference, fonts.npy = other; unit rows, 500 vs 350).

Also records the package's equal-size bug (depths_paired averages the wrong axis of its F×G distance
matrix when len(F) == len(G)): 200 vs 200 rows against 200 vs 201 rows.
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import scipy
from scipy import stats
from tte_depth import StatDepth

root = Path(__file__).resolve().parents[2]
F = np.load(root / "data/sentences/by-section/games.npy").astype(np.float64)
G = np.load(root / "data/sentences/by-section/fonts.npy").astype(np.float64)
out = {"package": f"tte-depth {version('tte-depth')}", "scipy": scipy.__version__, "numpy": np.__version__}

for distance in ["cosine", "chord"]:
    sd = StatDepth(distance)
    dF, dG, q, w, p = sd.depth_rank_test(F, G)
    out[distance] = {"depths_reference": dF.tolist(), "depths_other": dG.tolist(), "q_pooled": float(q), "w": float(w), "p_value": float(p)}
    print(distance, "W", w, "p", p, "q_pooled", q, file=sys.stderr)

# Equal-size bug: the package's D_G for 200 vs 200 equals the definition applied to the wrong axis.
sd = StatDepth("cosine")
F200, G200, G201 = F[:200], G[:200], G[:201]
_, dG_equal = sd.depths_paired(F200, G200)
_, dG_unequal = sd.depths_paired(F200, G201)
Fn = F200 / np.linalg.norm(F200, axis=1, keepdims=True)
Gn = G200 / np.linalg.norm(G200, axis=1, keepdims=True)
definition = 2 - (1 - Fn @ Gn.T).mean(axis=0)   # D(g_j; F) = 2 - mean_i delta(f_i, g_j)
wrong_axis = 2 - (1 - Fn @ Gn.T).mean(axis=1)   # what the package returns when sizes are equal
out["equal_size_bug"] = {
    "max_abs_package_minus_definition_200v200": float(np.abs(dG_equal - definition).max()),
    "max_abs_package_minus_wrong_axis_200v200": float(np.abs(dG_equal - wrong_axis).max()),
    "max_abs_package_minus_definition_200v201_first200": float(np.abs(dG_unequal[:200] - definition).max()),
}
print(out["equal_size_bug"], file=sys.stderr)

# scipy rank tests on fixed small inputs (with and without ties).
x = [1.2, 3.4, 0.5, 2.2, 5.1, 4.4, 3.9]
y = [0.1, 2.0, 1.1, 0.7, 3.0]
xt = [1, 2, 2, 3, 4, 4, 4, 5]
yt = [2, 3, 3, 1, 0, 4]
tests = {}
for name, (a, b) in {"no_ties": (x, y), "ties": (xt, yt)}.items():
    for alt in ["greater", "less", "two-sided"]:
        rs = stats.ranksums(a, b, alternative=alt)
        mw = stats.mannwhitneyu(a, b, alternative=alt, method="asymptotic", use_continuity=True)
        entry = {"w": float(rs.statistic), "p_ranksums": float(rs.pvalue), "u": float(mw.statistic), "p_mw_asymptotic": float(mw.pvalue)}
        if name == "no_ties":
            entry["p_mw_exact"] = float(stats.mannwhitneyu(a, b, alternative=alt, method="exact").pvalue)
        tests[f"{name}/{alt}"] = entry
out["rank_tests"] = {"x": x, "y": y, "x_ties": xt, "y_ties": yt, "results": tests}
pv = [0.01, 0.04, 0.03, 0.2, 0.005, 0.5]
out["adjust"] = {"p": pv, "bh": stats.false_discovery_control(pv, method="bh").tolist()}

path = root / "Tests/Fixtures/crosscheck/depth_reference.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path, file=sys.stderr)
