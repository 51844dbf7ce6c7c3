#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python API's overhead over calling the binary on files.

Runs with a Python that has the wheel installed (`make test-python` leaves one in
.venv/python-test):

    .venv/python-test/bin/python benchmarks/bench_python_api.py            # fixed cost + 100k × 768
    .venv/python-test/bin/python benchmarks/bench_python_api.py --quick    # fixed cost + 20k × 768

Both sides write the same report folder (`--output`), the binary's stdout goes nowhere:
- fixed cost: `info` on a 200 × 64 float32 matrix, median of 15 runs: the API from an in-memory
  array (writes the .npy, runs, parses the JSON, builds DataFrames) minus the binary on the file.
- scale: `anisotropy` on N × 768 float32 (standard normal, seeded), once each: the binary on the
  .npy file, the API from the in-memory array (writing it is part of the cost), the API on the path,
  the API on a memory-mapped np.load (passed as its file, no copy).
Targets: overhead < 0.2 s fixed, < 5 % at 100k × 768.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import embdiag


def binary_run(arguments, folder):
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([embdiag.binary_path(), *arguments, "--output", folder], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 100_000)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "(OpenBLAS default)")
    results = {"rows": rows, "dim": 768, "openblas_threads": threads, "embdiag": embdiag.__version__}
    work = tempfile.mkdtemp(prefix="bench-python-api-")
    try:
        # -- fixed cost ----------------------------------------------------------------------
        small = np.random.default_rng(0).standard_normal((200, 64)).astype(np.float32)
        small_path = os.path.join(work, "small.npy")
        np.save(small_path, small)
        out = os.path.join(work, "out")
        binary_times, api_times = [], []
        for _ in range(args.repeat):
            binary_times.append(binary_run(["info", small_path], out))
            api_times.append(timed(lambda: embdiag.info(small, progress=False))[0])
        b, a = statistics.median(binary_times), statistics.median(api_times)
        results.update(fixed_binary_s=b, fixed_api_s=a, fixed_overhead_s=a - b)
        print(f"fixed cost (info 200×64, median of {args.repeat}): binary {b:.3f} s, API {a:.3f} s, overhead {a - b:+.3f} s")

        # -- scale ---------------------------------------------------------------------------
        big = np.random.default_rng(1).standard_normal((rows, 768), dtype=np.float32)
        big_path = os.path.join(work, "big.npy")
        np.save(big_path, big)
        tb = binary_run(["anisotropy", big_path], out)
        ta, report = timed(lambda: embdiag.anisotropy(big, progress=False))
        tp, _ = timed(lambda: embdiag.anisotropy(big_path, progress=False))
        tm, _ = timed(lambda: embdiag.anisotropy(np.load(big_path, mmap_mode="r"), progress=False))
        results.update(scale_binary_s=tb, scale_api_array_s=ta, scale_api_path_s=tp, scale_api_mmap_s=tm,
                       scale_overhead_array=(ta - tb) / tb, scale_overhead_path=(tp - tb) / tb,
                       scale_overhead_mmap=(tm - tb) / tb, mean_cosine=report.metrics.get("mean_cosine"))
        print(f"anisotropy {rows}×768 float32 (once each): binary on file {tb:.2f} s; "
              f"API from array {ta:.2f} s ({100 * (ta - tb) / tb:+.1f} %); API on path {tp:.2f} s ({100 * (tp - tb) / tb:+.1f} %); "
              f"API on np.load(mmap_mode='r') {tm:.2f} s ({100 * (tm - tb) / tb:+.1f} %)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
