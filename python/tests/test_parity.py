# SPDX-License-Identifier: GPL-3.0-or-later
"""Every command on the bundled data: the API's report equals the CLI's JSON exactly — metrics,
tables (every row, per-row tables included), notes, verdict, parameters, inputs — both when the API
is given the same files and when it is given the data as numpy arrays and label lists (then only
the input paths differ: temporary files named after the arguments)."""

import os

import numpy as np
import pytest

import embdiag
from conftest import cli, data, normalized, rows_of

GAMES, FONTS = data("sentences", "by-section", "games.npy"), data("sentences", "by-section", "fonts.npy")
GAMES_TXT, FONTS_TXT = data("sentences", "by-section", "games.txt"), data("sentences", "by-section", "fonts.txt")
MINILM, LAYER3 = data("sentences", "debian-minilm-l6.npy"), data("sentences", "debian-minilm-l6-layer3.npy")
SECTIONS = data("sentences", "debian-sections.txt")
WORDS = data("words", "googlenews-bolukbasi-subset.bin")


def lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


# name → (CLI arguments, API call on the files, API call on arrays/lists, renames CLI → API names)
def cases(words_matrix):
    words, vocabulary = words_matrix
    return {
        "info": (
            ["info", GAMES, "--labels", GAMES_TXT],
            lambda: embdiag.info(GAMES, labels=GAMES_TXT),
            lambda: embdiag.info(np.load(GAMES), labels=lines(GAMES_TXT)),
            [(GAMES, "file.npy"), ("games.npy", "file.npy")],
        ),
        "anisotropy": (
            ["anisotropy", LAYER3, "--transform", "abtt", "--pairs", "20000"],
            lambda: embdiag.anisotropy(LAYER3, transform=["abtt"], pairs=20000),
            lambda: embdiag.anisotropy(np.load(LAYER3), transform="abtt", pairs=20000),
            [(LAYER3, "embeddings.npy"), ("debian-minilm-l6-layer3.npy", "embeddings.npy")],
        ),
        "depth": (
            ["depth", GAMES, FONTS, "--labels", GAMES_TXT, "--other-labels", FONTS_TXT, "--top", "5"],
            lambda: embdiag.depth(GAMES, FONTS, labels=GAMES_TXT, other_labels=[FONTS_TXT], top=5),
            lambda: embdiag.depth(np.load(GAMES), np.load(FONTS), labels=lines(GAMES_TXT),
                                  other_labels=[lines(FONTS_TXT)], top=5),
            [(GAMES, "reference.npy"), (FONTS, "other.npy"), ("games.npy", "reference.npy"), ("fonts.npy", "other.npy")],
        ),
        "shift": (
            ["shift", GAMES, FONTS, "--labels", GAMES_TXT, "--other-labels", FONTS_TXT, "--permutations", "200", "--seed", "7"],
            lambda: embdiag.shift(GAMES, FONTS, labels=GAMES_TXT, other_labels=[FONTS_TXT], permutations=200, seed=7),
            lambda: embdiag.shift(np.load(GAMES), np.load(FONTS), labels=lines(GAMES_TXT),
                                  other_labels=[lines(FONTS_TXT)], permutations=200, seed=7),
            [(GAMES, "reference.npy"), (FONTS, "other.npy"), ("games.npy", "reference.npy"), ("fonts.npy", "other.npy")],
        ),
        "relrep": (
            ["relrep", MINILM, "--compare", LAYER3, "--anchors", "100", "--queries", "300", "--sweep", "none", "--k", "5,10"],
            lambda: embdiag.relrep(MINILM, compare=LAYER3, anchors=100, queries=300, sweep="none", k="5,10"),
            lambda: embdiag.relrep(np.load(MINILM), compare=np.load(LAYER3), anchors=100, queries=300, sweep="none", k=[5, 10]),
            [(MINILM, "embeddings.npy"), (LAYER3, "compare.npy"), ("debian-minilm-l6-layer3.npy", "compare.npy"),
             ("debian-minilm-l6.npy", "embeddings.npy")],
        ),
        "neighbors": (
            ["neighbors", GAMES, "--k", "5", "--labels", GAMES_TXT],
            lambda: embdiag.neighbors(GAMES, k=5, labels=GAMES_TXT),
            lambda: embdiag.neighbors(np.load(GAMES), k=5, labels=lines(GAMES_TXT)),
            [(GAMES, "corpus.npy"), ("games.npy", "corpus.npy")],
        ),
        "compat": (
            ["compat", "--old", LAYER3, "--new", MINILM, "--labels", SECTIONS, "--fit", "procrustes",
             "--threshold", "0.8", "--queries", "500", "--threshold-bootstrap", "20"],
            lambda: embdiag.compat(old=LAYER3, new=MINILM, labels=SECTIONS, fit="procrustes", threshold=[0.8],
                                   queries=500, threshold_bootstrap=20),
            lambda: embdiag.compat(np.load(LAYER3), np.load(MINILM), labels=lines(SECTIONS), fit="procrustes",
                                   threshold=0.8, queries=500, threshold_bootstrap=20),
            [(LAYER3, "old.npy"), (MINILM, "new.npy"), ("debian-minilm-l6-layer3.npy", "old.npy"),
             ("debian-minilm-l6.npy", "new.npy")],
        ),
        "bias": (
            ["bias", WORDS, "--weat", "7", "--permutations", "5000", "--exact-limit", "1000"],
            lambda: embdiag.bias(WORDS, weat=["7"], permutations=5000, exact_limit=1000),
            lambda: embdiag.bias(words, labels=vocabulary, weat=7, permutations=5000, exact_limit=1000),
            [(WORDS, "embeddings.npy"), ("googlenews-bolukbasi-subset.bin", "embeddings.npy")],
        ),
    }


COMMANDS = ["info", "anisotropy", "depth", "shift", "relrep", "neighbors", "compat", "bias"]
_cli_cache = {}


def _cli_envelope(name, arguments):
    if name not in _cli_cache:
        code, envelope, stderr = cli(*arguments)
        assert code == 0, stderr
        _cli_cache[name] = envelope
    return _cli_cache[name]


def _assert_tables_match_envelope(report):
    # The typed view (DataFrames) holds exactly the JSON rows.
    for name, table in report.envelope["tables"].items():
        assert rows_of(report.tables[name]) == table["rows"], name
        assert list(report.tables[name].columns) == table["columns"], name


@pytest.mark.parametrize("name", COMMANDS)
def test_files_equal_cli(name, words_matrix):
    arguments, on_files, _, _ = cases(words_matrix)[name]
    expected = _cli_envelope(name, arguments)
    report = on_files()
    assert normalized(report.envelope) == normalized(expected)
    assert report.metrics == expected["metrics"]
    _assert_tables_match_envelope(report)
    assert report.passed


@pytest.mark.parametrize("name", COMMANDS)
def test_arrays_equal_cli(name, words_matrix):
    arguments, _, on_arrays, renames = cases(words_matrix)[name]
    expected = _cli_envelope(name, arguments)
    report = on_arrays()
    got, want = normalized(report.envelope), normalized(expected, renames)
    # Inputs: same shape, dtype and format; the paths are temporary files.
    assert [(i["format"], i["dtype"], i["rows"], i["dim"]) for i in got["inputs"]] == \
           [(i["format"] if i["format"] != "word2vec-binary" else "npy", i["dtype"], i["rows"], i["dim"]) for i in want["inputs"]]
    for key in ("metrics", "tables", "notes", "verdict", "parameters", "analyzer", "title"):
        assert got.get(key) == want.get(key), key
    assert report.metrics == expected["metrics"]
    _assert_tables_match_envelope(report)


def test_audit_equals_cli(tmp_path):
    import json
    import subprocess
    config = {
        "title": "parity",
        "seed": 3,
        "checks": [
            {"name": "inputs", "command": "info", "inputs": [GAMES], "require": ["nan_rows == 0"]},
            {"name": "games-vs-fonts", "command": "depth", "inputs": [GAMES, FONTS], "options": {"top": 3},
             "require": ["p_value <= 1e-6"]},
        ],
    }
    path = tmp_path / "audit.yaml"
    path.write_text(json.dumps(config))
    done = subprocess.run(["embdiag", "audit", str(path), "--output", str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    expected = json.loads((tmp_path / "out" / "audit.json").read_text())

    def comparable(envelope):
        # The checks table's `seconds` column is wall-clock time.
        e = normalized(envelope)
        checks = e["tables"]["checks"]
        drop = checks["columns"].index("seconds")
        checks["rows"] = [r[:drop] + r[drop + 1:] for r in checks["rows"]]
        e.pop("inputs")
        e["parameters"].pop("config")
        return e

    for report in (embdiag.audit(config), embdiag.audit(path)):
        assert comparable(report.envelope) == comparable(expected)
        assert report.metrics["passed"] is True and report.passed
        assert "<html" in report.to_html()


def test_info_several_files_in_order():
    reports = embdiag.info(FONTS, GAMES, np.load(FONTS))
    assert [r.inputs[0]["rows"] for r in reports] == [350, 500, 350]
    assert [os.path.basename(r.inputs[0]["path"]) for r in reports] == ["fonts.npy", "games.npy", "file-3.npy"]


def test_word_lists_from_python_equal_the_named_lists():
    import json
    with open(data("words", "lists", "wefe-WEAT.json"), encoding="utf-8") as f:
        wefe = json.load(f)
    with open(data("words", "lists", "bolukbasi.json"), encoding="utf-8") as f:
        pairs = [tuple(p) for p in json.load(f)["gender"]["definitional_pairs"]]
    common = dict(permutations=2000, exact_limit=1000, neutral="professions", equalize="bolukbasi", specific="bolukbasi")
    named = embdiag.bias(WORDS, definitional="bolukbasi", targets=["career", "family"],
                         attributes=["male_terms", "female_terms"], **common)
    listed = embdiag.bias(WORDS, definitional=pairs, targets=[wefe["career"], wefe["family"]],
                          attributes=[wefe["male_terms"], wefe["female_terms"]], **common)
    assert listed.metrics == named.metrics
    # Tables: the same numbers; the word sets are named after their files instead of the WEFE names.
    def numbers(table):
        return [[v for v in row if not isinstance(v, str)] for row in table["rows"]]
    for name, table in named.envelope["tables"].items():
        assert numbers(listed.envelope["tables"][name]) == numbers(table), name


def test_fingerprint_write_and_check_equal_cli(tmp_path):
    # --write: the API writes the same file as the CLI; --check: the same report.
    api_fp, cli_fp = str(tmp_path / "api.fp"), str(tmp_path / "cli.fp")
    embdiag.fingerprint(MINILM, write=api_fp, name="minilm")
    code, _, stderr = cli("fingerprint", MINILM, "--write", cli_fp, "--name", "minilm")
    assert code == 0, stderr
    with open(api_fp, "rb") as a, open(cli_fp, "rb") as b:
        assert a.read() == b.read()
    code, expected, stderr = cli("fingerprint", GAMES, "--check", cli_fp, "--mixed")
    assert code == 0, stderr
    report = embdiag.fingerprint(GAMES, check=cli_fp, mixed=True)
    assert normalized(report.envelope) == normalized(expected)
    assert report.metrics == expected["metrics"]
    assert report.metrics["same_model"] is True
    # The same rows as an array: the same metrics.
    assert embdiag.fingerprint(np.load(GAMES), check=cli_fp, mixed=True).metrics == expected["metrics"]
