"""Byte-level BPE training: subtok (pure Python, and native when built) against HF tokenizers.

Usage: python bench/train_bpe.py [--vocab 8000 32000]
Trains on the 11.7 MB mixed corpus (PTB train + Tiny Shakespeare + WikiText-2 test + NSMC text), each
contender in its own process (so peak memory is its own), both allowed all cores, and prints seconds,
MB/s, peak memory and the ratio to HF.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, mixed_corpus, print_table, run_measured  # noqa: E402

SPECIALS = ["<unk>", "<pad>", "<bos>", "<eos>"]

SUBTOK = """
import time, subtok
t = time.perf_counter()
tok = subtok.Tokenizer.train({path!r}, vocab_size={vocab}, min_frequency=2, special_tokens={specials!r},
                             show_progress=False)
out = dict(seconds=time.perf_counter() - t, vocab=tok.vocab_size, merges=len(tok.model.merges),
           backend='native' if subtok.native_available() else 'python')
"""

HF = """
import time
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
t = time.perf_counter()
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
trainer = trainers.BpeTrainer(vocab_size={vocab}, min_frequency=2, special_tokens={specials!r},
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tok.train([{path!r}], trainer)
out = dict(seconds=time.perf_counter() - t, vocab=tok.get_vocab_size(), backend='tokenizers (Rust)')
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab", type=int, nargs="+", default=[8000, 32000])
    ap.add_argument("--no-native", action="store_true", help="skip the native backend")
    args = ap.parse_args()
    path = str(mixed_corpus())
    mb = os.path.getsize(path) / 1e6
    print(f"corpus: {path} ({mb:.1f} MB); machine: {machine()}\n")
    rows = []
    for vocab in args.vocab:
        fmt = dict(path=path, vocab=vocab, specials=SPECIALS)
        hf = run_measured(HF.format(**fmt))
        contenders = [("subtok pure Python", {"SUBTOK_NO_NATIVE": "1"})]
        if not args.no_native:
            contenders.append(("subtok native", {}))
        for name, env in contenders:
            r = run_measured(SUBTOK.format(**fmt), env)
            if name == "subtok native" and r["backend"] != "native":
                continue
            rows.append(
                [
                    vocab,
                    name,
                    f"{r['seconds']:.2f}",
                    f"{mb / r['seconds']:.2f}",
                    f"{r['peak_mb']:.0f}",
                    f"{r['seconds'] / hf['seconds']:.2f}x",
                ]
            )
        rows.append(
            [
                vocab,
                "HF tokenizers",
                f"{hf['seconds']:.2f}",
                f"{mb / hf['seconds']:.2f}",
                f"{hf['peak_mb']:.0f}",
                "1.00x",
            ]
        )
    print_table(rows, ["vocab", "trainer", "seconds", "MB/s", "peak MB", "time / HF"])


if __name__ == "__main__":
    main()
