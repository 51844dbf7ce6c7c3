"""Runs a cross-check script inside its own virtual environment (the one piece every script here
shares): creates the venv and installs the pinned packages when missing, then re-executes the
calling script with the venv's python. Standard library only, so it works before the switch."""
import os
import subprocess
import sys
from pathlib import Path


def reexec_in_venv(venv, packages, imports=None):
    """`packages`: pip requirements (pinned where the fixture depends on them). `imports`: modules
    whose failed import means an incomplete install (then pip runs again); without it, an existing
    venv is trusted. Returns only when already running inside `venv`."""
    venv = Path(venv)
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    py = venv / "bin" / "python"
    fresh = not (venv / "bin" / "pip").exists()
    if fresh:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    incomplete = bool(imports) and subprocess.run([str(py), "-c", "import " + ", ".join(imports)],
                                                  capture_output=True).returncode != 0
    if fresh or incomplete:
        subprocess.run([str(py), "-m", "pip", "install", "-q", *packages], check=True)
    script = str(Path(sys.argv[0]).resolve())
    os.execv(str(py), [str(py), script, *sys.argv[1:]])
