"""Times sentence-transformers (PyTorch, CPU) on the texts the Rust example
`throughput` embeds: the first N SciFact documents as title + ". " + abstract,
cut at 256 tokens. sentence-transformers sorts a call's texts by length
before batching, as the Rust embedder does.

    pip install sentence-transformers torch
    HF_HUB_OFFLINE=1 python3 crates/paperboy-embed/bench/st_throughput.py MODEL_DIR [N] [BATCH]
"""

import json
import os
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "../../../../shared/data/scifact/corpus.jsonl")


def document_text(title, abstract):
    title, abstract = title.strip(), abstract.strip()
    return f"{title}. {abstract}" if abstract else title


def main():
    model_dir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    texts = []
    with open(CORPUS) as f:
        for line in f:
            if len(texts) == n:
                break
            doc = json.loads(line)
            texts.append(document_text(doc["title"], doc["text"]))
    model = SentenceTransformer(model_dir, device="cpu")
    tokens = sum(min(len(model.tokenizer(t)["input_ids"]), 256) for t in texts)
    model.encode(texts[:8], batch_size=batch)  # warm up
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=batch)
    secs = time.perf_counter() - started
    assert len(vectors) == len(texts)
    print(
        f"pytorch: {len(texts)} abstracts ({tokens / len(texts):.0f} tokens avg, max 256), "
        f"batch {batch}, {torch.get_num_threads()} threads: {len(texts) / secs:.1f} abstracts/s "
        f"({secs:.1f} s; torch {torch.__version__})"
    )


if __name__ == "__main__":
    main()
