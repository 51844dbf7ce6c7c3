#!/usr/bin/env python3
"""Bias benchmark: embdiag bias next to a numpy implementation of responsibly's algorithm.

Task = full audit + hard debias: read the word2vec binary, PCA direction of the 10 Bolukbasi
definitional pairs, DirectBias_1 over the 303 neutral professions, WEAT wefe-gender with its exact
permutation p-value (12,870 splits), hard debias (neutralize every row outside the gender-specific +
definitional + equalize words in lower/UPPER/Title forms, renormalise, equalize the 55 pairs), every
metric again after, neighbour geometry change (10 nearest neighbours of the 303 professions among the
first 100,000 rows, before and after), and write the debiased matrix (.npy).

Sizes: the bundled subset (6,000 × 300) and a 3,000,000 × 300 matrix made by tiling it with noise
(first copy = the original words and vectors; copies k ≥ 1 are "word_k" with Gaussian noise σ = 0.02
per coordinate), generated once under benchmarks/data (git-ignored, 3.6 GB).
responsibly itself needs gensim 3 and cannot be installed next to current numpy; the peer is its
algorithm written with vectorised numpy (what a careful user would write; responsibly's own loops
over words are far slower). Usage: python3 benchmarks/bench_bias.py [--quick] [--generate-only]
"""
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
from common import DATA, ROOT, ensure_dirs, python_peak_mib, record, run_embdiag, time_python

quick = "--quick" in sys.argv
ensure_dirs()
subset = ROOT / "data/words/googlenews-bolukbasi-subset.bin"
lists = ROOT / "data/words/lists"
n_big = 300_000 if quick else 3_000_000


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


def make_big(path, n):
    words, X = read_word2vec(subset)
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        f.write(f"{n} {X.shape[1]}\n".encode())
        k = 0
        while k * len(words) < n:
            take = min(len(words), n - k * len(words))
            block = X[:take] if k == 0 else X[:take] + rng.normal(0, 0.02, (take, X.shape[1])).astype(np.float32)
            names = words[:take] if k == 0 else [f"{w}_{k}" for w in words[:take]]
            f.write(b"".join(w.encode() + b" " + r.tobytes() for w, r in zip(names, block.astype("<f4"))))
            k += 1


def unit(a):
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def knn(U, q, k, gallery):
    sims = U[q] @ U[:gallery].T
    sims[np.arange(len(q)), q] = -np.inf
    part = np.argpartition(-sims, k, axis=1)[:, :k]
    return part, np.take_along_axis(sims, part, 1)


def numpy_full(path, out):
    """responsibly 0.1.2's semantics, vectorised."""
    words, X = read_word2vec(path)
    gender = json.load(open(lists / "bolukbasi.json"))["gender"]
    wefe = json.load(open(lists / "wefe-WEAT.json"))
    index = {}
    for i, w in enumerate(words):
        index.setdefault(w, i)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    rows = []
    for a, b in gender["definitional_pairs"]:
        c = (X[index[a]] + X[index[b]]) / 2
        rows += [X[index[a]] - c, X[index[b]] - c]
    M = np.array(rows, dtype=np.float64)
    _, s, vt = np.linalg.svd(M - M.mean(0), full_matrices=False)
    g = vt[0] * np.sign(np.dot(X[index["she"]] - X[index["he"]], vt[0]))
    specific_full = set(gender["specific_full"])
    neutral = [p[0] for p in gender["professions"] if p[0] not in specific_full]
    nrows = np.array([index[w] for w in neutral])

    def weat(U):
        sets = [[index[w] for w in wefe[k] if w in index] for k in ("female_terms", "male_terms", "family", "career")]
        T = U[sets[0] + sets[1]].astype(np.float64)
        sv = (T @ U[sets[2]].T.astype(np.float64)).mean(1) - (T @ U[sets[3]].T.astype(np.float64)).mean(1)
        nx = len(sets[0])
        d = (sv[:nx].mean() - sv[nx:].mean()) / sv.std()
        obs = sv[:nx].sum()
        sums = np.array([sv[list(c)].sum() for c in combinations(range(len(sv)), nx)])
        return d, np.mean(sums >= obs - 1e-12)

    before = dict(direct_bias=np.mean(np.abs(X[nrows] @ g)), weat=weat(X))
    q, gallery = nrows, min(100_000, len(words))
    nb, sc = knn(X, q, 10, gallery)
    # neutralize
    forms = lambda w: {w.lower(), w.upper(), w.title()}  # noqa: E731
    protected = set()
    for w in list(specific_full) + [w for p in gender["definitional_pairs"] + gender["equalize_pairs"] for w in p]:
        protected |= forms(w)
    mask = np.array([w not in protected for w in words])
    proj = X @ g.astype(np.float32)
    proj[~mask] = 0
    X -= np.outer(proj, g.astype(np.float32))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    # equalize
    seen = set()
    for a, b in gender["equalize_pairs"] + gender["definitional_pairs"]:
        for f in (str.lower, str.upper, str.title):
            p = (f(a), f(b))
            if p[0] in index and p[1] in index and p not in seen:
                seen.add(p)
                va, vb = X[index[p[0]]].astype(np.float64), X[index[p[1]]].astype(np.float64)
                mu = (va + vb) / 2
                mu_b = np.dot(mu, g) * g
                nu = mu - mu_b
                scale = np.sqrt(1 - np.dot(nu, nu))
                for w, v in zip(p, (va, vb)):
                    X[index[w]] = nu + scale * unit(np.dot(v, g) * g - mu_b)
    X[[index[w] for p in seen for w in p]] = unit(X[[index[w] for p in seen for w in p]])
    after = dict(direct_bias=np.mean(np.abs(X[nrows] @ g)), weat=weat(X))
    nb2, _ = knn(X, q, 10, gallery)
    sc_after = np.einsum("ij,ikj->ik", X[q], X[nb])
    change = np.mean(np.abs(sc_after - sc))
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(nb, nb2)])
    np.save(out, X)
    return dict(before=before, after=after, change=change, overlap=overlap)


def bench(path, size, note):
    out_e, out_p = DATA / "bias_debiased_embdiag.npy", DATA / "bias_debiased_numpy.npy"
    report = DATA / "bias_report.json"
    args = ["bias", str(path), "--weat", "wefe-gender", "--debias", "hard", "--write", str(out_e),
            "--no-checksum", "--quiet", "--json", str(report)]
    t_e, peak_e, _ = run_embdiag(args)
    t_p, v = time_python(lambda: numpy_full(path, out_p))
    m = json.load(open(report))["metrics"]
    print(f"  direct_bias        embdiag {m['direct_bias']:.8f}  numpy {v['before']['direct_bias']:.8f}")
    print(f"  direct_bias_after  embdiag {m['direct_bias_after']:.3e}  numpy {v['after']['direct_bias']:.3e}")
    print(f"  weat d / p         embdiag {m['weat_effect_size']:.6f} / {m['weat_p_value']:.5f}  numpy {v['before']['weat'][0]:.6f} / {v['before']['weat'][1]:.5f}")
    print(f"  weat d after       embdiag {m['weat_effect_size_after']:.6f}  numpy {v['after']['weat'][0]:.6f}")
    print(f"  neighbour change   embdiag {m['neighbor_cosine_change']:.6f} / overlap {m['neighbor_overlap']:.4f}  numpy {v['change']:.6f} / {v['overlap']:.4f}")
    a, b = np.load(out_e, mmap_mode="r"), np.load(out_p, mmap_mode="r")
    print(f"  max |debiased embdiag − numpy| over the first 6,000 rows: {np.abs(a[:6000] - b[:6000]).max():.2e}")
    record("bias audit + hard debias", size, t_e, "numpy (responsibly's algorithm)", t_p, peak_e, python_peak_mib(), note=note)
    out_e.unlink(missing_ok=True)
    out_p.unlink(missing_ok=True)


big = DATA / f"bias_tiled_{n_big}x300.bin"
if not big.exists():
    make_big(big, n_big)
if "--generate-only" in sys.argv:
    raise SystemExit(0)
bench(subset, "6000x300 f32 (bundled)", "read w2v, direction, DirectBias, WEAT exact p, neutralize+equalize, neighbours, write .npy")
run_embdiag(["info", str(big), "--no-checksum", "--quiet"])  # warm the page cache
bench(big, f"{n_big}x300 f32 (tiled + noise)", "same task; neighbours among the first 100,000 rows")
