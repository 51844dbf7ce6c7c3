#!/usr/bin/env python3
"""Monitoring windows with injected shifts: does `embdiag shift` flag them and name the cluster that
changed, and how do Evidently's embedding drift (its default "model" method, a domain classifier) and
NannyML's domain classifier do on the same windows? Not part of `make test`.

Data: the bundled MiniLM sentence embeddings (data/sentences/debian-minilm-l6.npy, sections in
debian-sections.txt). The reference is 150 rows each of "games", "science" and "sound" (seeded). Each
window has 150 rows drawn (seeded, without repeats) from the rows not in the reference:
  null         50 / 50 / 50 of games / science / sound (the reference's mix: false alarms)
  grows        games grows: 100 / 25 / 25
  vanishes     sound vanishes: 75 / 75 / 0
  new-topic    a topic the reference never saw: 40 / 40 / 40 + 30 "fonts" rows (20 %)
  too-typical  150 rows from the 40 % held-out rows most central in the reference (cosine depth)

embdiag: `embdiag shift REF WINDOW` per window (flagged: p_value < 0.05); "ranked first": the first row
of its clusters table (sorted by |share change|) is the games cluster for grows and the sound cluster for
vanishes, and for new-topic the new-region test fires (p_value_new_region < 0.05) and the largest new
group is named "fonts". The peers (in their own venvs, versions recorded): Evidently 0.7 EmbeddingsDrift
with its default method, drift flagged per window as Evidently decides it; NannyML 0.13
DomainClassifierCalculator fitted on the reference with chunks of the window size, flagged when NannyML
raises its alert for the chunk. Neither names a cluster.

Usage: python3 benchmarks/bench_drift_peers.py [--windows 20] [--permutations 500] [--no-peers]
Writes benchmarks/out/drift_peers.json and prints a markdown table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import EMBDIAG, OUT, ROOT, ensure_dirs

ap = argparse.ArgumentParser()
ap.add_argument("--windows", type=int, default=20, help="windows per condition")
ap.add_argument("--size", type=int, default=150)
ap.add_argument("--permutations", type=int, default=500)
ap.add_argument("--no-peers", action="store_true")
args = ap.parse_args()
ensure_dirs()

emb = np.load(ROOT / "data/sentences/debian-minilm-l6.npy").astype(np.float32)
sections = np.array((ROOT / "data/sentences/debian-sections.txt").read_text().splitlines()[: len(emb)])
rng = np.random.default_rng(2026)
by = {s: rng.permutation(np.where(sections == s)[0]) for s in ["games", "science", "sound", "fonts"]}
ref = np.r_[by["games"][:150], by["science"][:150], by["sound"][:150]]
held = {s: by[s][150:] if s != "fonts" else by[s] for s in by}
unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
centre = unit[ref].mean(0)
pool = np.r_[held["games"], held["science"], held["sound"]]
central = pool[np.argsort(-(unit[pool] @ centre), kind="stable")[: int(0.4 * len(pool))]]
mix = {"null": (50, 50, 50, 0), "grows": (100, 25, 25, 0), "vanishes": (75, 75, 0, 0), "new-topic": (40, 40, 40, 30)}
conditions = ["null", "grows", "vanishes", "new-topic", "too-typical"]


def window(condition, r):
    if condition == "too-typical":
        return r.choice(central, size=args.size, replace=False)
    parts = [r.choice(held[s], size=c, replace=False) for s, c in zip(["games", "science", "sound", "fonts"], mix[condition]) if c]
    return np.concatenate(parts)


windows = []
for ci, condition in enumerate(conditions):
    r = np.random.default_rng(100 + ci)
    for w in range(args.windows):
        windows.append({"condition": condition, "rows": window(condition, r).tolist()})

started = time.time()
load_before = os.getloadavg()
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    np.save(tmp / "ref.npy", emb[ref])
    (tmp / "ref.txt").write_text("\n".join(sections[ref]) + "\n")
    # The peers run in their own processes while embdiag works through the windows.
    peer_runs = {}
    if not args.no_peers:
        manifest = tmp / "windows.json"
        np.save(tmp / "all.npy", emb)
        manifest.write_text(json.dumps({"embeddings": str(tmp / "all.npy"), "reference": ref.tolist(),
                                        "windows": [w["rows"] for w in windows], "size": args.size}))
        for peer in ["evidently", "nannyml"]:
            peer_runs[peer] = (time.perf_counter(), subprocess.Popen(
                [sys.executable, str(ROOT / "benchmarks" / f"peer_{peer}_windows.py"), str(manifest), str(tmp / f"{peer}.json")],
                stdout=subprocess.DEVNULL, stderr=open(tmp / f"{peer}.log", "w")))
    t0 = time.perf_counter()
    for i, w in enumerate(windows):
        rows = np.array(w["rows"])
        np.save(tmp / "w.npy", emb[rows])
        (tmp / "w.txt").write_text("\n".join(sections[rows]) + "\n")
        p = subprocess.run([EMBDIAG, "shift", str(tmp / "ref.npy"), str(tmp / "w.npy"), "--labels", str(tmp / "ref.txt"),
                            "--other-labels", str(tmp / "w.txt"), "--permutations", str(args.permutations), "--seed", str(i),
                            "--json", str(tmp / "s.json"), "--json-tables", "all", "--quiet", "--no-checksum"], capture_output=True, text=True)
        if p.returncode not in (0, 1):
            raise SystemExit(p.stderr)
        report = json.loads((tmp / "s.json").read_text())
        m, tables = report["metrics"], report["tables"]
        clusters = tables["clusters"]
        name = clusters["columns"].index("name")
        new_regions = tables.get("new_regions", {"rows": []})
        w["embdiag"] = {"flagged": m["p_value"] < 0.05, "p_value": m["p_value"], "clusters_changed": m["clusters_changed"],
                        "top_cluster": clusters["rows"][0][name], "top_change": clusters["rows"][0][clusters["columns"].index("change")],
                        "new_region": m["p_value_new_region"] < 0.05 and m["new_region_share"] > m["new_region_share_reference"],
                        "top_new_group": new_regions["rows"][0][1] if new_regions["rows"] else None}
    embdiag_seconds = time.perf_counter() - t0
    peers = {}
    for peer, (started_peer, proc) in peer_runs.items():
        if proc.wait() != 0:
            raise SystemExit((tmp / f"{peer}.log").read_text()[-3000:])
        peers[peer] = json.loads((tmp / f"{peer}.json").read_text())
        peers[peer]["seconds_wall_concurrent"] = time.perf_counter() - started_peer
        for w, flag in zip(windows, peers[peer]["flagged"]):
            w[peer] = bool(flag)


def ranked_first(w):
    e = w["embdiag"]
    c = w["condition"]
    if c == "grows":
        return e["top_cluster"].startswith("games") and e["top_change"] == "grew"
    if c == "vanishes":
        return e["top_cluster"].startswith("sound") and e["top_change"] in ("vanished", "shrank")
    if c == "new-topic":
        return e["new_region"] and (e["top_new_group"] or "").startswith("fonts")
    return None


rows = []
for c in conditions:
    ws = [w for w in windows if w["condition"] == c]
    row = {"condition": c, "windows": len(ws), "embdiag_flagged": sum(w["embdiag"]["flagged"] for w in ws) / len(ws),
           "embdiag_clusters_changed": sum(w["embdiag"]["clusters_changed"] > 0 for w in ws) / len(ws)}
    located = [ranked_first(w) for w in ws]
    row["embdiag_located"] = None if located[0] is None else sum(located) / len(ws)
    for peer in peers:
        row[f"{peer}_flagged"] = sum(w[peer] for w in ws) / len(ws)
    rows.append(row)

out = {"windows_per_condition": args.windows, "size": args.size, "reference_rows": len(ref), "permutations": args.permutations,
       "embdiag_seconds": embdiag_seconds, "peers": {k: {kk: vv for kk, vv in v.items() if kk != "flagged"} for k, v in peers.items()},
       "load_average_before": load_before, "load_average_after": os.getloadavg(), "seconds": time.time() - started, "rows": rows,
       "windows": windows}
(OUT / "drift_peers.json").write_text(json.dumps(out, indent=1) + "\n")
print(f"\n{args.windows} windows per condition, {args.size} rows each, reference {len(ref)} rows, B = {args.permutations}, "
      f"{out['seconds']:.0f} s, load {load_before[0]:.1f} -> {out['load_average_after'][0]:.1f}\n")
cols = ["embdiag_flagged", "embdiag_clusters_changed", "embdiag_located"] + [f"{p}_flagged" for p in peers]
print("| condition | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for r in rows:
    print(f"| {r['condition']} | " + " | ".join("—" if r[k] is None else f"{r[k]:.2f}" for k in cols) + " |")
for p, v in peers.items():
    print(p, {k: vv for k, vv in v.items() if k != "flagged"})
