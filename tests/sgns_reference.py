"""The native word2vec kernel (subtok/csrc/kernels.c, sgns_train) in Python, step by step: its reference.

The library's numpy engine learns the same model a minibatch at a time, so it can only equal the kernel in
distribution; this file follows the kernel one word at a time, with the same random stream (splitmix64),
the same alias table, the same sigmoid table and the same float32 arithmetic in the same order, so a test
can hold the two equal bit for bit on small inputs. Slow: for tests only.
"""

from __future__ import annotations

import math

import numpy as np

MASK = (1 << 64) - 1
EXP_TABLE, MAX_EXP = 1000, 6
SIGMOID = np.array(
    [1.0 / (1.0 + math.exp(-((i / EXP_TABLE * 2 - 1) * MAX_EXP))) for i in range(EXP_TABLE)], dtype=np.float32
)
F32 = np.float32


class SplitMix64:
    """rng_next: the kernel's random stream."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def alias_build(weights: np.ndarray) -> tuple[list[float], list[int]]:
    """alias_build: Walker's table, in doubles, filled in the kernel's order."""
    total = 0.0
    for w in weights:
        total += float(w)
    n = len(weights)
    prob = [float(w) / total * n for w in weights]
    alias = list(range(n))
    small = [i for i in range(n) if prob[i] < 1.0]
    large = [i for i in range(n) if prob[i] >= 1.0]
    while small and large:
        s, big = small.pop(), large[-1]
        alias[s] = big
        prob[big] -= 1.0 - prob[s]
        if prob[big] < 1.0:
            large.pop()
            small.append(big)
    for i in large + small:
        prob[i] = 1.0
    return prob, alias


def draw_negative(prob: list[float], alias: list[int], rng: SplitMix64) -> int:
    r = rng.next()
    i = (r >> 32) % len(prob)
    return i if (r & 0xFFFFFFFF) / 4294967296.0 < prob[i] else alias[i]


def dot8(a: np.ndarray, b: np.ndarray) -> np.float32:
    """The kernel's dot product: eight float32 partial sums, then the tail, then the partial sums."""
    acc = np.zeros(8, dtype=np.float32)
    j = 0
    while j + 8 <= len(a):
        acc += a[j : j + 8] * b[j : j + 8]
        j += 8
    f = F32(0)
    for t in range(j, len(a)):
        f = F32(f + a[t] * b[t])
    for k in range(8):
        f = F32(f + acc[k])
    return f


def sgns_step(syn1, h, out_word, negative, table, lr, grad, rng) -> None:
    for d in range(negative + 1):
        target = out_word if d == 0 else draw_negative(*table, rng)
        if d > 0 and target == out_word:
            continue
        o = syn1[target]
        f = dot8(h, o)
        if f <= -MAX_EXP or f >= MAX_EXP:
            continue
        sig = SIGMOID[int(F32(F32(f + F32(MAX_EXP)) * F32(EXP_TABLE // MAX_EXP // 2)))]
        g = F32(F32(F32(1.0 if d == 0 else 0.0) - sig) * lr)
        grad += g * o
        o += g * h


def sgns_train(syn0, syn1, stream, segments, noise, window, negative, sg, lr0, lr1, seed) -> None:
    """One epoch over ``stream`` (ids), updating ``syn0`` and ``syn1`` (float32) in place, as the kernel."""
    table = alias_build(noise)
    rng = SplitMix64(seed)
    n, D = len(stream), syn0.shape[1]
    for i in range(n):
        lr = F32(lr0 + (lr1 - lr0) * float(i) / float(n))
        reach = window - rng.next() % window
        context = [c for c in range(max(i - reach, 0), min(i + reach, n - 1) + 1) if c != i]
        context = [c for c in context if segments[c] == segments[i]]
        if sg:  # each context word's vector predicts the centre
            for c in context:
                grad = np.zeros(D, dtype=np.float32)
                sgns_step(syn1, syn0[stream[c]], stream[i], negative, table, lr, grad, rng)
                syn0[stream[c]] += grad
        elif context:  # the mean of the context vectors predicts the centre
            h = np.zeros(D, dtype=np.float32)
            for c in context:
                h += syn0[stream[c]]
            h /= F32(len(context))
            grad = np.zeros(D, dtype=np.float32)
            sgns_step(syn1, h, stream[i], negative, table, lr, grad, rng)
            for c in context:
                syn0[stream[c]] += grad
