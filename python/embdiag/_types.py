# SPDX-License-Identifier: GPL-3.0-or-later
"""Type aliases of the API's arguments (for hints and docs)."""

import os
from typing import Any, Sequence, Union

#: A path or URL (str or os.PathLike): passed to the binary as it is.
PathLike = Union[str, "os.PathLike[str]"]

#: A matrix (rows × dimensions): a numpy array (float16/32/64, C or Fortran order; other numeric
#: dtypes become float64), a list of lists, a pandas Series of vectors (or a DataFrame of numeric
#: columns), a pyarrow Array/ChunkedArray of fixed-size or equal-length lists — or a path/URL of
#: any format the CLI reads.
MatrixLike = Union[PathLike, Any, Sequence[Sequence[float]]]

#: One label (or id) per row: any sequence (list, numpy array, pandas Series, pyarrow Array), or
#: the path of a file with one label per line.
LabelsLike = Union[PathLike, Sequence[Any]]
