#!/usr/bin/env python3
"""Procrustes between spaces of different dimension against latentis 0.0.8 itself.

latentis aligns spaces of different dimension by zero-padding the smaller one (`ZeroPadding`
DimMatcher) and fitting the square orthogonal map of `svd_align_state` (R = U V^T of the SVD of the
cross-product); the padded columns are dropped again afterwards. That equals the semi-orthogonal
solution embdiag computes from the thin SVD of X_c^T Y_c (the padded singular pairs have zero blocks),
when the thin solution is unique. Data: the bundled sentence pair, train = even rows, held-out = odd
rows, both spaces centred on the training means (embdiag `--fit procrustes`), two shapes:
NEW[:, :300] -> OLD (300 -> 384) and NEW -> OLD[:, :300] (384 -> 300).

Writes Tests/Fixtures/crosscheck/latentis_procrustes.json. Creates its venv .venv/latentis
(numpy, latentis==0.0.8, which brings torch) on first use: python3 scripts/crosscheck/latentis_procrustes.py
"""
import json
import sys
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("latentis", ["numpy", "latentis==0.0.8"], imports=["latentis", "numpy"])

from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from latentis.transform.dim_matcher import ZeroPadding  # noqa: E402
from latentis.transform.translate.functional import svd_align_state  # noqa: E402

root = Path(__file__).resolve().parents[2]
S = root / "data/sentences"
old = np.load(S / "debian-minilm-l6-layer3.npy").astype(np.float64)
new = np.load(S / "debian-minilm-l6.npy").astype(np.float64)
n = old.shape[0]
train, held = np.arange(0, n, 2), np.arange(1, n, 2)


def latentis_procrustes(src, dst):
    x, y = src[train], dst[train]
    mx, my = x.mean(0), y.mean(0)
    xt, yt = torch.tensor(x - mx), torch.tensor(y - my)
    matcher = ZeroPadding()
    matcher.fit(x=xt, y=yt)
    xp, yp = matcher.transform(x=xt, y=yt)
    r = svd_align_state(xp, yp)["matrix"]
    xh, _ = matcher.transform(x=torch.tensor(src[held] - mx), y=None)
    mapped = xh @ r
    _, mapped = matcher.inverse_transform(x=None, y=mapped)
    return mapped.numpy() + my


out = {"packages": {"numpy": np.__version__, "torch": torch.__version__, "latentis": version("latentis")},
       "train": "even rows", "heldout": "odd rows", "cases": {}}
for name, src, dst in [("new300_to_old", np.ascontiguousarray(new[:, :300]), old),
                       ("new_to_old300", new, np.ascontiguousarray(old[:, :300]))]:
    mapped = latentis_procrustes(src, dst)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    out["cases"][name] = {"input_dim": int(src.shape[1]), "output_dim": int(dst.shape[1]),
                          "mapped_first_rows": mapped[:3].tolist(),
                          "mapped_cosine_mean": float(np.mean(np.sum(unit(mapped) * unit(dst[held]), axis=1)))}
path = root / "Tests/Fixtures/crosscheck/latentis_procrustes.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(json.dumps({k: v["mapped_cosine_mean"] for k, v in out["cases"].items()}), file=sys.stderr)
print(f"wrote {path}", file=sys.stderr)
