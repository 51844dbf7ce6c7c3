# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors raise EmbdiagError with the CLI's one-line message and exit code; a failed gate raises
GateFailed (a different type, carrying the complete report); Report.require follows the CLI's
--require rules exactly (checked against the binary on the same report)."""

import subprocess

import numpy as np
import pytest

import embdiag
from conftest import cli, data

GAMES, FONTS = data("sentences", "by-section", "games.npy"), data("sentences", "by-section", "fonts.npy")


def rng_matrix(n=120, d=16, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_nan_row_is_exit_2_naming_the_input():
    m = rng_matrix()
    m[7, 3] = np.nan
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.anisotropy(m)
    assert caught.value.exit_code == 2
    assert "embeddings.npy" in caught.value.message and "7" in caught.value.message
    assert "\n" not in caught.value.message


def test_same_message_as_cli():
    code, _, stderr = cli("shift", GAMES, data("sentences", "debian-minilm-l6.npy"), "--alpha", "2")
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.shift(GAMES, data("sentences", "debian-minilm-l6.npy"), alpha=2)
    assert caught.value.exit_code == code == 2
    assert stderr.strip() == "embdiag: error: " + caught.value.message


def test_mismatched_dimensions():
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.shift(rng_matrix(d=16), rng_matrix(d=8))
    assert caught.value.exit_code == 2


def test_bad_option_value_and_unknown_keyword():
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.depth(GAMES, FONTS, alternative="sideways")
    assert caught.value.exit_code == 2 and "sideways" in caught.value.message
    with pytest.raises(TypeError):
        embdiag.depth(GAMES, FONTS, no_such_option=1)
    with pytest.raises(embdiag.EmbdiagError):
        embdiag.shift(GAMES, FONTS, mauve="yes")  # on/off options take True/False
    with pytest.raises(embdiag.EmbdiagError):
        embdiag.shift(GAMES, FONTS, permutations=True)


@pytest.mark.parametrize("value, fragment", [
    ([[1.0, 2.0], [3.0]], "different lengths"),
    ([], "no rows"),
    (np.zeros(5, dtype=np.float32), "2-D"),
    (np.array([["a", "b"]]), "not numeric"),
    ({"a": 1}, "cannot read"),
])
def test_python_side_input_errors(value, fragment):
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.info(value)
    assert fragment in caught.value.message and caught.value.exit_code == 2


def test_label_errors():
    m = rng_matrix(n=3)
    with pytest.raises(embdiag.EmbdiagError, match="line break"):
        embdiag.info(m, labels=["a", "b\nc", "d"])
    with pytest.raises(embdiag.EmbdiagError, match="missing"):
        embdiag.info(m, labels=["a", None, "d"])
    with pytest.raises(embdiag.EmbdiagError, match="UTF-8"):
        embdiag.info(m, labels=["a", "\udc80", "d"])
    with pytest.raises(embdiag.EmbdiagError, match="UTF-8"):
        embdiag.info(m, labels=np.array([b"a", b"\xff", b"d"]))
    # Bytes labels are UTF-8 text, not "b'...'".
    report = embdiag.neighbors(m, k=1, labels=np.array(["x".encode(), "é".encode(), b"z"]))
    names = {str(v) for t in report.envelope["tables"].values() for row in t["rows"] for v in row}
    assert "é" in names and not any(n.startswith("b'") for n in names)
    with pytest.raises(embdiag.EmbdiagError) as caught:  # count checked by the binary
        embdiag.info(m, labels=["a", "b"])
    assert "2 labels" in caught.value.message and "3 rows" in caught.value.message


def test_format_with_arrays_is_refused():
    with pytest.raises(embdiag.EmbdiagError, match="format"):
        embdiag.shift(rng_matrix(), rng_matrix(seed=1), format="csv")


def test_missing_file():
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.info("no/such/file.npy")
    assert caught.value.exit_code == 2 and "no/such/file.npy" in caught.value.message


def test_gate_failure_is_a_distinct_type_with_the_report():
    with pytest.raises(embdiag.GateFailed) as caught:
        embdiag.depth(GAMES, FONTS, require=["p_value>=0.01"])
    error = caught.value
    assert not isinstance(error, embdiag.EmbdiagError)
    assert error.exit_code == 1 and "p_value" in error.failures[0]
    assert error.report.passed is False and error.report.metrics["gates_passed"] is False
    assert error.report.tables["gates"] is not None
    code, envelope, _ = cli("depth", GAMES, FONTS, "--require", "p_value>=0.01")
    assert code == 1 and envelope["metrics"] == error.report.metrics


def test_info_strict_failure_is_a_gate():
    m = rng_matrix(n=4)
    with pytest.raises(embdiag.GateFailed):
        embdiag.info(m, labels=["a", "a", "b", "c"], strict=True)


def test_unknown_metric_in_require_is_an_error_not_a_gate():
    with pytest.raises(embdiag.EmbdiagError) as caught:
        embdiag.depth(GAMES, FONTS, require="p_valu>=0.01")
    assert caught.value.exit_code == 2


REQUIREMENTS = ["p_value>=0.01", "p_value<0.01", "auc <= 0.75", "auc>0.9", "mmd != 3", "p_value==0",
                "shifted == yes", "shifted!=true", "shifted==1", "shifted>=1", "auc >= yes", "nosuch>1",
                "auc>=abc", "auc", " auc >= 1e-3 ", "auc>=0x1p-2", "auc>=1_0", "auc>=nan", "auc>=inf"]


@pytest.fixture(scope="module")
def small_shift(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shift")
    a, b = folder / "a.npy", folder / "b.npy"
    np.save(a, rng_matrix(n=80, d=8, seed=1))
    np.save(b, rng_matrix(n=80, d=8, seed=2) + 0.3)
    options = dict(tests="mmd,classifier", permutations=50)
    return (a, b), embdiag.shift(a, b, **options), ["--tests", "mmd,classifier", "--permutations", "50"]


@pytest.mark.parametrize("requirement", REQUIREMENTS)
def test_require_follows_the_cli(small_shift, requirement):
    (a, b), report, options = small_shift
    code, _, stderr = cli("shift", a, b, *options, "--require", requirement)
    if code == 0:
        assert report.require(requirement) is report
    elif code == 1:
        with pytest.raises(embdiag.GateFailed):
            report.require(requirement)
    else:
        assert code == 2, stderr
        with pytest.raises(embdiag.EmbdiagError):
            report.require(requirement)


def test_exit_codes_through_the_console_script():
    assert subprocess.run(["embdiag", "--version"], capture_output=True, text=True).stdout.strip() == embdiag.__version__
    done = subprocess.run(["embdiag", "info", "no-such.npy"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("embdiag: error: ")
    done = subprocess.run(["python", "-m", "embdiag", "depth", GAMES, FONTS, "--require", "p_value>=0.5", "--quiet"],
                          capture_output=True, text=True)
    assert done.returncode == 1
