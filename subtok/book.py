"""The book's names and signatures ("Deep Learning from Scratch 2", common/util.py), as thin wrappers
over subtok, so the book's examples run unchanged. Where the book prints (most_similar, analogy), these
print the same way; the subtok functions underneath return their results instead."""

from __future__ import annotations

import numpy as np

from . import cooc
from .vectors import KeyedVectors
from .vocab import Vocab
from .vocab import preprocess as _preprocess


def preprocess(text: str):
    """The book's preprocess: (corpus, word_to_id, id_to_word)."""
    ids, vocab = _preprocess(text)
    return ids, dict(vocab.word_to_id), dict(enumerate(vocab.id_to_word))


def _vocab(id_to_word: dict) -> Vocab:
    """The book's two dicts as a Vocab (ids are the positions in ``id_to_word``)."""
    return Vocab([id_to_word[i] for i in range(len(id_to_word))])


def create_co_matrix(corpus, vocab_size: int, window_size: int = 1) -> np.ndarray:
    """The dense co-occurrence matrix (int32), as the book's; counted sparsely first."""
    return cooc.co_matrix(corpus, vocab_size, window_size).toarray().astype(np.int32)


def cos_similarity(x, y, eps: float = 1e-8) -> float:
    return cooc.cos_similarity(x, y, eps)


def most_similar(query: str, word_to_id: dict, id_to_word: dict, word_matrix, top: int = 5):
    """Prints the words most similar to ``query`` as the book does (and returns them)."""
    if query not in word_to_id:
        print(f"{query} is not found")
        return None
    print("\n[query] " + query)
    result = cooc.most_similar(query, _vocab(id_to_word), word_matrix, top)
    for word, score in result:
        print(f" {word}: {score}")
    return result


def analogy(a: str, b: str, c: str, word_to_id: dict, id_to_word: dict, word_matrix, top: int = 5, answer=None):
    """The book's analogy (a:b = c:?), printed as the book does: scores are the dot products of the rows
    of ``word_matrix`` with the normalized b - a + c (``KeyedVectors.analogy(normalized=False)``)."""
    for word in (a, b, c):
        if word not in word_to_id:
            print(f"{word} is not found")
            return None
    print("\n[analogy] " + a + ":" + b + " = " + c + ":?")
    vectors = KeyedVectors(np.asarray(word_matrix), _vocab(id_to_word))
    if answer is not None:
        scores, _ = vectors.analogy_scores(a, b, c, normalized=False)
        print("==>" + answer + ":" + str(scores[word_to_id[answer]]))
    out = vectors.analogy(a, b, c, top=top, normalized=False)
    for word, score in out:
        print(f" {word}: {score}")
    return out


def ppmi(C, verbose: bool = False, eps: float = 1e-8) -> np.ndarray:
    """The dense PPMI matrix (float32), as the book's; computed on the nonzeros only."""
    return cooc.ppmi(np.asarray(C), eps=eps).toarray()


def create_contexts_target(corpus, window_size: int = 1):
    """(contexts, target): for each position with a full window, its neighbours and itself."""
    corpus = np.asarray(corpus)
    target = corpus[window_size:-window_size]
    offsets = [t for t in range(-window_size, window_size + 1) if t != 0]
    n = len(target)
    contexts = np.stack([corpus[window_size + t : window_size + t + n] for t in offsets], axis=1)
    return contexts, target


def convert_one_hot(corpus, vocab_size: int) -> np.ndarray:
    """One-hot (int32) of a 1-D or 2-D array of ids."""
    corpus = np.asarray(corpus)
    return (corpus[..., None] == np.arange(vocab_size)).astype(np.int32)


def clip_grads(grads, max_norm: float) -> None:
    """Scale ``grads`` in place so their global L2 norm is at most ``max_norm``."""
    total = np.sqrt(sum(float(np.sum(g**2)) for g in grads))
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate


def eval_perplexity(model, corpus, batch_size: int = 10, time_size: int = 35) -> float:
    """The book's evaluation: ``batch_size`` streams over the corpus, ``time_size`` steps at a time,
    state carried across batches; perplexity = exp(mean loss)."""
    corpus = np.asarray(corpus)
    corpus_size = len(corpus)
    max_iters = (corpus_size - 1) // (batch_size * time_size)
    if max_iters < 1:
        raise ValueError(f"a corpus of {corpus_size} ids is shorter than one batch of {batch_size} x {time_size}")
    jump = (corpus_size - 1) // batch_size
    total_loss = 0.0
    starts = np.arange(batch_size) * jump
    for it in range(max_iters):
        pos = starts[:, None] + it * time_size + np.arange(time_size)[None, :]
        xs, ts = corpus[pos % corpus_size], corpus[(pos + 1) % corpus_size]
        try:
            loss = model.forward(xs, ts, train_flg=False)
        except TypeError:
            loss = model.forward(xs, ts)
        total_loss += float(loss)
    return float(np.exp(total_loss / max_iters))
