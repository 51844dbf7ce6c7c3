# SPDX-License-Identifier: GPL-3.0-or-later
"""Report: HTML (self-contained, isolated in an iframe for notebooks), save() writes the folder the
CLI writes with --output, tables as pandas DataFrames, progress bars parsed from the binary."""

import html
import json
import os
import re
import stat

import numpy as np

import embdiag
from embdiag import _binary
from conftest import data

GAMES, FONTS = data("sentences", "by-section", "games.npy"), data("sentences", "by-section", "fonts.npy")


def test_html_is_self_contained_and_isolated():
    report = embdiag.depth(GAMES, FONTS, top=3)
    page = report.to_html()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert not re.search(r"""(src|href)=["']https?://""", page)  # nothing fetched from the network
    frame = report._repr_html_()
    assert frame.startswith("<iframe") and 'srcdoc="' in frame
    # The page is escaped into the attribute: no raw tag of the page leaks into the notebook.
    srcdoc = frame.split('srcdoc="', 1)[1].rsplit('"></iframe>', 1)[0]
    assert "<" not in srcdoc and html.unescape(srcdoc) == page
    assert "<style" not in frame


def test_save_writes_the_cli_folder(tmp_path):
    report = embdiag.depth(GAMES, FONTS, top=3)
    target = report.save(tmp_path / "out")
    names = sorted(os.listdir(target))
    assert {"report.json", "report.html", "report.txt"} <= set(names)
    assert any(n.endswith(".csv") for n in names)
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report.envelope
    assert not [n for n in names if n.startswith(".")]  # no temporary left behind
    (tmp_path / "file").write_text("x")
    try:
        report.save(tmp_path / "file")
        raise AssertionError("saving into a file must fail")
    except embdiag.EmbdiagError:
        pass


def test_report_outlives_nothing_it_needs():
    report = embdiag.depth(np.load(GAMES), np.load(FONTS), top=3)
    folder = report._folder
    assert os.path.isdir(folder)
    # The inputs (possibly large arrays) are gone as soon as the run ends; the report stays.
    assert not os.path.exists(os.path.join(os.path.dirname(folder), "inputs"))
    del report
    import gc
    gc.collect()
    assert not os.path.exists(folder)


def test_tables_are_dataframes_and_text_is_the_cli_text():
    import pandas as pd
    report = embdiag.depth(GAMES, FONTS, top=3)
    assert all(isinstance(t, pd.DataFrame) for t in report.tables.values())
    assert str(report) == report.to_text() and "p_value" in str(report)
    assert report.verdict is not None and str(report.verdict) == report.envelope["verdict"]["answer"]
    assert report.parameters["seed"] == 42 and report.inputs[0]["rows"] == 500


FAKE = r"""#!/bin/sh
printf 'embdiag: note: a note\n' >&2
i=0
for p in 0 10 40 70 100; do
  printf '\rdepth %s %s%%' "$(python3 -c "import sys; n=int(sys.argv[1])*30//100; print('\u2588'*n + '\u00b7'*(30-n))" $p)" $p >&2
done
printf '\r\033[2K' >&2
printf 'embdiag: error: bad thing\n' >&2
exit 2
"""


def test_progress_is_parsed_from_the_terminal_bar(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "embdiag"
    fake.write_text(FAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EMBDIAG_BINARY", str(fake))
    seen = []

    class Recorder(_binary._ProgressDisplay):
        def update(self, label, percent):
            seen.append((label, percent))
            super().update(label, percent)

    monkeypatch.setattr(_binary, "_ProgressDisplay", Recorder)
    code, lines = _binary.run(["depth"], progress=True)
    assert code == 2
    assert seen == [("depth", p) for p in (0, 10, 40, 70, 100)]
    assert lines == ["embdiag: note: a note", "embdiag: error: bad thing"]


def test_real_progress_bar_reaches_python(tmp_path, monkeypatch):
    # The binary checksums inputs of 256 MB and more with a progress bar: a 110,000 × 768 file.
    path = tmp_path / "big.npy"
    np.save(path, np.ones((110_000, 768), np.float32))
    seen = []

    class Recorder(_binary._ProgressDisplay):
        def update(self, label, percent):
            seen.append((label, percent))
            super().update(label, percent)

    monkeypatch.setattr(_binary, "_ProgressDisplay", Recorder)
    report = embdiag.info(path, progress=True)
    assert report.metrics["rows"] == 110_000
    assert seen and all(label == "sha256 big.npy" for label, _ in seen)
    assert [p for _, p in seen] == sorted(p for _, p in seen)
