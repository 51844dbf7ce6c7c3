# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: where the bundled data is, running the installed CLI for the same command, and
comparing two JSON envelopes."""

import json
import os
import re
import subprocess
import tempfile

import pytest

REPOSITORY = os.environ.get("EMBDIAG_REPOSITORY") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(REPOSITORY, "data")


def data(*parts):
    return os.path.join(DATA, *parts)


def cli(*arguments):
    """(exit code, JSON envelope with every table or None, stderr) of `embdiag ARGUMENTS --json`."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "report.json")
        done = subprocess.run(["embdiag", *map(str, arguments), "--json", out, "--json-tables", "all", "--quiet"],
                              capture_output=True, text=True)
        envelope = None
        if os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                envelope = json.load(f)
        return done.returncode, envelope, done.stderr


_TEMPORARY = re.compile(r"/[^\s\"'“”]*?/embdiag-[a-z]+-[^/\s]+/inputs/([^\s\"'“”,;:)]+)")


def normalized(envelope, renames=()):
    """The envelope without its timing, with input paths made comparable: the API's temporary
    files become their file names (`reference.npy`), and `renames` (old → new) are applied to
    every string (the CLI's data paths and file names → the API's names)."""
    def fix(value):
        if isinstance(value, str):
            value = _TEMPORARY.sub(r"\1", value)
            for old, new in renames:
                value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    e = {k: v for k, v in envelope.items() if k != "elapsed_seconds"}
    return fix(e)


def rows_of(table):
    """A Report table (DataFrame or list of dicts) as JSON-like rows (NaN/None → None)."""
    import math
    if isinstance(table, list):
        return [list(r.values()) for r in table]
    out = []
    for row in table.astype(object).values.tolist():
        out.append([None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in row])
    return out


@pytest.fixture(scope="session")
def words_matrix():
    """The bundled word2vec binary parsed in Python: (float32 matrix, words)."""
    import numpy as np
    with open(data("words", "googlenews-bolukbasi-subset.bin"), "rb") as f:
        blob = f.read()
    header_end = blob.index(b"\n")
    n, d = map(int, blob[:header_end].split())
    pos, words, rows = header_end + 1, [], []
    for _ in range(n):
        space = blob.index(b" ", pos)
        words.append(blob[pos:space].decode("utf-8"))
        rows.append(np.frombuffer(blob, dtype="<f4", count=d, offset=space + 1))
        pos = space + 1 + 4 * d
    return np.stack(rows), words
