#!/usr/bin/env python3
"""Reference values for embdiag's anisotropy analyzer.

IsoScore comes from the IsoScore 2.0.1 package itself (needs torch; float64 input), the other
metrics from an independent numpy implementation of their definitions (Mu & Viswanath's partition
function over ± the eigenvectors of XᵀX, Roy & Vetterli's effective rank on the covariance spectrum,
Timkey & van Schijndel's per-dimension cosine contributions, all-but-the-top with D components).
Writes Tests/Fixtures/crosscheck/anisotropy_reference.json.
Run: pip install IsoScore==2.0.1 torch numpy; python3 scripts/crosscheck/anisotropy_reference.py
"""
import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from IsoScore.IsoScore import IsoScore

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
print(json.dumps({k: v for k, v in out.items()}, indent=1))
(root / "Tests/Fixtures/crosscheck/anisotropy_reference.json").write_text(json.dumps(out, indent=1) + "\n")
