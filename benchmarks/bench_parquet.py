#!/usr/bin/env python3
"""Parquet read speed: a N × 768 float32 list<float> column, Snappy, as pyarrow writes it
by default, read by `embdiag info --no-checksum` (read into the Float32 matrix, then the NaN/Inf/zero
and row-norm pass: more work than the peer) vs
`np.stack(pyarrow.parquet.read_table(path).column("embedding").to_numpy())` (what users write).
Prints the ratio (peer time / embdiag time; > 1 means embdiag is faster).
Usage: python3 benchmarks/bench_parquet.py [--rows N] (default 1,000,000; needs pyarrow)
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import DATA, ensure_dirs, record, run_embdiag, time_python

rows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 1_000_000
dim = 768
ensure_dirs()
path = DATA / f"gauss_{rows}x{dim}_snappy.parquet"
if not path.exists():
    rng = np.random.default_rng(0)
    writer = None
    for start in range(0, rows, 100_000):  # written in slices: bounded memory
        x = rng.standard_normal((min(100_000, rows - start), dim), dtype=np.float32)
        emb = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), dim).cast(pa.list_(pa.float32()))
        t = pa.table({"id": pa.array(np.arange(start, start + len(x))), "embedding": emb})
        writer = writer or pq.ParquetWriter(path, t.schema, compression="snappy")
        writer.write_table(t)
    writer.close()


def pyarrow_stack():
    col = pq.read_table(path, columns=["embedding"]).column("embedding")
    return np.stack(col.to_numpy())


run_embdiag(["info", str(path), "--no-checksum", "--quiet"])  # warm the page cache
t_e, peak_e, _ = run_embdiag(["info", str(path), "--no-checksum", "--quiet"], repeat=3)
t_p, x = time_python(pyarrow_stack, repeat=3)
assert x.shape == (rows, dim) and x.dtype == np.float32
record("parquet read (Snappy list<float>)", f"{rows}x{dim} f32", t_e, f"pyarrow {pa.__version__} read_table+stack", t_p, peak_e)
