"""The layers of word2vec (the book's chapters 3-4), vectorized over the batch."""

from __future__ import annotations

from typing import Optional

import numpy as np


def scatter_add(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """target[index[i]] += values[i] for every i, repeated indices accumulating (as ``np.add.at``, but by
    sorting the indices and summing runs, which is many times faster for rows of vectors)."""
    index = np.asarray(index).ravel()
    if index.size == 0:
        return
    values = values.reshape(index.size, *target.shape[1:])
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
    sums = np.add.reduceat(values[order], starts, axis=0)
    target[sorted_index[starts]] += sums.astype(target.dtype, copy=False)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


class Embedding:
    """Rows of W by id: forward(idx) = W[idx]; backward accumulates into the rows used."""

    def __init__(self, W: np.ndarray) -> None:
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.idx: Optional[np.ndarray] = None

    def forward(self, idx: np.ndarray) -> np.ndarray:
        self.idx = idx
        return self.params[0][idx]

    def backward(self, dout: np.ndarray) -> None:
        dW = self.grads[0]
        dW[...] = 0
        scatter_add(dW, self.idx, dout)


class EmbeddingDot:
    """The dot product of h with the output vectors of ``idx``: forward(h, idx) = sum(W[idx] * h, axis=-1)."""

    def __init__(self, W: np.ndarray) -> None:
        self.embed = Embedding(W)
        self.params = self.embed.params
        self.grads = self.embed.grads
        self.cache = None

    def forward(self, h: np.ndarray, idx: np.ndarray) -> np.ndarray:
        target_W = self.embed.forward(idx)
        self.cache = (h, target_W)
        return np.sum(target_W * h, axis=-1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        h, target_W = self.cache
        dout = dout[..., None]
        self.embed.backward(dout * h)
        return dout * target_W


class SigmoidWithLoss:
    """Binary cross-entropy of sigmoid(x) against labels t, averaged over the batch."""

    def __init__(self) -> None:
        self.params, self.grads = [], []
        self.y = self.t = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.t = t
        self.y = sigmoid(x)
        eps = 1e-7
        return float(-np.mean(t * np.log(self.y + eps) + (1 - t) * np.log(1 - self.y + eps)))

    def backward(self, dout: float = 1.0) -> np.ndarray:
        return (self.y - self.t) * dout / self.t.shape[0]


class AliasTable:
    """Walker's alias method: draws from a discrete distribution in O(1) each, two uniform numbers and a
    comparison, so a whole batch is drawn vectorized. The native kernel builds the same table
    (``alias_build`` in bpe.c)."""

    def __init__(self, weights: np.ndarray) -> None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0 or (weights < 0).any() or not weights.sum() > 0:
            raise ValueError("an alias table needs a non-empty vector of non-negative weights, not all zero")
        n = weights.size
        prob = weights / weights.sum() * n  # each of the n columns holds 1: its own share, then its alias'
        alias = np.arange(n)
        small = [int(i) for i in np.flatnonzero(prob < 1.0)]
        large = [int(i) for i in np.flatnonzero(prob >= 1.0)]
        while small and large:
            s, big = small.pop(), large[-1]
            alias[s] = big
            prob[big] -= 1.0 - prob[s]
            if prob[big] < 1.0:
                large.pop()
                small.append(big)
        prob[large + small] = 1.0  # what rounding left over
        self.prob, self.alias = prob, alias

    def draw(self, rng: np.random.Generator, shape) -> np.ndarray:
        column = rng.integers(0, self.prob.size, shape)
        return np.where(rng.random(shape) < self.prob[column], column, self.alias[column])


class UnigramSampler:
    """Negative samples from the unigram distribution raised to ``power`` (0.75 in word2vec), never equal
    to the row's target; drawn for the whole batch at once."""

    def __init__(
        self,
        corpus: np.ndarray,
        power: float,
        sample_size: int,
        seed: Optional[int] = 0,
        vocab_size: Optional[int] = None,
    ) -> None:
        counts = np.bincount(np.asarray(corpus), minlength=vocab_size or 0).astype(np.float64)
        p = counts**power
        self.p = p / p.sum()
        self.table = AliasTable(self.p)
        self.sample_size = sample_size
        self.vocab_size = len(counts)
        self.rng = np.random.default_rng(seed)

    def draw(self, shape) -> np.ndarray:
        return self.table.draw(self.rng, shape)

    def get_negative_sample(self, target: np.ndarray) -> np.ndarray:
        target = np.asarray(target)
        out = self.draw((*target.shape, self.sample_size))
        clash = out == target[..., None]
        while clash.any():  # redraw only the clashes: a target is never its own negative
            if np.count_nonzero(self.p) <= 1:
                raise ValueError("negative sampling needs at least two words with nonzero probability")
            out[clash] = self.draw(int(clash.sum()))
            clash = out == target[..., None]
        return out


class NegativeSamplingLoss:
    """The positive target against ``sample_size`` negatives: one EmbeddingDot + SigmoidWithLoss each."""

    def __init__(
        self, W: np.ndarray, corpus: np.ndarray, power: float = 0.75, sample_size: int = 5, seed: Optional[int] = 0
    ) -> None:
        self.sample_size = sample_size
        self.sampler = UnigramSampler(corpus, power, sample_size, seed, vocab_size=W.shape[0])
        self.loss_layers = [SigmoidWithLoss() for _ in range(sample_size + 1)]
        self.embed_dot_layers = [EmbeddingDot(W) for _ in range(sample_size + 1)]
        self.params, self.grads = [], []
        for layer in self.embed_dot_layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, h: np.ndarray, target: np.ndarray) -> float:
        batch = target.shape[0]
        negatives = self.sampler.get_negative_sample(target)
        loss = self.loss_layers[0].forward(self.embed_dot_layers[0].forward(h, target), np.ones(batch, np.int32))
        zeros = np.zeros(batch, np.int32)
        for i in range(self.sample_size):
            score = self.embed_dot_layers[1 + i].forward(h, negatives[:, i])
            loss += self.loss_layers[1 + i].forward(score, zeros)
        return loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        dh = 0
        for loss_layer, dot_layer in zip(self.loss_layers, self.embed_dot_layers):
            dh = dh + dot_layer.backward(loss_layer.backward(dout))
        return dh
