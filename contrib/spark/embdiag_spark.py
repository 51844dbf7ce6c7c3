#!/usr/bin/env python3
"""Run an embdiag analysis on a Parquet dataset with Apache Spark (PySpark >= 3.5).

The driver does no math. It
  1. reads the Parquet dataset and fixes a global row order: with --order-by COLUMN the rows are
     range-partitioned and sorted by that column (so row r of the concatenation is the r-th
     smallest key: the same order as a single-machine file sorted by it); without it, Spark's own
     partition order (what `df.collect()` returns) is the order;
  2. counts the rows of every partition (one Spark job) -> row offsets by prefix sums;
  3. ships the embdiag binary (and the query files of `neighbors --queries` and `compat
     --old-queries/--new-queries/--query-labels`) to the executors (SparkContext.addFile) and, per
     partition (mapInArrow), writes the vectors to a local .npy, runs `embdiag <command> shard.npy
     --partial state --row-offset N --shard-id part-K ...` (compat: `--old OLD.npy --new NEW.npy`
     from --column and --new-column) and returns the state file's bytes;
  4. collects the states on the driver and runs `embdiag merge` (anisotropy and compat: merge
     --state-out, a second Spark job with --partial-pass 2 --directions merged.state, then the
     final merge).

The merged report is the one a single run over the concatenated rows writes (Guides/Scale.md).

  python contrib/spark/embdiag_spark.py --embdiag .build/release/embdiag --data vectors.parquet \
      --column embedding --order-by row --partitions 64 --output report/ -- anisotropy --pairs 20000
  python contrib/spark/embdiag_spark.py --embdiag .build/release/embdiag --data items.parquet \
      --column old_vec --new-column new_vec --label-column class --order-by id --partitions 64 \
      --json compat.json -- compat --old-queries q-old.npy --new-queries q-new.npy --query-labels q.txt

On a cluster the binary must run on the executors: build it with `swift build -c release
--static-swift-stdlib` and install libopenblas0, liblapacke, libgsl27, libssl3 (and the Parquet
codec libraries) on the executor image; see Guides/Scale.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

STATE_COLUMNS = "partition int, row_offset long, rows long, state binary, stderr string"


def parse_arguments(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--embdiag", required=True, help="the embdiag binary to ship to the executors")
    p.add_argument("--data", required=True, help="Parquet file or folder (any path spark.read.parquet takes)")
    p.add_argument("--column", default="embedding", help="the vector column (list<float|double>)")
    p.add_argument("--label-column", help="a string column used as row labels (info, neighbors; compat: relevance classes)")
    p.add_argument("--new-column", help="compat: the NEW model's vector column (--column holds the OLD model's)")
    p.add_argument("--order-by", help="a column that defines the global row order (range-partitioned and sorted)")
    p.add_argument("--partitions", type=int, help="number of partitions (with --order-by: range partitions; else repartition is not used)")
    p.add_argument("--master", default=os.environ.get("SPARK_MASTER"), help="Spark master (default: spark-submit's / local[*])")
    p.add_argument("--workdir", help="folder for the collected states (default: a temporary folder, removed)")
    p.add_argument("--output", help="embdiag merge --output DIR")
    p.add_argument("--json", help="embdiag merge --json PATH")
    p.add_argument("--json-tables", help="embdiag merge --json-tables none|summary|all")
    p.add_argument("--require", action="append", default=[], help="embdiag merge --require (exit 1 if not met)")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="-- COMMAND [OPTIONS]: info, anisotropy, neighbors (--queries FILE --k K) or compat (--old-queries F --new-queries F)")
    a = p.parse_args(argv)
    if a.command and a.command[0] == "--":
        a.command = a.command[1:]
    if not a.command or a.command[0] not in ("info", "anisotropy", "neighbors", "compat"):
        p.error("give the embdiag command after --: info, anisotropy, neighbors or compat")
    if (a.command[0] == "compat") != (a.new_column is not None):
        p.error("compat needs --new-column (the NEW model's vectors; --column is the OLD model's), and --new-column is for compat only")
    return a


def shard_runner(binary_name, column, label_column, command, extra_files, offsets, new_column=None):
    """The mapInArrow function: one partition -> one state (runs on the executors)."""

    def run(batches):
        import numpy as np
        import pyarrow as pa
        from pyspark import SparkFiles, TaskContext

        part = TaskContext.get().partitionId()
        tables = [pa.Table.from_batches([b]) for b in batches]
        rows = sum(t.num_rows for t in tables)
        if rows == 0:
            return  # an empty partition covers no rows: nothing to merge
        table = pa.concat_tables(tables)

        def matrix(name):
            vectors = table.column(name).combine_chunks()
            dim = len(vectors[0].as_py())
            flat = vectors.flatten().to_numpy(zero_copy_only=False)
            if flat.size != rows * dim:
                raise ValueError(f"partition {part}: rows of different lengths in column {name}")
            return np.ascontiguousarray(flat.reshape(rows, dim), dtype=np.float32 if flat.dtype != np.float64 else np.float64)

        binary = SparkFiles.get(binary_name)
        if not os.access(binary, os.X_OK):
            os.chmod(binary, 0o755)
        with tempfile.TemporaryDirectory(prefix="embdiag-shard-") as tmp:
            shard = os.path.join(tmp, f"part-{part:05d}.npy")
            np.save(shard, matrix(column))
            options = [SparkFiles.get(x) if x in extra_files else x for x in command[1:]]
            if new_column:
                # compat: OLD and NEW rows of the same items, paired by row.
                new_shard = os.path.join(tmp, f"part-{part:05d}-new.npy")
                np.save(new_shard, matrix(new_column))
                args = [binary] + command[:1] + ["--old", shard, "--new", new_shard] + options
            else:
                args = [binary] + command[:1] + [shard] + options
            if label_column:
                labels = os.path.join(tmp, "labels.txt")
                with open(labels, "w", encoding="utf-8") as f:
                    for v in table.column(label_column).to_pylist():
                        f.write(str(v).replace("\n", " ") + "\n")
                args += ["--labels", labels]
            state = os.path.join(tmp, "state")
            args += ["--partial", state, "--row-offset", str(offsets[part]), "--shard-id", f"part-{part:05d}", "-q"]
            done = subprocess.run(args, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"partition {part}: {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
            with open(state, "rb") as f:
                data = f.read()
        yield pa.RecordBatch.from_pydict({"partition": [part], "row_offset": [offsets[part]], "rows": [rows],
                                          "state": [data], "stderr": [done.stderr]},
                                         schema=pa.schema([("partition", pa.int32()), ("row_offset", pa.int64()), ("rows", pa.int64()),
                                                           ("state", pa.binary()), ("stderr", pa.string())]))

    return run


def prepared_frame(spark, a):
    df = spark.read.parquet(a.data)
    columns = [a.column] + ([a.new_column] if a.new_column else []) + ([a.label_column] if a.label_column else [])
    if a.order_by:
        n = a.partitions or df.rdd.getNumPartitions()
        df = df.repartitionByRange(n, a.order_by).sortWithinPartitions(a.order_by)
    elif a.partitions:
        sys.exit("embdiag_spark: --partitions without --order-by would shuffle rows into an undefined order; give --order-by COLUMN")
    return df.select(*columns)


def partition_offsets(df):
    """Rows per partition (one job), then offsets by prefix sums in partition order."""
    counts = dict(df.rdd.mapPartitionsWithIndex(lambda i, it: [(i, sum(1 for _ in it))]).collect())
    offsets, total = {}, 0
    for i in range(df.rdd.getNumPartitions()):
        offsets[i] = total
        total += counts.get(i, 0)
    return offsets, total


def run_states(df, a, command, extra_files, offsets, workdir, prefix):
    runner = shard_runner(os.path.basename(a.embdiag), a.column, a.label_column, command, extra_files, offsets, a.new_column)
    rows = df.mapInArrow(runner, STATE_COLUMNS).collect()
    paths = []
    for r in sorted(rows, key=lambda r: r["row_offset"]):
        path = os.path.join(workdir, f"{prefix}-{r['partition']:05d}.state")
        with open(path, "wb") as f:
            f.write(r["state"])
        paths.append(path)
    return paths


def merge(a, states, extra):
    args = [a.embdiag, "merge"] + states + extra
    done = subprocess.run(args)
    return done.returncode


def main(argv=None):
    a = parse_arguments(sys.argv[1:] if argv is None else argv)
    from pyspark.sql import SparkSession

    if (a.master or "").startswith("local"):
        # Local mode: the Python workers use this interpreter (its venv has pyarrow and numpy).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("embdiag " + a.command[0])
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    sc.addFile(os.path.abspath(a.embdiag))
    # Files named in the command (e.g. neighbors --queries q.npy, compat --old-queries q.npy) are
    # shipped too and replaced by their local copy on the executors.
    extra_files = {}
    for i, x in enumerate(a.command[1:]):
        if a.command[i] in ("--queries", "--query-labels", "--old-queries", "--new-queries") and os.path.isfile(x):
            sc.addFile(os.path.abspath(x))
            extra_files[x] = True
    shipped = [os.path.basename(x) if x in extra_files else x for x in a.command]
    extra_names = {os.path.basename(x) for x in extra_files}
    workdir = a.workdir or tempfile.mkdtemp(prefix="embdiag-spark-")
    os.makedirs(workdir, exist_ok=True)
    try:
        df = prepared_frame(spark, a)
        offsets, total = partition_offsets(df)
        output = (["--output", a.output] if a.output else []) + (["--json", a.json] if a.json else [])
        output += ["--json-tables", a.json_tables] if a.json_tables else []
        output += sum((["--require", r] for r in a.require), [])
        # The final merge checks that the states cover all the rows Spark counted (a lost last
        # partition tiles as well as a complete set).
        output += ["--rows", str(total)]
        print(f"embdiag_spark: {total} rows in {len(offsets)} partitions", file=sys.stderr)
        if a.command[0] in ("anisotropy", "compat"):
            first = run_states(df, a, shipped, extra_names, offsets, workdir, "pass1")
            merged = os.path.join(workdir, "merged-pass1.state")
            if merge(a, first, ["--state-out", merged, "-q"]) != 0:
                return 2
            sc.addFile(merged)
            second = run_states(df, a, shipped + ["--partial-pass", "2", "--directions", os.path.basename(merged)],
                                extra_names | {os.path.basename(merged)}, offsets, workdir, "pass2")
            return merge(a, [merged] + second, output)
        states = run_states(df, a, shipped, extra_names, offsets, workdir, "state")
        return merge(a, states, output)
    finally:
        spark.stop()
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
