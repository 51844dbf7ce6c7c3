# SPDX-License-Identifier: GPL-3.0-or-later
"""embdiag from Python: one function per command, each running the embdiag binary that ships in
this wheel and returning a Report.

    >>> import embdiag, numpy as np
    >>> report = embdiag.shift(np.random.rand(200, 64), np.random.rand(200, 64) + 0.1)
    >>> print(report.verdict)                    # the answer, one sentence
    >>> report.metrics["p_value"], report.tables["tests"]
    >>> report.require("p_value>=0.01")          # raises GateFailed when the check fails
    >>> report                                   # in Jupyter: the HTML report, inline

Arrays (numpy float16/32/64, lists of lists, pandas Series of vectors, pyarrow list arrays) are
written to temporary .npy files; paths and URLs go to the binary as they are. Keyword arguments
are the command's flags (``--max-rows`` → ``max_rows=``), generated from the binary's own option
list. The JSON envelope the CLI writes with ``--json`` is the contract: ``Report.envelope``.
"""

from ._binary import EmbdiagWarning, binary_path
from ._commands import anisotropy, audit, bias, compat, depth, fingerprint, info, neighbors, relrep, shift
from ._errors import EmbdiagError, GateFailed
from ._report import Report, Verdict

__version__ = "0.1.0"

__all__ = [
    "shift", "compat", "anisotropy", "depth", "bias", "relrep", "neighbors", "info", "fingerprint", "audit",
    "Report", "Verdict", "EmbdiagError", "GateFailed", "EmbdiagWarning", "binary_path", "run",
]


def run(*arguments):
    """Runs the binary with CLI arguments as they would be typed (``run("convert", "a.txt",
    "a.npy")``) and returns its exit code; output goes to this process's stdout/stderr."""
    import subprocess
    return subprocess.call([binary_path(), *map(str, arguments)])
