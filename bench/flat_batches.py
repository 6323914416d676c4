"""Batches as flat arrays (issue 17, item 3): ``encode_batch(texts, return_tensors="flat")`` against the list
of Encodings, on one thread and two, for the whole-text encoders (GPT-2 and BERT read from the shared
tokenizer.json files, SentencePiece's test model), with the peer's batch call beside it.

Usage: python bench/flat_batches.py [--lines 6000] [--repeat 7]
Texts: the lines of ``bench/multilingual.py`` (one line per item) and the same lines joined into documents
of 50 lines. Speed in million characters per second, best of --repeat, the runs taken in turn. Checks that
the flat ids equal the per-item ids (and the peer's, where it is the same tokenizer).
"""

from __future__ import annotations

import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import argparse  # noqa: E402
import gzip  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import multilingual  # noqa: E402
from common import machine, print_table, require_data  # noqa: E402

from subtok import Tokenizer  # noqa: E402


def measure(tok: Tokenizer, peer_call, texts: list[str], repeat: int) -> dict:
    """Best seconds of each call on ``texts``, the calls taken in turn ``repeat`` times."""
    calls = {
        "list 1": partial(tok.encode_batch, texts, num_threads=1),
        "list 2": partial(tok.encode_batch, texts, num_threads=2),
        "flat 1": partial(tok.encode_batch, texts, num_threads=1, return_tensors="flat"),
        "flat 2": partial(tok.encode_batch, texts, num_threads=2, return_tensors="flat"),
        "peer": partial(peer_call, texts),
    }
    best = {name: float("inf") for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    root = require_data().parent / "tokenizers"
    lines = multilingual.lines(args.lines)
    docs = ["\n".join(lines[k : k + 50]) for k in range(0, len(lines), 50)]
    tmp = Path(tempfile.mkdtemp())
    models = {}
    for name in ("gpt2", "bert-bge"):
        path = tmp / f"{name}.json"
        path.write_bytes(gzip.decompress((root / name / "tokenizer.json.gz").read_bytes()))
        models[name] = (Tokenizer.from_huggingface(path), ("hf", path))
    spm_path = root / "sentencepiece" / "test_model.model"
    models["sentencepiece test model"] = (Tokenizer.from_sentencepiece(spm_path), ("spm", spm_path))
    rows = []
    for name, (tok, (peer_kind, peer_path)) in models.items():
        if peer_kind == "hf":
            from tokenizers import Tokenizer as HFTokenizer

            peer_call, peer_label = HFTokenizer.from_file(str(peer_path)).encode_batch, "HF encode_batch (all cores)"
        else:
            import sentencepiece as spm

            peer = spm.SentencePieceProcessor(model_file=str(peer_path))
            peer_call, peer_label = partial(peer.encode, num_threads=1), "sentencepiece (1 thread)"
        for kind, texts in (("lines", lines), ("50-line documents", docs)):
            flat = tok.encode_batch(texts, num_threads=2, return_tensors="flat")
            ids, splits = flat["input_ids"], flat["row_splits"]
            rows_equal = all(
                ids[splits[i] : splits[i + 1]].tolist() == e.ids for i, e in enumerate(tok.encode_batch(texts))
            )
            best = measure(tok, peer_call, texts, args.repeat)
            chars = sum(map(len, texts)) / 1e6
            speed = {k: chars / v for k, v in best.items()}
            rows.append(
                [name, kind, "yes" if rows_equal else "NO"]
                + [f"{speed[k]:.1f}" for k in ("list 1", "list 2", "flat 1", "flat 2")]
                + [f"{speed['flat 2'] / speed['flat 1']:.2f}x", f"{speed['peer']:.1f} ({peer_label})"]
            )
    print(machine(), f"{len(lines)} lines, {len(docs)} documents; M chars/s")
    header = ["tokenizer", "texts", "flat = items", "list 1", "list 2", "flat 1", "flat 2", "flat 2/1", "peer"]
    print_table(rows, header)


if __name__ == "__main__":
    main()
