# SPDX-License-Identifier: GPL-3.0-or-later
"""`Report`: one analysis as the binary wrote it. Everything comes from the report folder the
binary wrote (`--output`): the JSON envelope (the contract: same keys as `--json`, every table),
the self-contained HTML page, the text report and one CSV per table. Nothing is recomputed or
edited here; `require` re-reads the same metrics with the CLI's rules."""

import html as _html
import json
import math
import os
import re
import shutil
import tempfile
import weakref

from ._errors import EmbdiagError, GateFailed


class Verdict:
    """The answer a report leads with: the question, a one-sentence answer and the metrics that
    decided it. ``str(verdict)`` is the answer."""

    __slots__ = ("question", "answer", "deciding_metrics")

    def __init__(self, question, answer, deciding_metrics):
        self.question = question
        self.answer = answer
        self.deciding_metrics = list(deciding_metrics)

    def __str__(self):
        return self.answer

    def __repr__(self):
        return f"Verdict(question={self.question!r}, answer={self.answer!r}, deciding_metrics={self.deciding_metrics!r})"

    def __eq__(self, other):
        return isinstance(other, Verdict) and (self.question, self.answer, self.deciding_metrics) == (
            other.question, other.answer, other.deciding_metrics)


class Report:
    """The result of one embdiag command.

    Attributes
    ----------
    analyzer : str
        The command's analyzer name (``"shift"``, ``"anisotropy"``, …).
    verdict : Verdict or None
        The question, the answer and its deciding metrics (``str(verdict)`` is the answer).
    metrics : dict
        Metric key (stable snake_case, documented in the command's guide) → value; JSON null
        (NaN, not available) is ``None``.
    tables : dict
        Table name → pandas DataFrame when pandas is installed, else a list of dicts (one per
        row). Every table, per-row ones included.
    notes : list of str
        Caveats, what was dropped, how to read a number.
    parameters : dict
        The settings the analysis ran with (seed included).
    inputs : list of dict
        Each input: path, format, dtype, rows, dim, sha256. Arrays passed from Python appear as
        the temporary .npy file they were written to (named after the argument).
    passed : bool
        True unless a requirement (``require=``) or a command's own check failed (the CLI's exit 1).
    envelope : dict
        The JSON document itself, as ``embdiag <command> --json`` writes it.
    """

    def __init__(self, folder, exit_code=0, failures=(), command=None, cleanup=None,
                 json_name="report.json", html_name="report.html", text_name="report.txt"):
        self._folder = folder
        self._json_name, self._html_name, self._text_name = json_name, html_name, text_name
        with open(os.path.join(folder, json_name), encoding="utf-8") as f:
            self.envelope = json.load(f)
        self.exit_code = exit_code
        self.failures = list(failures)
        self.command = command
        self._tables = None
        # The folder lives as long as the report (it holds the CSVs and HTML that save() copies).
        self._finalizer = weakref.finalize(self, shutil.rmtree, cleanup, True) if cleanup else None

    # -- the envelope ---------------------------------------------------------------------------
    @property
    def analyzer(self):
        return self.envelope.get("analyzer")

    @property
    def title(self):
        return self.envelope.get("title")

    @property
    def version(self):
        return self.envelope.get("version")

    @property
    def verdict(self):
        v = self.envelope.get("verdict")
        return Verdict(v["question"], v["answer"], v.get("deciding_metrics", [])) if v else None

    @property
    def metrics(self):
        return dict(self.envelope.get("metrics", {}))

    @property
    def parameters(self):
        return dict(self.envelope.get("parameters", {}))

    @property
    def inputs(self):
        return [dict(i) for i in self.envelope.get("inputs", [])]

    @property
    def notes(self):
        return list(self.envelope.get("notes", []))

    @property
    def elapsed_seconds(self):
        return self.envelope.get("elapsed_seconds")

    @property
    def passed(self):
        return self.exit_code == 0

    @property
    def tables(self):
        if self._tables is None:
            self._tables = {name: _table(t["columns"], t["rows"]) for name, t in self.envelope.get("tables", {}).items()}
        return self._tables

    # -- gates ----------------------------------------------------------------------------------
    def require(self, *requirements):
        """Checks each requirement (``"p_value>=0.01"``, ``"compatible==yes"``; the syntax of
        the CLI's ``--require``) against this report's metrics. Returns the report when all hold;
        raises GateFailed listing every failed one otherwise, and EmbdiagError (exit 2) for a
        malformed requirement or a metric key the report does not have — a typo must neither pass
        nor fail silently."""
        failures = []
        for text in requirements:
            passed, message = _evaluate(text, self.envelope.get("metrics", {}), self.analyzer)
            if not passed:
                failures.append(message)
        if failures:
            raise GateFailed("gate failed: " + "; ".join(failures), report=self, failures=failures)
        return self

    # -- renderings -----------------------------------------------------------------------------
    def to_html(self):
        """The self-contained HTML page (inline CSS and SVG charts) the CLI writes with --html."""
        with open(os.path.join(self._folder, self._html_name), encoding="utf-8") as f:
            return f.read()

    def to_text(self):
        """The aligned text report the CLI prints."""
        with open(os.path.join(self._folder, self._text_name), encoding="utf-8") as f:
            return f.read()

    def to_json(self):
        """The JSON envelope as text."""
        return json.dumps(self.envelope, ensure_ascii=False, indent=2)

    def save(self, directory):
        """Writes the report folder the CLI writes with ``--output DIR``: report.json (every
        table), report.html, report.txt and one CSV per table (sub-folders too, for reports that
        have them). Each file is written under a temporary name and renamed. Returns the path."""
        directory = os.fspath(directory)
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise EmbdiagError(f"{directory}: exists and is not a folder; give a folder for the report")
        for root, _, files in os.walk(self._folder):
            target = os.path.join(directory, os.path.relpath(root, self._folder))
            os.makedirs(target, exist_ok=True)
            for name in files:
                fd, tmp = tempfile.mkstemp(dir=target, prefix="." + name + ".")
                os.close(fd)
                try:
                    shutil.copyfile(os.path.join(root, name), tmp)
                    os.replace(tmp, os.path.join(target, name))
                except BaseException:
                    os.unlink(tmp)
                    raise
        return directory

    def _repr_html_(self):
        # An iframe with the page in srcdoc: the report's CSS cannot leak into the notebook, and
        # the notebook file stays self-contained (no file the browser must fetch).
        page = self.to_html()
        return ('<iframe class="embdiag-report" sandbox="allow-popups" '
                'style="width:100%;height:640px;border:1px solid #ccc;background:#fff" '
                f'srcdoc="{_html.escape(page, quote=True)}"></iframe>')

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        verdict = self.verdict
        head = f"<embdiag.Report {self.analyzer}"
        if verdict:
            head += f": {verdict.answer!r}"
        return head + f" ({len(self.envelope.get('metrics', {}))} metrics, {len(self.envelope.get('tables', {}))} tables)>"


def _table(columns, rows):
    try:
        import pandas as pd
    except ImportError:
        return [dict(zip(columns, row)) for row in rows]
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


# -- requirements: the rules of Sources/EmbeddingDiagnostics/Reports/Gates.swift ------------------
# Two-character operators first, in the CLI's order, so that ">=" is not read as ">".
_OPERATORS = [(">=", lambda a, b: a >= b), ("<=", lambda a, b: a <= b), ("==", lambda a, b: a == b),
              ("!=", lambda a, b: a != b), (">", lambda a, b: a > b), ("<", lambda a, b: a < b)]
_KEY = re.compile(r"^\w+$")


def _parse_requirement(text):
    s = text.strip()
    for op, holds in _OPERATORS:
        at = s.find(op)
        if at < 0:
            continue
        name, value = s[:at].strip(), s[at + len(op):].strip()
        if not name or not _KEY.match(name):
            raise EmbdiagError(f"requirement '{text}': '{name}' is not a metric key (snake_case letters, digits, _)")
        boolean = value.lower() in ("true", "yes", "false", "no")
        if boolean:
            number = 1.0 if value.lower() in ("true", "yes") else 0.0
            if op not in ("==", "!="):
                raise EmbdiagError(f"requirement '{text}': a yes/no value is compared with == or !=")
        else:
            try:
                # Swift's Double(String): decimal or hexadecimal floats, no digit separators.
                number = math.nan if "_" in value else float(value)
            except ValueError:
                try:
                    # Hexadecimal only with its 0x prefix (float.fromhex would read "abc" as 2748).
                    number = float.fromhex(value) if re.match(r"^[+-]?0[xX]", value) else math.nan
                except ValueError:
                    number = math.nan
            if not math.isfinite(number) or value.lower() in ("nan", "inf", "infinity", "-inf", "+inf"):
                raise EmbdiagError(f"requirement '{text}': '{value}' is not a number (or true/false, yes/no)")
        return name, op, holds, number, boolean
    raise EmbdiagError(f"requirement '{text}' has no comparison; write e.g. \"recall_at_10_cross>=0.9\" (>=, <=, >, <, ==, !=)")


def _evaluate(text, metrics, analyzer):
    name, op, holds, threshold, boolean = _parse_requirement(text)
    if name not in metrics:
        raise EmbdiagError(f"--require {text}: no metric '{name}' in the {analyzer} report; available: {', '.join(metrics)}")
    value = metrics[name]
    if isinstance(value, bool):
        if not (boolean or (threshold in (0.0, 1.0) and op in ("==", "!="))):
            raise EmbdiagError(f"--require {text}: '{name}' is yes/no; compare it with == yes, == no (or true/false)")
        value = 1.0 if value else 0.0
    elif boolean:
        raise EmbdiagError(f"--require {text}: '{name}' is a number, not yes/no; compare it with a number, e.g. {name}>=0.5")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return False, f"{name} is not available (NaN or missing): required {op} {threshold:g}"
    passed = holds(float(value), threshold)
    return passed, f"{name} = {value:g}, required {op} {threshold:g}"
