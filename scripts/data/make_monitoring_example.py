#!/usr/bin/env python3
"""Writes the monitoring example of `embdiag shift` over windows (README, Guides/Shift.md) from
the bundled sentence embeddings — real rows of data/sentences/debian-minilm-l6.npy, rearranged
into a reference and six daily batches, nothing synthetic:

data/sentences/monitoring/
  reference.npy, reference.txt   300 rows of the games, science and sound sections (seeded) and their texts
  daily/2024-03-0D.npy, .txt     one file per day, 40 rows each, disjoint from the reference:
                                 days 1-4 drawn like the reference; day 5 has 10 rows of a topic the
                                 reference lacks (fonts), day 6 has 20
  batches.parquet                the same 240 daily rows in one table, shuffled: `date` (DATE),
                                 `text` (string), `embedding` (list<float>)
  manifest.json                  what was drawn, the seed, the producing package versions

Run (deterministic; own venv, created on first use):
    python3 scripts/data/make_monitoring_example.py
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("windows", ["numpy==2.1.3", "pyarrow==18.1.0"], imports=["numpy", "pyarrow"])

import datetime  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

SEED = 31
REFERENCE_ROWS = 300
DAY_ROWS = 40
NEW_TOPIC_ROWS = {5: 10, 6: 20}  # day -> rows of the fonts section

data = Path(__file__).resolve().parents[2] / "data" / "sentences"
out = data / "monitoring"
(out / "daily").mkdir(parents=True, exist_ok=True)
for old in (out / "daily").glob("*"):
    old.unlink()

X = np.load(data / "debian-minilm-l6.npy")
texts = (data / "debian-texts.txt").read_text(encoding="utf-8").splitlines()
sections = (data / "debian-sections.txt").read_text(encoding="utf-8").splitlines()
assert X.shape[0] == len(texts) == len(sections)

rng = np.random.default_rng(SEED)
known = rng.permutation([i for i, s in enumerate(sections) if s != "fonts"])
fonts = rng.permutation([i for i, s in enumerate(sections) if s == "fonts"])
reference = np.sort(known[:REFERENCE_ROWS])
pool, new_pool = list(known[REFERENCE_ROWS:]), list(fonts)

np.save(out / "reference.npy", X[reference])
(out / "reference.txt").write_text("".join(texts[i] + "\n" for i in reference), encoding="utf-8")

days, table_rows = {}, []
for day in range(1, 7):
    new = NEW_TOPIC_ROWS.get(day, 0)
    rows = [pool.pop() for _ in range(DAY_ROWS - new)] + [new_pool.pop() for _ in range(new)]
    rows = [int(i) for i in rng.permutation(rows)]
    date = datetime.date(2024, 3, day)
    name = date.isoformat()
    np.save(out / "daily" / f"{name}.npy", X[rows])
    (out / "daily" / f"{name}.txt").write_text("".join(texts[i] + "\n" for i in rows), encoding="utf-8")
    days[name] = {"rows": rows, "fonts_rows": new}
    table_rows += [(date, i) for i in rows]

order = rng.permutation(len(table_rows))
table = pa.table({
    "date": pa.array([table_rows[k][0] for k in order], type=pa.date32()),
    "text": pa.array([texts[table_rows[k][1]] for k in order], type=pa.string()),
    "embedding": pa.array([X[table_rows[k][1]].tolist() for k in order], type=pa.list_(pa.float32())),
})
pq.write_table(table, out / "batches.parquet", compression="zstd")

manifest = {
    "source": "data/sentences/debian-minilm-l6.npy (rows), debian-texts.txt, debian-sections.txt",
    "seed": SEED,
    "reference_rows": [int(i) for i in reference],
    "days": days,
    "versions": {"numpy": np.__version__, "pyarrow": pa.__version__, "python": sys.version.split()[0]},
}
(out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
print(f"wrote {out}: reference {len(reference)} rows, {len(days)} days of {DAY_ROWS} rows")
