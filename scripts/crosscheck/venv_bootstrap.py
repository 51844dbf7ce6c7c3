"""Runs a cross-check script inside its own virtual environment (the one piece every script here
shares): creates the venv and installs the pinned packages when missing, then re-executes the
calling script with the venv's python. Standard library only, so it works before the switch."""
import os
import subprocess
import sys
from pathlib import Path


REPOSITORY = Path(__file__).resolve().parents[2]


def venv_path(name):
    """Where the venv called `name` lives: under $EMBDIAG_VENVS when set, else under the
    repository's own .venv/ (ignored by git), so nothing depends on one machine's folders."""
    root = os.environ.get("EMBDIAG_VENVS") or str(REPOSITORY / ".venv")
    return Path(root) / name


def reexec_in_venv(name, packages, imports=None):
    """`name`: the venv's name under venv_path. `packages`: pip requirements (pinned where the
    fixture depends on them). `imports`: modules whose failed import means an incomplete install
    (then pip runs again); without it, an existing venv is trusted. Returns only when already
    running inside the venv."""
    venv = venv_path(name)
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
