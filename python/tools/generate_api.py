#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generates python/embdiag/_commands.py — one function per report command, with type hints and
docstrings — from the CLI's own description of its options (`embdiag --experimental-dump-help`,
swift-argument-parser's JSON). The flags are read from the binary, never typed by hand, so the
Python API and the CLI cannot drift apart: `--check` exits 1 when the committed file differs from
what the binary describes (run by the Python tests), and the generator itself fails when the CLI
gains an option whose Python role or type it does not know.

Usage: generate_api.py [--check] [--binary PATH] [--output PATH]
"""

import argparse
import json
import keyword
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "..", "embdiag", "_commands.py")

# The commands that produce a report, in the order of the API's documentation.
COMMANDS = ["shift", "compat", "anisotropy", "depth", "bias", "relrep", "neighbors", "info", "fingerprint", "audit"]

# Python names of the positional inputs: a single one, or (first, rest) for REF OTHER…, or the
# variadic name alone. `singular` names each item of the variadic part in messages and file names.
POSITIONALS = {
    "shift": {"files": (["reference", "others"], "other", 2)},
    "depth": {"files": (["reference", "others"], "other", 1)},
    "info": {"files": (["files"], "file", 1)},
    "anisotropy": {"file": (["embeddings"], None, 1)},
    "bias": {"file": (["embeddings"], None, 1)},
    "relrep": {"file": (["embeddings"], None, 1)},
    "neighbors": {"corpus": (["corpus"], None, 1)},
    "fingerprint": {"file": (["embeddings"], None, 1)},
    "audit": {"config": (["config"], None, 1)},
}

# Options the API sets itself: the report folder it reads (--output), and what would duplicate it.
INTERNAL = {"output", "json", "html", "json-tables", "quiet", "help", "version"}

# Options of the sharded mode (`--partial` writes a state file for `embdiag merge`, not a
# report): not part of a report-returning API; run the CLI for them (Guides/Scale.md).
EXCLUDED = {"partial", "row-offset", "shard-id", "partial-pass", "directions", "other-corpus",
            # `shift --reference STATE BATCH…` takes no reference corpus, which the API's first
            # positional always is: run the CLI for it (Guides/Shift.md, "Saved reference").
            "reference"}
# Options EXCLUDED names for the sharded mode that another command uses for something else.
KEPT = {("fingerprint", "directions")}

# What a value of an option is, when it is not a plain number/string (see _call._file_value):
#   matrix     an array-like (numpy, lists of lists, pandas Series of vectors, pyarrow) or a path/URL
#   lines      a sequence of labels/ids (one per row) or a path
#   words      a sequence of words or a word-list name/path
#   pairs      a sequence of (word, word) pairs or a name/path
#   comma_list a sequence joined with commas, or the CLI's comma-separated string
ROLES = {
    ("*", "labels"): "lines",
    ("*", "other-labels"): "lines",
    ("*", "compare-labels"): "lines",
    ("*", "query-labels"): "lines",
    ("*", "names"): "lines",
    ("*", "old-ids"): "lines",
    ("*", "new-ids"): "lines",
    ("*", "anchor-labels"): "lines",
    ("*", "anchor-rows"): "lines",
    ("*", "train-rows"): "lines",
    ("*", "tests"): "comma_list",
    ("*", "bandwidth-scales"): "comma_list",
    ("*", "ridge-grid"): "comma_list",
    ("*", "sweep"): "comma_list",
    ("*", "ends"): "comma_list",
    ("*", "indirect"): "comma_list",
    ("relrep", "k"): "comma_list",
    ("compat", "k"): "comma_list",
    ("compat", "fit-curve"): "comma_list",
    ("neighbors", "queries"): "matrix",
    ("relrep", "compare"): "matrix",
    ("compat", "old"): "matrix",
    ("compat", "new"): "matrix",
    ("compat", "old-queries"): "matrix",
    ("compat", "new-queries"): "matrix",
    ("bias", "neutral"): "words",
    ("bias", "specific"): "words",
    ("bias", "targets"): "words",
    ("bias", "attributes"): "words",
    ("bias", "definitional"): "pairs",
    ("bias", "equalize"): "pairs",
    ("bias", "seat-compare"): "matrix",
    ("bias", "remove-direction"): "matrix",
}
POSITIONAL_ROLES = {"audit": "path"}

# Python types of options whose CLI default does not show it (no default, or a custom parser).
TYPES = {
    "key": "str", "label-column": "Union[str, int]", "json-path": "str", "label-path": "str", "column": "str",
    "id-column": "Union[str, int]", "query": "str", "table": "str", "require": "Union[str, Sequence[str]]",
    "apply-transform": "PathLike", "save-transform": "PathLike", "write": "PathLike", "write-direction": "PathLike",
    "save-mapping": "PathLike", "transform": "Union[str, Sequence[str]]", "isoscore-zeta": "float",
    "reference-sample": "int", "reference-rows": "int", "select-central": "int", "bandwidth": "float",
    "max-rows": "int", "clusters": "int", "mmd-block-rows": "int", "definitional": "Union[str, PathLike, Sequence[Tuple[str, str]]]", "debias": "str",
    "weat": "Union[str, int, Sequence[Union[str, int]]]", "threshold": "Union[float, Sequence[float]]",
    "rcond": "float", "fit": "str", "seed": "int", "memory-budget": "Union[str, int]", "config": "Union[PathLike, Mapping[str, Any]]",
    "seat": "PathLike", "check": "PathLike", "directions": "int", "name": "str", "by": "str", "by-file": "PathLike", "window": "str", "chunk": "int", "save-reference": "PathLike",
    "anchors": "int", "classifier-weight": "float", "penalty": "float", "alpha": "float", "no-worse-tolerance": "float",
    "strictness": "float", "indirect-min-similarity": "float", "auto-center-level": "float",
}
# Defaults the dump does not carry (options with a custom transform), for the docstrings only.
# Options whose type differs between commands (shift's --k is one number, compat's a list).
COMMAND_TYPES = {("shift", "k"): "int", ("shift", "band-chunks"): "int", ("compat", "train-fraction"): "float"}
DEFAULTS = {("compat", "k"): "1,10,100", ("compat", "fit"): "none", ("relrep", "k"): "5", ("compat", "train-fraction"): "0.5",
            # Decimal options (`DecimalNumber.option`): the dump carries no default for a transform.
            ("shift", "classifier-weight"): "0.1", ("shift", "penalty"): "1.0", ("shift", "alpha"): "0.05",
            ("compat", "no-worse-tolerance"): "0.0", ("bias", "alpha"): "0.05", ("bias", "strictness"): "1.0",
            ("bias", "indirect-min-similarity"): "0.5", ("relrep", "auto-center-level"): "0.3"}

ROLE_TYPES = {
    "matrix": "MatrixLike",
    "lines": "LabelsLike",
    "words": "Union[str, PathLike, Sequence[str]]",
    "pairs": "Union[str, PathLike, Sequence[Tuple[str, str]]]",
    "comma_list": "Union[str, float, Sequence[Any]]",
    "path": "PathLike",
}


def dump_help(binary):
    out = subprocess.run([binary, "--experimental-dump-help"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def long_name(argument):
    names = argument.get("names") or []
    preferred = argument.get("preferredName")
    if preferred and preferred["kind"] == "long":
        return preferred["name"]
    for n in names:
        if n["kind"] == "long":
            return n["name"]
    return argument.get("valueName")


def python_name(flag):
    name = flag.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name


def role_of(command, flag, kind):
    if kind == "positional":
        return POSITIONAL_ROLES.get(command, "matrix")
    return ROLES.get((command, flag)) or ROLES.get(("*", flag)) or "value"


def scalar_type(argument, flag, command):
    if argument.get("allValues"):
        return "Literal[" + ", ".join(repr(v) for v in argument["allValues"]) + "]"
    if (command, flag) in COMMAND_TYPES:
        return COMMAND_TYPES[(command, flag)]
    if flag in TYPES:
        return TYPES[flag]
    default = argument.get("defaultValue")
    if default is None:
        # A new option without a default: usable at once (any value is passed as text), typed
        # once someone adds it to TYPES.
        print(f"generate_api.py: note: --{flag} has no default and no entry in TYPES; typed as Any", file=sys.stderr)
        return "Any"
    for cast, name in ((int, "int"), (float, "float")):
        try:
            cast(default)
            return name if name == "int" else "float"
        except ValueError:
            pass
    return "str"


def describe(command_info):
    """The spec of one command: parameters in CLI order, each with flag, kind, role, type, help."""
    command = command_info["commandName"]
    parameters = {}
    cli_flags = []
    for argument in command_info.get("arguments", []):
        flag = long_name(argument)
        kind = argument["kind"]
        if kind != "positional":
            cli_flags.append(flag)
        if flag in INTERNAL or (flag in EXCLUDED and (command, flag) not in KEPT):
            continue
        role = role_of(command, flag, kind)
        entry = {
            "flag": None if kind == "positional" else "--" + flag,
            "kind": kind,
            "role": role,
            "repeating": bool(argument.get("isRepeating")),
            "parsing": argument.get("parsingStrategy", "default"),
            "help": (argument.get("abstract") or "").strip(),
            "default": argument.get("defaultValue", DEFAULTS.get((command, flag))),
        }
        if kind == "positional":
            names, singular, minimum = POSITIONALS[command][flag]
            entry.update(python=names, python_singular=singular, min=minimum)
            entry["type"] = ROLE_TYPES[role]
            parameters[names[0] if len(names) == 1 else flag] = entry
            continue
        if kind == "flag":
            entry["type"] = "bool"
        elif role in ROLE_TYPES:
            entry["type"] = ROLE_TYPES[role]
        else:
            entry["type"] = scalar_type(argument, flag, command)
            if entry["repeating"] and not entry["type"].startswith("Union["):
                entry["type"] = f"Union[{entry['type']}, Sequence[{entry['type']}]]"
        if entry["parsing"] == "upToNextOption":
            entry["count"] = 2
            entry["type"] = f"Sequence[{entry['type']}]"
        elif entry["repeating"] and role in ("lines", "matrix", "words"):
            entry["type"] = f"Sequence[{entry['type']}]"
        parameters[python_name(flag)] = entry
    return {
        "command": command,
        "abstract": (command_info.get("abstract") or "").strip(),
        "discussion": (command_info.get("discussion") or "").strip(),
        "parameters": parameters,
        "cli_flags": cli_flags,
    }


def render(tool):
    subcommands = {c["commandName"]: c for c in tool["command"].get("subcommands", [])}
    missing = [c for c in COMMANDS if c not in subcommands]
    if missing:
        raise SystemExit(f"generate_api.py: the binary has no command {', '.join(missing)}")
    specs = {name: describe(subcommands[name]) for name in COMMANDS}
    out = [
        "# SPDX-License-Identifier: GPL-3.0-or-later",
        "# Generated by python/tools/generate_api.py from `embdiag --experimental-dump-help`: do not edit.",
        "# Regenerate with `make python-api` after changing the CLI's options; the Python tests fail",
        "# while this file and the binary disagree.",
        '"""One function per embdiag command; keyword arguments are the command\'s flags (`--max-rows`',
        "→ ``max_rows``). Each returns a Report (``info`` with several files: a list of them).\"\"\"",
        "",
        "from typing import Any, Literal, Mapping, Optional, Sequence, Tuple, Union",
        "",
        "from ._call import call",
        "from ._report import Report",
        "from ._types import LabelsLike, MatrixLike, PathLike",
        "",
        "SPEC = " + _pretty(_public_spec(specs)),
        "",
        "# Flags of each command that the API sets itself or leaves to the CLI (see the module doc).",
        f"INTERNAL = {sorted(INTERNAL)!r}",
        f"EXCLUDED = {sorted(EXCLUDED)!r}",
        f"KEPT = {sorted(KEPT)!r}",
        "",
    ]
    for name in COMMANDS:
        out += render_function(specs[name])
    out.append("__all__ = " + repr(COMMANDS))
    return "\n".join(out) + "\n"


def _public_spec(specs):
    return {name: {"parameters": {p: {k: v for k, v in e.items() if k not in ("help", "type", "default")}
                                  for p, e in s["parameters"].items()},
                   "cli_flags": s["cli_flags"]} for name, s in specs.items()}


def _pretty(specs):
    """The spec as Python source, one parameter per line."""
    out = ["{"]
    for name, spec in specs.items():
        out.append(f"    {name!r}: {{")
        out.append('        "parameters": {')
        for p, e in spec["parameters"].items():
            out.append(f"            {p!r}: {e!r},")
        out.append("        },")
        out.append(f'        "cli_flags": {spec["cli_flags"]!r},')
        out.append("    },")
    out.append("}")
    return "\n".join(out)


def render_function(spec):
    name = spec["command"]
    params = spec["parameters"]
    signature, doc_params, collect = [], [], []
    positional = [(p, e) for p, e in params.items() if e["kind"] == "positional"]
    for p, e in positional:
        names = e["python"]
        if e["repeating"] and len(names) == 2:
            signature += [f"{names[0]}: {e['type']}", f"*{names[1]}: {e['type']}"]
            collect += [names[0], names[1]]
        elif e["repeating"]:
            signature.append(f"*{names[0]}: {e['type']}")
            collect.append(names[0])
        else:
            signature.append(f"{names[0]}: {e['type']}")
            collect.append(names[0])
        doc_params.append((", ".join(("*" if e["repeating"] and (i == len(names) - 1) else "") + n for i, n in enumerate(names)),
                           e["type"], e["help"], None, None))
    required = [(p, e) for p, e in params.items() if e["kind"] != "positional" and name == "compat" and p in ("old", "new")]
    optional = [(p, e) for p, e in params.items() if e["kind"] != "positional" and (p, e) not in required]
    if not positional:
        for p, e in required:
            signature.append(f"{p}: {e['type']}")
            doc_params.append((p, e["type"], e["help"], e["flag"], None))
        signature.append("*")
    else:
        if not any(s.startswith("*") for s in signature):
            signature.append("*")
    for p, e in optional:
        signature.append(f"{p}: Optional[{e['type']}] = None")
        doc_params.append((p, e["type"], e["help"], e["flag"], e["default"]))
    signature.append("progress: Optional[bool] = None")
    doc_params.append(("progress", "bool", "Show the binary's progress bars (tqdm when installed): default in Jupyter and on a terminal.", None, None))
    returns = "Union[Report, list]" if name == "info" else "Report"
    lines = [f"def {name}("] + [f"    {item}," for item in signature] + [f") -> {returns}:"]
    lines.append('    """' + _escape(spec["abstract"]))
    lines.append("")
    lines.append(f"    The Python form of ``embdiag {name}``; the CLI's documentation:")
    lines.append("")
    for para in spec["discussion"].splitlines():
        # Prose is wrapped; indented lines (examples) are kept as they are.
        if para.startswith(" ") or not para.strip():
            lines.append(("    " + _escape(para)).rstrip())
        else:
            lines += ["    " + w for w in textwrap.wrap(_escape(para), 96)]
    lines += ["", "    Parameters", "    ----------"]
    for p, t, help_text, flag, default in doc_params:
        lines.append(f"    {p} : {t}")
        text = help_text
        if flag:
            text = f"``{flag}``: {text}"
        if default not in (None, ""):
            text += f" (CLI default: {default})"
        for w in textwrap.wrap(_escape(text), 92) or [""]:
            lines.append("        " + w)
    lines += ["", "    Returns", "    -------", f"    {returns}", '    """']
    lines.append(f"    return call({name!r}, SPEC[{name!r}], dict(locals()))")
    lines += ["", ""]
    return lines


def _escape(text):
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.environ.get("EMBDIAG_BINARY", ".build/release/embdiag"))
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from what the binary describes")
    args = parser.parse_args()
    text = render(dump_help(args.binary))
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = ""
        if current != text:
            import difflib
            sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True), args.output, "from the binary"))
            print(f"{args.output} is out of date with {args.binary}: run `make python-api`", file=sys.stderr)
            return 1
        return 0
    with open(args.output + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(args.output + ".tmp", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
