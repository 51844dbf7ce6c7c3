# SPDX-License-Identifier: GPL-3.0-or-later
"""`python -m embdiag …` and the `embdiag` console script: the binary itself, with the same
arguments, exit code, stdout and stderr (the process is replaced, not wrapped)."""

import os
import sys


def main():
    from ._binary import binary_path
    from ._errors import EmbdiagError

    try:
        binary = binary_path()
    except EmbdiagError as error:
        print(f"embdiag: error: {error.message}", file=sys.stderr)
        return 2
    try:
        os.execv(binary, [binary, *sys.argv[1:]])
    except OSError as error:
        print(f"embdiag: error: cannot run {binary}: {error.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
