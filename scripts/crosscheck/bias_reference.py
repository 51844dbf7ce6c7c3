#!/usr/bin/env python3
"""Reference values for embdiag's bias analyzer.

Writes Tests/Fixtures/crosscheck/bias_reference.json, read by Tests/EmbeddingDiagnosticsTests/BiasTests.swift.

Two independent sources:
1. WEFE 1.0.1 itself (`wefe.metrics.WEAT`): effect size and S of the Caliskan WEAT tests 1-10 with
   WEFE's own word sets (data/words/lists/wefe-WEAT.json), and the WEFE docstring query
   (female/male terms x family/career), on the bundled GoogleNews subset.
2. A numpy re-implementation of responsibly 0.1.2's formulas (`responsibly/we/bias.py`):
   responsibly itself needs gensim 3 (and matplotlib<3, mlxtend<0.17) and cannot be installed next to
   current numpy. PCA direction of the pair-centred unit definitional pairs (sign: cos(she-he, g) > 0),
   DirectBias_1 on the 303 neutral professions and the 320 professions, indirect bias beta, hard debias
   (neutralize every word outside specific_full + definitional + equalize words in lower/UPPER/Title
   forms, renormalise, then equalize the equalize+definitional pairs expanded to lower/UPPER/Title),
   and the same metrics after debiasing.

WEFE pins numpy<=1.26.4 and scipy<1.13, so this script creates its own venv under .venv/bias
(override with BIAS_VENV) and re-executes itself there:
    python3 scripts/crosscheck/bias_reference.py
"""
import json
import os
import sys
from pathlib import Path

from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("bias", ["wefe==1.0.1", "numpy<=1.26.4", "scipy<1.13"])

from importlib.metadata import version  # noqa: E402
from itertools import combinations  # noqa: E402

import numpy as np  # noqa: E402

root = Path(__file__).resolve().parents[2]
lists = root / "data/words/lists"


def read_word2vec(path):
    data = path.read_bytes()
    nl = data.index(b"\n")
    n, d = map(int, data[:nl].split())
    pos = nl + 1
    words, rows = [], np.empty((n, d), dtype=np.float32)
    for i in range(n):
        sp = data.index(b" ", pos)
        words.append(data[pos:sp].decode("utf-8").lstrip("\n"))
        rows[i] = np.frombuffer(data, dtype="<f4", count=d, offset=sp + 1)
        pos = sp + 1 + 4 * d
    return words, rows


words, X = read_word2vec(root / "data/words/googlenews-bolukbasi-subset.bin")
X = X / np.sqrt((X ** 2).sum(-1))[..., None]  # gensim init_sims(replace=True), float32
index = {}
for i, w in enumerate(words):
    index.setdefault(w, i)
gender = json.load(open(lists / "bolukbasi.json"))["gender"]
out = {"numpy": np.__version__, "wefe": version("wefe"), "rows": len(words)}


def vec(w):
    return X[index[w]].astype(np.float64)


def unit(v):
    return v / np.linalg.norm(v)


# --- responsibly: direction by PCA (sklearn PCA(n_components=10).fit on the stacked half-differences)
pairs = gender["definitional_pairs"]
rows = []
for a, b in pairs:
    va, vb = unit(vec(a)), unit(vec(b))
    c = (va + vb) / 2
    rows += [va - c, vb - c]
M = np.array(rows)
Mc = M - M.mean(0)
_, s, vt = np.linalg.svd(Mc, full_matrices=False)
ratio = s ** 2 / np.sum(s ** 2)
g = vt[0]
if np.dot(vec("she") - vec("he"), g) < 0:
    g = -g
out["pca_explained_ratio"] = ratio[:10].tolist()
out["cos_pc1_she_he"] = float(np.dot(unit(vec("she") - vec("he")), g))
out["direction"] = g.tolist()

specific_full = set(gender["specific_full"])
professions = [p[0] for p in gender["professions"]]  # [word, definitional, stereotypical]
neutral_professions = [p for p in professions if p not in specific_full]


def direct_bias(E, ws, c=1):
    P = np.array([unit(E[index[w]].astype(np.float64)) for w in ws]) @ g
    return float(np.mean(np.abs(P) ** c))


out["n_neutral_professions"] = len(neutral_professions)
out["neutral_professions"] = neutral_professions
out["direct_bias_303"] = direct_bias(X, neutral_professions)
out["direct_bias_320"] = direct_bias(X, professions)
out["direct_bias_303_c2"] = direct_bias(X, neutral_professions, c=2)

# --- responsibly's other direction methods (`_identify_direction(..., method=...)`), on the
# unit vectors: 'single' = normalize(normalize(v_she) - normalize(v_he)); 'sum' =
# normalize(normalize(sum of first words) - normalize(sum of second words)) over the definitional pairs.
g_single = unit(unit(vec("she")) - unit(vec("he")))
g_sum = unit(unit(np.sum([unit(vec(a)) for a, _ in pairs], axis=0)) - unit(np.sum([unit(vec(b)) for _, b in pairs], axis=0)))
# K = 3 subspace of the PCA (Manzini et al.), signs fixed by she - he as embdiag does.
sub3 = vt[:3].copy()
for k in range(3):
    if np.dot(vec("she") - vec("he"), sub3[k]) < 0:
        sub3[k] = -sub3[k]
out["directions"] = {}
for name, direction in [("pca", g), ("single", g_single), ("sum", g_sum)]:
    P = np.array([unit(X[index[w]].astype(np.float64)) for w in neutral_professions]) @ direction
    out["directions"][name] = {"direction": direction.tolist(), "direct_bias_303": float(np.mean(np.abs(P))),
                               "cos_she_he": float(np.dot(unit(vec("she") - vec("he")), direction))}
out["directions"]["pca_k3"] = {"subspace": sub3.tolist()}


def indirect(E, w, v):
    a, b = unit(E[index[w]].astype(np.float64)), unit(E[index[v]].astype(np.float64))
    ar, br = a - np.dot(a, g) * g, b - np.dot(b, g) * g
    wv = np.dot(a, b)
    return float((wv - np.dot(ar, br) / (np.linalg.norm(ar) * np.linalg.norm(br))) / wv)


indirect_pairs = [("softball", v) for v in ["pitcher", "bookkeeper", "receptionist", "registered_nurse", "waitress", "homemaker"]] + \
                 [("football", v) for v in ["footballer", "businessman", "pundit", "maestro", "cleric"]]
out["indirect"] = [[w, v, indirect(X, w, v)] for w, v in indirect_pairs]


# --- responsibly hard debias
def cases(ws):
    return {f(w) for w in ws for f in (str.lower, str.upper, str.title)}


eq_pairs_raw = gender["equalize_pairs"] + gender["definitional_pairs"]
specific = cases(specific_full | {w for p in gender["definitional_pairs"] for w in p} | {w for p in gender["equalize_pairs"] for w in p})
D = X.copy()
neutral_rows = np.array([i for i, w in enumerate(words) if w not in specific and index[w] == i])
proj = D[neutral_rows].astype(np.float64) @ g
D[neutral_rows] = (D[neutral_rows].astype(np.float64) - proj[:, None] * g[None, :]).astype(np.float32)
D = D / np.sqrt((D ** 2).sum(-1))[..., None]
eq_pairs = []
seen = set()
for a, b in eq_pairs_raw:
    for f in (str.lower, str.upper, str.title):
        p = (f(a), f(b))
        if p[0] in index and p[1] in index and p not in seen:
            seen.add(p)
            eq_pairs.append(p)
for a, b in eq_pairs:
    va, vb = unit(D[index[a]].astype(np.float64)), unit(D[index[b]].astype(np.float64))
    mu = (va + vb) / 2
    mu_b = np.dot(mu, g) * g
    nu = mu - mu_b
    scale = np.sqrt(1 - np.linalg.norm(nu) ** 2)
    for w, v in ((a, va), (b, vb)):
        part = unit(np.dot(v, g) * g - mu_b)
        D[index[w]] = (nu + scale * part).astype(np.float32)
D = D / np.sqrt((D ** 2).sum(-1))[..., None]
out["n_neutralized"] = int(len(neutral_rows))
out["n_equalize_pairs"] = len(eq_pairs)
out["equalize_pairs"] = [list(p) for p in eq_pairs]
out["direct_bias_303_after"] = direct_bias(D, neutral_professions)
out["direct_bias_320_after"] = direct_bias(D, professions)
out["indirect_after"] = [[w, v, indirect(D, w, v)] for w, v in indirect_pairs]
gap = 0.0
for a, b in eq_pairs:
    da = D[index[a]].astype(np.float64)
    db = D[index[b]].astype(np.float64)
    N = D[[index[w] for w in neutral_professions]].astype(np.float64)
    gap = max(gap, float(np.max(np.abs(N @ da - N @ db))))
out["equalize_max_gap_after"] = gap
# A few debiased rows, to compare vectors exactly.
probe = ["nurse", "programmer", "she", "he", "mother", "father", "softball", "Mother"]
out["debiased_rows"] = {w: D[index[w]].astype(np.float64).tolist() for w in probe if w in index}


# --- WEAT by definition (numpy) and by WEFE
def weat_numpy(E, Xw, Yw, Aw, Bw):
    def U(ws):
        return np.array([unit(E[index[w]].astype(np.float64)) for w in ws])
    T = np.vstack([U(Xw), U(Yw)])
    s = (T @ U(Aw).T).mean(1) - (T @ U(Bw).T).mean(1)
    sx, sy = s[:len(Xw)], s[len(Xw):]
    return float(sx.sum() - sy.sum()), float((sx.mean() - sy.mean()) / s.std()), s


wefe_sets = json.load(open(lists / "wefe-WEAT.json"))
wefe_tests = {
    "wefe-1": ("flowers", "insects", "pleasant_5", "unpleasant_5a"),
    "wefe-2": ("instruments", "weapons", "pleasant_5", "unpleasant_5a"),
    "wefe-3": ("european_american_names_5", "african_american_names_5", "pleasant_5", "unpleasant_5b"),
    "wefe-4": ("european_american_names_7", "african_american_names_7", "pleasant_5", "unpleasant_5b"),
    "wefe-5": ("european_american_names_7", "african_american_names_7", "pleasant_9", "unpleasant_9"),
    "wefe-6": ("male_names", "female_names", "career", "family"),
    "wefe-7": ("math", "arts", "male_terms", "female_terms"),
    "wefe-8": ("science", "arts_2", "male_terms_2", "female_terms_2"),
    "wefe-9": ("mental_disease", "physical_disease", "temporary", "permanent"),
    "wefe-10": ("young_people_names", "old_people_names", "pleasant_9", "unpleasant_9"),
    "wefe-gender": ("female_terms", "male_terms", "family", "career"),
}

from gensim.models import KeyedVectors  # noqa: E402
from wefe.metrics import WEAT  # noqa: E402
from wefe.query import Query  # noqa: E402
from wefe.word_embedding_model import WordEmbeddingModel  # noqa: E402

kv = KeyedVectors(vector_size=X.shape[1])
kv.add_vectors(words, X)
model = WordEmbeddingModel(kv, "googlenews-bolukbasi-subset")
weat = WEAT()
out["weat"] = {}
for name, (x, y, a, b) in wefe_tests.items():
    sets = [[w for w in wefe_sets[k] if w in index] for k in (x, y, a, b)]
    missing = [w for k in (x, y, a, b) for w in wefe_sets[k] if w not in index]
    if any(len(v) == 0 for v in sets):
        out["weat"][name] = {"sets": [x, y, a, b], "sizes": [len(v) for v in sets], "missing": missing, "skipped": "a set has no word in the vocabulary"}
        print(name, "skipped: empty set", file=sys.stderr)
        continue
    q = Query([wefe_sets[x], wefe_sets[y]], [wefe_sets[a], wefe_sets[b]], [x, y], [a, b])
    r = weat.run_query(q, model, return_effect_size=True, lost_vocabulary_threshold=0.99)
    r_s = weat.run_query(q, model, return_effect_size=False, lost_vocabulary_threshold=0.99)
    S, d, s = weat_numpy(X, *sets)
    entry = {"sets": [x, y, a, b], "sizes": [len(v) for v in sets], "missing": missing,
             "wefe_effect_size": float(r["result"]), "wefe_statistic": float(r_s["result"]),
             "numpy_effect_size": d, "numpy_statistic": S}
    nx = len(sets[0])
    n = nx + len(sets[1])
    from math import comb
    if comb(n, nx) <= 2_000_000:
        total = s.sum()
        obs = s[:nx].sum()
        count = 0
        allc = 0
        for c in combinations(range(n), nx):
            v = s[list(c)].sum()
            allc += 1
            count += v >= obs - 1e-12
        entry["exact_p"] = count / allc
    out["weat"][name] = entry
    print(name, entry["sizes"], "wefe d", entry["wefe_effect_size"], "numpy d", d, "p", entry.get("exact_p"), file=sys.stderr)

dest = root / "Tests/Fixtures/crosscheck/bias_reference.json"
dest.write_text(json.dumps(out, indent=1) + "\n")
print("direct_bias_303", out["direct_bias_303"], "320", out["direct_bias_320"], "after", out["direct_bias_303_after"], out["direct_bias_320_after"], file=sys.stderr)
print("pca", out["pca_explained_ratio"][:3], "cos", out["cos_pc1_she_he"], "neutral", out["n_neutral_professions"], "eq pairs", out["n_equalize_pairs"], file=sys.stderr)
print("wrote", dest, file=sys.stderr)
