#!/usr/bin/env python3
"""Alignment without pairs: can a NEW -> OLD map be found when OLD and NEW embed *different*
texts? Prototype study behind Guides/Compatibility.md, "Alignment without pairs".

Data: scripts/research/unpaired_data.py (12,000 Debian descriptions embedded by
all-MiniLM-L6-v2 = OLD and paraphrase-MiniLM-L3-v2 = NEW; rows 0..4999 OLD side,
5000..9999 NEW side, 10000..11999 judge). The unsupervised methods see OLD rows of the OLD side
and NEW rows of the NEW side only; the correspondence is known to the judge and hidden from them.

Judge: the 2,000 judge texts embedded by both models. Each judge text's NEW vector is mapped and
ranked against the 2,000 OLD judge vectors (cosine); recall@10 = share whose own OLD vector is in
the top 10 (chance 0.005). Reference: centred Procrustes fitted on the same number of *paired*
rows (the OLD-side texts with both embeddings), and no map at all.

Control: NEW = OLD x Q + noise (Q a seeded random orthogonal matrix, noise sigma 0.01 per
coordinate before renormalising), on the same disjoint split.

Methods (all output an orthogonal W on centred, normalised vectors; the map is
x -> (x - mu_new) s W + mu_old with s = mean|old - mu_old| / mean|new - mu_new|, all estimated
from each side's own rows):
- mv2v: mini-vec2vec (Dar 2025, arXiv:2510.02348): rounds of k-means (k=20) on each side, the
  centred cosine kernels of the centroids matched by QAP (scipy 2opt, best of restarts), all
  matched centroids as anchors; relative representations (cosine to the anchors, normalised);
  each NEW row is paired with the mean of its 50 nearest OLD rows in the relative space;
  Procrustes; then refinement (map, mean of 50 nearest OLD rows, Procrustes, W <- (W + W')/2).
- vecmap: similarity-distribution initialisation (Artetxe et al. 2018): each row described by
  its sorted (sqrt of the) similarity row, nearest descriptors with CSLS, then self-learning:
  mutual nearest neighbours under CSLS, Procrustes, repeat.
- Both end with the same self-learning (mutual nearest neighbours under CSLS, Procrustes,
  repeated), first in each side's top 16 principal directions, widened to 32, 64, 128, 256 and
  all; pseudo-pairs carry over. Methods fit on the first 80 % of each side; seeded restarts are
  kept by an unsupervised criterion on the last 20 % (rows no fit saw): the mean CSLS of their
  mutual nearest-neighbour pairs under the map.

    python3 scripts/research/unpaired_alignment.py [DATA_DIR] [--sizes 1000,2000,5000]
Prints the table and writes DATA_DIR/unpaired_results.json.
"""
import json
import warnings
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("adapters", ["numpy", "scipy", "scikit-learn"], imports=["numpy", "scipy", "sklearn"])

import numpy as np  # noqa: E402
from scipy.optimize import quadratic_assignment  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

ROOT = HERE.parents[2]
warnings.filterwarnings("ignore")


def normalize(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def procrustes(x, y):
    """Orthogonal W minimising |xW - y|_F."""
    u, _, vt = np.linalg.svd(x.T @ y)
    return u @ vt


def prep(x):
    mu = x.mean(0)
    c = x - mu
    return normalize(c), mu, float(np.linalg.norm(c, axis=1).mean())


class Side:
    def __init__(self, x):
        self.raw = x
        self.z, self.mu, self.scale = prep(x)


def apply_map(new_side, old_side, w, q):
    return (q - new_side.mu) * (old_side.scale / new_side.scale) @ w + old_side.mu


def recall_at_10(mapped, gallery):
    s = normalize(mapped) @ normalize(gallery).T
    own = np.diag(s)
    better = (s > own[:, None]).sum(1)
    return float((better < 10).mean())


def csls_matrix(a, b, k=10):
    """CSLS(a_i, b_j) = 2 cos - r_b(a_i) - r_a(b_j) (Conneau et al. 2018)."""
    s = a @ b.T
    ra = np.partition(s, -k, axis=1)[:, -k:].mean(1)     # a_i's mean similarity to its k nearest b
    rb = np.partition(s, -k, axis=0)[-k:, :].mean(0)     # b_j's mean similarity to its k nearest a
    return 2 * s - ra[:, None] - rb[None, :]


def mutual_pairs(a, b, k=10):
    c = csls_matrix(a, b, k)
    fwd = c.argmax(1)
    bwd = c.argmax(0)
    i = np.nonzero(bwd[fwd] == np.arange(len(a)))[0]
    return i, fwd[i], c[i, fwd[i]]


def centred_kernel(c):
    k = normalize(c) @ normalize(c).T
    h = np.eye(len(c)) - 1.0 / len(c)
    return h @ k @ h


def mv2v_init(new_z, old_z, rng, rounds=30, clusters=20, qap_runs=30, knn=50, subsample=10000):
    anchors_new, anchors_old = [], []
    for _ in range(rounds):
        sn = new_z[rng.permutation(len(new_z))[:subsample]]
        so = old_z[rng.permutation(len(old_z))[:subsample]]
        cn = KMeans(clusters, n_init=1, random_state=int(rng.integers(1 << 31))).fit(sn).cluster_centers_
        co = KMeans(clusters, n_init=1, random_state=int(rng.integers(1 << 31))).fit(so).cluster_centers_
        kn, ko = centred_kernel(cn), centred_kernel(co)
        best = None
        for _ in range(qap_runs):
            r = quadratic_assignment(kn, ko, method="2opt",
                                     options={"maximize": True, "rng": int(rng.integers(1 << 31))})
            if best is None or r.fun > best.fun:
                best = r
        anchors_new.append(cn)
        anchors_old.append(co[best.col_ind])
    an, ao = normalize(np.vstack(anchors_new)), normalize(np.vstack(anchors_old))
    rn, ro = normalize(new_z @ an.T), normalize(old_z @ ao.T)
    sim = rn @ ro.T
    top = np.argpartition(-sim, knn, axis=1)[:, :knn]
    target = old_z[top].mean(1)
    w = procrustes(new_z, target)
    return w


def mv2v_refine(new_z, old_z, w, rng, iterations=50, sample=1000, knn=50):
    for _ in range(iterations):
        s = new_z[rng.permutation(len(new_z))[:sample]]
        sim = (s @ w) @ old_z.T
        top = np.argpartition(-sim, knn, axis=1)[:, :knn]
        w = 0.5 * w + 0.5 * procrustes(s, old_z[top].mean(1))
    u, _, vt = np.linalg.svd(w)          # back to the nearest orthogonal matrix
    return u @ vt


def pca_basis(z):
    _, _, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
    return vt.T


def progressive(new_z, old_z, w, dims=(16, 32, 64, 128, 256), iterations=15):
    """Self-learning that starts in each side's top-p principal subspace (few parameters, so
    pseudo-pairs cannot be fitted by an arbitrary rotation) and widens p; pairs carry over."""
    vn, vo = pca_basis(new_z), pca_basis(old_z)
    i, j, _ = mutual_pairs(new_z @ w, old_z)
    for p in list(dims) + [new_z.shape[1]]:
        a, b = normalize(new_z @ vn[:, :p]), normalize(old_z @ vo[:, :p])
        wp = procrustes(a[i], b[j])
        for _ in range(iterations):
            i2, j2, _ = mutual_pairs(a @ wp, b)
            if len(i2) < 10:
                break
            i, j = i2, j2
            wp = procrustes(a[i], b[j])
    return procrustes(new_z[i], old_z[j])


def heldout_criterion(new_check, old_check, w):
    """Mean CSLS of mutual nearest neighbours between rows no fit saw."""
    _, _, score = mutual_pairs(new_check @ w, old_check)
    return float(score.mean()) if len(score) else -np.inf


def vecmap_init(new_z, old_z, csls_k=10):
    """Artetxe et al. 2018: sorted sqrt-similarity rows as a rotation-invariant descriptor."""
    def descriptor(z):
        m = z @ z.T
        u, s, vt = np.linalg.svd(z, full_matrices=False)
        m = (u * s) @ u.T                     # sqrt of the similarity matrix
        m = np.sort(m, axis=1)
        m = m - m.mean(0)
        return normalize(m)
    n = min(len(new_z), len(old_z))
    dn, do = descriptor(new_z[:n]), descriptor(old_z[:n])
    i, j, _ = mutual_pairs(dn, do, csls_k)
    if len(i) < 10:
        c = csls_matrix(dn, do, csls_k)
        i, j = np.arange(n), c.argmax(1)
    return procrustes(new_z[i], old_z[j])


def run(data, sizes, control, seeds=3, methods=("mv2v", "vecmap")):
    old_all = np.load(data / "old.npy").astype(np.float64)
    if not control:
        new_all = np.load(data / "new.npy").astype(np.float64)
    else:
        rng = np.random.default_rng(123)
        q, r = np.linalg.qr(rng.standard_normal((old_all.shape[1], old_all.shape[1])))
        q = q * np.sign(np.diag(r))
        noisy = old_all @ q + 0.01 * rng.standard_normal(old_all.shape)
        new_all = normalize(noisy)
    judge_old, judge_new = old_all[10000:12000], new_all[10000:12000]
    rows = []
    for n in sizes:
        old_side, new_side = Side(old_all[:n]), Side(new_all[5000:5000 + n])
        # paired reference: the same n OLD-side texts with both embeddings
        paired_new = Side(new_all[:n])
        w_paired = procrustes(paired_new.z, old_side.z)
        ref = recall_at_10(apply_map(paired_new, old_side, w_paired, judge_new), judge_old)
        none = recall_at_10(judge_new, judge_old) if judge_new.shape[1] == judge_old.shape[1] else float("nan")
        entry = {"pair": "rotation control" if control else "L3 -> L6", "rows_per_side": n,
                 "paired_procrustes": ref, "no_map": none}
        # the paired map's own value of the unsupervised criterion, for comparison
        # unsupervised criterion on rows no fit sees: the last 20 % of each side
        m = int(n * 0.8)
        fit_new, fit_old = new_side.z[:m], old_side.z[:m]
        chk_new, chk_old = new_side.z[m:], old_side.z[m:]
        entry["criterion_paired_map"] = heldout_criterion(chk_new, chk_old, w_paired)
        entry["paired_reduced"] = {}
        vn, vo = pca_basis(new_side.z), pca_basis(old_side.z)
        for p in (16, 64):
            # what a perfect map restricted to the top-p subspaces would give (paired, upper bound)
            a, b = normalize(paired_new.z @ vn[:, :p]), normalize(old_side.z @ vo[:, :p])
            wp = procrustes(a, b)
            full = vn[:, :p] @ wp @ vo[:, :p].T
            entry["paired_reduced"][p] = recall_at_10(apply_map(paired_new, old_side, full, judge_new), judge_old)
        for method in methods:
            t0 = time.time()
            best = None
            tries = []
            for seed in range(seeds if method == "mv2v" else 1):
                rng = np.random.default_rng(seed)
                if method == "mv2v":
                    w0 = mv2v_init(fit_new, fit_old, rng, subsample=m)
                    w1 = mv2v_refine(fit_new, fit_old, w0, rng)
                else:
                    w0 = vecmap_init(fit_new, fit_old)
                    w1 = w0
                init_recall = recall_at_10(apply_map(new_side, old_side, w0, judge_new), judge_old)
                w2 = progressive(fit_new, fit_old, w1)
                crit = heldout_criterion(chk_new, chk_old, w2)
                rec = recall_at_10(apply_map(new_side, old_side, w2, judge_new), judge_old)
                tries.append({"seed": seed, "init_recall": init_recall, "recall": rec, "criterion": crit})
                print(method, tries[-1], round(time.time() - t0), flush=True)
                if best is None or crit > best["criterion"]:
                    best = tries[-1]
            entry[method] = {"kept": best, "tries": tries, "seconds": time.time() - t0}
        rows.append(entry)
        print(json.dumps(entry), flush=True)
    return rows


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    data = Path(args[0]) if args else ROOT / "benchmarks/data/unpaired"
    sizes = [1000, 2000, 5000]
    if "--sizes" in sys.argv:
        sizes = [int(s) for s in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    methods = tuple(sys.argv[sys.argv.index("--methods") + 1].split(",")) if "--methods" in sys.argv else ("mv2v", "vecmap")
    seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 3
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else "both"
    results = []
    if only in ("both", "control"):
        results += run(data, sizes, control=True, seeds=seeds, methods=methods)
    if only in ("both", "real"):
        results += run(data, sizes, control=False, seeds=seeds, methods=methods)
    import importlib.metadata as md
    out = {"versions": {p: md.version(p) for p in ("numpy", "scipy", "scikit-learn")}, "results": results}
    (data / "unpaired_results.json").write_text(json.dumps(out, indent=1))
    print("| pair | rows/side | no map | paired Procrustes | mini-vec2vec (kept) | share | VecMap-style | share |")
    for e in results:
        mv = e["mv2v"]["kept"]["recall"] if "mv2v" in e else float("nan")
        vm = e["vecmap"]["kept"]["recall"] if "vecmap" in e else float("nan")
        print(f"| {e['pair']} | {e['rows_per_side']} | {e['no_map']:.3f} | {e['paired_procrustes']:.3f} | "
              f"{mv:.3f} | {mv / e['paired_procrustes']:.2f} | {vm:.3f} | {vm / e['paired_procrustes']:.2f} |")


if __name__ == "__main__":
    main()
