"""SentencePiece models: subtok reads a ``.model`` file (Tokenizer.from_sentencepiece) and must give the
sentencepiece library's ids on every line of the multilingual text, at least 2x its encode speed on one
thread, for lines and for whole documents.

Models: SentencePiece's own test model (shared data, NFKC) and a Unigram and a BPE model the library trains
here on the first --train-mb MB of the mixed corpus (vocab --vocab, nmt_nfkc, byte fallback). Lines: the
multilingual text (bench/multilingual.py), encode_ordinary_batch (lists of ids, the form sp.encode returns),
encode_batch (Encodings, with offsets and tokens) and encode_batch(return_tensors="flat") (flat arrays)
against sp.encode(list, num_threads=1); speeds in million characters/s. Documents:
the same lines joined into --doc-lines-line documents. Both encode a list on one thread, the model loaded
before the clock starts; each timing is the best of --repeat runs. Then subword regularization: one draw per
line from the whole lattice (alpha 0.1), its cost relative to each library's own best-path encoding.

Usage: python bench/spm_models.py [--lines 6000] [--repeat 3] [--vocab 8000] [--train-mb 3]
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import multilingual  # noqa: E402
from common import machine, mixed_corpus, print_table, require_data  # noqa: E402

from subtok import Tokenizer  # noqa: E402


def best_of(repeat: int, *fns):
    """(best seconds, last output) of each function, the functions run in turn ``repeat`` times (so that a
    noisy moment on the machine falls on both sides alike). As timeit does, the cyclic garbage collector
    is off while a call is timed (and collects before it), so that no call pays for another's objects; the
    previous output is freed before the clock starts: what is timed is encoding, not freeing."""
    best, outs = [float("inf")] * len(fns), [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            outs[k] = None
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            outs[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t0)
            gc.enable()
    return [x for pair in zip(best, outs) for x in pair]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--train-mb", type=float, default=3.0)
    ap.add_argument("--doc-lines", type=int, default=50)
    args = ap.parse_args()
    import sentencepiece as spm

    data = require_data()
    lines = multilingual.lines(args.lines)
    docs = ["\n".join(lines[k : k + args.doc_lines]) for k in range(0, len(lines), args.doc_lines)]
    models = {"sentencepiece test model": data.parent / "tokenizers" / "sentencepiece" / "test_model.model"}
    tmp = Path(tempfile.mkdtemp())
    text = mixed_corpus().read_text(encoding="utf-8")[: int(args.train_mb * 1e6)].splitlines()
    buffer = io.BytesIO()
    t0 = time.perf_counter()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text), model_writer=buffer, model_type="unigram", vocab_size=args.vocab,
        byte_fallback=True, num_threads=1, minloglevel=2,
    )  # fmt: skip
    print(f"sentencepiece trained the {args.vocab} model in {time.perf_counter() - t0:.1f} s")
    (tmp / "mixed.model").write_bytes(buffer.getvalue())
    models[f"unigram {args.vocab // 1000}k, byte fallback (mixed corpus)"] = tmp / "mixed.model"
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text), model_writer=buffer, model_type="bpe", vocab_size=args.vocab,
        byte_fallback=True, num_threads=1, minloglevel=2,
    )  # fmt: skip
    (tmp / "mixed_bpe.model").write_bytes(buffer.getvalue())
    models[f"BPE {args.vocab // 1000}k, byte fallback (mixed corpus)"] = tmp / "mixed_bpe.model"
    rows, sampling = [], []
    for name, path in models.items():
        sp = spm.SentencePieceProcessor(model_file=str(path))
        for what, texts in (("lines", lines), (f"{args.doc_lines}-line documents", docs)):
            tok = Tokenizer.from_sentencepiece(path)
            tok.encode("warm up")  # builds the encoder once, as sentencepiece builds its trie on load
            ours_s, ours, theirs_s, theirs, enc_s, encodings, flat_s, flat = best_of(
                args.repeat,
                lambda t=texts, k=tok: k.encode_ordinary_batch(t, num_threads=1),
                lambda t=texts, s=sp: s.encode(t, num_threads=1),
                lambda t=texts, k=tok: k.encode_batch(t, num_threads=1),
                lambda t=texts, k=tok: k.encode_batch(t, num_threads=1, return_tensors="flat"),
            )
            splits = flat["row_splits"]
            rows_flat = [flat["input_ids"][splits[i] : splits[i + 1]].tolist() for i in range(len(texts))]
            same = sum(a == b == c == e.ids for a, b, c, e in zip(ours, theirs, rows_flat, encodings))
            decoded = sum(tok.decode(a) == sp.decode(a) for a in ours)
            chars = sum(map(len, texts))
            speeds = [f"{chars / x / 1e6:.2f}" for x in (ours_s, enc_s, flat_s, theirs_s)]
            ratios = (f"{theirs_s / ours_s:.2f}x", f"{theirs_s / enc_s:.2f}x", f"{theirs_s / flat_s:.2f}x")
            rows.append([name, what, f"{same}/{len(texts)}", f"{decoded}/{len(texts)}", *speeds, *ratios])
            if what == "lines":  # subword regularization: one draw per line (Unigram: the lattice; BPE: dropout)
                ours_d, _, theirs_d, _ = best_of(
                    args.repeat,
                    lambda t=texts, k=tok: k.encode_batch(t, num_threads=1, seed=0, sample=True, alpha=0.1),
                    lambda t=texts, s=sp: s.encode(t, num_threads=1, enable_sampling=True, alpha=0.1, nbest_size=-1),
                )
                sampling.append([name, f"{chars / ours_d / 1e6:.2f}", f"{ours_d / enc_s:.2f}x",
                                 f"{chars / theirs_d / 1e6:.2f}", f"{theirs_d / theirs_s:.2f}x"])  # fmt: skip
    print(machine())
    header = ["model", "texts", "ids = spm", "decode = spm", "subtok lists", "subtok Encodings", "subtok flat", "spm",
              "ratio (lists)", "ratio (Encodings)", "ratio (flat)"]  # fmt: skip
    print_table(rows, header)
    print("\nsampling (alpha 0.1, whole lattice), lines, one thread: speed and cost relative to each one's Viterbi")
    print_table(sampling, ["model", "subtok M chars/s", "subtok cost", "spm M chars/s", "spm cost"])


if __name__ == "__main__":
    main()
