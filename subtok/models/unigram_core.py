"""The Unigram model's hot loops in pure Python: best segmentation (Viterbi), the k best and sampling (EM
training's loops are in ``unigram_train_core``). ``csrc/unigram.c`` mirrors ``viterbi`` and ``sample`` (in
``SentencePieceEncoder``).

A text's lattice has a node for every vocabulary piece that occurs at a character position, and an
unknown node of one character where no one-character piece starts (SentencePiece's rule). Scores are
SentencePiece's float32 log-probabilities; a user-defined piece scores ``length * max_score - 0.1`` so it
is (nearly) always taken; an unknown character scores ``min_score - 10``.

Tie-breaks (SentencePiece's optimized encoder): the best path to each end position is the first one found
with the highest score, scanning start positions left to right; a candidate replaces the best so far only
when its score is strictly higher. Path scores are float32 sums, each candidate rounded to float32 before
it is compared, so ties (exact, or only in float32) break as in the sentencepiece library on every line
of the tests and benches. On long texts (thousands of pieces in one lattice) the library's sums round
differently somewhere, and a near-tie can go the other way there (measured in bench/sentencepiece.py).
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from collections.abc import Sequence
from typing import Optional

from ..charsmap import CharsMap
from ..normalizers import SentencePieceNormalizer
from ..text import Normalized
from .batch_core import TextBatches

FLT_MIN = 1.1754943508222875e-38  # SentencePiece starts max_score at FLT_MIN
UNK_PENALTY = 10.0


MASK64 = (1 << 64) - 1


class SplitMix64:
    """The generator of whole-text sampling, the same on both backends (Steele, Lea and Flood 2014):
    ``random()`` is the next output's top 53 bits over 2**53. Seeded per text, so a batch gives the same
    draws on any number of threads."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next64(self) -> int:
        """The next 64-bit output."""
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1): the next output's top 53 bits."""
        return (self.next64() >> 11) * (1.0 / 9007199254740992.0)


def f32(x: float) -> float:
    """``x`` rounded to float32."""
    return array("f", (x,))[0]


class PieceTable:
    """What a Unigram lattice needs of the vocabulary: piece -> id for the pieces that can match text
    (normal and user-defined), every prefix of them (to stop looking early), each piece's score and the
    scores SentencePiece gives user-defined pieces and unknown characters.

    ``float32``: SentencePiece's arithmetic (scores and path sums rounded to float32); without it, HF
    tokenizers' (float64 throughout)."""

    def __init__(
        self,
        pieces: Sequence[Optional[str]],
        scores: Sequence[float],
        matchable: Sequence[bool],
        user_defined: Sequence[bool],
        unk_id: int,
        float32: bool = True,
    ) -> None:
        self.ids: dict[str, int] = {}
        self.prefixes: set[str] = set()
        self.float32 = float32
        self.round = f32 if float32 else float
        self.scores = [self.round(s) for s in scores]
        normal = [self.scores[i] for i, p in enumerate(pieces) if matchable[i] and not user_defined[i]]
        self.min_score = min(normal, default=0.0)
        self.max_score = max([FLT_MIN, *normal])
        self.unk_id = unk_id
        self.unk_score = self.round(self.min_score - UNK_PENALTY)
        self.user: dict[int, tuple[float, float]] = {}  # id -> score by UTF-8 length, score by characters
        for i, p in enumerate(pieces):
            if p is None or not matchable[i]:
                continue
            self.ids.setdefault(p, i)
            for k in range(1, len(p)):
                self.prefixes.add(p[:k])
            if user_defined[i]:
                nbytes = len(p.encode("utf-8", "surrogatepass"))
                self.user[i] = (f32(nbytes * self.max_score) - 0.1, f32(f32(len(p) * self.max_score) - 0.1))
        self.prefixes.update(self.ids)

    def matches(self, text: str, start: int) -> list[tuple[int, int]]:
        """(end, id) of every piece that occurs at ``start``, shortest first."""
        out = []
        ids, prefixes = self.ids, self.prefixes
        end = start + 1
        n = len(text)
        while end <= n:
            piece = text[start:end]
            if piece not in prefixes:
                break
            i = ids.get(piece)
            if i is not None:
                out.append((end, i))
            end += 1
        return out

    def lattice(self, text: str) -> list[list[tuple[int, int, float]]]:
        """The lattice's nodes by start position: (end, id, score), id -1 for an unknown character
        (SentencePiece's lattice: a user-defined piece scores by its length in characters)."""
        nodes = []
        user = self.user
        for start in range(len(text)):
            here = [(end, i, user[i][1] if i in user else self.scores[i]) for end, i in self.matches(text, start)]
            if not here or here[0][0] != start + 1:
                here.insert(0, (start + 1, -1, self.unk_score))
            nodes.append(here)
        return nodes


def viterbi(table: PieceTable, text: str) -> list[tuple[int, int, int]]:
    """The best segmentation of ``text``: (start, end, id) per piece, id -1 for an unknown character
    (SentencePiece's ``EncodeOptimized``: path scores are float32 sums; HF's encode_optimized: float64
    sums, when the table is not ``float32``)."""
    n = len(text)
    if not n:
        return []
    best = array("f" if table.float32 else "d", bytes(8 * (n + 1)))[: n + 1]
    back = [-1] * (n + 1)
    back_id = [0] * (n + 1)
    user, scores, unk_score, rounded = table.user, table.scores, table.unk_score, table.round
    for start in range(n):
        here = best[start]
        single = False
        for end, i in table.matches(text, start):
            cand = rounded((user[i][0] if i in user else scores[i]) + here)
            if back[end] < 0 or cand > best[end]:
                best[end] = cand
                back[end] = start
                back_id[end] = i
            if end == start + 1:
                single = True
        if not single:
            cand = rounded(unk_score + here)
            if back[start + 1] < 0 or cand > best[start + 1]:
                best[start + 1] = cand
                back[start + 1] = start
                back_id[start + 1] = -1
    path = []
    end = n
    while end > 0:
        start = back[end]
        path.append((start, end, back_id[end]))
        end = start
    path.reverse()
    return path


def nbest(table: PieceTable, text: str, k: int) -> list[tuple[list[tuple[int, int, int]], float]]:
    """The ``k`` best segmentations of ``text`` with their scores (sums of node scores), best first; among
    equal scores, the one whose pieces' (start, id) sequence from the end is smallest first. Exact: each
    position keeps its k best paths."""
    n = len(text)
    if not n:
        return [([], 0.0)]
    lattice = table.lattice(text)
    ends: list[list[tuple[int, int, float]]] = [[] for _ in range(n + 1)]  # by end: (start, id, score)
    for start, nodes in enumerate(lattice):
        for end, i, score in nodes:
            ends[end].append((start, i, score))
    # kbest[pos]: up to k (score, path) of paths over text[:pos]; a path is a tuple of (start, end, id)
    kbest: list[list[tuple[float, tuple]]] = [[(0.0, ())]] + [[] for _ in range(n)]
    for pos in range(1, n + 1):
        cands = []
        for start, i, score in ends[pos]:
            for prev_score, path in kbest[start]:
                cands.append((prev_score + score, path + ((start, pos, i),)))
        cands.sort(key=lambda c: (-c[0], [(s, i) for s, _, i in reversed(c[1])]))
        kbest[pos] = cands[:k]
    return [(list(path), score) for score, path in kbest[n]]


def logsumexp(values: Sequence[float]) -> float:
    """log(sum(exp(v))): the first largest value, then a left-to-right sum (as the C twin sums)."""
    top = -math.inf
    for v in values:
        if v > top:
            top = v
    if top == -math.inf:
        return top
    acc = 0.0
    for v in values:
        acc += math.exp(v - top)
    return top + math.log(acc)


def softmax(logits: Sequence[float]) -> list[float]:
    """exp(logit - logsumexp(logits)) of each logit."""
    z = logsumexp(logits)
    return [math.exp(v - z) for v in logits]


def forward(lattice: list[list[tuple[int, int, float]]], n: int, theta: float = 1.0) -> list[float]:
    """alpha[pos]: log of the summed weight, exp(theta * score), of all paths over the first ``pos``
    characters."""
    incoming: list[list[float]] = [[] for _ in range(n + 1)]
    alpha = [0.0] + [-math.inf] * n
    for start, nodes in enumerate(lattice):
        alpha[start] = logsumexp(incoming[start]) if start else 0.0
        a = alpha[start]
        for end, _, score in nodes:
            incoming[end].append(a + theta * score)
    if n:
        alpha[n] = logsumexp(incoming[n])
    return alpha


def sample(table: PieceTable, text: str, theta: float, rng: random.Random) -> list[tuple[int, int, int]]:
    """One segmentation drawn with probability proportional to exp(theta * its score), over the whole
    lattice (forward filtering, backward sampling, as SentencePiece's ``nbest_size=-1``)."""
    n = len(text)
    if not n:
        return []
    lattice = table.lattice(text)
    alpha = forward(lattice, n, theta)
    ends: list[list[tuple[int, int, float]]] = [[] for _ in range(n + 1)]
    for start, nodes in enumerate(lattice):
        for end, i, score in nodes:
            ends[end].append((start, i, score))
    path = []
    pos = n
    while pos > 0:
        weights = [math.exp(alpha[s] + theta * score - alpha[pos]) for s, _, score in ends[pos]]
        total = 0.0
        for w in weights:
            total += w
        r = rng.random() * total
        k = 0
        while k < len(weights) - 1 and r >= weights[k]:
            r -= weights[k]
            k += 1
        start, i, _ = ends[pos][k]
        path.append((start, pos, i))
        pos = start
    path.reverse()
    return path


def bpe_path(
    table: PieceTable,
    unused: Sequence[bool],
    user: Sequence[str],
    text: str,
    dropout: float = 0.0,
    rng: Optional[random.Random] = None,
) -> list[tuple[int, int, int]]:
    """SentencePiece BPE's segmentation of ``text`` (``bpe::Model::SampleEncode``): (start, end, id) per
    piece, id -1 for a character no piece spells. ``table`` holds the mergeable pieces (normal,
    user-defined, unused), ``unused`` flags pieces split back after merging, ``user`` the user-defined
    symbols longest first (frozen: never merged). The highest-scoring pair is merged first, ties to the
    leftmost; with ``dropout`` each merge is skipped with that probability (``rng.random()`` per merge)."""
    n = len(text)
    starts: list[int] = []
    frozen: list[bool] = []
    pos = 0
    while pos < n:
        match = next((u for u in user if text.startswith(u, pos)), None)
        starts.append(pos)
        frozen.append(match is not None)
        pos += len(match) if match else 1
    if not starts:
        return []
    count = len(starts)
    end = starts[1:] + [n]  # symbol k spans text[starts[k]:end[k]]
    nxt = list(range(1, count)) + [-1]
    prv = list(range(-1, count - 1))
    alive = [True] * count
    ids, scores = table.ids, table.scores
    heap: list[tuple[float, int, int, int]] = []
    left_of: dict[int, int] = {}  # unused piece id -> the length of its left part when last offered

    def offer(a: int, b: int) -> None:
        if a < 0 or b < 0 or frozen[a] or frozen[b]:
            return
        i = ids.get(text[starts[a] : end[b]])
        if i is None:
            return
        heapq.heappush(heap, (-scores[i], a, b, end[b] - starts[a]))
        if unused[i]:
            left_of[i] = end[a] - starts[a]

    for k in range(1, count):
        offer(k - 1, k)
    while heap:
        _, a, b, size = heapq.heappop(heap)
        if not (alive[a] and alive[b]) or nxt[a] != b or end[b] - starts[a] != size:
            continue  # stale: one side has merged since
        if dropout and (dropout >= 1 or rng.random() < dropout):
            continue
        end[a] = end[b]
        alive[b] = False
        nxt[a] = nxt[b]
        if nxt[b] >= 0:
            prv[nxt[b]] = a
        offer(prv[a], a)
        offer(a, nxt[a])
    path: list[tuple[int, int, int]] = []

    def resegment(start: int, stop: int) -> None:
        i = ids.get(text[start:stop], -1)
        if i >= 0 and unused[i] and i in left_of:
            resegment(start, start + left_of[i])
            resegment(start + left_of[i], stop)
        else:
            path.append((start, stop, i))

    k = 0
    while k >= 0:
        resegment(starts[k], end[k])
        k = nxt[k]
    return path


class SentencePieceEncoder(TextBatches):
    """SentencePiece's whole pipeline for one text, in one call: its normalizer
    (``SentencePieceNormalizer``: ``charsmap`` bytes or None, ``flags`` = (add_dummy_prefix,
    remove_extra_whitespaces, escape_whitespaces, treat_whitespace_as_suffix), ``user_defined`` symbols),
    Viterbi over the pieces (or, with ``bpe_unused``, SentencePiece BPE's merges, ``bpe_path``), and the
    ids (unknown characters fused, or their bytes' ``byte_ids`` when that list is not empty). Returns the
    ids and, per id, its (start, end) in the original text as int32 bytes.
    The native core has the same type (``csrc/unigram.c``)."""

    def __init__(
        self,
        charsmap: Optional[bytes],
        flags: tuple[bool, bool, bool, bool],
        user_defined: list[str],
        pieces: list[Optional[str]],
        scores: list[float],
        matchable: list[bool],
        user: list[bool],
        unk_id: int,
        byte_ids: list[int],
        float32: bool = True,
        bpe_unused: Optional[list[bool]] = None,
    ) -> None:
        add_dummy_prefix, remove_extra, escape, suffix = flags
        self.normalizer = SentencePieceNormalizer(
            CharsMap(charsmap) if charsmap else None,
            add_dummy_prefix=add_dummy_prefix,
            remove_extra_whitespaces=remove_extra,
            escape_whitespaces=escape,
            treat_whitespace_as_suffix=suffix,
            user_defined=user_defined,
        )
        self.table = PieceTable(pieces, scores, matchable, user, unk_id, float32)
        self.unk_id = unk_id
        self.byte_ids = byte_ids
        self.bpe_unused = bpe_unused
        self.user_longest = sorted((p for p, u in zip(pieces, user) if u), key=len, reverse=True)

    def _segment(self, text: str, theta: float = 0.0, rng: Optional[SplitMix64] = None) -> list[tuple[int, int, int]]:
        if self.bpe_unused is not None:  # BPE: merges (theta: the dropout)
            return bpe_path(self.table, self.bpe_unused, self.user_longest, text, theta, rng)
        return viterbi(self.table, text) if rng is None else sample(self.table, text, theta, rng)

    def encode_text(self, text: str) -> tuple[list[int], bytes]:
        norm = self.normalizer.normalize(Normalized(text))
        return self._ids_and_spans(norm, self._segment(norm.text))

    def sample_text(self, text: str, theta: float, seed: int) -> tuple[list[int], bytes]:
        """``encode_text`` with a segmentation drawn from the whole lattice (``sample``; BPE: merges skipped
        with probability ``theta``) instead of the best one, its numbers from ``SplitMix64(seed)`` (as the
        C twin draws them)."""
        norm = self.normalizer.normalize(Normalized(text))
        return self._ids_and_spans(norm, self._segment(norm.text, theta, SplitMix64(seed)))

    def sample_batch(
        self, texts: list[str], theta: float, seeds: list[int], num_threads: int = 1
    ) -> list[tuple[list[int], bytes]]:
        """``sample_text`` of each text with its seed (the native core spreads them over threads)."""
        return [self.sample_text(t, theta, seed) for t, seed in zip(texts, seeds)]

    def _ids_and_spans(self, norm: Normalized, path: list[tuple[int, int, int]]) -> tuple[list[int], bytes]:
        ids: list[int] = []
        spans = array("i")
        prev_unk = False
        ntext = norm.text
        for start, end, i in path:
            is_unk = i < 0 or i == self.unk_id
            if is_unk and self.byte_ids:
                data = ntext[start:end].encode("utf-8", "surrogatepass")
                ids += [self.byte_ids[b] for b in data]
                for _ in data[1:]:
                    spans.extend(norm.original_span(start, start))
                spans.extend(norm.original_span(start, end))
            elif is_unk and prev_unk:
                spans[-1] = norm.original_span(start, end)[1]
            else:
                ids.append(self.unk_id if is_unk else i)
                spans.extend(norm.original_span(start, end))
            prev_unk = is_unk
        return ids, spans.tobytes()
