#!/usr/bin/env python3
"""Reference values for embdiag's anisotropy analyzer.

IsoScore comes from the IsoScore 2.0.1 package itself (needs torch; float64 input), the other
metrics from an independent numpy implementation of their definitions (Mu & Viswanath's partition
function over ± the eigenvectors of XᵀX, Roy & Vetterli's effective rank on the covariance spectrum,
Timkey & van Schijndel's per-dimension cosine contributions, all-but-the-top with D components).
IsoScore* comes from the package's own `IsoScore_star(points, C0, zeta)`.
Writes Tests/Fixtures/crosscheck/anisotropy_reference.json.
Run with the system python: python3 scripts/crosscheck/anisotropy_reference.py (creates its venv
.venv/anisotropy with numpy, torch and IsoScore==2.0.1 on first use).
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("anisotropy", ["numpy", "torch", "IsoScore==2.0.1"], imports=["IsoScore", "torch", "numpy"])

import numpy as np  # noqa: E402
import torch  # noqa: E402
from IsoScore.IsoScore import IsoScore, IsoScore_star  # noqa: E402

root = Path(__file__).resolve().parents[2]


def read_word2vec_binary(path):
    with open(path, "rb") as f:
        n, d = map(int, f.readline().split())
        words, rows = [], np.empty((n, d), np.float32)
        for i in range(n):
            w = b""
            while True:
                c = f.read(1)
                if c == b" ":
                    break
                if c != b"\n":
                    w += c
            words.append(w.decode())
            rows[i] = np.frombuffer(f.read(4 * d), dtype="<f4")
    return words, rows


def metrics(x):
    x = x.astype(np.float64)
    n, d = x.shape
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = u.sum(0)
    mean_cos = (s @ s - n) / (n * (n - 1))
    c = np.cov(x.T)
    lam = np.sort(np.abs(np.linalg.eigvalsh(c)))[::-1]
    p = lam / lam.sum()
    mu = x.mean(0)
    second = x.T @ x / n
    _, vecs = np.linalg.eigh(second)
    proj = x @ vecs
    proj = np.concatenate([proj, -proj], axis=1)  # both signs of every eigenvector
    m = proj.max(0)
    logz = m + np.log(np.exp(proj - m).sum(0))
    contrib = (s * s - (u * u).sum(0)) / (n * (n - 1))
    return {
        "isoscore_package": float(IsoScore(x)),
        "isoscore_closed_form": float((lam.sum() ** 2 / (lam ** 2).sum() - 1) / (d - 1)),
        "mean_cosine": float(mean_cos),
        "mean_vector_ratio": float(np.linalg.norm(mu) / np.linalg.norm(x, axis=1).mean()),
        "effective_rank": float(np.exp(-(p * np.log(p)).sum())),
        "participation_ratio": float(lam.sum() ** 2 / (lam ** 2).sum()),
        "partition_isotropy": float(np.exp(logz.min() - logz.max())),
        "explained_variance_top1": float(p[0]),
        "explained_variance_top10": float(p[:10].sum()),
        "top_contribution_dimension": int(np.argmax(np.abs(contrib))),
        "top_contribution": float(contrib[np.argmax(np.abs(contrib))]),
    }


def abtt(x, D):
    x = x.astype(np.float64)
    xc = x - x.mean(0)
    _, vecs = np.linalg.eigh(np.cov(xc.T))
    top = vecs[:, ::-1][:, :D]
    return xc - xc @ top @ top.T


out = {"IsoScore": version("IsoScore"), "torch": torch.__version__, "numpy": np.__version__}
_, words = read_word2vec_binary(root / "data/words/googlenews-bolukbasi-subset.bin")
out["words"] = metrics(words)
out["words_abtt3"] = metrics(abtt(words, 3))
sentences = np.load(root / "data/sentences/debian-minilm-l6-layer3.npy")
out["sentences_layer3"] = metrics(sentences)


def star_cases(x):
    """IsoScore* from the package for several zeta, C0 = I and C0 = tr(C)/d * I (float64 input)."""
    x = x.astype(np.float64)
    d = x.shape[1]
    trace = float(np.trace(np.cov(x.T)))
    cases = []
    for prior in ["identity", "trace"]:
        c0 = torch.eye(d, dtype=torch.float64) * (1.0 if prior == "identity" else trace / d)
        for zeta in [0.0, 0.25, 0.5, 0.9, 1.0]:
            cases.append({"prior": prior, "zeta": zeta, "isoscore_star": float(IsoScore_star(x, c0, zeta))})
    return cases


# IsoScore* on the two real matrices and on n < d (the case it is made for): the first 100 rows of
# the sentence matrix (100 x 384) and of the word vectors (100 x 300).
out["isoscore_star"] = {
    "words": star_cases(words),
    "sentences_layer3": star_cases(sentences),
    "sentences_layer3_first100": star_cases(sentences[:100]),
    "words_first100": star_cases(words[:100]),
}
print(json.dumps({k: v for k, v in out.items()}, indent=1))
(root / "Tests/Fixtures/crosscheck/anisotropy_reference.json").write_text(json.dumps(out, indent=1) + "\n")
