#!/usr/bin/env python3
"""`embdiag compat --fit unpaired` on the study data of unpaired_data.py: the table of
Guides/Compatibility.md, "Alignment without pairs (`--fit unpaired`)".

For each size n (rows per side) and pair (the real L3 -> L6 pair, and the rotation control:
NEW = OLD x Q + 1 % noise, renormalised, Q a seeded random orthogonal matrix), writes
  OLD = the OLD side's n rows (OLD vectors) + the 2,000 judge rows (OLD vectors)
  NEW = the NEW side's n rows (NEW vectors, *other* texts) + the 2,000 judge rows (NEW vectors)
with ids = the text's row in the 12,000 set, so the judge rows are the only shared ids. Then
  embdiag compat --fit unpaired --pair-by label  (the map is found from the 2 x n unshared rows,
                                                  the 2,000 judge rows judge it)
  embdiag compat --fit procrustes --train-rows   (paired reference: the OLD side's n texts with
                                                  both vectors, judged on the same 2,000 rows)
and prints recall@10 found / paired Procrustes / no map, map_found, the criterion and the time per
restart.

    python3 scripts/research/unpaired_embdiag.py [DATA_DIR] [--sizes 2000,5000] [--only real|control]
        [--embdiag .build/release/embdiag]
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
JUDGE = slice(10000, 12000)


def write_ids(path, ids):
    path.write_text("".join(f"t{i}\n" for i in ids))


def compat(embdiag, args, out):
    r = subprocess.run([embdiag, "compat", "--retrieval-only", "--quiet", "--json", str(out), *args],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"embdiag compat failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(out.read_text())["metrics"]


def main():
    args = [a for a in sys.argv[1:]]
    def option(name, default):
        return args[args.index(name) + 1] if name in args else default
    positional = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))]
    data = Path(positional[0]) if positional else ROOT / "benchmarks/data/unpaired"
    sizes = [int(s) for s in option("--sizes", "2000,5000").split(",")]
    only = option("--only", "both")
    embdiag = option("--embdiag", str(ROOT / ".build/release/embdiag"))
    old_all = np.load(data / "old.npy").astype(np.float32)
    rng = np.random.default_rng(123)
    q, r = np.linalg.qr(rng.standard_normal((old_all.shape[1], old_all.shape[1])))
    q = q * np.sign(np.diag(r))
    noisy = old_all.astype(np.float64) @ q + 0.01 * rng.standard_normal(old_all.shape)
    new_control = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    pairs = []
    if only in ("both", "control"):
        pairs.append(("rotation control", new_control))
    if only in ("both", "real"):
        pairs.append(("L3 -> L6 (real)", np.load(data / "new.npy").astype(np.float32)))
    judge = np.arange(12000)[JUDGE]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for name, new_all in pairs:
            for n in sizes:
                old_rows = np.concatenate([np.arange(0, n), judge])
                new_rows = np.concatenate([np.arange(5000, 5000 + n), judge])
                np.save(t / "old.npy", old_all[old_rows])
                np.save(t / "new.npy", new_all[new_rows])
                write_ids(t / "old-ids.txt", old_rows)
                write_ids(t / "new-ids.txt", new_rows)
                found = compat(embdiag, ["--old", str(t / "old.npy"), "--new", str(t / "new.npy"), "--fit", "unpaired",
                                         "--pair-by", "label", "--old-ids", str(t / "old-ids.txt"),
                                         "--new-ids", str(t / "new-ids.txt")], t / "found.json")
                # Paired reference: the OLD side's n texts with both vectors, the judge rows held out.
                np.save(t / "new-paired.npy", new_all[old_rows])
                (t / "train.txt").write_text("".join(f"{i}\n" for i in range(n)))
                paired = compat(embdiag, ["--old", str(t / "old.npy"), "--new", str(t / "new-paired.npy"), "--fit", "procrustes",
                                          "--train-rows", str(t / "train.txt")], t / "paired.json")
                row = {"pair": name, "rows_per_side": n,
                       "recall_at_10_found": found["recall_at_10_mapped"],
                       "recall_at_10_paired_procrustes": paired["recall_at_10_mapped"],
                       "recall_at_10_no_map": found["recall_at_10_cross_heldout"],
                       "map_found": found["map_found"], "alignment_criterion": found["alignment_criterion"],
                       "seconds_per_restart": found["alignment_seconds_per_restart"],
                       "lower_bound": found["recall_at_10_mapped_lower_bound"]}
                results.append(row)
                print(json.dumps(row), flush=True)
    print("| pair | rows per side | no map | paired Procrustes, same rows | `--fit unpaired` (map_found) | criterion | s per restart |")
    print("|---|---|---|---|---|---|---|")
    for e in results:
        print(f"| {e['pair']} | {e['rows_per_side']:,} | {e['recall_at_10_no_map']:.3f} | {e['recall_at_10_paired_procrustes']:.3f} | "
              f"{e['recall_at_10_found']:.3f} ({str(e['map_found']).lower()}) | {e['alignment_criterion']:.3f} | {e['seconds_per_restart']:.0f} |")


if __name__ == "__main__":
    main()
