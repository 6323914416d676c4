"""The Unigram trainer's hot loops in pure Python: seed pieces from frequent substrings, the E-step
(expected piece counts by forward-backward over each word's lattice), Viterbi counts and the second-best
segmentation of each piece for pruning. ``csrc/unigram_train.c`` mirrors every function here.

The training lattice has a node for every piece that occurs at a character position, and an unknown node
(id -1, score ``min(scores) - 10``) where no one-character piece starts; scores are float64. Every sum
that decides something is independent of the order words are visited in, so the trained model is the
same on every backend and thread count: expected counts are added as integers in units of 2**-32
(``FIXED``), log-likelihoods are kept per word and summed in word order, Viterbi counts are integers.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Optional

from .unigram_core import logsumexp

# Character classes for the piece rules (``valid_piece``); a script's class is SCRIPT + its index.
ANY, SPACE, FORBIDDEN, INHERITED = 0, 1, 2, 3
SCRIPT = 16
DIGIT = 1 << 20  # flag: a decimal digit, which split_digits keeps out of longer pieces
FIXED = 4294967296.0  # 2**32: expected counts are integers in units of 1 / FIXED
UNK_PENALTY = 10.0
EXPECTED_MIN = 0.5  # the M-step drops pieces expected fewer times (SentencePiece's threshold)


def valid_piece(piece: str, classes: Mapping[str, int], rules: Sequence[int]) -> bool:
    """Whether ``piece`` may be a piece (SentencePiece's IsValidSentencePiece): at most ``max_len``
    characters, no FORBIDDEN character, U+2581 only first (last with ``suffix``; with
    ``split_by_whitespace`` off also in the middle), one script unless ``by_script`` is off (ANY joins any,
    INHERITED takes the one before), and with ``split_digits`` a digit only alone. ``rules`` is
    (max_len, split_by_whitespace, suffix, split_digits, by_script)."""
    max_len, split_ws, suffix, split_digits, by_script = rules
    n = len(piece)
    if not 0 < n <= max_len:
        return False
    prev = ANY
    for pos, ch in enumerate(piece):
        k = classes.get(ch, FORBIDDEN)
        script = k & (DIGIT - 1)
        if script == FORBIDDEN:
            return False
        if script == SPACE:
            if suffix:
                if pos < n - 1 and (split_ws or pos == 0):
                    return False
            elif pos > 0 and (split_ws or pos == n - 1):
                return False
            continue
        if k & DIGIT and split_digits and n > 1:
            return False
        if script == INHERITED:
            script = prev
        if by_script and script != ANY and prev != ANY and prev != script:
            return False
        prev = script
    return True


def seed_substrings(
    words: Sequence[str],
    counts: Sequence[int],
    classes: Mapping[str, int],
    rules: Sequence[int],
    min_count: int,
    limit: int,
) -> list[tuple[str, int]]:
    """The ``limit`` best seed pieces of two or more characters, as (piece, occurrences), best first.

    A candidate occurs at least ``min_count`` times (each word counted ``counts`` times), is a valid piece,
    and is right-closed: no one character follows every occurrence (a suffix tree's node, as SentencePiece
    takes from its suffix array; a word's end is a follower of its own). Best: highest occurrences x
    length, then the smaller string."""
    max_len = rules[0]
    occ: Counter = Counter()
    for word, c in zip(words, counts):
        n = len(word)
        for i in range(n):
            for j in range(i + 1, min(n, i + max_len + 1) + 1):
                occ[word[i:j]] += c
    longest_extension: Counter = Counter()  # s -> the most occurrences of any s + one character
    for s, c in occ.items():
        if len(s) > 1 and longest_extension[s[:-1]] < c:
            longest_extension[s[:-1]] = c
    cands = [
        (-c * len(s), s, c)
        for s, c in occ.items()
        if 2 <= len(s) <= max_len and c >= min_count and longest_extension[s] < c and valid_piece(s, classes, rules)
    ]
    return [(s, c) for _, s, c in heapq.nsmallest(limit, cands)]


class TrainTable:
    """The pieces as the training lattice sees them: piece -> id, every prefix, float64 scores and the
    unknown character's score."""

    def __init__(self, pieces: Sequence[str], scores: Sequence[float]) -> None:
        self.ids = {p: i for i, p in enumerate(pieces)}
        self.prefixes = {p[:k] for p in pieces for k in range(1, len(p) + 1)}
        self.scores = [float(s) for s in scores]
        self.unk_score = min(self.scores, default=0.0) - UNK_PENALTY

    def lattice(self, text: str, skip: Optional[int] = None) -> list[list[tuple[int, int, float]]]:
        """Nodes by start: (end, id, score), shortest first; an unknown node (id -1) where no
        one-character piece starts; the piece with id ``skip`` is left out."""
        nodes = []
        n = len(text)
        for start in range(n):
            here = []
            end = start + 1
            while end <= n and text[start:end] in self.prefixes:
                i = self.ids.get(text[start:end])
                if i is not None and i != skip:
                    here.append((end, i, self.scores[i]))
                end += 1
            if not here or here[0][0] != start + 1:
                here.insert(0, (start + 1, -1, self.unk_score))
            nodes.append(here)
        return nodes


def best_path(table: TrainTable, text: str, skip: Optional[int] = None) -> tuple[list[tuple[int, int]], float]:
    """The best segmentation as (end, id) per piece and its score; ties go to the path found first
    (starts scanned left to right, a candidate wins only when strictly better)."""
    n = len(text)
    best = [0.0] + [-math.inf] * n
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    for start, nodes in enumerate(table.lattice(text, skip)):
        for end, i, score in nodes:
            cand = best[start] + score
            if back[end][0] < 0 or cand > best[end]:
                best[end] = cand
                back[end] = (start, i)
    path = []
    end = n
    while end > 0:
        start, i = back[end]
        path.append((end, i))
        end = start
    path.reverse()
    return path, best[n]


def digamma(x: float) -> float:
    """The digamma function (the asymptotic series after shifting ``x`` to 7 or more, as SentencePiece)."""
    result = 0.0
    while x < 7:
        result -= 1 / x
        x += 1
    x -= 0.5
    xx = 1.0 / x
    xx2 = xx * xx
    xx4 = xx2 * xx2
    return result + math.log(x) + xx2 / 24 - 7 * xx4 / 960 + 31 * xx4 * xx2 / 8064 - 127 * xx4 * xx4 / 30720


def prune(pieces: Sequence[str], scores: Sequence[float], freq: Sequence[int], all_words: int, size: int) -> list[int]:
    """The indices of the pieces that stay when the vocabulary shrinks to ``size`` (SentencePiece's
    PruneSentencePieces), ascending. ``freq``: each piece's Viterbi count over the corpus, ``all_words``:
    the corpus's words.

    A piece its own best segmentation splits, or that no best segmentation uses, goes at no cost; one
    character stays (nothing else segments it); every other piece's loss is its share of the words times
    the drop in log probability if its count moved to its best segmentation without it (each piece there
    gaining that count). The ``size`` pieces kept are the single characters, then the largest losses
    (ties by position)."""
    table = TrainTable(pieces, scores)
    total = sum(freq)
    logsum = math.log(total) if total else 0.0  # (nothing to keep when no piece is used)
    keep: list[int] = []
    losses: list[tuple[float, int]] = []
    for i, p in enumerate(pieces):
        if freq[i] == 0:
            continue
        if len(p) == 1:
            keep.append(i)
            continue
        alt, alt_score = best_path(table, p, skip=i)
        if alt_score > table.scores[i]:
            continue
        logprob_sp = math.log(freq[i]) - logsum
        logsum_alt = math.log(total + freq[i] * (len(alt) - 1))
        logprob_alt = 0.0
        for _, k in alt:
            logprob_alt += math.log((freq[k] if k >= 0 else 0) + freq[i]) - logsum_alt
        losses.append((-(freq[i] / all_words) * (logprob_sp - logprob_alt), i))
    losses.sort()
    keep += [i for _, i in losses[: max(0, size - len(keep))]]
    keep.sort()
    return keep


class TrainingCorpus:
    """The unique words of a corpus with their counts, and the model EM refines over them: its pieces and
    their scores (log-probabilities), kept here so that the loops never pass them back and forth."""

    def __init__(self, words: Sequence[str], counts: Sequence[int]) -> None:
        self.words = list(words)
        self.counts = [int(c) for c in counts]
        self.pieces: list[str] = []
        self.scores: list[float] = []

    def __len__(self) -> int:
        return len(self.pieces)

    def model(self) -> tuple[list[str], list[float]]:
        """The pieces and their scores."""
        return list(self.pieces), list(self.scores)

    def seed(
        self,
        chars: Sequence[tuple[str, int]],
        classes: Mapping[str, int],
        rules: Sequence[int],
        min_count: int,
        limit: int,
    ) -> None:
        """The seed model: ``chars`` (character, count) in their order, then the ``limit`` best substrings
        (``seed_substrings``) counted occurrences x length; each scored log(its count / all counts)."""
        seeds = list(chars)
        substrings = seed_substrings(self.words, self.counts, classes, rules, min_count, limit)
        seeds += [(s, c * len(s)) for s, c in substrings]
        logsum = math.log(sum(c for _, c in seeds)) if seeds else 0.0
        self.pieces = [s for s, _ in seeds]
        self.scores = [math.log(c) - logsum for _, c in seeds]

    def estep(self, num_threads: int = 1) -> tuple[list[int], float]:
        """Expected count of each piece over the corpus in units of 1 / FIXED, and the corpus's
        log-likelihood (each word's log marginal times its count, summed in word order)."""
        table = TrainTable(self.pieces, self.scores)
        expected = [0] * len(self.pieces)
        loglik = 0.0
        for word, freq in zip(self.words, self.counts):
            loglik += freq * _word_marginals(table, word, freq, expected)
        return expected, loglik

    def em_round(self, num_threads: int = 1) -> float:
        """One EM round: the E-step (``estep``), then SentencePiece's Bayesian M-step: pieces expected
        fewer than ``EXPECTED_MIN`` times leave, the others score digamma(count) - digamma(total of
        those counts). Returns the log-likelihood the E-step saw."""
        expected, loglik = self.estep(num_threads)
        kept = [i for i, e in enumerate(expected) if e / FIXED >= EXPECTED_MIN]
        logsum = digamma(sum(expected[i] for i in kept) / FIXED) if kept else 0.0
        self.pieces = [self.pieces[i] for i in kept]
        self.scores = [digamma(expected[i] / FIXED) - logsum for i in kept]
        return loglik

    def viterbi_counts(self, num_threads: int = 1) -> tuple[list[int], int]:
        """How often each piece is in the words' best segmentations (times their counts), and the number
        of tokens in all of them."""
        table = TrainTable(self.pieces, self.scores)
        freq = [0] * len(self.pieces)
        tokens = 0
        for word, c in zip(self.words, self.counts):
            path, _ = best_path(table, word)
            tokens += c * len(path)
            for _, i in path:
                if i >= 0:
                    freq[i] += c
        return freq, tokens

    def prune(self, size: int, num_threads: int = 1) -> None:
        """Shrink the model to ``size`` pieces (``prune`` with the Viterbi counts)."""
        freq, _ = self.viterbi_counts(num_threads)
        kept = prune(self.pieces, self.scores, freq, sum(self.counts), size)
        self.pieces = [self.pieces[i] for i in kept]
        self.scores = [self.scores[i] for i in kept]


def _word_marginals(table: TrainTable, word: str, freq: int, expected: list[int]) -> float:
    """Add ``freq`` times each node's marginal probability to ``expected`` (fixed point, rounded half up)
    and return the word's log marginal likelihood."""
    n = len(word)
    lattice = table.lattice(word)
    incoming: list[list[float]] = [[] for _ in range(n + 1)]
    alpha = [0.0] * (n + 1)
    for start, nodes in enumerate(lattice):
        if start:
            alpha[start] = logsumexp(incoming[start])
        for end, _, score in nodes:
            incoming[end].append(alpha[start] + score)
    alpha[n] = logsumexp(incoming[n])
    beta = [0.0] * (n + 1)
    for start in range(n - 1, -1, -1):
        beta[start] = logsumexp([score + beta[end] for end, _, score in lattice[start]])
    z = alpha[n]
    for start, nodes in enumerate(lattice):
        for end, i, score in nodes:
            if i >= 0:
                expected[i] += math.floor(freq * math.exp(alpha[start] + score + beta[end] - z) * FIXED + 0.5)
    return z
