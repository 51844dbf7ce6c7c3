# SPDX-License-Identifier: GPL-3.0-or-later
"""python/examples/quickstart.ipynb runs headless (nbclient, the venv's ipykernel) and its outputs
hold the inline report: an iframe whose srcdoc is the HTML report, the verdict, a DataFrame."""

import os

import nbformat
from nbclient import NotebookClient

from conftest import DATA, REPOSITORY


def test_quickstart_notebook_shows_the_report_inline(monkeypatch):
    path = os.path.join(REPOSITORY, "python", "examples", "quickstart.ipynb")
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.setenv("EMBDIAG_DATA", DATA)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": REPOSITORY}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if o.output_type in ("execute_result", "display_data") and "text/html" in o.get("data", {})]
    frames = [h for h in html if h.startswith("<iframe") and "srcdoc=" in h]
    assert len(frames) == 1
    assert "differs from" in frames[0] or "distributed like" in frames[0]
    assert any("<table" in h for h in html if not h.startswith("<iframe"))  # the tests DataFrame
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "gate failed" in text and "p_value" in text
