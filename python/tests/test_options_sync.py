# SPDX-License-Identifier: GPL-3.0-or-later
"""The API's keyword arguments and the CLI's flags cannot drift: the generated module equals what
the installed binary describes (`--experimental-dump-help`), and every flag of every command is
either a keyword argument, set by the API itself, or listed as left to the CLI."""

import inspect
import json
import os
import subprocess
import sys

import embdiag
from embdiag import _commands
from conftest import REPOSITORY


def dump():
    out = subprocess.run([embdiag.binary_path(), "--experimental-dump-help"], check=True, capture_output=True, text=True)
    return {c["commandName"]: c for c in json.loads(out.stdout)["command"]["subcommands"]}


def test_generated_module_is_up_to_date():
    generator = os.path.join(REPOSITORY, "python", "tools", "generate_api.py")
    done = subprocess.run([sys.executable, generator, "--check", "--binary", embdiag.binary_path(),
                           "--output", _commands.__file__], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr


def test_every_flag_on_both_sides():
    commands = dump()
    for name, spec in _commands.SPEC.items():
        cli_flags = set()
        for argument in commands[name].get("arguments", []):
            if argument["kind"] == "positional":
                continue
            longs = [n["name"] for n in argument.get("names", []) if n["kind"] == "long"]
            cli_flags.add(argument.get("preferredName", {}).get("name") if argument.get("preferredName", {}).get("kind") == "long" else longs[0])
        api_flags = {p["flag"][2:] for p in spec["parameters"].values() if p["flag"]}
        kept = {flag for command, flag in _commands.KEPT if command == name}
        left_out = set(_commands.INTERNAL) | (set(_commands.EXCLUDED) - kept)
        assert api_flags <= cli_flags, f"{name}: API-only flags {api_flags - cli_flags}"
        assert cli_flags - left_out == api_flags, f"{name}: CLI-only flags {cli_flags - left_out - api_flags}"
        # The function's keyword arguments are exactly the spec's (plus progress).
        signature = inspect.signature(getattr(embdiag, name))
        keywords = {p for p, v in signature.parameters.items() if v.kind in (v.KEYWORD_ONLY, v.POSITIONAL_OR_KEYWORD)}
        positional = {n for p in spec["parameters"].values() if p["kind"] == "positional" for n in p["python"]}
        assert keywords - positional - {"progress"} == {p for p, v in spec["parameters"].items() if v["kind"] != "positional"}, name
        assert getattr(embdiag, name).__doc__ and "Parameters" in getattr(embdiag, name).__doc__
