#!/usr/bin/env python3
"""Reference values for embdiag's SEAT audit (`embdiag bias --seat`).

Writes Tests/Fixtures/crosscheck/seat_reference.json, read by Tests/EmbeddingDiagnosticsTests/SEATTests.swift.

Input: the committed sentence table Tests/Fixtures/seat/minilm-sentences.tsv and its all-MiniLM-L6-v2
vectors (minilm-mean.npy, minilm-cls.npy; scripts/fixtures/seat_minilm.py). Every sentence is one
"word" of a gensim KeyedVectors, so that two independent implementations see the same vectors:

1. WEFE 1.0.1 (`wefe.metrics.WEAT`): S and the effect size (population standard deviation) of
   every test with all templates pooled, per template, leaving each template out, on the bare words,
   on centred vectors and on the CLS pooling.
2. sent-bias's formulas (May et al. 2019, W4ngatang/sent-bias `sentbias/weat.py`), re-implemented
   here in numpy: effect size with the sample standard deviation (ddof = 1) and the exact
   permutation p-value - over all equal splits of X u Y, the share whose sum over X' is >= the
   observed sum over X (ties counted, as sent-bias's "conservative test") - wherever the number of
   splits is small enough to enumerate (<= 1e6): the per-template and bare-word tests of 6 and 7.

WEFE pins numpy<=1.26.4 and scipy<1.13, so this script shares the venv of bias_reference.py
(.venv/bias, override the folder with EMBDIAG_VENVS) and re-executes itself there:
    python3 scripts/crosscheck/seat_reference.py
"""
import json
import sys
from itertools import combinations
from math import comb
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("bias", ["wefe==1.0.1", "numpy<=1.26.4", "scipy<1.13"])

from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
from gensim.models import KeyedVectors  # noqa: E402
from wefe.metrics import WEAT  # noqa: E402
from wefe.query import Query  # noqa: E402
from wefe.word_embedding_model import WordEmbeddingModel  # noqa: E402

root = Path(__file__).resolve().parents[2]
folder = root / "Tests/Fixtures/seat"
lines = (folder / "minilm-sentences.tsv").read_text(encoding="utf-8").splitlines()
assert lines[0].split("\t") == ["test", "role", "word", "template", "sentence"]
rows = [line.split("\t") for line in lines[1:]]
mean_vectors = np.load(folder / "minilm-mean.npy").astype(np.float64)
cls_vectors = np.load(folder / "minilm-cls.npy").astype(np.float64)
assert mean_vectors.shape[0] == cls_vectors.shape[0] == len(rows)
keys = [f"{i}" for i in range(len(rows))]  # one key per row: the sentence's position
templated = [i for i, r in enumerate(rows) if r[3] != "word"]


def model_of(vectors):
    kv = KeyedVectors(vector_size=vectors.shape[1], dtype=np.float64)
    kv.add_vectors(keys, vectors)
    return WordEmbeddingModel(kv, "sentences")


weat = WEAT()


def wefe(model, sets):
    """S and d from WEFE on the given row sets (X, Y, A, B)."""
    q = Query([[keys[i] for i in sets[0]], [keys[i] for i in sets[1]]],
              [[keys[i] for i in sets[2]], [keys[i] for i in sets[3]]], ["X", "Y"], ["A", "B"])
    d = weat.run_query(q, model, return_effect_size=True, lost_vocabulary_threshold=0.0)["result"]
    s = weat.run_query(q, model, return_effect_size=False, lost_vocabulary_threshold=0.0)["result"]
    return float(s), float(d)


def sentbias(vectors, sets, exact_limit=1_000_000):
    """sent-bias's effect size (ddof = 1) and exact permutation p (None when too many splits)."""
    u = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    x, y, a, b = sets
    cos = u[x + y] @ u[a + b].T
    s = cos[:, :len(a)].mean(axis=1) - cos[:, len(a):].mean(axis=1)
    d = (s[:len(x)].mean() - s[len(x):].mean()) / np.std(s, ddof=1)
    p = None
    if len(x) == len(y) and comb(len(s), len(x)) <= exact_limit:
        observed = s[:len(x)].sum()
        count = total = 0
        for xi in combinations(range(len(s)), len(x)):
            count += s[list(xi)].sum() >= observed
            total += 1
        p = count / total
    return float(d), p


def role_rows(test, role, among):
    return [i for i in among if rows[i][0] == test and rows[i][1] == role]


mean_model = model_of(mean_vectors)
centred = mean_vectors - mean_vectors[templated].mean(axis=0)
centred_model = model_of(centred)
cls_model = model_of(cls_vectors)

unit = mean_vectors[templated] / np.linalg.norm(mean_vectors[templated], axis=1, keepdims=True)
n = len(templated)
total = unit.sum(axis=0)
anisotropy = float((total @ total - (unit * unit).sum()) / (n * (n - 1)))

out = {"numpy": np.__version__, "wefe": version("wefe"), "gensim": version("gensim"), "rows": len(rows),
       "anisotropy": anisotropy, "tests": {}}
tests = list(dict.fromkeys(r[0] for r in rows))
for t in tests:
    ids = list(dict.fromkeys(rows[i][3] for i in templated if rows[i][0] == t))
    sets = [role_rows(t, r, templated) for r in "XYAB"]
    S, d = wefe(mean_model, sets)
    d1, _ = sentbias(mean_vectors, sets)
    entry = {"wefe_statistic": S, "wefe_effect_size": d, "sentbias_effect_size": d1,
             "centered_effect_size": wefe(centred_model, sets)[1],
             "cls_effect_size": wefe(cls_model, sets)[1], "templates": {}, "leave_one_out": {}}
    for tid in ids:
        one = [i for i in templated if rows[i][3] == tid]
        without = [i for i in templated if rows[i][3] != tid]
        ts = [role_rows(t, r, one) for r in "XYAB"]
        d1, p = sentbias(mean_vectors, ts)
        entry["templates"][tid] = {"wefe_effect_size": wefe(mean_model, ts)[1], "sentbias_effect_size": d1}
        if p is not None:
            entry["templates"][tid]["sentbias_p_exact"] = p
        entry["leave_one_out"][tid] = wefe(mean_model, [role_rows(t, r, without) for r in "XYAB"])[1]
    bare = [i for i, r in enumerate(rows) if r[3] == "word"]
    ws = [role_rows(t, r, bare) for r in "XYAB"]
    entry["word_wefe_effect_size"] = wefe(mean_model, ws)[1]
    d1, p = sentbias(mean_vectors, ws)
    entry["word_sentbias_effect_size"] = d1
    if p is not None:
        entry["word_sentbias_p_exact"] = p
    out["tests"][t] = entry
    print(t, "d", round(d, 6), "d(ddof1)", round(entry["sentbias_effect_size"], 6), "centred", round(entry["centered_effect_size"], 6),
          "cls", round(entry["cls_effect_size"], 6), "word", round(entry["word_wefe_effect_size"], 6))

dest = root / "Tests/Fixtures/crosscheck/seat_reference.json"
dest.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", dest.relative_to(root))
