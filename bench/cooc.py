"""Count-based vectors on PTB: co_matrix + ppmi + svd, sparse (subtok) against a dense vectorized numpy
version of the same pipeline, in one run; then a 100k-word vocabulary to show it scales.

Usage: python bench/cooc.py
PTB train with each newline read as <eos> (ids by first appearance, V = 10,000), window 2, k = 100. Each
pipeline runs in its own process (time and peak memory are its own). Prints WordSim-353 Spearman of the
vectors and the book's most_similar queries.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, mixed_corpus, print_table, require_data, run_measured  # noqa: E402

LOAD_PTB = """
import numpy as np, time
word_to_id, chunks = {{}}, []
with open({ptb!r}, encoding='utf-8') as f:  # line by line: no list of every word in memory
    for line in f:
        ws = line.split() + ['<eos>']
        chunks.append(np.fromiter((word_to_id.setdefault(w, len(word_to_id)) for w in ws), np.int64, len(ws)))
ids = np.concatenate(chunks)
del chunks
V = len(word_to_id)
"""

SPARSE = (
    LOAD_PTB
    + """
from subtok import cooc
t = time.perf_counter()
C = cooc.co_matrix(ids, V, window_size=2)
t1 = time.perf_counter()
M = cooc.ppmi(C)
t2 = time.perf_counter()
U = cooc.svd(M, k=100, seed=0)
t3 = time.perf_counter()
np.save({out!r}, U)
out = dict(seconds=t3 - t, co=t1 - t, ppmi=t2 - t1, svd=t3 - t2, nnz=M.nnz, V=V)
"""
)

DENSE = (
    LOAD_PTB
    + """
from subtok import cooc
t = time.perf_counter()
C = np.zeros((V, V), dtype=np.int32)
for d in (1, 2):
    np.add.at(C, (ids[:-d], ids[d:]), 1)
    np.add.at(C, (ids[d:], ids[:-d]), 1)
t1 = time.perf_counter()
N = C.sum(dtype=np.float64); S = C.sum(axis=0, dtype=np.float64)
with np.errstate(divide='ignore'):
    M = np.maximum(np.log2(C * (N / np.outer(S, S)) + 1e-8), 0).astype(np.float32)
t2 = time.perf_counter()
U = cooc.svd(M, k=100, seed=0)
t3 = time.perf_counter()
sp = cooc.co_matrix(ids, V, window_size=2)
same_counts = bool(np.array_equal(sp.toarray(), C))
sparse_ppmi = cooc.ppmi(sp).toarray()
max_diff = float(np.abs(sparse_ppmi - M).max())
out = dict(seconds=t3 - t, co=t1 - t, ppmi=t2 - t1, svd=t3 - t2, same_counts=same_counts, ppmi_max_diff=max_diff)
"""
)

BIG = """
import numpy as np, time
from subtok import cooc
from subtok.corpus import iter_texts
t = time.perf_counter()
word_to_id, chunks = {{}}, []
for line in iter_texts({path!r}):
    ws = line.split() + ['<eos>']
    chunks.append(np.fromiter((word_to_id.setdefault(w, len(word_to_id)) for w in ws), dtype=np.int64, count=len(ws)))
ids = np.concatenate(chunks)
t0 = time.perf_counter()
C = cooc.co_matrix(ids, len(word_to_id), window_size=2)
M = cooc.ppmi(C)
U = cooc.svd(M, k=100, seed=0)
out = dict(seconds=time.perf_counter() - t0, read=t0 - t, V=len(word_to_id), tokens=len(ids), nnz=M.nnz)
"""


def main() -> None:
    data = require_data()
    ptb = str(data / "ptb" / "ptb.train.txt")
    work = os.path.join(os.path.dirname(str(mixed_corpus())), "bench-cooc")
    os.makedirs(work, exist_ok=True)
    vec_path = os.path.join(work, "ptb-svd.npy")
    print(f"machine: {machine()}\n")
    sp = run_measured(SPARSE.format(ptb=ptb, out=vec_path))
    de = run_measured(DENSE.format(ptb=ptb))
    rows = [
        [
            "subtok sparse",
            f"{sp['co']:.2f}",
            f"{sp['ppmi']:.2f}",
            f"{sp['svd']:.2f}",
            f"{sp['seconds']:.2f}",
            f"{sp['peak_mb']:.0f}",
        ],
        [
            "dense numpy",
            f"{de['co']:.2f}",
            f"{de['ppmi']:.2f}",
            f"{de['svd']:.2f}",
            f"{de['seconds']:.2f}",
            f"{de['peak_mb']:.0f}",
        ],
    ]
    print(f"PTB train, V = {sp['V']}, window 2, k = 100 (PPMI nonzeros: {sp['nnz']:,})")
    print_table(rows, ["pipeline", "co_matrix s", "ppmi s", "svd s", "total s", "peak MB"])
    print(
        f"speed: {de['seconds'] / sp['seconds']:.1f}x; memory: {sp['peak_mb'] / de['peak_mb']:.3f} of dense; "
        f"identical counts: {de['same_counts']}; PPMI max difference: {de['ppmi_max_diff']:.2e}"
    )

    import numpy as np

    from subtok import Vocab, cooc
    from subtok.evaluate import read_word_pairs, spearman

    text = open(ptb, encoding="utf-8").read().replace("\n", " <eos> ").split()
    vocab = Vocab(list(dict.fromkeys(text)))
    U = np.load(vec_path)
    pairs = read_word_pairs(data / "eval" / "wordsim353.tsv")
    known = [(a, b, s) for a, b, s in pairs if a.lower() in vocab and b.lower() in vocab]
    sims = [cooc.cos_similarity(U[vocab[a.lower()]], U[vocab[b.lower()]]) for a, b, _ in known]
    rho = spearman([s for *_, s in known], sims)
    print(
        f"WordSim-353 Spearman: {rho:.3f} on {len(known)} of {len(pairs)} pairs "
        f"({1 - len(known) / len(pairs):.0%} out of vocabulary)"
    )
    for query in ("you", "year", "car", "toyota"):
        print(f"  {query}: " + ", ".join(f"{w} {s:.3f}" for w, s in cooc.most_similar(query, vocab, U, top=5)))

    big = run_measured(BIG.format(path=str(mixed_corpus())))
    print(
        f"\nthe whole mixed corpus (11.7 MB), words split on whitespace, min_count 1: V = {big['V']:,}, "
        f"{big['tokens']:,} tokens, PPMI nonzeros {big['nnz']:,}"
    )
    print(
        f"co_matrix + ppmi + svd(k=100): {big['seconds']:.1f} s (reading {big['read']:.1f} s), "
        f"peak memory {big['peak_mb']:.0f} MB (a dense V x V float32 matrix alone: "
        f"{big['V'] ** 2 * 4 / 1e9:.0f} GB)"
    )


if __name__ == "__main__":
    main()
