# SPDX-License-Identifier: GPL-3.0-or-later
"""The two ways a call can fail: the tool could not run (EmbdiagError, the CLI's exit 2) and a
requested check failed (GateFailed, the CLI's exit 1). They are distinct types on purpose: a drift
gate that fails is a result, an unreadable file is a mistake, and code that catches one must not
swallow the other."""


class EmbdiagError(Exception):
    """The command could not run: bad input, bad option value, unreadable file.

    ``message`` is the CLI's one line (without the ``embdiag: error:`` prefix), ``exit_code`` its
    exit code (2 for usage and input errors; anything else means the binary itself failed), and
    ``command`` the argument list that was run (``None`` for errors found before running it).
    """

    def __init__(self, message, exit_code=2, command=None, stderr=""):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.command = command
        self.stderr = stderr

    def __str__(self):
        return f"{self.message} (exit {self.exit_code})"


class GateFailed(AssertionError):
    """A requirement (``require=`` or ``Report.require``) was not met: the CLI's exit 1.

    The analysis ran and its report is complete: ``report`` holds it, ``failures`` the message of
    each requirement that failed. A subclass of AssertionError so that a failed gate inside a
    test function reads as a failed assertion.
    """

    exit_code = 1

    def __init__(self, message, report=None, failures=()):
        super().__init__(message)
        self.message = message
        self.report = report
        self.failures = list(failures)
