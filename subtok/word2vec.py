"""word2vec (the book's chapters 3-4): CBOW and skip-gram with negative sampling, and KeyedVectors.

Training follows gensim (and word2vec.c): frequent-word subsampling (``sample``), a window shrunk at
random for each centre word, negatives from the unigram distribution to the power 0.75, a learning rate
decaying linearly to ``min_lr`` over all epochs, gensim's initial range and its skip of saturated scores.
Two engines run it: a compiled kernel in the native core (one word at a time, as word2vec.c; the default
when built) and a numpy engine that updates a minibatch of words at once, in blocks that share negatives
(vectorized, with scatter-adds; ``engine="numpy"``). Both learn vectors as good as gensim's on PTB (within
0.02 on WordSim-353 and analogies, bench/RESULTS.md); the kernel is faster than gensim, the numpy engine
about 0.4x (CBOW) to 0.6x (skip-gram) of it. ``Word2Vec.engine_used`` says which ran.

Vectors for any string: trained on a subword tokenizer's ids, ``w2v.vector(text, tokenizer=tok)`` is the
mean of the vectors of the text's pieces, so words never seen in training still get a vector.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

import numpy as np

from . import _backend
from ._io import PathLike, atomic_write_bytes, atomic_write_json
from .cooc import analogy as _analogy
from .cooc import normalize_rows
from .errors import SubtokError, TokenizerFileError
from .evaluate import pearson, read_analogies, read_word_pairs, spearman
from .nn.layers import AliasTable, sigmoid
from .progress import progress_bar
from .sparse import top_k
from .vocab import Vocab

# The numpy engine's minibatch moves a row at most this many updates' worth (see _epoch_numpy).
UPDATE_CAP = 8
# A score this far from 0 makes no update (gensim's rule; word2vec.c uses sigmoid 0 or 1 there instead).
SATURATED = 6.0
# CBOW in the numpy engine: this many consecutive centres share their K negatives (see _epoch_numpy).
CBOW_BLOCK = 4


def _step_scale(index: np.ndarray, tally: np.ndarray) -> np.ndarray:
    """For each update of a minibatch, the factor that holds its row's summed step to UPDATE_CAP updates'
    worth. ``tally`` is a zeroed count per row, left zeroed again."""
    np.add.at(tally, index, 1)
    count = tally[index]
    tally[index] = 0
    return np.minimum(1.0, UPDATE_CAP / count).astype(np.float32)


def _add_rows(target: np.ndarray, rows: np.ndarray, updates: np.ndarray) -> None:
    """target[rows[i]] += updates[i], repeated rows accumulating: ``np.add.at`` on the flattened matrix,
    the form numpy's fast indexed loop takes (numpy >= 1.25), about 2x faster at these sizes than
    ``nn.scatter_add``'s sorted runs. (The language models keep ``nn.scatter_add``: the order of its
    additions is part of their published, reproducible figures.)"""
    D = target.shape[1]
    flat_index = ((rows * D)[:, None] + np.arange(D)).ravel()
    np.add.at(target.reshape(-1), flat_index, updates.astype(target.dtype, copy=False).reshape(-1))


class KeyedVectors:
    """Word vectors with their vocabulary: similarity queries and evaluations (as gensim's KeyedVectors)."""

    def __init__(self, vectors: np.ndarray, vocab: Vocab) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
            raise SubtokError(f"vectors of shape {vectors.shape} do not match a vocabulary of {len(vocab)}")
        self.vectors = vectors
        self.vocab = vocab
        self._normed: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: str) -> bool:
        return word in self.vocab

    def __getitem__(self, word: str) -> np.ndarray:
        i = self.vocab.word_to_id.get(word)
        if i is None:
            raise KeyError(f"{word!r} is not in the vocabulary")
        return self.vectors[i]

    @property
    def normed(self) -> np.ndarray:
        if self._normed is None:
            self._normed = normalize_rows(self.vectors)
        return self._normed

    def similarity(self, a: str, b: str) -> float:
        return float(self.normed[self.vocab.word_to_id[a]] @ self.normed[self.vocab.word_to_id[b]])

    def most_similar(self, word: Union[str, np.ndarray], topn: int = 5) -> list[tuple[str, float]]:
        """The ``topn`` nearest words by cosine to a word (itself excluded) or to a vector."""
        if isinstance(word, str):
            if word not in self.vocab:
                raise SubtokError(f"{word!r} is not in the vocabulary")
            i = self.vocab.word_to_id[word]
            query, exclude = self.normed[i], np.array([i])
        else:
            query, exclude = np.asarray(word, dtype=np.float64), None
            query = query / (np.linalg.norm(query) + 1e-8)
        scores = self.normed @ query
        return [(self.vocab.token(int(j)), float(scores[j])) for j in top_k(scores, topn, exclude=exclude)]

    def analogy(self, a: str, b: str, c: str, top: int = 5, normalized: bool = True) -> list[tuple[str, float]]:
        """a : b = c : ?, a, b and c excluded: by 3CosAdd (cosine to b - a + c), or with ``normalized=False``
        as the book scores it (the raw vectors' dot product with the normalized b - a + c, which favours
        words with long vectors)."""
        if normalized:
            return _analogy(a, b, c, self.vocab, self.vectors, top)
        ids = []
        for word in (a, b, c):
            if word not in self.vocab:
                raise SubtokError(f"{word!r} is not in the vocabulary")
            ids.append(self.vocab.word_to_id[word])
        vecs = self.vectors.astype(np.float64)
        query = vecs[ids[1]] - vecs[ids[0]] + vecs[ids[2]]
        scores = vecs @ (query / np.linalg.norm(query))
        return [(self.vocab.token(int(j)), float(scores[j])) for j in top_k(scores, top, exclude=np.array(ids))]

    def evaluate_word_pairs(self, path: PathLike) -> tuple[float, float, float]:
        """(Pearson, Spearman, out-of-vocabulary ratio) of cosine similarity against human scores in a
        WordSim-353-style file; pairs with a word outside the vocabulary are skipped (case-insensitive)."""
        pairs = read_word_pairs(path)
        known, human = [], []
        for a, b, score in pairs:
            a2, b2 = self._find(a), self._find(b)
            if a2 is not None and b2 is not None:
                known.append(float(self.normed[a2] @ self.normed[b2]))
                human.append(score)
        oov = 1 - len(known) / len(pairs) if pairs else 0.0
        return pearson(human, known), spearman(human, known), oov

    def evaluate_analogies(self, path: PathLike, restrict_vocab: int = 300_000) -> tuple[float, list[dict]]:
        """Accuracy on a questions-words file, over the questions whose four words are all among the first
        ``restrict_vocab`` words (case-insensitive); per section: correct, total asked and skipped."""
        limit = min(restrict_vocab, len(self.vocab))
        normed = self.normed[:limit]
        sections, correct_all, asked_all = [], 0, 0
        for name, questions in read_analogies(path):
            ids = [[self._find(w, limit) for w in q] for q in questions]
            usable = np.array([q for q in ids if None not in q], dtype=np.int64).reshape(-1, 4)
            correct = 0
            for start in range(0, len(usable), 512):
                chunk = usable[start : start + 512]
                query = normed[chunk[:, 1]] - normed[chunk[:, 0]] + normed[chunk[:, 2]]
                scores = query @ normed.T
                rows = np.arange(len(chunk))
                for col in range(3):
                    scores[rows, chunk[:, col]] = -np.inf
                correct += int(np.sum(np.argmax(scores, axis=1) == chunk[:, 3]))
            sections.append(
                {"section": name, "correct": correct, "total": len(usable), "skipped": len(questions) - len(usable)}
            )
            correct_all += correct
            asked_all += len(usable)
        return (correct_all / asked_all if asked_all else 0.0), sections

    def _find(self, word: str, limit: Optional[int] = None) -> Optional[int]:
        for w in (word, word.lower()):
            i = self.vocab.word_to_id.get(w)
            if i is not None and (limit is None or i < limit):
                return i
        return None

    def save(self, path: PathLike) -> None:
        """``path`` (npz: the vectors) and ``path.json`` (the vocabulary), each written atomically."""
        import io

        buf = io.BytesIO()
        np.savez(buf, vectors=self.vectors)
        atomic_write_bytes(path, buf.getvalue())
        atomic_write_json(str(path) + ".json", self.vocab.to_dict())

    @classmethod
    def load(cls, path: PathLike) -> KeyedVectors:
        from .tokenizer import read_json_file

        vocab = Vocab.from_dict(read_json_file(str(path) + ".json"), source=str(path) + ".json")
        try:
            with np.load(path, allow_pickle=False) as data:
                vectors = data["vectors"]
        except (OSError, KeyError, ValueError) as e:
            raise TokenizerFileError(f"{path}: not a KeyedVectors npz file ({e})") from None
        return cls(vectors, vocab)

    @classmethod
    def load_book_params(cls, path: PathLike) -> KeyedVectors:
        """The book's CBOW vectors (cbow_params.npz: word_vecs and vocab)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(data["word_vecs"].astype(np.float32), Vocab([str(w) for w in data["vocab"]]))


class Word2Vec:
    """CBOW (``sg=False``) or skip-gram (``sg=True``) with negative sampling; gensim's parameter names."""

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 5,
        sg: bool = False,
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 1e-3,
        min_count: int = 1,
        epochs: int = 5,
        batch_size: int = 256,
        lr: float = 0.025,
        min_lr: float = 0.0001,
        seed: int = 0,
        engine: str = "auto",
        show_progress: Optional[bool] = None,
    ) -> None:
        if window < 1:
            raise SubtokError(f"window must be at least 1, not {window}")
        if vector_size < 1 or negative < 1 or epochs < 1 or batch_size < 1 or min_count < 1:
            raise SubtokError("vector_size, negative, epochs, batch_size and min_count must be positive")
        if engine not in ("auto", "native", "numpy"):
            raise SubtokError(f"engine must be 'auto', 'native' or 'numpy', not {engine!r}")
        self.vector_size, self.window, self.sg, self.negative = vector_size, window, sg, negative
        self.ns_exponent, self.sample, self.min_count, self.epochs = ns_exponent, sample, min_count, epochs
        self.batch_size, self.lr, self.min_lr, self.seed = batch_size, lr, min_lr, seed
        self.engine, self.show_progress = engine, show_progress
        self.wv: Optional[KeyedVectors] = None
        self.syn1neg: Optional[np.ndarray] = None
        self.words_per_second = 0.0
        self.loss_history: list[float] = []

    # -- training -------------------------------------------------------------------------------------
    def fit(self, corpus_ids: Union[np.ndarray, Sequence[np.ndarray]], vocab: Vocab) -> Word2Vec:
        """Train on ids (one array, or one array per sentence: windows stay inside a sentence)."""
        parts = [np.asarray(corpus_ids)] if isinstance(corpus_ids, np.ndarray) else [np.asarray(p) for p in corpus_ids]
        ids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        if ids.size == 0:
            raise SubtokError("the corpus is empty: nothing to train on")
        if ids.min() < 0 or ids.max() >= len(vocab):
            bad = int(ids[(ids < 0) | (ids >= len(vocab))][0])
            raise SubtokError(f"id {bad} is outside the vocabulary of size {len(vocab)}")
        segments = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
        counts = np.bincount(ids, minlength=len(vocab))
        keep = counts >= self.min_count
        if not keep.any():
            raise SubtokError(f"no word occurs min_count={self.min_count} times")
        new_id = np.cumsum(keep) - 1  # words kept in their original order
        kept_vocab = Vocab(
            [vocab.token(i) for i in np.flatnonzero(keep)],
            counts={vocab.token(i): int(counts[i]) for i in np.flatnonzero(keep)},
        )
        mask = keep[ids]
        ids, segments, counts = new_id[ids[mask]], segments[mask], counts[keep]
        V, D = len(kept_vocab), self.vector_size
        rng = np.random.default_rng(self.seed)
        syn0 = ((rng.random((V, D)) * 2 - 1) / D).astype(np.float32)  # gensim's range (word2vec.c's is half)
        syn1neg = np.zeros((V, D), dtype=np.float32)
        total = len(ids)
        threshold = self.sample * total
        keep_prob = (
            np.ones(V) if self.sample <= 0 else np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)
        )
        native = _backend.name == "native"
        engine = "native" if (self.engine == "native" or (self.engine == "auto" and native)) else "numpy"
        if engine == "native" and not native:
            raise SubtokError("engine='native' needs the compiled extension")
        self.engine_used = engine
        noise = counts.astype(np.float64) ** self.ns_exponent  # the kernel builds its own alias table
        sampler = noise if engine == "native" else AliasTable(noise)
        span = self.lr - self.min_lr
        start = time.perf_counter()
        with progress_bar(total=self.epochs * total, desc="word2vec", unit="word", enabled=self.show_progress) as bar:
            for epoch in range(self.epochs):
                kept = rng.random(total) < keep_prob[ids]  # frequent words dropped at random, per epoch
                lr0 = self.min_lr + span * (1 - epoch / self.epochs)
                lr1 = self.min_lr + span * (1 - (epoch + 1) / self.epochs)
                stream, segs = ids[kept], segments[kept]
                if engine == "native":
                    _backend._native.sgns_train(
                        syn0,
                        syn1neg,
                        stream,
                        segs,
                        sampler,
                        self.window,
                        self.negative,
                        int(self.sg),
                        lr0,
                        lr1,
                        int(rng.integers(1 << 62)),
                    )
                else:
                    self._epoch_numpy(syn0, syn1neg, stream, segs, sampler, lr0, lr1, rng)
                bar.update(total)
                bar.set_postfix_str(f"{(epoch + 1) * total / (time.perf_counter() - start):,.0f} words/s")
        self.words_per_second = self.epochs * total / (time.perf_counter() - start)
        self.syn1neg = syn1neg
        self.wv = KeyedVectors(syn0, kept_vocab)
        return self

    def _epoch_numpy(self, syn0, syn1neg, stream, segs, noise, lr0, lr1, rng) -> None:
        """One epoch, a minibatch of consecutive centre words at a time, in blocks: each block's input
        vectors are scored against its output words in one small matrix product, then the updates are
        scatter-added.

        Skip-gram: a block is one centre; its inputs are the context words' vectors (each predicting the
        centre, as in word2vec.c and gensim), its outputs the centre and K negatives that its context words
        share (Ji et al. 2016, "Parallelizing word2vec in shared and distributed memory"). CBOW: a block is
        CBOW_BLOCK consecutive centres; its inputs are their context means, its outputs the centres (each
        the label of its own mean only) and K negatives they share. Each input still meets K draws from the
        noise distribution, so the expected update is word2vec's; sharing makes the output rows of a block
        one update each instead of one per input.

        A minibatch's updates are all computed from the same parameters and summed where they meet on a
        row, as word2vec's Hogwild threads sum theirs; word2vec.c applies them one by one, each on fresh
        values. Summed, a context word that serves several centres of the minibatch moves as far as it
        would one step at a time (scaling every sum down by the square root of its count cut the step of
        nearly every context word and learnt much weaker vectors). A row met more than UPDATE_CAP times
        (a frequent word, a tiny vocabulary) is held to UPDATE_CAP updates' worth, as a fixed number of
        threads would: whole sums of dozens of stale updates make training diverge."""
        n, w, K = len(stream), self.window, self.negative
        G = 1 if self.sg else CBOW_BLOCK
        batch = -(-self.batch_size // G) * G
        offsets = np.array([o for o in range(-w, w + 1) if o])
        tally = np.zeros(len(syn0), dtype=np.int64)
        # a block's outputs: its G centres, then K negatives; input j is labelled by output j (skip-gram: every
        # context word by the one centre)
        label = np.eye(G, G + K, dtype=bool)
        is_negative = np.arange(G + K) >= G
        for begin in range(0, n, batch):
            centre = np.arange(begin, begin + batch)  # past the end: dead rows, no context
            lr = lr0 + (lr1 - lr0) * begin / n
            reach = w - rng.integers(0, w, batch)  # each centre's shrunk window
            pos = centre[:, None] + offsets[None, :]
            ok = (np.abs(offsets)[None, :] <= reach[:, None]) & (pos >= 0) & (pos < n) & (centre < n)[:, None]
            centre, pos = np.minimum(centre, n - 1), np.clip(pos, 0, n - 1)
            ok &= segs[pos] == segs[centre][:, None]
            ctx, words = stream[pos], stream[centre]  # (batch, 2w) context words, valid where ok
            if self.sg:  # block = a centre: inputs its context words
                X = syn0.take(ctx, axis=0)
                valid = ok[:, :, None]
            else:  # block = G centres: inputs their context means
                count = ok.sum(axis=1)
                X = (ok.astype(np.float32)[:, None, :] @ syn0.take(ctx, axis=0))[:, 0]
                X = (X / np.maximum(count, 1)[:, None].astype(np.float32)).reshape(-1, G, X.shape[1])
                valid = (count > 0).reshape(-1, G, 1)
            outputs = np.concatenate([words.reshape(-1, G), noise.draw(rng, (batch // G, K))], axis=1)
            # skipped: a negative equal to the input's own centre
            live = (label | is_negative & (outputs[:, None, :] != words.reshape(-1, G, 1))) & valid
            out_vecs = syn1neg.take(outputs, axis=0)
            score = X @ out_vecs.transpose(0, 2, 1)  # (blocks, inputs, outputs)
            g = (label - sigmoid(score)) * lr
            g *= live & (np.abs(score) < SATURATED)  # a saturated score makes no update, as in gensim
            dX = g @ out_vecs
            used = live.any(axis=1)  # (blocks, outputs)
            rows = outputs[used]
            _add_rows(syn1neg, rows, (g.transpose(0, 2, 1) @ X)[used] * _step_scale(rows, tally)[:, None])
            r, c = np.nonzero(ok)
            grad = dX[r, c] if self.sg else dX.reshape(batch, -1)[r]  # CBOW: each context word the whole error
            _add_rows(syn0, ctx[r, c], grad * _step_scale(ctx[r, c], tally)[:, None])

    # -- queries --------------------------------------------------------------------------------------
    def _require(self) -> KeyedVectors:
        if self.wv is None:
            raise SubtokError("the model is not trained yet: call fit first")
        return self.wv

    @property
    def vectors(self) -> np.ndarray:
        return self._require().vectors

    def __getitem__(self, word: str) -> np.ndarray:
        return self._require()[word]

    def most_similar(self, word, topn: int = 5):
        return self._require().most_similar(word, topn)

    def evaluate_word_pairs(self, path: PathLike):
        return self._require().evaluate_word_pairs(path)

    def evaluate_analogies(self, path: PathLike):
        return self._require().evaluate_analogies(path)

    def vector(self, text: str, tokenizer=None) -> np.ndarray:
        """A vector for any string: its own when it is in the vocabulary, else (with ``tokenizer``, whose
        ids the model was trained on) the mean of its pieces' vectors."""
        wv = self._require()
        if text in wv.vocab and tokenizer is None:
            return wv[text]
        if tokenizer is None:
            raise SubtokError(f"{text!r} is not in the vocabulary; pass the tokenizer the model was trained with")
        enc = tokenizer.encode(text, add_special_tokens=False)
        pieces = [wv.vocab.word_to_id.get(tokenizer.id_to_token(i)) for i in enc.ids]
        pieces = [p for p in pieces if p is not None]
        if not pieces:
            raise SubtokError(f"none of the pieces of {text!r} has a vector")
        return wv.vectors[pieces].mean(axis=0)

    def save(self, path: PathLike) -> None:
        self._require().save(path)
        meta = {
            k: getattr(self, k)
            for k in (
                "vector_size",
                "window",
                "sg",
                "negative",
                "ns_exponent",
                "sample",
                "min_count",
                "epochs",
                "lr",
                "min_lr",
                "seed",
            )
        }
        atomic_write_json(Path(str(path) + ".params.json"), json.loads(json.dumps(meta)))
