# SPDX-License-Identifier: GPL-3.0-or-later
"""Turns Python values into what the binary reads: matrices into .npy files (binary, no text
round trip; float16/32/64 and C or Fortran order are written as they are, the binary reads all of
them), label sequences into one-per-line text files. Paths and URLs pass through untouched."""

import os

import numpy as np

from ._errors import EmbdiagError

# dtypes the binary reads from .npy (NpyReader): written without conversion, so the report's
# `inputs[].dtype` is the caller's dtype and the binary does the same narrowing to float32 as for
# a file.
_NATIVE_FLOATS = ("f2", "f4", "f8")


def is_path(value):
    """A str or os.PathLike is a path or URL (postgresql://…, a Parquet glob); never data."""
    return isinstance(value, (str, os.PathLike))


def as_matrix(value, name):
    """A 2-D numpy array for `value` (numpy array, list of lists, pandas Series of vectors,
    pyarrow Array/ChunkedArray of lists). Raises EmbdiagError naming `name` otherwise.

    - Complexity: O(n·d) only when the input is not already a 2-D float array (lists, Series,
      Arrow lists are stacked once); numpy arrays are used as they are.
    """
    array = _to_numpy(value, name)
    if array.ndim != 2:
        raise EmbdiagError(f"{name}: expected a 2-D matrix (rows × dimensions), got shape {array.shape}")
    if array.dtype.kind == "f" and array.dtype.str[1:] in _NATIVE_FLOATS:
        return array
    if array.dtype.kind in "iub" or array.dtype.kind == "f":
        # Integers, booleans, long double: float64 holds every value the binary can narrow.
        return array.astype(np.float64)
    raise EmbdiagError(f"{name}: dtype {array.dtype} is not numeric")


def _to_numpy(value, name):
    if isinstance(value, np.ndarray):
        return value
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        return _from_pandas(value, name)
    if module == "pyarrow":
        return _from_arrow(value, name)
    if hasattr(value, "__array__") and not isinstance(value, (list, tuple)):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        return _from_rows(value, name)
    raise EmbdiagError(f"{name}: cannot read a {type(value).__name__}; give a numpy array, a list of lists, "
                       "a pandas Series of vectors, a pyarrow array of lists, or a path")


def _from_rows(rows, name):
    """Lists of lists (or of 1-D arrays): every row must have the same length (no padding)."""
    if len(rows) == 0:
        raise EmbdiagError(f"{name}: no rows")
    first = None
    for i, row in enumerate(rows):
        try:
            n = len(row)
        except TypeError:
            raise EmbdiagError(f"{name}: row {i} is a {type(row).__name__}, not a vector") from None
        if first is None:
            first = n
        elif n != first:
            raise EmbdiagError(f"{name}: rows have different lengths (row 0 has {first} values, row {i} has {n})")
    # Rows that are numpy vectors of one float dtype keep it (a Series of float32 embeddings stays
    # float32); Python numbers become float64, which the binary narrows as it does for a file.
    dtypes = {row.dtype for row in rows} if all(isinstance(row, np.ndarray) for row in rows) else set()
    if len(dtypes) == 1 and next(iter(dtypes)).kind == "f":
        return np.stack(rows)
    try:
        return np.array(rows, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise EmbdiagError(f"{name}: not numeric ({error})") from None


def _from_pandas(value, name):
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        # A frame of numeric columns is a matrix (one column per dimension).
        return value.to_numpy()
    if isinstance(value, pd.Series):
        if value.dtype.kind in "fiub":
            raise EmbdiagError(f"{name}: a Series of numbers is one vector; give a Series whose values are vectors")
        values = value.to_numpy()
        if len(values) and any(v is None or (isinstance(v, float) and v != v) for v in values):
            missing = next(i for i, v in enumerate(values) if v is None or (isinstance(v, float) and v != v))
            raise EmbdiagError(f"{name}: row {missing} is missing (None/NaN instead of a vector)")
        return _from_rows(list(values), name)
    return np.asarray(value)


def _from_arrow(value, name):
    import pyarrow as pa

    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, (pa.Table, pa.RecordBatch)):
        raise EmbdiagError(f"{name}: give the vector column (table.column(name)), not the whole table")
    if not isinstance(value, pa.Array):
        return np.asarray(value)
    if value.null_count:
        first = value.is_null().to_pylist().index(True)
        raise EmbdiagError(f"{name}: row {first} is null")
    if pa.types.is_fixed_size_list(value.type):
        n, d = len(value), value.type.list_size
        flat = value.flatten()
    elif pa.types.is_list(value.type) or pa.types.is_large_list(value.type):
        lengths = value.value_lengths().to_numpy(zero_copy_only=False)
        if len(lengths) == 0:
            raise EmbdiagError(f"{name}: no rows")
        if (lengths != lengths[0]).any():
            bad = int(np.argmax(lengths != lengths[0]))
            raise EmbdiagError(f"{name}: rows have different lengths (row 0 has {lengths[0]} values, row {bad} has {lengths[bad]})")
        n, d = len(value), int(lengths[0])
        flat = value.flatten()
    else:
        raise EmbdiagError(f"{name}: an Arrow {value.type} column is not a column of vectors")
    if flat.null_count:
        raise EmbdiagError(f"{name}: a vector has null components")
    if not (pa.types.is_floating(flat.type) or pa.types.is_integer(flat.type)):
        raise EmbdiagError(f"{name}: vector components are {flat.type}, not numbers")
    return flat.to_numpy(zero_copy_only=False).reshape(n, d)


def backing_npy(array):
    """The .npy file a memory-mapped array is exactly (np.load(path, mmap_mode="r") or "r+"), or
    None. Such an array is passed as its path: no copy of a large matrix. A slice, a copy-on-write
    map (mode "c", whose changes never reach the file) or a map of part of a file is not the file's
    array, and is written out like any other."""
    if not isinstance(array, np.memmap) or getattr(array, "filename", None) is None or array.mode not in ("r", "r+"):
        return None
    try:
        with open(array.filename, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                return None
            offset = f.tell()
    except (OSError, ValueError):
        return None
    layout_matches = array.flags.f_contiguous if fortran else array.flags.c_contiguous
    if array.offset == offset and array.shape == shape and array.dtype == dtype and layout_matches:
        return os.fspath(array.filename)
    return None


def write_npy(array, path):
    """Writes `array` as .npy v1/v2 exactly as numpy does (np.save keeps dtype, byte order and
    Fortran order; no conversion, no text).

    - Complexity: O(n·d) bytes written once.
    """
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, allow_pickle=False)


def as_lines(value, name):
    """A sequence of labels as text lines. One label per row; a label may not contain a line
    break (the file format is one per line), which would silently shift every later row."""
    if isinstance(value, (bytes, bytearray)):
        raise EmbdiagError(f"{name}: give a sequence of labels or a path, not bytes")
    module = type(value).__module__.split(".")[0]
    if module == "pyarrow":
        value = value.to_pylist()
    elif module in ("pandas", "numpy"):
        value = list(value.tolist()) if hasattr(value, "tolist") else list(value)
    lines = []
    for i, label in enumerate(value):
        if label is None or (isinstance(label, float) and label != label):
            raise EmbdiagError(f"{name}: label {i} is missing ({label})")
        if isinstance(label, (bytes, bytearray)):
            # str(b"x") would be the text "b'x'": bytes are UTF-8 text or an error.
            try:
                label = bytes(label).decode("utf-8")
            except UnicodeDecodeError:
                raise EmbdiagError(f"{name}: label {i} is bytes that are not UTF-8") from None
        text = str(label)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise EmbdiagError(f"{name}: label {i} cannot be written as UTF-8 (a lone surrogate)") from None
        if i == 0 and text.startswith("\ufeff"):
            raise EmbdiagError(f"{name}: label 0 starts with a byte-order mark, which the labels reader drops")
        if "\n" in text or "\r" in text:
            raise EmbdiagError(f"{name}: label {i} contains a line break (labels are written one per line)")
        lines.append(text)
    return lines


def write_lines(lines, path):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
