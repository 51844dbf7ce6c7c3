# SPDX-License-Identifier: GPL-3.0-or-later
"""Finding and running the embdiag binary that ships inside the wheel (embdiag/_bin/embdiag; its
shared libraries are in embdiag.libs/, found through its RPATH), and turning its exit status and
stderr into Python results and exceptions."""

import os
import re
import subprocess
import sys
import warnings

from ._errors import EmbdiagError

_PACKAGED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "embdiag")


class EmbdiagWarning(UserWarning):
    """A warning or note the binary printed on stderr (dropped rows, an id column read as ids)."""


def binary_path():
    """The binary to run: $EMBDIAG_BINARY when set (a development build), else the one in the
    installed wheel."""
    override = os.environ.get("EMBDIAG_BINARY")
    if override:
        return override
    if os.path.exists(_PACKAGED):
        return _PACKAGED
    raise EmbdiagError("the embdiag binary is not in this installation (embdiag/_bin/embdiag); install the "
                       "platform wheel (make wheel) or set EMBDIAG_BINARY to a built embdiag", exit_code=2)


# "\r<label> <30 bar cells> <percent>%": Sources/embdiag/TerminalProgressBar.swift draws this when
# stderr is a terminal; the erase sequence ends a bar.
_BAR = re.compile(r"^(?P<label>.*) [\u2588\u00b7]{30} (?P<percent>\d+)%$")
_ERASE = "\x1b[2K"


def run(arguments, progress=False):
    """Runs the binary with `arguments`; returns (exit code, stderr lines that are not progress).
    With `progress`, stderr is a pseudo-terminal so that the binary draws its progress bar, which
    is shown with tqdm (when installed) or as plain lines."""
    command = [binary_path(), *arguments]
    try:
        if not progress:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            return done.returncode, done.stderr.decode("utf-8", "replace").splitlines()
        return _run_with_progress(command)
    except FileNotFoundError:
        raise EmbdiagError(f"cannot run {command[0]}: no such file", exit_code=2) from None
    except PermissionError:
        raise EmbdiagError(f"cannot run {command[0]}: not executable", exit_code=2) from None


def _run_with_progress(command):
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)  # no "\n" → "\r\n" translation: stderr bytes arrive as written
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                                   close_fds=True)
    finally:
        os.close(slave)
    display = _ProgressDisplay()
    lines, pending = [], ""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            pending += chunk.decode("utf-8", "replace")
            # Split on both \r (bar redraws) and \n (messages); keep the unfinished tail.
            parts = re.split(r"(\r|\n)", pending)
            pending = parts.pop()
            for part in parts:
                if part in ("\r", "\n") or part == "":
                    continue
                if part.startswith(_ERASE):
                    display.finish()
                    part = part[len(_ERASE):]
                    if not part:
                        continue
                match = _BAR.match(part)
                if match:
                    display.update(match["label"], int(match["percent"]))
                else:
                    lines.append(part)
    except BaseException:
        # An interrupt (Jupyter's stop button) ends the run, not only the reading.
        process.kill()
        raise
    finally:
        os.close(master)
        code = process.wait()
        display.finish()
    if pending.strip() and not pending.startswith(_ERASE) and not _BAR.match(pending):
        lines.append(pending)
    return code, lines


class _ProgressDisplay:
    """One tqdm bar (tqdm.auto: a widget in Jupyter) per labelled pass, or plain lines on stderr
    every 10 % when tqdm is not installed."""

    def __init__(self):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self._tqdm = tqdm
        self._bar = None
        self._label = None
        self._shown = -1

    def update(self, label, percent):
        if label != self._label:
            self.finish()
            self._label = label
            if self._tqdm is not None:
                self._bar = self._tqdm(total=100, desc=label, unit="%", leave=False)
        if self._bar is not None:
            self._bar.update(max(0, percent - self._bar.n))
        elif percent // 10 > self._shown // 10:
            self._shown = percent
            print(f"embdiag: {label} {percent}%", file=sys.stderr, flush=True)

    def finish(self):
        if self._bar is not None:
            self._bar.close()
        self._bar, self._label, self._shown = None, None, -1


def raise_for_stderr(code, lines, command):
    """Forwards the binary's warnings and notes as EmbdiagWarning; raises EmbdiagError for an
    exit code other than 0 (success) and 1 (a gate failed, handled by the caller)."""
    for line in lines:
        for prefix in ("embdiag: warning: ", "embdiag: note: "):
            if line.startswith(prefix):
                warnings.warn(line[len(prefix):], EmbdiagWarning, stacklevel=4)
    if code in (0, 1):
        return
    errors = [line[len("embdiag: error: "):] for line in lines if line.startswith("embdiag: error: ")]
    stderr = "\n".join(lines)
    if errors:
        raise EmbdiagError(errors[-1], exit_code=code, command=command, stderr=stderr)
    if code < 0:
        raise EmbdiagError(f"embdiag was killed by signal {-code}: {stderr[-2000:]}", exit_code=code,
                           command=command, stderr=stderr)
    raise EmbdiagError(f"embdiag failed (exit {code}): {stderr[-2000:] or 'no message'}", exit_code=code,
                       command=command, stderr=stderr)


def gate_failures(lines):
    """The messages of the `embdiag: gate failed: …` line (exit 1)."""
    out = []
    for line in lines:
        if line.startswith("embdiag: gate failed: "):
            out.extend(part.strip() for part in line[len("embdiag: gate failed: "):].split(" | "))
    return out
