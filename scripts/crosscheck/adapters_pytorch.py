#!/usr/bin/env python3
"""Cross-check of embdiag's adapters (`compat --fit low-rank:R` and `--fit mlp:H`) with PyTorch.

PyTorch trains the same architectures on the same rows from the same starting point:

- low-rank affine + diagonal (Vejendla, "Drift-Adapter", EMNLP 2025): y = x * s + (x U) V + b
  (s only when the two dimensions agree);
- residual MLP: y = x A + relu(x W1 + b1) W2 + b2;
- loss: torch.nn.MSELoss (mean over every value); optimiser: torch.optim.Adam (lr 1e-3, betas
  0.9/0.999, eps 1e-8), full batch, float64, at most 2000 steps, early stopping on the validation
  rows (patience 50, an improvement must lower the best loss by more than 1e-7 relative), the
  parameters of the best step kept;
- the validation rows: argsort of one xoshiro256** uniform per training row (seed + 5), the
  first round(0.2 n) (at least 2) held aside; the start: U ~ N(0, 1/dx), W1 ~ N(0, 2/dx) from
  xoshiro256** Box-Muller draws (seed + 7) in row-major order, s = 1, V = W2 = 0, b = b1 = 0, and
  the MLP's A, b2 = the centred Procrustes map of the fit rows (numpy SVD here, LAPACK in embdiag)
  — split and draws reproduced here bit for bit from the generator's definition.

Then held-out recall@10 (mapped NEW queries, unit rows, searching the OLD held-out rows; a query's
partner is its only relevant row) is computed with numpy. The fixture (Tests/Fixtures/crosscheck/
adapters/) holds the synthetic inputs this script makes (a known non-linear NEW -> OLD relation,
seeded), the training rows, and per case PyTorch's held-out recall@10, best step and trained
parameters, plus the package versions. AdapterCrossCheckTests runs embdiag on the same files and
compares.

    python3 scripts/crosscheck/adapters_pytorch.py            # writes the fixture
    python3 scripts/crosscheck/adapters_pytorch.py --old O.npy --new N.npy --labels L.txt \
        --train-fraction 0.7 --fit mlp:256 --fit low-rank:64   # a real pair: prints recall@10
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("adapters", ["torch==2.15.0", "numpy"], imports=["torch", "numpy"])

from importlib.metadata import version  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

MASK = (1 << 64) - 1
ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "Tests/Fixtures/crosscheck/adapters"


class Xoshiro:
    """embdiag's SeededGenerator: xoshiro256** seeded by SplitMix64."""

    def __init__(self, seed):
        x = seed & MASK
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            s.append(z ^ (z >> 31))
        self.s = s

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def gaussian(self):
        u1 = self.uniform()
        while u1 <= 0:
            u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def validation_split(n, seed):
    rng = Xoshiro(seed + 5)
    keys = [rng.uniform() for _ in range(n)]
    order = sorted(range(n), key=lambda i: (keys[i], i))
    n_val = max(2, int(math.floor(n * 0.2 + 0.5)))
    return sorted(order[n_val:]), sorted(order[:n_val])


def layout(kind, width, dx, dy):
    if kind == "low-rank":
        return ([("s", 1, dy)] if dx == dy else []) + [("U", dx, width), ("V", width, dy), ("b", 1, dy)]
    return [("A", dx, dy), ("W1", dx, width), ("b1", 1, width), ("W2", width, dy), ("b2", 1, dy)]


def procrustes(x, y):
    """Centred orthogonal Procrustes (embdiag's `--fit procrustes`): R = U V^T from the SVD of
    X_c^T Y_c, b = mean(y) - mean(x) R."""
    mx, my = x.mean(axis=0), y.mean(axis=0)
    u, _, vt = np.linalg.svd((x - mx).T @ (y - my), full_matrices=False)
    r = u @ vt
    return r, my - mx @ r


def initial(kind, width, dx, dy, seed, linear=None):
    rng = Xoshiro(seed + 7)
    params = {}
    for name, r, c in layout(kind, width, dx, dy):
        v = np.zeros((r, c))
        if name == "s":
            v[:] = 1
        elif name in ("U", "W1"):
            sd = 1 / math.sqrt(dx) if name == "U" else math.sqrt(2 / dx)
            v = np.array([sd * rng.gaussian() for _ in range(r * c)]).reshape(r, c)
        elif name == "A":
            v = linear[0].copy()
        elif name == "b2":
            v = linear[1].reshape(1, dy).copy()
        params[name] = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    return params


def forward(kind, p, x):
    if kind == "low-rank":
        out = (x @ p["U"]) @ p["V"] + p["b"]
        return out + x * p["s"] if "s" in p else out
    return x @ p["A"] + torch.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def train(kind, width, x, y, seed, max_steps=2000, patience=50, rel=1e-7):
    n, dx = x.shape
    dy = y.shape[1]
    fit, val = validation_split(n, seed)
    xf, yf = torch.tensor(x[fit]), torch.tensor(y[fit])
    xv, yv = torch.tensor(x[val]), torch.tensor(y[val])
    p = initial(kind, width, dx, dy, seed, linear=procrustes(x[fit], y[fit]) if kind == "mlp" else None)
    names = [name for name, _, _ in layout(kind, width, dx, dy)]
    opt = torch.optim.Adam([p[k] for k in names], lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    mse = torch.nn.MSELoss()
    with torch.no_grad():
        best_loss = mse(forward(kind, p, xv), yv).item()
    best = ({k: p[k].detach().clone() for k in names}, 0)
    since, step = 0, 0
    while step < max_steps:
        step += 1
        opt.zero_grad()
        mse(forward(kind, p, xf), yf).backward()
        opt.step()
        with torch.no_grad():
            v = mse(forward(kind, p, xv), yv).item()
        if v < best_loss * (1 - rel):
            best_loss, best, since = v, ({k: p[k].detach().clone() for k in names}, step), 0
        else:
            since += 1
            if since >= patience:
                break
    return best[0], best[1], step, names


def recall_at(mapped, old, k=10, labels=None):
    q = mapped / np.linalg.norm(mapped, axis=1, keepdims=True)
    g = old / np.linalg.norm(old, axis=1, keepdims=True)
    s = q @ g.T
    if labels is None:
        partner = np.diag(s)
        ranks = (s > partner[:, None]).sum(axis=1) + 1
        return float(np.mean(ranks <= k))
    # labels: relevant = same label, own row excluded; hit when a relevant row is in the top k.
    np.fill_diagonal(s, -np.inf)
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    lab = np.asarray(labels)
    return float(np.mean([(lab[top[i]] == lab[i]).any() for i in range(len(lab))]))


def versions():
    return {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
            "torch_threads": torch.get_num_threads()}


def make_fixture():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20251101)
    n, d = 240, 24
    new = rng.standard_normal((n, d))
    m1 = rng.standard_normal((d, d)) / math.sqrt(d)
    m2 = rng.standard_normal((d, d)) / math.sqrt(d)
    old = np.tanh(1.5 * new @ m1) @ m2 + 0.3 * new @ m1 + 0.5 * rng.standard_normal((n, d))
    old16 = old[:, :16].copy()
    FIXTURE.mkdir(parents=True, exist_ok=True)
    np.save(FIXTURE / "new.npy", new.astype(np.float32))
    np.save(FIXTURE / "old.npy", old.astype(np.float32))
    np.save(FIXTURE / "old16.npy", old16.astype(np.float32))
    train_rows = list(range(160))
    (FIXTURE / "train-rows.txt").write_text("".join(f"{i}\n" for i in train_rows))
    held = list(range(160, n))
    x = np.load(FIXTURE / "new.npy").astype(np.float64)
    cases = []
    for old_name in ("old.npy", "old16.npy"):
        y = np.load(FIXTURE / old_name).astype(np.float64)
        for kind, width in (("low-rank", 6), ("mlp", 16)):
            start = time.perf_counter()
            params, best_step, steps, names = train(kind, width, x[train_rows], y[train_rows], seed=42)
            seconds = time.perf_counter() - start
            with torch.no_grad():
                mapped = forward(kind, params, torch.tensor(x[held])).numpy()
            # embdiag applies the map in float32 GEMMs; recall here in float64 (no ties in this data).
            cases.append({
                "old": old_name, "fit": f"{kind}:{width}", "best_step": best_step, "steps": steps,
                "heldout_recall_at_10": recall_at(mapped, y[held]),
                "parameters": {k: params[k].numpy().ravel().tolist() for k in names},
                "parameter_order": names, "train_seconds": seconds,
            })
            print(f"{old_name} {kind}:{width}: best step {best_step} of {steps}, held-out recall@10 {cases[-1]['heldout_recall_at_10']:.4f}")
    doc = {"generator": "scripts/crosscheck/adapters_pytorch.py", "seed": 42, "train_rows": "train-rows.txt",
           "heldout_rows": f"{held[0]}..{held[-1]}", "versions": versions(), "cases": cases}
    (FIXTURE / "pytorch.json").write_text(json.dumps(doc, indent=1) + "\n")


def real_pair(args):
    """Trains each --fit on a seeded split of a real pair (embdiag's split: pass --train-rows) and
    prints held-out recall@10, for the guide's side-by-side numbers."""
    torch.set_num_threads(1)
    old = np.load(args.old).astype(np.float64)
    new = np.load(args.new).astype(np.float64)
    labels = Path(args.labels).read_text().splitlines() if args.labels else None
    train_rows = [int(line) for line in Path(args.train_rows).read_text().split()]
    held = sorted(set(range(len(old))) - set(train_rows))
    out = {"versions": versions(), "results": []}
    for fit in args.fit:
        kind, width = fit.split(":")
        start = time.perf_counter()
        params, best_step, steps, _ = train(kind, int(width), new[train_rows], old[train_rows], seed=args.seed)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            xh = torch.tensor(new[held])
            t0 = time.perf_counter()
            mapped = forward(kind, params, xh).numpy()
            apply_us = (time.perf_counter() - t0) / len(held) * 1e6
        r = recall_at(mapped, old[held], labels=[labels[i] for i in held] if labels else None)
        out["results"].append({"fit": fit, "heldout_recall_at_10": r, "best_step": best_step, "steps": steps,
                               "train_seconds": seconds, "apply_microseconds_per_query": apply_us})
        print(json.dumps(out["results"][-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--old")
    ap.add_argument("--new")
    ap.add_argument("--labels")
    ap.add_argument("--train-rows")
    ap.add_argument("--fit", action="append", default=[])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.old:
        real_pair(a)
    else:
        make_fixture()
