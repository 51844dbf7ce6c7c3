#!/usr/bin/env python3
"""Measures the orientation rule of `embdiag fingerprint --check` (Guides/Fingerprint.md, "Orientation")
on the real models of the fingerprint calibration (scripts/crosscheck/fingerprint_reference.py, same
fixtures, same sampling protocol), in float64 NumPy by the definitions embdiag implements:

    same_model = null  when the dimension cannot decide;
               = no    when same_model_score < 0.10;
               = null  when the fingerprint cannot check orientation (off-diagonal share < 0.2 of what
                       its directions rebuild, or 4 x flip spread >= 1), or the sample's off-diagonal
                       structure is < 0.2 of its noise;
               = yes   when orientation_score >= max(0.10, 4 x flip spread), else no.

Cases: the same model on another topic (calibration: topic held out in turn, 20 samples of 50, 100
and 200 rows; held-out Debian sections: 20 samples of 50 and 100 rows and all 120), its rotated copy,
its copy with a random half of the coordinates sign-flipped, with the coordinate of largest |mean|
flipped, with one random coordinate flipped; other models. PCA stores: each model's vectors
PCA-rotated (centred, all 384 components) with a PCA fitted on the 1800 calibration rows, fingerprinted
there; checked with held-out rows in the same basis, and with held-out rows rotated by a PCA refitted
on them, with the refit's own eigenvector signs, signs aligned to the original, and aligned then a
random half flipped. Prints the tables of the guide and writes
Tests/Fixtures/fingerprint/orientation-calibration.json.

    python3 scripts/research/fingerprint_orientation.py
"""
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("crosscheck-fingerprint", ["numpy==2.4.6"], imports=["numpy"])

import numpy as np  # noqa: E402
import fingerprint_reference as ref  # noqa: E402

ROOT = ref.ROOT
FIX = ref.FIX
THRESHOLD = ref.THRESHOLD
SHARE = 0.2
SPREADS = 4.0


def off_strength(x):
    """Unbiased sum_{j != l} M_jl^2 and the plain one: (|G|^2 - sum c_j^2 - sum_i (s_i^2 - sum_j x_ij^4)) / (n(n-1))."""
    n = len(x)
    g = x.T @ x
    c = np.diag(g)
    s = (x * x).sum(1)
    q = (x ** 4).sum(1)
    plain = np.sum(g * g) - np.sum(c * c)
    return (plain - np.sum(s * s - q)) / (n * (n - 1)), plain / n ** 2


def prepare(x, k=ref.K):
    fp = ref.fingerprint(x, k)
    n, d = fp["n"], fp["d"]
    v, lam = fp["directions"], fp["spectrum"]
    a = (n - 1) / n
    rest = (lam.sum() - lam[:k].sum()) / (d - k) if d > k else 0.0
    m = a * ((v.T * lam[:k]) @ v + rest * (np.eye(d) - v.T @ v)) + np.outer(fp["mean"], fp["mean"])
    off = m - np.diag(np.diag(m))
    fp["m"] = m
    fp["off_strength"], _ = off_strength(x)
    rebuilt = np.sum(off ** 2)
    fp["off_share"] = fp["off_strength"] / rebuilt if rebuilt > 0 else 0.0
    fp["flip_spread"] = np.sqrt(2 * np.sum(off ** 4)) / fp["off_strength"] if fp["off_strength"] > 0 else np.inf
    fp["orientation_threshold"] = max(THRESHOLD, SPREADS * fp["flip_spread"])
    fp["checkable"] = fp["off_share"] >= SHARE and fp["orientation_threshold"] < 1
    return fp


def decide(fp, y):
    score = ref.check(fp, y)["same_model_score"]
    m = len(y)
    mn = y.T @ y / m
    numerator = np.sum(fp["m"] * mn) - np.sum(np.diag(fp["m"]) * np.diag(mn))
    s_off, plain = off_strength(y)
    share_n = s_off / plain if plain > 0 else 0.0
    orientation = numerator / np.sqrt(fp["off_strength"] * s_off) if fp["off_share"] >= SHARE and s_off > 0 and share_n >= SHARE else None
    if score < THRESHOLD:
        answer = "no"
    elif not fp["checkable"] or orientation is None:
        answer = "null"
    else:
        answer = "yes" if orientation >= fp["orientation_threshold"] else "no"
    return {"score": float(score), "orientation": None if orientation is None else float(orientation), "answer": answer,
            "old": "yes" if score >= THRESHOLD else "no"}


def variants(y, fp, rng):
    d = y.shape[1]
    half = np.ones(d)
    half[rng.choice(d, d // 2, replace=False)] = -1
    top = np.ones(d)
    top[int(np.argmax(np.abs(fp["mean"])))] = -1
    one = np.ones(d)
    one[rng.integers(d)] = -1
    return {"half flipped": y * half, "largest-mean coordinate flipped": y * top, "random coordinate flipped": y * one}


def tally(results, key):
    c = Counter(r[key] for r in results)
    return {k: c.get(k, 0) for k in ("yes", "no", "null")}


def pca(x):
    mu = x.mean(0)
    w, v = np.linalg.eigh(np.cov(x.T))
    return mu, v[:, ::-1]


def main():
    minilm = ref.load(ROOT / "data/sentences/debian-minilm-l6.npy")
    layer3 = ref.load(ROOT / "data/sentences/debian-minilm-l6-layer3.npy")
    e5 = ref.load(FIX / "e5-calibration.npy")
    sections = np.array((ROOT / "data/sentences/debian-sections.txt").read_text().split())
    held = {"minilm": ref.load(FIX / "minilm-heldout.npy"), "minilm-layer3": ref.load(FIX / "minilm-layer3-heldout.npy"),
            "e5": ref.load(FIX / "e5-heldout.npy")}
    held_sections = np.array((FIX / "heldout-sections.txt").read_text().split())
    q = ref.rotation(384, 7)
    models = {"minilm": minilm, "minilm-layer3": layer3, "e5": e5}
    rng = np.random.default_rng(2027)
    cases = {}  # (study, fingerprint, case) -> results

    def add(study, fname, case, r):
        cases.setdefault((study, fname, case), []).append(r)

    fingerprints = {}
    # Calibration topics, topic held out in turn.
    for topic in ["games", "science", "sound", "fonts"]:
        rest, hold = sections != topic, sections == topic
        for fname, fx in models.items():
            f = prepare(fx[rest])
            for size in (50, 100, 200):
                for _ in range(20):
                    y = fx[hold][rng.choice(int(hold.sum()), size, replace=False)]
                    add("calibration", fname, "same model", decide(f, y))
                    add("calibration", fname, "rotation", decide(f, y @ q))
                    for name, z in variants(y, f, rng).items():
                        add("calibration", fname, name, decide(f, z))
                    for oname, ox in models.items():
                        if oname != fname:
                            add("calibration", fname, "other model", decide(f, ox[hold][rng.choice(int(hold.sum()), size, replace=False)]))
    # Held-out topics, fingerprints from all calibration rows.
    for fname, fx in models.items():
        f = fingerprints[fname] = prepare(fx)
        for topic in sorted(set(held_sections)):
            idx = held_sections == topic
            own = held[fname][idx]
            for size in (50, 100, int(idx.sum())):
                for _ in range(20 if size < idx.sum() else 1):
                    pick = rng.choice(len(own), size, replace=False)
                    y = own[pick]
                    add("heldout", fname, "same model", decide(f, y))
                    add("heldout", fname, "rotation", decide(f, y @ q))
                    for name, z in variants(y, f, rng).items():
                        add("heldout", fname, name, decide(f, z))
                    for oname in models:
                        if oname != fname:
                            add("heldout", fname, "other model", decide(f, held[oname][idx][pick]))
    # PCA stores.
    pca_rows = []
    for fname, fx in models.items():
        mu, v = pca(fx)
        f = prepare((fx - mu) @ v)
        pca_rows.append({"fingerprint": fname, "off_share": float(f["off_share"]), "flip_spread": float(f["flip_spread"]),
                         "checkable": bool(f["checkable"])})
        for topic in sorted(set(held_sections)):
            idx = held_sections == topic
            own = held[fname][idx]
            for size in (50, 100, int(idx.sum())):
                for _ in range(20 if size < idx.sum() else 1):
                    y = own[rng.choice(len(own), size, replace=False)]
                    add("pca", fname, "same basis, other topic", decide(f, (y - mu) @ v))
                    mu2, v2 = pca(y)
                    aligned = v2 * np.sign(np.sum(v * v2, 0))
                    flips = np.where(rng.random(v.shape[1]) < 0.5, -1.0, 1.0)
                    add("pca", fname, "refit, its own signs", decide(f, (y - mu2) @ v2))
                    add("pca", fname, "refit, signs aligned", decide(f, (y - mu2) @ aligned))
                    add("pca", fname, "refit, aligned then half flipped", decide(f, (y - mu2) @ (aligned * flips)))
                    add("pca", fname, "same basis, half flipped", decide(f, ((y - mu) @ v) * flips))

    summary = []
    for (study, fname, case), rs in cases.items():
        orient = [r["orientation"] for r in rs if r["orientation"] is not None]
        summary.append({"study": study, "fingerprint": fname, "case": case, "samples": len(rs), "new": tally(rs, "answer"), "old": tally(rs, "old"),
                        "score_min": min(r["score"] for r in rs), "score_max": max(r["score"] for r in rs),
                        "orientation_min": min(orient) if orient else None, "orientation_max": max(orient) if orient else None})
    out = {"rule": __doc__.split("\n\n")[1], "fingerprints": {n: {"off_share": float(f["off_share"]), "flip_spread": float(f["flip_spread"]),
                                                                 "orientation_threshold": float(f["orientation_threshold"]), "checkable": bool(f["checkable"])}
                                                             for n, f in fingerprints.items()},
           "pca_fingerprints": pca_rows, "cases": summary,
           "versions": {"numpy": np.__version__, "python": sys.version.split()[0]}}
    (FIX / "orientation-calibration.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["fingerprints"], indent=1))
    print(json.dumps(pca_rows, indent=1))
    print("\n| study | fingerprint | sample | samples | yes / no / null (new) | yes (old) | same_model_score | orientation_score |")
    print("|---|---|---|---|---|---|---|---|")
    for s in summary:
        o = "—" if s["orientation_min"] is None else f"{s['orientation_min']:.3f} – {s['orientation_max']:.3f}"
        n = s["new"]
        print(f"| {s['study']} | {s['fingerprint']} | {s['case']} | {s['samples']} | {n['yes']} / {n['no']} / {n['null']} | {s['old']['yes']} | "
              f"{s['score_min']:.3f} – {s['score_max']:.3f} | {o} |")


if __name__ == "__main__":
    main()
