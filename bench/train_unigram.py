"""Unigram training: subtok against the sentencepiece library, side by side, with the same options.

Usage: python bench/train_unigram.py [--vocab 8000 32000] [--threads 2]
Both train a Unigram model on the 11.7 MB mixed corpus (PTB train + Tiny Shakespeare + WikiText-2 test +
NSMC text) with SentencePiece's defaults (character coverage 0.9995, pieces of at most 16 characters,
words split at spaces and scripts) and the identity normalization (subtok's default; no NFKC table), each
in its own process on ``--threads`` threads (so time and peak memory are its own). Then both models
encode a held-out text (PTB valid + the Lee background news, which neither saw), and the bench prints
tokens per whitespace word and the log-likelihood per character: each word's log marginal over all its
segmentations (forward algorithm) with each model's piece probabilities normalized to sum to one, so
neither gains from unnormalized scores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, mixed_corpus, print_table, require_data, run_measured  # noqa: E402

SUBTOK = """
import time, subtok
t = time.perf_counter()
tok = subtok.Tokenizer.train({path!r}, model="unigram", vocab_size={vocab}, num_threads={threads})
out = dict(seconds=time.perf_counter() - t, backend='native' if subtok.native_available() else 'python')
tok.save_sentencepiece({model!r})
"""

SENTENCEPIECE = """
import time, sentencepiece as spm
t = time.perf_counter()
spm.SentencePieceTrainer.train(input={path!r}, model_prefix={prefix!r}, vocab_size={vocab}, model_type='unigram',
                               num_threads={threads}, normalization_rule_name='identity', minloglevel=2)
out = dict(seconds=time.perf_counter() - t)
"""


def held_out() -> list[str]:
    data = require_data()
    lines = []
    for part in ("ptb/ptb.valid.txt", "lee/lee_background.cor"):
        lines += [line.rstrip("\n") for line in open(data / part, encoding="utf-8") if line.strip()]
    return lines


def quality(model_path: str, lines: list[str]) -> tuple[float, float]:
    """(tokens per whitespace word, log-likelihood per character) of ``lines`` under a .model file."""
    import sentencepiece as spm

    from subtok.models.unigram_core import logsumexp
    from subtok.models.unigram_train_core import TrainTable, _word_marginals

    sp = spm.SentencePieceProcessor(model_file=model_path)
    tokens = sum(len(ids) for ids in sp.encode(lines))
    words = sum(len(line.split()) for line in lines)
    chars = sum(len(line) for line in lines)
    normal = [i for i in range(sp.get_piece_size()) if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i))]
    scores = [sp.get_score(i) for i in normal]
    z = logsumexp(scores)
    table = TrainTable([sp.id_to_piece(i) for i in normal], [s - z for s in scores])
    counts = Counter("\u2581" + w for line in lines for w in line.split(" ") if w)  # as the normalizer splits
    loglik = 0.0
    for word, c in counts.items():
        loglik += c * _word_marginals(table, word, 1, [0] * len(normal))
    return tokens / words, loglik / chars


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab", type=int, nargs="+", default=[8000, 32000])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    path = str(mixed_corpus())
    lines = held_out()
    print(f"{machine()}; corpus {os.path.getsize(path) / 1e6:.1f} MB; {args.threads} threads; held-out "
          f"{len(lines)} lines")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for vocab in args.vocab:
            ours_path, prefix = os.path.join(d, f"subtok{vocab}.model"), os.path.join(d, f"spm{vocab}")
            ours = run_measured(SUBTOK.format(path=path, vocab=vocab, threads=args.threads, model=ours_path))
            theirs = run_measured(SENTENCEPIECE.format(path=path, vocab=vocab, threads=args.threads, prefix=prefix))
            q_ours, q_theirs = quality(ours_path, lines), quality(prefix + ".model", lines)
            rows.append([vocab, "subtok " + ours["backend"], f"{ours['seconds']:.2f}", f"{ours['peak_mb']:.0f}",
                         f"{q_ours[0]:.4f}", f"{q_ours[1]:.4f}"])  # fmt: skip
            rows.append([vocab, "sentencepiece", f"{theirs['seconds']:.2f}", f"{theirs['peak_mb']:.0f}",
                         f"{q_theirs[0]:.4f}", f"{q_theirs[1]:.4f}"])  # fmt: skip
            rows.append([vocab, "ratio subtok/spm", f"{ours['seconds'] / theirs['seconds']:.2f}",
                         f"{ours['peak_mb'] / theirs['peak_mb']:.2f}", f"{q_ours[0] / q_theirs[0]:.4f}",
                         f"{q_ours[1] / q_theirs[1]:.4f}"])  # fmt: skip
    print_table(rows, ["vocab", "who", "seconds", "peak MB", "tokens/word", "loglik/char"])
    print("goals: seconds ratio <= 1, peak ratio <= 0.5, tokens/word ratio within 1% of 1, loglik/char ratio "
          "<= 1.005 (log-likelihoods are negative: a ratio above 1 is worse)")  # fmt: skip


if __name__ == "__main__":
    main()
