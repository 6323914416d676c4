"""word2vec (the book's chapters 3-4): CBOW and skip-gram with negative sampling.

Training follows gensim (and word2vec.c): frequent-word subsampling (``sample``), a window shrunk at
random for each centre word, negatives from the unigram distribution to the power 0.75, a learning rate
decaying linearly to ``min_lr`` over all epochs, gensim's initial range and its skip of saturated scores.
Two engines run it: a compiled kernel in the native core (one word at a time, as word2vec.c; the default
when built) and a numpy engine that updates a minibatch of words at once, in blocks that share negatives
(vectorized, with scatter-adds; ``engine="numpy"``). Both learn vectors as good as gensim's on PTB; their
quality and speed against gensim are in bench/RESULTS.md. ``Word2Vec.engine_used`` says which ran. The
trained vectors are a :class:`subtok.vectors.KeyedVectors` (``w2v.wv``), importable from here too.

Vectors for any string: trained on a subword tokenizer's ids, ``w2v.vector(text, tokenizer=tok)`` is the
mean of the vectors of the text's pieces, so words never seen in training still get a vector.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np

from . import _backend
from ._io import PathLike, atomic_write_bytes, check_header, read_npz
from .errors import FileFormatError, SubtokError
from .nn.layers import AliasTable, sigmoid
from .progress import progress_bar
from .vectors import KeyedVectors
from .vocab import Vocab

__all__ = ["KeyedVectors", "Word2Vec"]

FORMAT = "subtok-word2vec"
FORMAT_VERSION = 1
# what Word2Vec.save keeps of its parameters (show_progress is a matter of the run, not of the model)
PARAMS = (
    "vector_size",
    "window",
    "sg",
    "negative",
    "ns_exponent",
    "sample",
    "min_count",
    "epochs",
    "batch_size",
    "lr",
    "min_lr",
    "seed",
    "engine",
)

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
        for name, value, low, high in (
            ("lr", lr, 0.0, 10.0),
            ("min_lr", min_lr, 0.0, 10.0),
            ("ns_exponent", ns_exponent, -10.0, 10.0),
            ("sample", sample, 0.0, 1.0),
        ):  # NaN, infinities and negative rates would train garbage (or worse, in the native kernel)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise SubtokError(f"{name} must be a number in [{low}, {high}], not {value!r}")
        if not 0 < lr or min_lr > lr:
            raise SubtokError(f"lr must be above 0 and at least min_lr ({min_lr}), not {lr!r}")
        self.vector_size, self.window, self.sg, self.negative = vector_size, window, sg, negative
        self.ns_exponent, self.sample, self.min_count, self.epochs = ns_exponent, sample, min_count, epochs
        self.batch_size, self.lr, self.min_lr, self.seed = batch_size, lr, min_lr, seed
        self.engine, self.show_progress = engine, show_progress
        self.wv: Optional[KeyedVectors] = None
        self.syn1neg: Optional[np.ndarray] = None
        self.words_per_second = 0.0

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
                    _backend.native("sgns_train")(
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
        """One npz file, written atomically: the word vectors, the output weights ``syn1neg``, the
        vocabulary and the parameters (``Word2Vec.load`` reads it back)."""
        wv = self._require()
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "params": {k: getattr(self, k) for k in PARAMS},
            "vocab": wv.vocab.to_dict(),
        }
        buf = io.BytesIO()
        np.savez(buf, vectors=wv.vectors, syn1neg=self.syn1neg, meta=np.array(json.dumps(meta)))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: PathLike) -> Word2Vec:
        """A model written by ``save``, its vectors and output weights as they were."""
        source = str(path)
        data = read_npz(path, "a saved Word2Vec")
        try:
            vectors, syn1neg, meta = data["vectors"], data["syn1neg"], json.loads(str(data["meta"]))
        except (KeyError, ValueError) as e:
            raise FileFormatError(f"{source}: not a saved Word2Vec ({e})") from None
        check_header(meta, FORMAT, FORMAT_VERSION, source, "word2vec", FileFormatError)
        params = meta.get("params")
        if not isinstance(params, dict) or set(params) != set(PARAMS):
            raise FileFormatError(f"{source}: 'params' must hold exactly {', '.join(PARAMS)}")
        vocab = Vocab.from_dict(meta.get("vocab"), source=source)
        try:
            model = cls(**params)
            model.wv = KeyedVectors(vectors, vocab)
        except (SubtokError, TypeError) as e:
            raise FileFormatError(f"{source}: {e}") from None
        if syn1neg.shape != vectors.shape:
            raise FileFormatError(f"{source}: syn1neg has shape {syn1neg.shape}, the vectors {vectors.shape}")
        model.syn1neg = syn1neg
        return model
