#!/usr/bin/env python3
"""NumPy reference and calibration study of `embdiag fingerprint` (Guides/Fingerprint.md).

1. Cross-check values (Tests/Fixtures/crosscheck/fingerprint.json): the fingerprint of
   data/sentences/debian-minilm-l6.npy (mean, covariance spectrum, principal directions, the
   unbiased traceless strength, mean cosine, norm quantiles, per-row score threshold) and its check
   against Tests/Fixtures/fingerprint/minilm-heldout.npy and e5-heldout.npy (same_model_score,
   mean_direction_cosine, principal_subspace_overlap, spectrum_correlation, flagged rows), computed
   here in float64 by the definitions, independently of embdiag's BLAS/LAPACK code; and the same
   sample zero-padded to 800 dimensions (the row-score floor from the RMS scale), checked against the
   held-out MiniLM rows padded alike and e5 rows that vary in the padding.
2. Calibration study (Tests/Fixtures/fingerprint/calibration.json, and the tables of the guide):
   - calibration: for each of the four Debian sections (topics) of data/sentences, a fingerprint of
     each model from the other three sections, checked against 20 random samples of 50, 100 and 200
     rows of the held-out section, from the same model ("same") and from every other model and a
     seeded random rotation of the same model ("different"). The threshold is the geometric mean
     of the lowest same-model score and the highest other score.
   - held-out evaluation: fingerprints of all 1800 calibration rows, checked against samples of the
     four other Debian sections of Tests/Fixtures/fingerprint (texts never used above): false-alarm
     rate (same model called different) and miss rate (another model called same) at the threshold
     embdiag uses, and the per-row error rates of --mixed on half-and-half files.

    python3 scripts/crosscheck/fingerprint_reference.py
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("crosscheck-fingerprint", ["numpy==2.4.6"], imports=["numpy"])

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "Tests/Fixtures/fingerprint"
K = 32                 # principal directions (embdiag's default)
FLOOR = 0.05           # scale floor of the per-row score, as a fraction of the reference scale:
RMS_REFERENCE = 0.1    # the median scale, or this fraction of the RMS scale when larger (mostly constant coordinates)
PADDED_DIM = 800       # debian-minilm-l6 zero-padded to this dimension: more than half the coordinates constant
THRESHOLD = 0.10       # embdiag's same_model threshold (FingerprintCheck.sameModelThreshold)
MIXED_SHARE = 0.01
NORM_MARGIN = 1.5      # --mixed: norms outside [q01 / 1.5, q99 * 1.5] are another model's


def load(path):
    return np.load(path).astype(np.float64)


def traceless_strength(x):
    n, d = x.shape
    g = x.T @ x
    s = (x * x).sum(1)
    return (np.sum(g * g) - np.sum(s ** 2) - (s.sum() ** 2 - np.sum(s ** 2)) / d) / (n * (n - 1))


def scale_floor(scale):
    return FLOOR * max(np.median(scale), RMS_REFERENCE * np.sqrt(np.mean(scale ** 2)))


def row_scores(mean, scale, y):
    return np.log(np.maximum((((y - mean) / scale) ** 2).mean(1), 1e-300))


def fingerprint(x, k=K):
    n, d = x.shape
    mean = x.mean(0)
    cov = np.cov(x.T)
    w, v = np.linalg.eigh(cov)
    w, v = w[::-1], v[:, ::-1]
    scale = np.sqrt(np.maximum(np.diag(cov), 0))
    floored = np.maximum(scale, scale_floor(scale))
    norms = np.linalg.norm(x, axis=1)
    unit = x / norms[:, None]
    u = unit.sum(0)
    scores = row_scores(mean, floored, x)
    q50, q999 = np.quantile(scores, [0.5, 0.999])
    return {"n": n, "d": d, "mean": mean, "spectrum": w, "directions": v[:, :k].T, "scale": scale, "floored": floored,
            "trace": (x * x).sum() / n, "strength": traceless_strength(x),
            "mean_cosine": (u @ u - n) / (n * (n - 1)),
            "norm_quantiles": np.quantile(norms, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]),
            "row_threshold": q999 + (q999 - q50), "row_median": q50}


def check(fp, y, mixed=False):
    n, d = fp["n"], fp["d"]
    m = len(y)
    k = len(fp["directions"])
    second = y.T @ y / m
    trace_y = np.trace(second)
    quad = np.einsum("ij,jk,ik->i", fp["directions"], second, fp["directions"])
    rest = (fp["spectrum"].sum() - fp["spectrum"][:k].sum()) / (d - k) if d > k else 0.0
    inner = (n - 1) / n * ((fp["spectrum"][:k] * quad).sum() + rest * (trace_y - quad.sum())) + fp["mean"] @ second @ fp["mean"]
    score = (inner - fp["trace"] * trace_y / d) / np.sqrt(fp["strength"] * traceless_strength(y))
    out = {"same_model_score": float(score)}
    if mixed:
        s = row_scores(fp["mean"], fp["floored"], y)
        norms = np.linalg.norm(y, axis=1)
        low, high = fp["norm_quantiles"][0] / NORM_MARGIN, fp["norm_quantiles"][-1] * NORM_MARGIN
        out["flagged"] = np.nonzero((s > fp["row_threshold"]) | (norms < low) | (norms > high))[0].tolist()
    return out


def describe(fp, y):
    mu_y = y.mean(0)
    w, v = np.linalg.eigh(np.cov(y.T))
    w, v = w[::-1], v[:, ::-1]
    k = len(fp["directions"])
    cross = fp["directions"] @ v[:, :k]
    a, b = np.log(fp["spectrum"][:k]), np.log(np.maximum(w[:k], 1e-300))
    return {"mean_direction_cosine": float(fp["mean"] @ mu_y / np.linalg.norm(fp["mean"]) / np.linalg.norm(mu_y)),
            "principal_subspace_overlap": float((cross ** 2).sum() / k),
            "spectrum_correlation": float(np.corrcoef(a, b)[0, 1])}


def rotation(d, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main():
    minilm = load(ROOT / "data/sentences/debian-minilm-l6.npy")
    layer3 = load(ROOT / "data/sentences/debian-minilm-l6-layer3.npy")
    e5 = load(FIX / "e5-calibration.npy")
    sections = np.array((ROOT / "data/sentences/debian-sections.txt").read_text().split())
    held = {"minilm": load(FIX / "minilm-heldout.npy"), "minilm-layer3": load(FIX / "minilm-layer3-heldout.npy"),
            "e5": load(FIX / "e5-heldout.npy")}
    enpt = load(FIX / "e5-enpt-heldout.npy")
    held_sections = np.array((FIX / "heldout-sections.txt").read_text().split())
    q = rotation(384, 7)
    models = {"minilm": minilm, "minilm-layer3": layer3, "e5": e5}

    # 1. Cross-check values.
    fp = fingerprint(minilm)
    reference = {
        "fingerprint_of": "data/sentences/debian-minilm-l6.npy",
        "spectrum_top8": fp["spectrum"][:8].tolist(), "spectrum_sum": float(fp["spectrum"].sum()),
        "directions_top4": fp["directions"][:4].tolist(), "mean": fp["mean"].tolist(), "scale_top": np.sort(fp["scale"])[::-1][:8].tolist(),
        "second_moment_trace": float(fp["trace"]), "traceless_strength": float(fp["strength"]), "mean_cosine": float(fp["mean_cosine"]),
        "norm_quantiles": fp["norm_quantiles"].tolist(), "row_score_threshold": float(fp["row_threshold"]),
        "near_constant_dimensions": np.nonzero(fp["scale"] < scale_floor(fp["scale"]))[0].tolist(),
        "checks": {},
    }
    for name, path in [("minilm-heldout", FIX / "minilm-heldout.npy"), ("e5-heldout", FIX / "e5-heldout.npy")]:
        y = load(path)
        c = check(fp, y, mixed=True)
        c.update(describe(fp, y))
        reference["checks"][name] = c
    # Zero-padded vectors (a model's output padded to a larger dimension): the median scale is 0 and
    # the floor comes from the RMS scale. Checked: the same model padded alike (nothing flagged) and
    # another model that varies in the padding (e5, its first coordinates repeated there).
    def pad(x, fill=None):
        fill = np.zeros((len(x), PADDED_DIM)) if fill is None else fill
        return np.hstack([x, fill])[:, :PADDED_DIM]
    padded = fingerprint(pad(minilm), k=K)
    e5_held = load(FIX / "e5-heldout.npy")
    reference["padded"] = {
        "dimension": PADDED_DIM, "row_score_threshold": float(padded["row_threshold"]), "row_score_median": float(padded["row_median"]),
        "near_constant_dimensions": np.nonzero(padded["scale"] < scale_floor(padded["scale"]))[0].tolist(),
        "floor": float(scale_floor(padded["scale"])), "traceless_strength": float(padded["strength"]),
        "checks": {"minilm-heldout": check(padded, pad(held["minilm"]), mixed=True),
                   "e5-heldout": check(padded, pad(e5_held, np.hstack([e5_held, e5_held])), mixed=True)},
    }
    reference["versions"] = {"numpy": np.__version__, "python": sys.version.split()[0]}
    (ROOT / "Tests/Fixtures/crosscheck/fingerprint.json").write_text(json.dumps(reference, indent=1) + "\n")

    # 2a. Calibration on the four data/sentences topics.
    rng = np.random.default_rng(2026)
    same, other = [], []
    rows = []
    for topic in ["games", "science", "sound", "fonts"]:
        rest, hold = sections != topic, sections == topic
        for fname, fx in models.items():
            f = fingerprint(fx[rest])
            candidates = {name: m[hold] for name, m in models.items()}
            candidates["rotation"] = fx[hold] @ q
            for cname, cy in candidates.items():
                for size in (50, 100, 200):
                    scores = [check(f, cy[rng.choice(len(cy), size, replace=False)])["same_model_score"] for _ in range(20)]
                    (same if cname == fname else other).extend(scores)
                    rows.append({"topic": topic, "fingerprint": fname, "sample": cname, "rows": size,
                                 "min": min(scores), "max": max(scores)})
    threshold = float(np.sqrt(min(same) * max(other)))
    calibration = {"same_min": min(same), "other_max": max(other), "geometric_midpoint": threshold,
                   "threshold_used": THRESHOLD, "samples": {"same": len(same), "other": len(other)}}

    # 2b. Held-out topics (other Debian sections), fingerprints from all 1800 calibration rows.
    full = {name: fingerprint(m) for name, m in models.items()}
    held_rows = []
    counts = {"same": [0, 0], "other": [0, 0]}  # [errors, trials]
    for topic in sorted(set(held_sections)):
        idx = held_sections == topic
        for fname, f in full.items():
            candidates = {name: m[idx] for name, m in held.items()}
            candidates["rotation"] = held[fname][idx] @ q
            for cname, cy in candidates.items():
                for size in (50, 100, int(idx.sum())):
                    draws = 1 if size == idx.sum() else 20
                    scores = [check(f, cy[rng.choice(len(cy), size, replace=False)])["same_model_score"] for _ in range(draws)]
                    kind = "same" if cname == fname else "other"
                    wrong = sum((s < THRESHOLD) if kind == "same" else (s >= THRESHOLD) for s in scores)
                    counts[kind][0] += wrong
                    counts[kind][1] += len(scores)
                    held_rows.append({"topic": topic, "fingerprint": fname, "sample": cname, "rows": size,
                                      "min": min(scores), "max": max(scores), "wrong": wrong, "trials": len(scores)})
    enpt_scores = [check(full["e5"], enpt[held_sections == t])["same_model_score"] for t in sorted(set(held_sections))]

    # 2c. --mixed per row: half the held-out rows of the fingerprint's model, half another model's.
    mixed = []
    for fname, f in full.items():
        own = held[fname]
        for cname, cy in [(n, m) for n, m in held.items() if n != fname] + [("rotation", held[fname] @ q)]:
            half = len(own) // 2
            y = np.vstack([own[:half], cy[half:]])
            flagged = set(check(f, y, mixed=True)["flagged"])
            false_alarms = sum(i in flagged for i in range(half))
            misses = sum(i not in flagged for i in range(half, len(y)))
            mixed.append({"fingerprint": fname, "other": cname, "rows": len(y), "false_alarm_rate": false_alarms / half,
                          "miss_rate": misses / (len(y) - half), "mixed_share": len(flagged) / len(y)})
        alone = check(f, own, mixed=True)["flagged"]
        mixed.append({"fingerprint": fname, "other": None, "rows": len(own), "flagged_rows": len(alone), "mixed_share": len(alone) / len(own)})

    result = {
        "method": "same_model_score = disattenuated traceless second-moment similarity (Guides/Fingerprint.md)",
        "calibration": calibration,
        "heldout": {"false_alarm_rate": counts["same"][0] / counts["same"][1], "false_alarms": counts["same"][0], "same_trials": counts["same"][1],
                    "miss_rate": counts["other"][0] / counts["other"][1], "misses": counts["other"][0], "other_trials": counts["other"][1],
                    "same_min": min(r["min"] for r in held_rows if r["fingerprint"] == r["sample"]),
                    "other_max": max(r["max"] for r in held_rows if r["fingerprint"] != r["sample"])},
        "e5_finetune_against_e5_fingerprint": enpt_scores,
        "mixed": mixed,
        "calibration_rows": rows, "heldout_rows": held_rows,
        "versions": {"numpy": np.__version__, "python": sys.version.split()[0]},
    }
    (FIX / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("calibration", "heldout", "e5_finetune_against_e5_fingerprint", "mixed")}, indent=1))
    print("\n| fingerprint | sample | same_model_score on 50-row samples of held-out topics (min – max) |")
    for fname in models:
        for cname in list(held) + ["rotation"]:
            r = [x for x in held_rows if x["fingerprint"] == fname and x["sample"] == cname and x["rows"] == 50]
            print(f"| {fname} | {cname} | {min(x['min'] for x in r):.3f} – {max(x['max'] for x in r):.3f} |")


if __name__ == "__main__":
    main()
