#!/usr/bin/env python3
"""`make test-spark`: the Spark driver in local mode on the bundled data, split into >= 8
partitions, against a single-machine run of the same binary on the same rows.

The bundled 1,800 x 384 sentence embeddings (MiniLM layer 3) are written as a Parquet dataset of
three files with the rows shuffled across them; the driver restores the order with --order-by
row, so the single-machine reference is embdiag on the original .npy. Checked: info, anisotropy
(two passes) and neighbors with a fixed query set: same metric keys, numbers within 1e-9 relative
(covariance-spectrum metrics within 1e-6, the single run's Float32 SSYRK noise), identical
neighbour lists; compat (two passes; OLD = layer 3, NEW = the final layer, both columns of the
same dataset, section labels, fixed query files) against `compat --retrieval-only`: every metric
and table identical.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMBDIAG = os.environ.get("EMBDIAG", os.path.join(ROOT, ".build/release/embdiag"))
DATA = os.path.join(ROOT, "data/sentences/debian-minilm-l6-layer3.npy")
DATA_NEW = os.path.join(ROOT, "data/sentences/debian-minilm-l6.npy")
LABELS = os.path.join(ROOT, "data/sentences/debian-packages.txt")
SECTIONS = os.path.join(ROOT, "data/sentences/debian-sections.txt")
DRIVER = os.path.join(ROOT, "contrib/spark/embdiag_spark.py")
PARTITIONS = 9
SPECTRAL = {"isoscore", "isoscore_star", "effective_rank", "participation_ratio", "partition_isotropy"}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)


def compare(name, merged, single):
    m, s = merged["metrics"], single["metrics"]
    check(set(m) == set(s), f"{name}: metric keys differ: {sorted(set(m) ^ set(s))}")
    check(set(merged["parameters"]) == set(single["parameters"]), f"{name}: parameter keys differ")
    for k, v in s.items():
        if k == "sha256":
            continue
        w = m.get(k)
        if name == "compat":
            check(v == w, f"{name}: {k} merged {w!r} single {v!r} (exact)")
        elif isinstance(v, float) and isinstance(w, float):
            tol = 1e-6 if (k in SPECTRAL or k.startswith("explained_variance")) else 1e-9
            rel = abs(v - w) / max(abs(v), abs(w), 1e-300)
            check(rel <= tol, f"{name}: {k} merged {w} single {v} (relative {rel:.2e} > {tol})")
        else:
            check(v == w, f"{name}: {k} merged {w!r} single {v!r}")
    print(f"  {name}: {len(s)} metrics compared", file=sys.stderr)


def run(args, **kw):
    done = subprocess.run(args, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def main():
    if not os.access(EMBDIAG, os.X_OK):
        sys.exit(f"{EMBDIAG} is missing: run `swift build -c release --product embdiag` first")
    x = np.load(DATA)
    x_new = np.load(DATA_NEW)
    with open(LABELS, encoding="utf-8") as f:
        labels = [line.rstrip("\n") for line in f][: len(x)]
    with open(SECTIONS, encoding="utf-8") as f:
        sections = [line.rstrip("\n") for line in f][: len(x)]
    n = len(x)
    with tempfile.TemporaryDirectory(prefix="embdiag-test-spark-") as tmp:
        dataset = os.path.join(tmp, "vectors.parquet")
        os.makedirs(dataset)
        order = np.random.default_rng(3).permutation(n)
        for k, part in enumerate(np.array_split(order, 3)):
            table = pa.table({"row": pa.array(part, pa.int64()),
                              "label": pa.array([labels[i] for i in part]),
                              "section": pa.array([sections[i] for i in part]),
                              "embedding": pa.array(list(x[part]), pa.list_(pa.float32())),
                              "embedding_new": pa.array(list(x_new[part]), pa.list_(pa.float32()))})
            pq.write_table(table, os.path.join(dataset, f"part-{k}.parquet"))
        labels_file = os.path.join(tmp, "labels.txt")
        with open(labels_file, "w", encoding="utf-8") as f:
            f.write("\n".join(labels) + "\n")
        queries = os.path.join(tmp, "queries.npy")
        np.save(queries, x[::45][:40])
        # compat: 60 queries (rows 7, 37, …) in both models, with their sections.
        q_old, q_new, q_labels = (os.path.join(tmp, f) for f in ("q-old.npy", "q-new.npy", "q-sections.txt"))
        np.save(q_old, x[7::30][:60])
        np.save(q_new, x_new[7::30][:60])
        with open(q_labels, "w", encoding="utf-8") as f:
            f.write("\n".join(sections[7::30][:60]) + "\n")
        sections_file = os.path.join(tmp, "sections.txt")
        with open(sections_file, "w", encoding="utf-8") as f:
            f.write("\n".join(sections) + "\n")
        compat_queries = ["--old-queries", q_old, "--new-queries", q_new, "--query-labels", q_labels, "--k", "1,10,100"]
        driver = [sys.executable, DRIVER, "--embdiag", EMBDIAG, "--data", dataset, "--column", "embedding",
                  "--order-by", "row", "--partitions", str(PARTITIONS), "--master", "local[2]"]
        cases = [
            ("info", ["--label-column", "label"], ["info"], ["info", DATA, "--labels", labels_file]),
            ("anisotropy", [], ["anisotropy", "--pairs", "5000"], ["anisotropy", DATA, "--pairs", "5000"]),
            ("neighbors", ["--label-column", "label"], ["neighbors", "--queries", queries, "--k", "5"],
             ["neighbors", DATA, "--labels", labels_file, "--queries", queries, "--k", "5"]),
            ("compat", ["--new-column", "embedding_new", "--label-column", "section"], ["compat"] + compat_queries,
             ["compat", "--old", DATA, "--new", DATA_NEW, "--labels", sections_file, "--retrieval-only"] + compat_queries),
        ]
        for name, driver_options, command, single_command in cases:
            t0 = time.time()
            merged_json, single_json = os.path.join(tmp, name + "-spark.json"), os.path.join(tmp, name + "-single.json")
            run(driver + driver_options + ["--json", merged_json, "--json-tables", "all", "--"] + command)
            t1 = time.time()
            run([EMBDIAG] + single_command + ["--json", single_json, "--json-tables", "all", "-q"])
            merged, single = json.load(open(merged_json)), json.load(open(single_json))
            compare(name, merged, single)
            check(len(merged["inputs"]) >= 8, f"{name}: {len(merged['inputs'])} shard inputs, expected >= 8")
            if name == "compat":
                check(merged["tables"] == single["tables"], "compat: tables differ")
            if name == "neighbors":
                check(merged["tables"].get("neighbors") == single["tables"].get("neighbors"), "neighbors: neighbour lists differ")
                check(merged["tables"].get("hubs") == single["tables"].get("hubs"), "neighbors: hubs tables differ")
            print(f"  {name}: spark {t1 - t0:.1f} s, single {time.time() - t1:.1f} s", file=sys.stderr)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("test-spark: merged reports equal the single-machine reports", file=sys.stderr)


if __name__ == "__main__":
    main()
