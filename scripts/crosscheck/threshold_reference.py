#!/usr/bin/env python3
"""Reference values for `embdiag compat --threshold`, by brute force in numpy/scipy.

Writes Tests/Fixtures/crosscheck/threshold_reference.json, which CompatibilityTests reads.
Runs in the venv of compat_reference.py (.venv/compat: numpy, scipy), created if missing:
    python3 scripts/crosscheck/threshold_reference.py

Data: OLD = all-MiniLM-L6-v2 layer 3, NEW = its final layer (data/sentences, 1,800 rows). Pairs: every
distinct pair i < j of rows, cosine in float64. For an OLD threshold t: K = #{old >= t};
quantile-matched t' = K-th largest NEW score; best-agreement t' = the NEW score at the cut (between
distinct scores) maximising #{(new >= t') == (old >= t)}; reuse precision/recall of NEW >= t against
OLD >= t; top-k variant: each space's own 10-NN pairs (ties to the smaller index), t' = the
round(share * m)-th largest NEW top-k score. Score shift: numpy.quantile (linear) at 1,5,25,50,75,95,99 %
and scipy.stats.ks_2samp's statistic for random pairs, top-1 cosines and top-1 - top-2 margins, and
the KS distance at the scores' resolution delta by its definition,
    D_delta = max(0, max_x F_a(x) - F_b(x + delta), max_x F_b(x) - F_a(x + delta)),
with delta = (d_old + d_new) * 2**-24 for cosines and twice that for margins (embdiag's
ScoreShift.cosineResolution).
"""
import json
import sys
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("compat", ["numpy", "scipy"])

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import stats  # noqa: E402

root = Path(__file__).resolve().parents[2]
S = root / "data/sentences"
old = np.load(S / "debian-minilm-l6-layer3.npy").astype(np.float64)
new = np.load(S / "debian-minilm-l6.npy").astype(np.float64)
uo = old / np.linalg.norm(old, axis=1, keepdims=True)
un = new / np.linalg.norm(new, axis=1, keepdims=True)
n = uo.shape[0]
iu = np.triu_indices(n, 1)
go, gn = uo @ uo.T, un @ un.T
so, sn = go[iu], gn[iu]


def topk(g, k=10):
    out = []
    for i in range(n):
        order = np.lexsort((np.arange(n), -g[i]))
        order = order[order != i][:k]
        out.append(g[i][order])
    return np.array(out)


to, tn = topk(go), topk(gn)
res = {"packages": {"numpy": np.__version__, "scipy": scipy.__version__}, "pairs": int(so.size), "thresholds": {}}
desc = np.sort(sn)[::-1]
order = np.lexsort((np.arange(sn.size), -sn))
for t in [0.65, 0.8]:
    acc = so >= t
    K = int(acc.sum())
    qm = float(desc[K - 1])
    # Agreement at each cut between distinct scores.
    ranked_new, ranked_acc = sn[order], acc[order]
    pos_above = np.cumsum(ranked_acc)
    ends = np.nonzero(np.append(ranked_new[1:] != ranked_new[:-1], True))[0]  # last index of each tie group
    agree = pos_above[ends] + ((sn.size - (ends + 1)) - (K - pos_above[ends]))
    b = int(np.argmax(agree))
    cut = int(ends[b]) + 1
    best = float(ranked_new[cut - 1]) if agree[b] > (sn.size - K) else None
    f1 = 2 * float(pos_above[ends[b]]) / (K + cut)
    reuse = sn >= t
    share_top = float(np.mean(to.ravel() >= t))
    ktop = max(1, int(round(share_top * tn.size)))
    res["thresholds"][str(t)] = {
        "old_accepted_share": K / so.size, "quantile_matched": qm, "best_agreement": best, "best_agreement_f1": f1,
        "best_agreement_accuracy": float(agree[b]) / so.size,
        "reuse_precision": float((reuse & acc).sum() / reuse.sum()), "reuse_recall": float((reuse & acc).sum() / K),
        "quantile_matched_topk": float(np.sort(tn.ravel())[::-1][ktop - 1]),
    }
levels = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def ks_at_resolution(a, b, delta):
    """D_delta by its definition: the sup over x is reached at a sample value of the leading CDF."""
    a, b = np.sort(a), np.sort(b)

    def one_sided(x, y):
        fx = np.searchsorted(x, x, side="right") / x.size
        fy = np.searchsorted(y, x + delta, side="right") / y.size
        return float(np.max(fx - fy))

    return max(0.0, one_sided(a, b), one_sided(b, a))


delta = (old.shape[1] + new.shape[1]) * 2.0**-24
shift = {}
for name, a, b in [("random_pairs", so, sn), ("top1", to[:, 0], tn[:, 0]), ("top1_margin", to[:, 0] - to[:, 1], tn[:, 0] - tn[:, 1])]:
    shift[name] = {"old": np.quantile(a, levels).tolist(), "new": np.quantile(b, levels).tolist(),
                   "ks": float(stats.ks_2samp(a, b).statistic),
                   "resolution": delta * (2 if name == "top1_margin" else 1),
                   "ks_at_resolution": ks_at_resolution(a, b, delta * (2 if name == "top1_margin" else 1))}
res["score_shift"] = shift
path = root / "Tests/Fixtures/crosscheck/threshold_reference.json"
path.write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
print(json.dumps(res["thresholds"], indent=1), file=sys.stderr)
print(f"wrote {path}", file=sys.stderr)
