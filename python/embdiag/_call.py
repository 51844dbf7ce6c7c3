# SPDX-License-Identifier: GPL-3.0-or-later
"""One API call = one run of the binary: keyword arguments become the command's flags (one to
one, as listed in the generated _commands.py), arrays and label sequences become temporary files,
the report folder the binary writes (`--output`) becomes a Report."""

import math
import numbers
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping

import numpy as np

from . import _binary
from ._errors import EmbdiagError, GateFailed
from ._inputs import as_lines, as_matrix, backing_npy, is_path, write_lines, write_npy
from ._report import Report


def call(command, spec, values):
    """Runs `command` (a key of the generated SPEC) with `values` (the Python function's
    arguments by name) and returns its Report(s)."""
    progress = values.pop("progress", None)
    workspace = tempfile.mkdtemp(prefix=f"embdiag-{command}-")
    inputs = os.path.join(workspace, "inputs")
    os.mkdir(inputs)
    try:
        arguments, positional_paths = _arguments(command, spec, values, inputs)
        out = os.path.join(workspace, "report")
        # The report folder: report.json with every table, report.html, report.txt, CSVs (audit:
        # audit.json, index.html and one folder per check). Nothing on stdout is read.
        arguments += ["--output", out]
        code, lines = _binary.run([command, *arguments], progress=_want_progress(progress))
    except BaseException:
        shutil.rmtree(workspace, ignore_errors=True)
        raise
    # The inputs are not needed any more (large arrays): remove them now, not with the report.
    shutil.rmtree(inputs, ignore_errors=True)
    try:
        _binary.raise_for_stderr(code, lines, [command, *arguments])
        reports = _collect(command, out, code, lines, arguments, workspace, positional_paths)
    except BaseException:
        shutil.rmtree(workspace, ignore_errors=True)
        raise
    if code == 1:
        failures = _binary.gate_failures(lines)
        raise GateFailed("gate failed: " + " | ".join(failures), report=reports, failures=failures)
    return reports


def _collect(command, out, code, lines, arguments, workspace, positional_paths):
    failures = _binary.gate_failures(lines) if code == 1 else []
    if command == "audit":
        return Report(out, code, failures, [command, *arguments], cleanup=workspace,
                      json_name="audit.json", html_name="index.html", text_name="audit.txt")
    if os.path.exists(os.path.join(out, "report.json")):
        return Report(out, code, failures, [command, *arguments], cleanup=workspace)
    # Several reports (`info a.npy b.npy`): one sub-folder each, named after the files. They are
    # put back in the order of the inputs by the input path each report records, and share the
    # workspace, which is removed when the last of them is collected.
    folders = [d for d in sorted(os.listdir(out)) if os.path.exists(os.path.join(out, d, "report.json"))]
    if not folders:
        raise EmbdiagError(f"{command}: the binary exited {code} without writing a report", exit_code=code,
                           command=[command, *arguments], stderr="\n".join(lines))
    holder = _Workspace(workspace)
    reports = [Report(os.path.join(out, d), code, failures, [command, *arguments]) for d in folders]
    ordered = []
    for path in positional_paths:
        match = next((r for r in reports if r not in ordered and [i.get("path") for i in r.inputs] == [path]), None)
        if match is not None:
            ordered.append(match)
    ordered += [r for r in reports if r not in ordered]
    for r in ordered:
        r._workspace = holder  # keeps the folder alive while any report lives
    return ordered


class _Workspace:
    def __init__(self, path):
        import weakref
        self._finalizer = weakref.finalize(self, shutil.rmtree, path, True)


def _want_progress(progress):
    if progress is not None:
        return bool(progress)
    # Automatic: in a Jupyter kernel, or when stderr is a terminal.
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _arguments(command, spec, values, inputs):
    arguments = []
    written_arrays = False
    trailing = []  # positional arguments go last (after "--" when one starts with "-")
    for name, option in spec["parameters"].items():
        value = values.get(name)
        if option["kind"] == "positional":
            for label, item in _positionals(option, values):
                path, array = _file_value(item, option["role"], label, inputs)
                written_arrays |= array
                trailing.append(path)
            continue
        if value is None:
            continue
        flag = option["flag"]
        if option["kind"] == "flag":
            if not isinstance(value, (bool, np.bool_)):
                raise EmbdiagError(f"{name}: expected True or False, got {value!r}")
            if value:
                arguments.append(flag)
            continue
        role = option["role"]
        if option["repeating"]:
            items = _as_list(value, name, role)
            if option.get("count") and len(items) != option["count"]:
                raise EmbdiagError(f"{name}: give {option['count']} values, got {len(items)}")
            if option["parsing"] == "upToNextOption":
                converted = []
                for i, item in enumerate(items):
                    path, array = _file_value(item, role, f"{name}[{i}]", inputs)
                    written_arrays |= array
                    converted.append(path)
                arguments.append(flag)
                arguments += converted
                continue
            for i, item in enumerate(items):
                path, array = _file_value(item, role, f"{name}[{i}]", inputs)
                written_arrays |= array
                arguments += _option(flag, path)
            continue
        path, array = _file_value(value, role, name, inputs)
        written_arrays |= array
        arguments += _option(flag, path)
    if written_arrays and values.get("format") not in (None, "npy"):
        raise EmbdiagError(f"format={values['format']!r} applies to every input, but arrays are passed as .npy files; "
                           "give paths for every input, or drop format")
    positional_paths = list(trailing)
    if any(p.startswith("-") for p in trailing):
        trailing = ["--", *trailing]
    return arguments + trailing, positional_paths


def _positionals(option, values):
    """(name, value) per positional input: `shift(reference, *others)` names them reference,
    other (or other-1, other-2, …); `info(*files)` file-1, …; a single one by its parameter."""
    names = option["python"]
    if not option["repeating"]:
        return [(names[0], values[names[0]])]
    if len(names) == 2:
        first, rest = [(names[0], values[names[0]])], list(values[names[1]])
        stem = option["python_singular"]
    else:
        first, rest, stem = [], list(values[names[0]]), option["python_singular"]
    if len(first) + len(rest) < option["min"]:
        raise EmbdiagError(f"give at least {option['min']} input(s): {', '.join(names)}")
    if len(rest) == 1:
        return first + [(stem, rest[0])]
    return first + [(f"{stem}-{i + 1}", v) for i, v in enumerate(rest)]


def _as_list(value, name, role):
    if is_path(value) or isinstance(value, (numbers.Number, np.generic)):
        return [value]
    if role == "matrix" and isinstance(value, np.ndarray):
        return [value]
    return list(value)


def _option(flag, value):
    # A value that starts with "-" but is not a number would be read as an option: attach it.
    # Negative numbers go as two arguments, where the CLI reads them as it does on a command line.
    if value.startswith("-") and not _is_number(value):
        return [f"{flag}={value}"]
    return [flag, value]


def _is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _file_value(value, role, name, inputs):
    """(argument text, whether an array was written) for one value of the given role."""
    if role == "matrix":
        if is_path(value):
            return os.fspath(value), False
        array = as_matrix(value, name)
        backing = backing_npy(array)
        if backing is not None:
            return backing, False
        path = os.path.join(inputs, _file_name(name, inputs, ".npy"))
        write_npy(array, path)
        return path, True
    if role in ("words", "pairs"):
        # Word lists go as JSON (an array of strings / of arrays): the plain-text form skips
        # lines starting with "#", trims spaces and guesses separators and header rows, each of
        # which would silently change a list given from Python.
        if is_path(value):
            return os.fspath(value), False
        if role == "words":
            content = as_lines(value, name)
        else:
            content = []
            for i, group in enumerate(value):
                if is_path(group) or isinstance(group, (bytes, bytearray)) or len(group) < 2:
                    raise EmbdiagError(f"{name}: item {i} is not a pair (or group) of words")
                content.append(as_lines(group, f"{name}[{i}]"))
        import json
        path = os.path.join(inputs, _file_name(name, inputs, ".json"))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(content, f, ensure_ascii=False)
        return path, False
    if role == "lines":
        if is_path(value):
            return os.fspath(value), False
        path = os.path.join(inputs, _file_name(name, inputs, ".txt"))
        write_lines(as_lines(value, name), path)
        return path, False
    if role == "path" and isinstance(value, Mapping):
        # An audit configuration as a dict: JSON is YAML, so the binary reads it as written.
        import json
        path = os.path.join(inputs, _file_name(name, inputs, ".yaml"))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=2)
        return path, False
    if role == "comma_list":
        if isinstance(value, str):
            return value, False
        if isinstance(value, (numbers.Number, np.generic)):
            return _scalar(value, name), False
        items = [_scalar(v, name) for v in value]
        if any("," in v for v in items):
            raise EmbdiagError(f"{name}: an item contains a comma")
        return ",".join(items), False
    return _scalar(value, name), False


def _scalar(value, name):
    if isinstance(value, (bool, np.bool_)):
        raise EmbdiagError(f"{name}: expected a value, got {value!r} (True/False are for on/off options)")
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (numbers.Real, np.floating)):
        return repr(float(value))
    if is_path(value):
        return os.fspath(value)
    raise EmbdiagError(f"{name}: expected a number or a string, got {type(value).__name__}")


def _file_name(name, folder, extension):
    base = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.replace("[", "-").replace("]", "")) or "input"
    candidate, n = base + extension, 1
    while os.path.exists(os.path.join(folder, candidate)):
        n += 1
        candidate = f"{base}-{n}{extension}"
    return candidate
