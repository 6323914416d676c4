"""word2vec on PTB against gensim, one worker each, same hyperparameters, same run.

Usage: python bench/word2vec.py [--epochs 3 10]
PTB train, one sentence per line with <eos> at its end (gensim cuts a longer "sentence" at 10,000 words, so
both get the lines; windows stay inside a line); vector_size 100, window 5, negative 5, sample 1e-3, min_count 1. Prints
words/s, WordSim-353 Spearman and questions-words accuracy (in-vocabulary questions) for gensim, subtok's
native kernel and subtok's numpy engine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from common import machine, print_table, require_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, nargs="+", default=[3, 10])
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed, then the means")
    ap.add_argument("--models", nargs="+", choices=["cbow", "sg"], default=["cbow", "sg"])
    args = ap.parse_args()
    data = require_data()
    lines = (data / "ptb" / "ptb.train.txt").read_text(encoding="utf-8").splitlines()
    sentences = [line.split() + ["<eos>"] for line in lines]
    words = [w for s in sentences for w in s]
    pairs, questions = data / "eval" / "wordsim353.tsv", data / "eval" / "questions-words.txt"
    print(f"PTB train: {len(words):,} words; machine: {machine()}\n")

    from subtok import Vocab
    from subtok.word2vec import KeyedVectors, Word2Vec

    w2i: dict = {}
    ids = [np.array([w2i.setdefault(w, len(w2i)) for w in s], dtype=np.int64) for s in sentences]
    vocab = Vocab(list(w2i))
    rows = []
    for epochs, sg, seed in itertools.product(args.epochs, [m == "sg" for m in args.models], args.seeds):
        name = "skip-gram" if sg else "CBOW"
        suffix = f" seed {seed}" if len(args.seeds) > 1 else ""
        try:
            from gensim.models import Word2Vec as GensimW2V

            t = time.perf_counter()
            g = GensimW2V(
                sentences,
                vector_size=100,
                window=5,
                negative=5,
                sample=1e-3,
                min_count=1,
                workers=1,
                sg=int(sg),
                epochs=epochs,
                seed=seed,
            )
            secs = time.perf_counter() - t
            kv = KeyedVectors(g.wv.vectors, Vocab(list(g.wv.index_to_key)))
            rows.append(_row(f"gensim {name}{suffix}", epochs, len(words) * epochs / secs, kv, pairs, questions))
            base = rows[-1][2]
        except ImportError:
            print("gensim not installed: pip install -e '.[bench]'")
            base = None
        engines = ["native", "numpy"] if not args.skip_numpy else ["native"]
        for engine in engines:
            m = Word2Vec(
                vector_size=100,
                window=5,
                negative=5,
                sample=1e-3,
                min_count=1,
                sg=sg,
                epochs=epochs,
                seed=seed,
                engine=engine,
            ).fit(ids, vocab)
            rows.append(_row(f"subtok {name} ({engine}){suffix}", epochs, m.words_per_second, m.wv, pairs, questions))
            if base:
                rows[-1][2] = (
                    f"{rows[-1][2]} ({float(rows[-1][2].replace(',', '')) / float(base.replace(',', '')):.2f}x)"
                )
    print_table(rows, ["model", "epochs", "words/s", "WordSim-353 Spearman", "analogy accuracy", "asked"])
    if len(args.seeds) > 1:
        means: dict = {}
        for row in rows:
            label = row[0].rsplit(" seed ", 1)[0]
            means.setdefault((label, row[1]), []).append((float(row[3]), float(row[4])))
        print(f"\nmeans over seeds {args.seeds}:")
        print_table(
            [
                [label, epochs, f"{np.mean([v[0] for v in vals]):.3f}", f"{np.mean([v[1] for v in vals]):.3f}"]
                for (label, epochs), vals in means.items()
            ],
            ["model", "epochs", "WordSim-353 Spearman (mean)", "analogy accuracy (mean)"],
        )


def _row(name, epochs, wps, kv, pairs, questions):
    _, spearman, oov = kv.evaluate_word_pairs(pairs)
    acc, sections = kv.evaluate_analogies(questions)
    asked = sum(s["total"] for s in sections)
    return [name, epochs, f"{wps:,.0f}", f"{spearman:.3f}", f"{acc:.3f}", asked]


if __name__ == "__main__":
    main()
