# SPDX-License-Identifier: GPL-3.0-or-later
"""Every kind of input gives the numbers the CLI gives on the same values in a .npy file: numpy
float16/float32/float64 in C and Fortran order, lists of lists, pandas Series of vectors and
DataFrames, pyarrow fixed-size and variable lists (chunked too). Arrays cross as binary .npy, so
the values are bit-identical (the report's sha256 of the temporary file equals numpy's own file)."""

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import embdiag
from conftest import cli, data

GAMES = data("sentences", "by-section", "games.npy")
OPTIONS = ["--pairs", "5000", "--top", "5"]


def api(matrix):
    return embdiag.anisotropy(matrix, pairs=5000, top=5)


def cli_on(tmp_path, array, name="m.npy"):
    path = tmp_path / name
    np.save(path, array)
    code, envelope, stderr = cli("anisotropy", path, *OPTIONS)
    assert code == 0, stderr
    return envelope, path


@pytest.fixture(scope="module")
def games():
    return np.load(GAMES)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", ">f4", ">f8"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_numpy_dtypes_and_orders(tmp_path, games, dtype, order):
    array = np.asarray(games, dtype=dtype, order=order)
    expected, path = cli_on(tmp_path, array)
    report = api(array)
    assert report.metrics == expected["metrics"]
    assert report.envelope["tables"] == expected["tables"]
    assert report.inputs[0]["dtype"] == expected["inputs"][0]["dtype"]
    # The temporary file is the file numpy writes: same bytes.
    assert report.inputs[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_fortran_equals_c(games):
    assert api(np.asfortranarray(games)).metrics == api(np.ascontiguousarray(games)).metrics


def test_non_contiguous_view(tmp_path, games):
    view = games[::2, ::3]
    expected, _ = cli_on(tmp_path, np.ascontiguousarray(view))
    assert api(view).metrics == expected["metrics"]


def test_lists_of_lists_are_float64(tmp_path, games):
    rows = games[:200].astype(np.float64).tolist()
    expected, _ = cli_on(tmp_path, np.array(rows, dtype=np.float64))
    report = api(rows)
    assert report.inputs[0]["dtype"] == "float64"
    assert report.metrics == expected["metrics"]


def test_integer_matrix_becomes_float64(tmp_path):
    rng = np.random.default_rng(1)
    ints = rng.integers(-5, 6, size=(300, 16)).astype(np.int32)
    expected, _ = cli_on(tmp_path, ints.astype(np.float64))
    assert api(ints).metrics == expected["metrics"]


def test_pandas_series_of_vectors_keeps_float32(tmp_path, games):
    expected, _ = cli_on(tmp_path, games)
    series = pd.Series(list(games), name="embedding")
    report = api(series)
    assert report.inputs[0]["dtype"] == "float32"
    assert report.metrics == expected["metrics"]
    frame = pd.DataFrame(games)
    assert api(frame).metrics == expected["metrics"]


def test_pyarrow_lists(tmp_path, games):
    expected, _ = cli_on(tmp_path, games)
    flat = pa.array(games.reshape(-1), type=pa.float32())
    fixed = pa.FixedSizeListArray.from_arrays(flat, games.shape[1])
    variable = pa.array(list(games), type=pa.list_(pa.float32()))
    chunked = pa.chunked_array([fixed.slice(0, 100), fixed.slice(100)])
    for value in (fixed, variable, chunked):
        assert api(value).metrics == expected["metrics"], type(value)


def test_labels_from_any_sequence(games):
    with open(data("sentences", "by-section", "games.txt"), encoding="utf-8") as f:
        labels = f.read().split("\n")[:-1]
    expected = embdiag.neighbors(GAMES, k=3, labels=data("sentences", "by-section", "games.txt"))
    for value in (labels, tuple(labels), np.array(labels, dtype=object), pd.Series(labels), pa.array(labels)):
        report = embdiag.neighbors(games, k=3, labels=value)
        assert report.envelope["tables"] == expected.envelope["tables"]


def test_memory_mapped_npy_is_passed_as_its_file(tmp_path, games):
    path = tmp_path / "g.npy"
    np.save(path, games)
    mapped = np.load(path, mmap_mode="r")
    report = api(mapped)
    assert report.inputs[0]["path"] == str(path)  # no copy of a large matrix
    assert report.metrics == api(games).metrics
    # Views, and copy-on-write maps whose changes never reach the file, are written out instead.
    changed = np.load(path, mmap_mode="c")
    changed[0] = 1.0
    for value, expected in ((mapped[:100], games[:100]), (mapped[:, :50], games[:, :50]), (changed, np.asarray(changed))):
        report = api(value)
        assert report.inputs[0]["path"] != str(path)
        assert report.metrics == api(np.ascontiguousarray(expected)).metrics
